import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError } from '../helpers/assert.js';

/** The `_csrf` value of the first form in a page. */
const formToken = (html: string) => /name="_csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
/** The Set-Cookie line for `name`, or undefined. */
const setCookie = (res: Response, name: string) => res.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));

/** A raw form POST with exactly these cookies and fields (no helper adds anything). */
function rawPost(base: string, path: string, cookie: string, fields: Record<string, string>, extra = {}) {
  return fetch(base + path, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...extra },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

/**
 * CSRF tokens are bound to the session (an HMAC of its id), so a cookie an attacker plants
 * (from a sibling subdomain, or over plain http) is worth nothing; signed-out forms (login,
 * setup) use a token bound to a random pre-session cookie, `__Host-` under https.
 */
describe('CSRF tokens bound to the session', () => {
  let app: TestApp;
  let owner: Agent;
  let ownerToken: string;

  before(async () => {
    app = await startTestApp();
    owner = await setupOwner(app.url);
    ownerToken = await tokenFor(app.url, OWNER.email, OWNER.password);
  });
  after(async () => {
    await app.close();
  });

  const signedIn = async () => {
    const browser = new Agent(app.url);
    await browser.get('/admin/login');
    const res = await browser.post('/admin/login', { email: OWNER.email, password: OWNER.password });
    assert.equal(res.status, 302, res.text.slice(0, 300));
    return browser;
  };
  const cookieHeader = (pairs: Record<string, string | undefined>) =>
    Object.entries(pairs)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');

  test('a planted affix_csrf cookie with the same value in the body is refused for a signed-in session', async () => {
    const planted = 'P'.repeat(32);
    const session = owner.cookies.get('affix_session');
    const res = await rawPost(app.url, '/admin/logout', cookieHeader({ affix_session: session, affix_csrf: planted }), {
      _csrf: planted,
    });
    assert.equal(res.status, 403);
    const patch = await request(app.url, 'PATCH', '/api/v1/settings', {
      body: { cookieDays: 7 },
      headers: { cookie: cookieHeader({ affix_session: session, affix_csrf: planted }), 'x-csrf-token': planted },
    });
    assertError(patch, 403, 'csrf_failed');
    assert.equal((await api(app.url, ownerToken).get('/settings')).body.cookieDays, 60, 'nothing changed');
    assert.equal((await owner.get('/admin')).status, 200, 'still signed in');
  });

  test("the token of session A is refused for session B, even with A's cookies", async () => {
    const a = await signedIn();
    const b = await signedIn();
    const tokenA = formToken((await a.get('/admin')).text);
    const tokenB = formToken((await b.get('/admin')).text);
    assert.ok(tokenA && tokenB);
    assert.notEqual(tokenA, tokenB, 'each session has its own token');
    const withAsCookies = cookieHeader({
      ...Object.fromEntries(a.cookies),
      affix_session: b.cookies.get('affix_session'),
    });
    const res = await rawPost(app.url, '/admin/logout', withAsCookies, { _csrf: tokenA });
    assert.equal(res.status, 403);
    assert.equal((await b.get('/admin')).status, 200, 'B is still signed in');
    // B's own token works (control).
    const own = await rawPost(app.url, '/admin/logout', cookieHeader(Object.fromEntries(b.cookies)), { _csrf: tokenB });
    assert.equal(own.status, 302);
  });

  test('a token stays valid for the whole session and ends with it', async () => {
    const browser = await signedIn();
    const token = formToken((await browser.get('/admin/campaigns')).text);
    assert.equal(formToken((await browser.get('/admin')).text), token, 'the same token on every page');
    const cookies = cookieHeader(Object.fromEntries(browser.cookies));
    assert.equal((await rawPost(app.url, '/admin/logout', cookies, { _csrf: token })).status, 302);
    // A new session of the same browser has a new token: the old one is refused.
    const again = await signedIn();
    const res = await rawPost(app.url, '/admin/logout', cookieHeader(Object.fromEntries(again.cookies)), {
      _csrf: token,
    });
    assert.equal(res.status, 403);
  });

  test('signed-out forms: the page token works; a planted cookie repeated in the body does not', async () => {
    const page = await fetch(`${app.url}/admin/login`, { headers: { accept: 'text/html' } });
    const line = setCookie(page, 'affix_csrf');
    assert.ok(line, 'the sign-in page sets the pre-session cookie');
    assert.match(line, /;\s*httponly/i);
    assert.match(line, /;\s*samesite=lax/i);
    const cookieValue = line.split(';')[0]!.split('=')[1]!;
    const token = formToken(await page.text());
    assert.notEqual(token, cookieValue, 'the form token is not the cookie value');

    const planted = 'Q'.repeat(32);
    const forged = await rawPost(app.url, '/admin/login', `affix_csrf=${planted}`, {
      email: OWNER.email,
      password: OWNER.password,
      _csrf: planted,
    });
    assert.equal(forged.status, 403);
    assert.equal(setCookie(forged, 'affix_session'), undefined);

    const real = await rawPost(app.url, '/admin/login', `affix_csrf=${cookieValue}`, {
      email: OWNER.email,
      password: OWNER.password,
      _csrf: token,
    });
    assert.equal(real.status, 302);
    assert.ok(setCookie(real, 'affix_session'));
  });

  test('a form posted from another site is refused even with a valid cookie and token', async () => {
    const page = await fetch(`${app.url}/admin/login`, { headers: { accept: 'text/html' } });
    const cookieValue = setCookie(page, 'affix_csrf')!.split(';')[0]!.split('=')[1]!;
    const token = formToken(await page.text());
    const res = await rawPost(
      app.url,
      '/admin/login',
      `affix_csrf=${cookieValue}`,
      { email: OWNER.email, password: OWNER.password, _csrf: token },
      { 'sec-fetch-site': 'cross-site' },
    );
    assert.equal(res.status, 403);
    assert.equal(setCookie(res, 'affix_session'), undefined);
  });

  test('under https the pre-session cookie is __Host-affix_csrf (Secure, Path=/, no Domain) and HSTS is sent', async () => {
    const https = { accept: 'text/html', 'x-forwarded-proto': 'https' };
    const page = await fetch(`${app.url}/admin/login`, { headers: https });
    const line = setCookie(page, '__Host-affix_csrf');
    assert.ok(line, `expected __Host-affix_csrf, got ${JSON.stringify(page.headers.getSetCookie())}`);
    assert.match(line, /;\s*secure/i);
    assert.match(line, /;\s*path=\/(;|$)/i);
    assert.doesNotMatch(line, /;\s*domain=/i);
    assert.equal(setCookie(page, 'affix_csrf'), undefined, 'no plain-named cookie under https');
    const hsts = page.headers.get('strict-transport-security') ?? '';
    assert.match(hsts, /max-age=\d{7,}/, `HSTS: ${hsts}`);

    const cookieValue = line.split(';')[0]!.split('=')[1]!;
    const token = formToken(await page.text());
    // A plain-named cookie does not stand in for the __Host- one under https.
    const plain = await rawPost(
      app.url,
      '/admin/login',
      `affix_csrf=${cookieValue}`,
      { email: OWNER.email, password: OWNER.password, _csrf: token },
      { 'x-forwarded-proto': 'https' },
    );
    assert.equal(plain.status, 403);
    const res = await rawPost(
      app.url,
      '/admin/login',
      `__Host-affix_csrf=${cookieValue}`,
      { email: OWNER.email, password: OWNER.password, _csrf: token },
      { 'x-forwarded-proto': 'https' },
    );
    assert.equal(res.status, 302);
    assert.match(setCookie(res, 'affix_session') ?? '', /;\s*secure/i);
  });

  test('HSTS is never sent over plain http', async () => {
    for (const path of ['/admin/login', '/api/v1/me', '/healthz']) {
      const res = await fetch(`${app.url}${path}`, { redirect: 'manual' });
      assert.equal(res.headers.get('strict-transport-security'), null, path);
    }
  });
});
