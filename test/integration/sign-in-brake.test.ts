import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { verifyPassword } from '../../server/services/passwords.js';

const SHOP = 'https://shop.example/landing';

/**
 * The sign-in brake (5 free failures per email and per client IP, then a growing wait) counted
 * where it cannot be raced or reset, and the client IP taken from the right-most hop that the
 * trusted proxy appended. The clock stands still, so no wait ever runs out during a test.
 */
describe('sign-in brake and the client address (TRUST_PROXY=true: one proxy hop)', () => {
  let app: TestApp;
  let ownerToken: string;
  const now = Date.now();
  /** Every password that was really compared against a hash. */
  const checked: string[] = [];

  const attempt = (email: string, password: string, forwardedFor: string) =>
    request(app.url, 'POST', '/api/v1/auth/token', {
      body: { email, password },
      headers: { 'x-forwarded-for': forwardedFor },
    });

  before(async () => {
    app = await startTestApp({
      clock: () => now,
      verifyPassword: async (password, hash) => {
        checked.push(password);
        return verifyPassword(password, hash);
      },
    });
    await setupOwner(app.url);
    ownerToken = await tokenFor(app.url, OWNER.email, OWNER.password);
    const owners = api(app.url, ownerToken);
    for (const [email, password] of [
      ['victim@example.com', 'victim password 1'],
      ['mallory@example.com', 'mallory password 1'],
    ]) {
      const res = await owners.post('/users', { email, password });
      assert.equal(res.status, 201, res.text);
    }
  });
  after(async () => {
    await app.close();
  });

  test('100 parallel wrong passwords for one email: at most 5 are checked, the rest are 429', async () => {
    checked.length = 0;
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        attempt('victim@example.com', `guess ${i}`, `198.18.${i >> 8}.${(i & 255) + 1}`),
      ),
    );
    const guesses = checked.filter((p) => p.startsWith('guess '));
    assert.ok(guesses.length <= 5, `${guesses.length} passwords were checked`);
    assert.ok(guesses.length >= 1, 'the first attempts are checked');
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, guesses.length, 'one 401 per checked password');
    assert.equal(statuses.filter((s) => s === 429).length, 100 - guesses.length, 'every other attempt waits');
    // The right password is refused too while the email is braked.
    assert.equal((await attempt('victim@example.com', 'victim password 1', '198.18.9.9')).status, 429);
  });

  test("an attacker's own successful sign-ins do not reset the brake on its address", async () => {
    checked.length = 0;
    const ip = '203.0.113.50';
    let guesses = 0;
    for (let i = 1; i <= 30; i++) {
      const res = await attempt(`sprayed-${i}@example.com`, `spray ${i}`, ip);
      assert.ok([401, 429].includes(res.status), `${res.status} ${res.text}`);
      guesses++;
      if (i % 2 === 0) await attempt('mallory@example.com', 'mallory password 1', ip);
    }
    assert.equal(guesses, 30);
    const sprayed = checked.filter((p) => p.startsWith('spray '));
    assert.ok(sprayed.length <= 5, `${sprayed.length} of 30 sprayed guesses were checked`);
    // The address stays braked even for the attacker's own right password.
    assert.equal((await attempt('mallory@example.com', 'mallory password 1', ip)).status, 429);
    // Another address signs in to the same account at once: the email brake was not tripped by successes.
    assert.equal((await attempt('mallory@example.com', 'mallory password 1', '203.0.113.51')).status, 200);
  });

  test('a success resets the brake of its email (only)', async () => {
    const ip = '192.0.2.60';
    for (let i = 1; i <= 3; i++)
      assert.equal((await attempt('mallory@example.com', `wrong ${i}`, `192.0.2.${70 + i}`)).status, 401);
    assert.equal((await attempt('mallory@example.com', 'mallory password 1', ip)).status, 200);
    // Three more failures from new addresses would have tripped a counter that was not reset.
    for (let i = 4; i <= 6; i++)
      assert.equal((await attempt('mallory@example.com', `wrong ${i}`, `192.0.2.${70 + i}`)).status, 401);
    assert.equal((await attempt('mallory@example.com', 'mallory password 1', ip)).status, 200);
  });

  test('a spoofed left-most X-Forwarded-For entry neither dodges the brake nor picks another address', async () => {
    const real = '203.0.113.80';
    for (let i = 1; i <= 5; i++) {
      const res = await attempt(`nobody-${i}@example.com`, `x ${i}`, `10.${i}.0.1, ${real}`);
      assert.equal(res.status, 401, res.text);
    }
    const braked = await attempt('nobody-6@example.com', 'x 6', `10.6.0.1, ${real}`);
    assert.equal(braked.status, 429, 'the address the proxy saw is braked whatever the client prepends');
  });

  test('a spoofed left-most X-Forwarded-For entry does not beat fraud.blockedIps', async () => {
    const a = api(app.url, ownerToken);
    assert.equal((await a.patch('/plugins/fraud-protection', { active: true })).status, 200);
    const patched = await a.patch('/settings', {
      fraud: { blockedIps: ['198.51.100.9'], blockedIpsAction: 'decline' },
    });
    assert.equal(patched.status, 200, patched.text);
    const affiliate = await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' });
    assert.equal(affiliate.status, 201, affiliate.text);
    const click = (forwardedFor: string) =>
      request(app.url, 'POST', '/t/click', {
        body: { url: `${SHOP}?a_aid=ann` },
        headers: { 'x-forwarded-for': forwardedFor, 'user-agent': CHROME },
      });
    const spoofed = await click('203.0.113.1, 198.51.100.9');
    assert.equal(spoofed.status, 200, spoofed.text);
    assert.equal(spoofed.body.status, 'declined', 'the address the proxy appended is the one checked');
    const stored = await app.services.db('clicks').where({ click_id: spoofed.body.clickId }).first('ip');
    assert.equal(stored?.ip, '198.51.100.9', 'the click stores the real address');
    const other = await click('198.51.100.9, 203.0.113.1');
    assert.notEqual(other.body.status, 'declined', 'a blocked address written by the client is not believed');
  });
});
