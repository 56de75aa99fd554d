import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError } from '../helpers/assert.js';

/**
 * Named, revocable API keys (SPEC §13): owner-only management, the secret shown once and stored
 * hashed, a key works like a staff token with its role, revoked or expired → 401.
 */
describe('API keys', () => {
  let app: TestApp;
  let owners: ReturnType<typeof api>;
  let ownerBrowser: Agent;
  let managers: ReturnType<typeof api>;
  let now = Date.now();

  before(async () => {
    app = await startTestApp({ clock: () => now });
    ownerBrowser = await setupOwner(app.url);
    owners = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    assert.equal((await owners.post('/users', { email: 'm@example.com', password: 'manager password' })).status, 201);
    managers = api(app.url, await tokenFor(app.url, 'm@example.com', 'manager password'));
  });
  after(async () => {
    await app.close();
  });

  test('a manager key works where a manager token does, and no further; the secret is stored only hashed', async () => {
    const res = await owners.post('/api-keys', { name: 'Store server', role: 'manager' });
    assert.equal(res.status, 201, res.text);
    const secret = res.body.secret as string;
    assert.match(secret, /^affix_[A-Za-z0-9_-]{40,}$/);
    assert.equal(res.body.status, 'active');
    const key = api(app.url, secret);
    assert.equal((await key.get('/affiliates')).status, 200);
    const me = await key.get('/me');
    assert.equal(me.body.role, 'manager');
    assert.equal((await key.post('/affiliates', { name: 'By key', email: 'bykey@example.com' })).status, 201);
    assertError(await key.patch('/settings', { cookieDays: 5 }), 403, 'forbidden');
    assertError(await key.get('/api-keys'), 403, 'forbidden');
    // The audit log names the key.
    const audit = await owners.get('/audit-log?objectType=affiliate');
    assert.ok(
      audit.body.data.some((e: { actor: string }) => /API key “Store server”/.test(e.actor)),
      audit.text,
    );
    // Nothing in the table is the secret.
    const rows = (await app.services.db('api_keys').select('*')) as Array<Record<string, unknown>>;
    assert.ok(rows.length >= 1);
    for (const row of rows) assert.ok(!Object.values(row).some((v) => v === secret));
    // The list never shows it again.
    const list = await owners.get('/api-keys');
    assert.equal(list.status, 200);
    assert.ok(!list.text.includes(secret));
    assert.ok(list.body.data.find((k: { id: number }) => k.id === res.body.id).lastUsedAt);
  });

  test('an owner key may do owner things; a forged or unknown key is 401', async () => {
    const { body } = await owners.post('/api-keys', { name: 'Ops', role: 'owner' });
    const key = api(app.url, body.secret);
    assert.equal((await key.patch('/settings', { cookieDays: 30 })).status, 200);
    assertError(await api(app.url, body.secret.slice(0, -2) + 'xx').get('/affiliates'), 401, 'unauthorized');
    assertError(await api(app.url, 'affix_nothing').get('/affiliates'), 401, 'unauthorized');
    assertError(await key.post('/me/sign-out-everywhere'), 403, 'forbidden');
  });

  test('a revoked key is 401 at once; an expired key is 401', async () => {
    const { body } = await owners.post('/api-keys', { name: 'Temp', role: 'manager' });
    const key = api(app.url, body.secret);
    assert.equal((await key.get('/affiliates')).status, 200);
    assert.equal((await owners.delete(`/api-keys/${body.id}`)).status, 204);
    assertError(await key.get('/affiliates'), 401, 'unauthorized');
    assert.equal((await owners.get(`/api-keys/${body.id}`)).body.status, 'revoked');

    const soon = new Date(now + 3_600_000).toISOString();
    const short = await owners.post('/api-keys', { name: 'Hour', role: 'manager', expiresAt: soon });
    assert.equal(short.status, 201, short.text);
    const hourKey = api(app.url, short.body.secret);
    assert.equal((await hourKey.get('/campaigns')).status, 200);
    now += 3_600_001;
    try {
      assertError(await hourKey.get('/campaigns'), 401, 'unauthorized');
      assert.equal((await owners.get(`/api-keys/${short.body.id}`)).body.status, 'expired');
    } finally {
      now -= 3_600_001;
    }
  });

  test('only the owner manages keys, and bad input names the field', async () => {
    assertError(await managers.post('/api-keys', { name: 'x', role: 'manager' }), 403, 'forbidden');
    assertError(await managers.get('/api-keys'), 403, 'forbidden');
    assertError(await managers.delete('/api-keys/1'), 403, 'forbidden');
    assertFieldError(await owners.post('/api-keys', { name: 'x', role: 'affiliate' }), 'role');
    assertFieldError(await owners.post('/api-keys', { name: '', role: 'manager' }), 'name');
    assertFieldError(await owners.post('/api-keys', { name: 'x', role: 'manager', scope: 'all' }), 'scope');
    assertFieldError(
      await owners.post('/api-keys', { name: 'x', role: 'manager', expiresAt: 'tomorrow' }),
      'expiresAt',
    );
    assertFieldError(
      await owners.post('/api-keys', { name: 'x', role: 'manager', expiresAt: '2001-01-01T00:00:00Z' }),
      'expiresAt',
    );
    assertError(await owners.delete('/api-keys/999999'), 404, 'not_found');
  });

  test('the admin page shows a new secret once and revokes after a confirmation', async () => {
    const page = await ownerBrowser.get('/admin/api-keys');
    assert.equal(page.status, 200);
    assert.match(page.text, /<label>Name <input name="name"/);
    const created = await ownerBrowser.post('/admin/api-keys', { name: 'From the page', role: 'manager' });
    assert.equal(created.status, 201, created.text.slice(0, 300));
    const secret = /value="(affix_[^"]+)"/.exec(created.text)?.[1];
    assert.ok(secret, 'the secret is on the page');
    assert.equal((await api(app.url, secret).get('/me')).status, 200);
    const again = await ownerBrowser.get('/admin/api-keys');
    assert.ok(!again.text.includes(secret), 'shown only once');
    const id = (await owners.get('/api-keys')).body.data.find((k: { name: string }) => k.name === 'From the page').id;
    const ask = await ownerBrowser.post(`/admin/api-keys/${id}/revoke`, {});
    assert.equal(ask.status, 200);
    assert.match(ask.text, /Revoke the API key “From the page”\?/);
    assert.equal((await api(app.url, secret).get('/me')).status, 200, 'nothing changes before confirming');
    const done = await ownerBrowser.post(`/admin/api-keys/${id}/revoke`, { confirm: 'yes' });
    assert.equal(done.status, 302);
    assertError(await api(app.url, secret).get('/me'), 401, 'unauthorized');
    const bad = await ownerBrowser.post('/admin/api-keys', { name: '', role: 'manager' });
    assert.equal(bad.status, 422);
    // A manager has no API keys page.
    const manager = new Agent(app.url);
    await manager.get('/admin/login');
    await manager.post('/admin/login', { email: 'm@example.com', password: 'manager password' });
    assert.equal((await manager.get('/admin/api-keys')).status, 403);
  });

  test('"sign out everywhere" in the admin and the portal ends that account\'s sessions and tokens', async () => {
    const browser = new Agent(app.url);
    await browser.get('/admin/login');
    await browser.post('/admin/login', { email: 'm@example.com', password: 'manager password' });
    const other = new Agent(app.url);
    await other.get('/admin/login');
    await other.post('/admin/login', { email: 'm@example.com', password: 'manager password' });
    const token = await tokenFor(app.url, 'm@example.com', 'manager password');
    const dash = await browser.get('/admin');
    assert.match(dash.text, /Sign out everywhere/);
    const ask = await browser.post('/admin/sign-out-everywhere', {});
    assert.equal(ask.status, 200, 'a confirmation first');
    const out = await browser.post('/admin/sign-out-everywhere', { confirm: 'yes' });
    assert.equal(out.status, 302);
    assert.equal((await other.get('/admin')).status, 302, 'the other browser is signed out');
    assertError(await api(app.url, token).get('/me'), 401, 'unauthorized');
    assert.equal((await ownerBrowser.get('/admin')).status, 200, 'other accounts stay signed in');

    const aff = await owners.post('/affiliates', {
      name: 'Signer',
      email: 'signer@example.com',
      password: 'affiliate password 1',
      status: 'approved',
    });
    assert.equal(aff.status, 201);
    const portal = new Agent(app.url);
    await portal.get('/portal/login');
    await portal.post('/portal/login', { email: 'signer@example.com', password: 'affiliate password 1' });
    const affToken = await tokenFor(app.url, 'signer@example.com', 'affiliate password 1');
    assert.match((await portal.get('/portal/settings')).text, /Sign out everywhere/);
    const res = await portal.post('/portal/settings/sign-out-everywhere', {});
    assert.equal(res.status, 302);
    assert.equal(res.location, '/portal/login');
    assertError(await api(app.url, affToken).get('/me'), 401, 'unauthorized');
    const probe = await request(app.url, 'GET', '/api/v1/me', { token: affToken });
    assert.equal(probe.status, 401);
  });
});
