import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError } from '../helpers/assert.js';

const PASSWORD = 'affiliate password 1';

/**
 * Sessions and tokens end with the account (SPEC §13 "Sessions and tokens"): declining,
 * archiving or deleting it, changing its password or signing out everywhere ends every session
 * and token at once; tokens without `exp` are refused; affiliate tokens last at most 30 days.
 */
describe('sessions and tokens end with the account', () => {
  let app: TestApp;
  let owners: ReturnType<typeof api>;
  let seq = 0;

  /** An approved affiliate with a login, a bearer token and a signed-in portal browser. */
  async function affiliate() {
    const email = `aff-${++seq}@example.com`;
    const res = await owners.post('/affiliates', {
      name: `Affiliate ${seq}`,
      email,
      password: PASSWORD,
      status: 'approved',
    });
    assert.equal(res.status, 201, res.text);
    const token = await tokenFor(app.url, email, PASSWORD);
    const browser = new Agent(app.url);
    await browser.get('/portal/login');
    const login = await browser.post('/portal/login', { email, password: PASSWORD });
    assert.equal(login.status, 302, login.text.slice(0, 300));
    assert.equal((await browser.get('/portal')).status, 200, 'signed in to the portal');
    return { id: res.body.id as number, email, token, browser };
  }

  const me = (token: string) => api(app.url, token).get('/me');
  const portalSignedOut = async (browser: Agent) => {
    const page = await browser.get('/portal');
    return page.status === 302 && /^\/portal\/login/.test(page.location ?? '');
  };
  const mint = (email: string, password = PASSWORD, expiresInHours?: number) =>
    request(app.url, 'POST', '/api/v1/auth/token', {
      body: { email, password, ...(expiresInHours === undefined ? {} : { expiresInHours }) },
    });

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owners = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app.close();
  });

  test('declining an affiliate ends its token and session; it cannot mint a token or change its postback URL', async () => {
    const ann = await affiliate();
    assert.equal((await me(ann.token)).status, 200, 'control: the token works before');
    assert.equal((await owners.post(`/affiliates/${ann.id}/decline`)).status, 200);

    assertError(await me(ann.token), 401, 'unauthorized');
    assertError(
      await api(app.url, ann.token).patch('/me/affiliate', { postbackUrl: 'https://evil.example/pb' }),
      401,
      'unauthorized',
    );
    assert.ok(await portalSignedOut(ann.browser), 'the portal session ended');
    assert.notEqual((await mint(ann.email)).status, 200, 'a declined account cannot mint a token');
    const form = new Agent(app.url);
    await form.get('/portal/login');
    const login = await form.post('/portal/login', { email: ann.email, password: PASSWORD });
    assert.notEqual(login.status, 302, 'a declined account cannot sign in');
    assert.equal(form.cookies.get('affix_session'), undefined);
    assert.equal((await owners.get(`/affiliates/${ann.id}`)).body.postbackUrl, null, 'nothing changed');

    // Approving it again does not bring the old token back; a new sign-in works.
    assert.equal((await owners.post(`/affiliates/${ann.id}/approve`)).status, 200);
    assertError(await me(ann.token), 401, 'unauthorized');
    assert.equal((await mint(ann.email)).status, 200);
  });

  test('archiving an affiliate ends its token and session, and it cannot sign in', async () => {
    const bob = await affiliate();
    assert.equal((await owners.patch(`/affiliates/${bob.id}`, { archived: true })).status, 200);
    assertError(await me(bob.token), 401, 'unauthorized');
    assert.ok(await portalSignedOut(bob.browser));
    assert.notEqual((await mint(bob.email)).status, 200);
  });

  test('deleting an affiliate ends its token and session', async () => {
    const cy = await affiliate();
    assert.equal((await owners.delete(`/affiliates/${cy.id}`)).status, 204);
    assertError(await me(cy.token), 401, 'unauthorized');
    assert.ok(await portalSignedOut(cy.browser));
  });

  test('a password set by the merchant ends the old tokens and sessions; the new password signs in', async () => {
    const dee = await affiliate();
    const patched = await owners.patch(`/affiliates/${dee.id}`, { password: 'brand new password 2' });
    assert.equal(patched.status, 200, patched.text);
    assertError(await me(dee.token), 401, 'unauthorized');
    assert.ok(await portalSignedOut(dee.browser));
    assert.equal((await mint(dee.email, 'brand new password 2')).status, 200);
  });

  test("changing one's own password ends the other sessions and tokens, and keeps this browser signed in", async () => {
    const eve = await affiliate();
    const other = new Agent(app.url);
    await other.get('/portal/login');
    assert.equal((await other.post('/portal/login', { email: eve.email, password: PASSWORD })).status, 302);
    await eve.browser.get('/portal/settings');
    const changed = await eve.browser.post('/portal/settings/password', {
      currentPassword: PASSWORD,
      password: 'changed password 3',
      passwordConfirm: 'changed password 3',
    });
    assert.equal(changed.status, 302, changed.text.slice(0, 300));
    assertError(await me(eve.token), 401, 'unauthorized');
    assert.ok(await portalSignedOut(other), 'the other browser is signed out');
    assert.equal((await eve.browser.get('/portal')).status, 200, 'the browser that changed it stays signed in');
  });

  test('sign out everywhere ends every session and token of the account, and only of that account', async () => {
    const fay = await affiliate();
    const gus = await affiliate();
    const second = await tokenFor(app.url, fay.email, PASSWORD);
    const res = await api(app.url, fay.token).post('/me/sign-out-everywhere');
    assert.equal(res.status, 204, res.text);
    assertError(await me(fay.token), 401, 'unauthorized');
    assertError(await me(second), 401, 'unauthorized');
    assert.ok(await portalSignedOut(fay.browser));
    assert.equal((await me(gus.token)).status, 200, 'another account is untouched');
    assert.equal((await mint(fay.email)).status, 200, 'signing in again works');
    assertError(await api(app.url).post('/me/sign-out-everywhere'), 401, 'unauthorized');

    // Staff too, through the session cookie (with its CSRF token).
    const staff = await managerBrowser();
    const page = await staff.get('/admin');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const cookie = [...staff.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const out = await request(app.url, 'POST', '/api/v1/me/sign-out-everywhere', {
      headers: { cookie, 'x-csrf-token': csrf },
      body: {},
    });
    assert.equal(out.status, 204, out.text);
    assert.equal((await staff.get('/admin')).status, 302, 'the staff session ended');
  });

  async function managerBrowser(): Promise<Agent> {
    const email = `manager-${++seq}@example.com`;
    assert.equal((await owners.post('/users', { email, password: 'manager password 1' })).status, 201);
    const browser = new Agent(app.url);
    await browser.get('/admin/login');
    const res = await browser.post('/admin/login', { email, password: 'manager password 1' });
    assert.equal(res.status, 302, res.text.slice(0, 300));
    return browser;
  }

  test('a token without exp is refused, even signed with the right key', async () => {
    const ownerId = (await owners.get('/me')).body.id as number;
    const key = app.config.secret as string;
    const forever = jwt.sign({ role: 'owner', typ: 'api' }, key, {
      algorithm: 'HS256',
      subject: String(ownerId),
      issuer: 'affix',
      noTimestamp: false,
    });
    assert.equal((jwt.decode(forever) as jwt.JwtPayload).exp, undefined);
    assertError(await me(forever), 401, 'unauthorized');
    const session = jwt.sign({ role: 'owner', typ: 'session' }, key, {
      algorithm: 'HS256',
      subject: String(ownerId),
      issuer: 'affix',
    });
    const asCookie = await request(app.url, 'GET', '/api/v1/me', { headers: { cookie: `affix_session=${session}` } });
    assertError(asCookie, 401, 'unauthorized');
  });

  test('affiliate tokens last at most 30 days; staff keep the longer maximum', async () => {
    const hal = await affiliate();
    const tooLong = await mint(hal.email, PASSWORD, 24 * 30 + 1);
    assertFieldError(tooLong, 'expiresInHours');
    assert.equal(tooLong.body.token, undefined);
    const month = await mint(hal.email, PASSWORD, 24 * 30);
    assert.equal(month.status, 200, month.text);
    assert.equal(month.body.expiresIn, 30 * 24 * 3600);
    const year = await mint(OWNER.email, OWNER.password, 24 * 365);
    assert.equal(year.status, 200, year.text);
    assert.equal(year.body.expiresIn, 365 * 24 * 3600);
  });
});
