import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError } from '../helpers/assert.js';

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT built by hand: `key` signs it with HMAC-SHA256 whatever the header claims; no key = empty signature. */
function handToken(header: object, payload: object, key?: string): string {
  const data = `${b64url(header)}.${b64url(payload)}`;
  const signature = key ? createHmac('sha256', key).update(data).digest('base64url') : '';
  return `${data}.${signature}`;
}

/** The Set-Cookie line for `name` in a response, or undefined. */
const setCookie = (res: Response, name: string) => res.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));

describe('authentication and authorisation', () => {
  let app: TestApp;
  // The owner, signed in: set before each test after the first-run setup.
  let owner: Agent;
  let ownerToken: string;
  let ownerId: number;
  const secret = () => app.config.secret as string;
  let ownerMade: Promise<{ owner: Agent; ownerToken: string; ownerId: number }> | undefined;
  /** The owner made by the setup test, or made here through the setup page when it did not run. */
  const signedInOwner = async () => {
    ownerMade ??= (async () => {
      const agent = await setupOwner(app.url);
      const token = await tokenFor(app.url, OWNER.email, OWNER.password);
      return { owner: agent, ownerToken: token, ownerId: (await api(app.url, token).get('/me')).body.id as number };
    })();
    ({ owner, ownerToken, ownerId } = await ownerMade);
  };

  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app.close();
  });

  describe('first-run setup', () => {
    test('before setup, the admin sends people to the setup page', async () => {
      const agent = new Agent(app.url);
      const login = await agent.get('/admin/login');
      assert.equal(login.status, 302);
      assert.equal(login.location, '/admin/setup');
      const setup = await agent.get('/admin/setup');
      assert.equal(setup.status, 200);
      assert.match(setup.text, /<form/i);
      assert.match(setup.text, /name="_csrf"/);
    });

    test('setup creates the owner, signs them in, then refuses a second setup', async () => {
      const owner = await setupOwner(app.url);
      assert.ok(owner.cookies.get('affix_session'), 'setup starts a session');
      const dashboard = await owner.get('/admin');
      assert.equal(dashboard.status, 200);

      const intruder = new Agent(app.url);
      const page = await intruder.get('/admin/setup');
      assert.equal(page.status, 302, 'the setup page is gone once an owner exists');
      assert.equal(page.location, '/admin/login');
      const again = await intruder.post('/admin/setup', {
        name: 'Mallory',
        email: 'mallory@example.com',
        password: 'mallory password 1',
      });
      assert.equal(again.status, 409);
      assert.equal(intruder.cookies.get('affix_session'), undefined, 'no session for the second setup');
      const res = await request(app.url, 'POST', '/api/v1/auth/token', {
        body: { email: 'mallory@example.com', password: 'mallory password 1' },
      });
      assertError(res, 401, 'unauthorized');

      const ownerToken = await tokenFor(app.url, OWNER.email, OWNER.password);
      const me = await api(app.url, ownerToken).get('/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.email, OWNER.email);
      assert.equal(me.body.role, 'owner');
      const ownerId = me.body.id;
      assert.equal(typeof ownerId, 'number');
      ownerMade = Promise.resolve({ owner, ownerToken, ownerId });
    });
  });

  describe('signing in', () => {
    beforeEach(signedInOwner);
    test('POST /api/v1/auth/token returns a bearer token that works', async () => {
      const res = await request(app.url, 'POST', '/api/v1/auth/token', {
        body: { email: OWNER.email, password: OWNER.password },
      });
      assert.equal(res.status, 200);
      assert.equal(typeof res.body.token, 'string');
      assert.equal(res.body.tokenType, 'Bearer');
      assert.equal(res.body.role, 'owner');
      const header = JSON.parse(Buffer.from(res.body.token.split('.')[0], 'base64url').toString());
      assert.equal(header.alg, 'HS256');
      const claims = jwt.decode(res.body.token) as jwt.JwtPayload;
      assert.ok(claims.exp && claims.exp > Date.now() / 1000, 'the token expires');
      const me = await api(app.url, res.body.token).get('/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.email, OWNER.email);
    });

    test('expiresInHours sets the token lifetime within limits', async () => {
      const res = await request(app.url, 'POST', '/api/v1/auth/token', {
        body: { email: OWNER.email, password: OWNER.password, expiresInHours: 1 },
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.expiresIn, 3600);
      const claims = jwt.decode(res.body.token) as jwt.JwtPayload;
      assert.ok(Math.abs(claims.exp! - (Date.now() / 1000 + 3600)) < 60);
      for (const expiresInHours of [0, -1, 1.5, 24 * 366, '2']) {
        const bad = await request(app.url, 'POST', '/api/v1/auth/token', {
          body: { email: OWNER.email, password: OWNER.password, expiresInHours },
        });
        assertError(bad, 422, 'validation_failed');
        assert.ok(
          bad.body.error.details.some((d: { field: string }) => d.field === 'expiresInHours'),
          String(expiresInHours),
        );
      }
    });

    test('the email is matched without regard to case or spaces', async () => {
      const res = await request(app.url, 'POST', '/api/v1/auth/token', {
        body: { email: '  Owner@Example.COM ', password: OWNER.password },
      });
      assert.equal(res.status, 200);
    });

    test('a wrong password or unknown email is 401 with the same message', async () => {
      const wrong = await request(app.url, 'POST', '/api/v1/auth/token', {
        body: { email: OWNER.email, password: 'not the password' },
      });
      assertError(wrong, 401, 'unauthorized');
      assert.equal(wrong.body.token, undefined);
      const unknown = await request(app.url, 'POST', '/api/v1/auth/token', {
        body: { email: 'nobody@example.com', password: 'whatever123' },
      });
      assertError(unknown, 401, 'unauthorized');
      assert.equal(unknown.body.error.message, wrong.body.error.message, 'accounts are not revealed');
      await tokenFor(app.url, OWNER.email, OWNER.password); // a success clears the failure count
    });

    test('a token request with missing or object-valued fields is 422 naming them', async () => {
      const missing = await request(app.url, 'POST', '/api/v1/auth/token', { body: { email: OWNER.email } });
      assertError(missing, 422, 'validation_failed');
      assert.ok(missing.body.error.details.some((d: { field: string }) => d.field === 'password'));
      const injected = await request(app.url, 'POST', '/api/v1/auth/token', {
        body: { email: OWNER.email, password: { $ne: '' } },
      });
      assertError(injected, 422, 'validation_failed');
      assert.ok(injected.body.error.details.some((d: { field: string }) => d.field === 'password'));
    });

    test('the login form signs in with an HttpOnly, SameSite=Lax session cookie', async () => {
      const page = await fetch(`${app.url}/admin/login`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      assert.equal(page.status, 200);
      const csrfLine = setCookie(page, 'affix_csrf');
      assert.ok(csrfLine, 'the login page sets the pre-session CSRF cookie');
      const csrfCookie = csrfLine.split(';')[0]!.split('=')[1]!;
      const csrfToken = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
      const res = await fetch(`${app.url}/admin/login`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `affix_csrf=${csrfCookie}`,
          accept: 'text/html',
        },
        body: new URLSearchParams({
          email: OWNER.email,
          password: OWNER.password,
          _csrf: csrfToken,
          next: '/admin/campaigns',
        }).toString(),
        redirect: 'manual',
      });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), '/admin/campaigns');
      const session = setCookie(res, 'affix_session');
      assert.ok(session, 'a session cookie is set');
      assert.match(session, /;\s*httponly/i);
      assert.match(session, /;\s*samesite=lax/i);
      assert.match(session, /;\s*path=\//i);
    });

    test('the login form never redirects off-site after signing in', async () => {
      for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
        const agent = new Agent(app.url);
        await agent.get('/admin/login');
        const res = await agent.post('/admin/login', { email: OWNER.email, password: OWNER.password, next });
        assert.equal(res.status, 302, next);
        assert.equal(res.location, '/admin', next);
      }
    });

    test('a wrong password on the form is refused without a session', async () => {
      const agent = new Agent(app.url);
      await agent.get('/admin/login');
      const res = await agent.post('/admin/login', { email: OWNER.email, password: 'nope nope nope' });
      assert.equal(res.status, 401);
      assert.equal(agent.cookies.get('affix_session'), undefined);
      await tokenFor(app.url, OWNER.email, OWNER.password);
    });

    test('signing out ends the session', async () => {
      const agent = new Agent(app.url);
      await agent.get('/admin/login');
      await agent.post('/admin/login', { email: OWNER.email, password: OWNER.password });
      assert.equal((await agent.get('/admin')).status, 200);
      const out = await agent.post('/admin/logout', {});
      assert.equal(out.status, 302);
      assert.equal(agent.cookies.get('affix_session'), undefined);
      const after = await agent.get('/admin');
      assert.equal(after.status, 302);
      assert.match(after.location ?? '', /^\/admin\/login/);
    });
  });

  describe('tokens', () => {
    beforeEach(signedInOwner);
    const claims = () => {
      const now = Math.floor(Date.now() / 1000);
      return { sub: String(ownerId), role: 'owner', typ: 'api', iss: 'affix', iat: now, exp: now + 3600 };
    };
    const me = (token: string) => api(app.url, token).get('/me');

    test('a correctly signed HS256 token is accepted (control for the refusals below)', async () => {
      const res = await me(handToken({ alg: 'HS256', typ: 'JWT' }, claims(), secret()));
      assert.equal(res.status, 200);
      assert.equal(res.body.email, OWNER.email);
    });

    test('alg "none" tokens are refused', async () => {
      for (const alg of ['none', 'None', 'NONE']) {
        assertError(await me(handToken({ alg, typ: 'JWT' }, claims())), 401, 'unauthorized');
        // …also with a signature attached.
        assertError(await me(handToken({ alg, typ: 'JWT' }, claims(), secret())), 401, 'unauthorized');
      }
    });

    test('a token signed with another key is refused', async () => {
      const forged = jwt.sign({ role: 'owner', typ: 'api' }, 'another-secret-0123456789abcdefghijklmnop', {
        algorithm: 'HS256',
        subject: String(ownerId),
        issuer: 'affix',
        expiresIn: 3600,
      });
      assertError(await me(forged), 401, 'unauthorized');
    });

    test('an expired token is refused', async () => {
      const expired = jwt.sign({ role: 'owner', typ: 'api' }, secret(), {
        algorithm: 'HS256',
        subject: String(ownerId),
        issuer: 'affix',
        expiresIn: -10,
      });
      assertError(await me(expired), 401, 'unauthorized');
      const now = Math.floor(Date.now() / 1000);
      assertError(
        await me(handToken({ alg: 'HS256', typ: 'JWT' }, { ...claims(), iat: now - 7200, exp: now - 60 }, secret())),
        401,
        'unauthorized',
      );
    });

    test('HS512 and RS256 headers are refused even with the right key', async () => {
      const hs512 = jwt.sign({ role: 'owner', typ: 'api' }, secret(), {
        algorithm: 'HS512',
        subject: String(ownerId),
        issuer: 'affix',
        expiresIn: 3600,
      });
      assertError(await me(hs512), 401, 'unauthorized');
      // Key confusion: an "RS256" header over an HMAC made with the secret.
      for (const alg of ['RS256', 'ES256', 'PS256']) {
        assertError(await me(handToken({ alg, typ: 'JWT' }, claims(), secret())), 401, 'unauthorized');
      }
    });

    test('a token without the issuer, or with a tampered payload, is refused', async () => {
      const { iss: _iss, ...noIssuer } = claims();
      assertError(await me(handToken({ alg: 'HS256', typ: 'JWT' }, noIssuer, secret())), 401, 'unauthorized');
      const good = handToken({ alg: 'HS256', typ: 'JWT' }, { ...claims(), role: 'manager' }, secret());
      const [h, , s] = good.split('.');
      const tampered = `${h}.${b64url({ ...claims(), role: 'owner' })}.${s}`;
      assertError(await me(tampered), 401, 'unauthorized');
    });

    test('a token whose role does not match the account is refused', async () => {
      assertError(
        await me(handToken({ alg: 'HS256', typ: 'JWT' }, { ...claims(), role: 'manager' }, secret())),
        401,
        'unauthorized',
      );
    });

    test('a session token is refused as a bearer token, and an API token as a session cookie', async () => {
      const session = jwt.sign({ role: 'owner', typ: 'session' }, secret(), {
        algorithm: 'HS256',
        subject: String(ownerId),
        issuer: 'affix',
        expiresIn: 3600,
      });
      assertError(await me(session), 401, 'unauthorized');
      const asCookie = await request(app.url, 'GET', '/api/v1/me', {
        headers: { cookie: `affix_session=${ownerToken}` },
      });
      assertError(asCookie, 401, 'unauthorized');
      const realSession = await request(app.url, 'GET', '/api/v1/me', {
        headers: { cookie: `affix_session=${owner.cookies.get('affix_session')}` },
      });
      assert.equal(realSession.status, 200, 'the real session cookie works for the API');
    });

    test('malformed Authorization headers are 401', async () => {
      for (const authorization of [
        'Basic b3duZXI6cGFzcw==',
        'Bearer',
        'Bearer not.a.jwt',
        `Token ${'x'}`,
        'Bearer a b',
      ]) {
        const res = await request(app.url, 'GET', '/api/v1/me', { headers: { authorization } });
        assertError(res, 401, 'unauthorized');
      }
    });
  });

  describe('CSRF', () => {
    beforeEach(signedInOwner);
    test('a form POST without its CSRF token is 403 and changes nothing', async () => {
      const noToken = await owner.post('/admin/logout', {}, { csrf: false });
      assert.equal(noToken.status, 403);
      const wrongToken = await owner.post('/admin/logout', {}, { csrf: 'A'.repeat(32) });
      assert.equal(wrongToken.status, 403);
      assert.equal((await owner.get('/admin')).status, 200, 'still signed in');

      const agent = new Agent(app.url);
      await agent.get('/admin/login');
      const login = await agent.post('/admin/login', { email: OWNER.email, password: OWNER.password }, { csrf: false });
      assert.equal(login.status, 403);
      assert.equal(agent.cookies.get('affix_session'), undefined);
    });

    test('an API write riding on the session cookie needs X-CSRF-Token', async () => {
      const cookie = `affix_session=${owner.cookies.get('affix_session')}`;
      // The token of the session, as its pages show it.
      const csrfToken = /name="_csrf" value="([^"]+)"/.exec((await owner.get('/admin')).text)![1]!;
      const without = await request(app.url, 'PATCH', '/api/v1/settings', {
        body: { cookieDays: 45 },
        headers: { cookie },
      });
      assertError(without, 403, 'csrf_failed');
      const wrong = await request(app.url, 'PATCH', '/api/v1/settings', {
        body: { cookieDays: 45 },
        headers: { cookie, 'x-csrf-token': 'B'.repeat(32) },
      });
      assertError(wrong, 403, 'csrf_failed');
      assert.equal(
        (await api(app.url, ownerToken).get('/settings')).body.cookieDays,
        60,
        'the refused writes changed nothing',
      );

      const withToken = await request(app.url, 'PATCH', '/api/v1/settings', {
        body: { cookieDays: 45 },
        headers: { cookie, 'x-csrf-token': csrfToken },
      });
      assert.equal(withToken.status, 200, withToken.text);
      assert.equal(withToken.body.cookieDays, 45);
    });

    test('bearer API calls need no CSRF token', async () => {
      const res = await api(app.url, ownerToken).patch('/settings', { cookieDays: 60 });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.cookieDays, 60);
    });
  });

  describe('roles', () => {
    beforeEach(signedInOwner);
    let affiliatesMade:
      Promise<{ affiliateToken: string; ownAffiliateId: number; otherAffiliateId: number }> | undefined;
    /** Ann, an affiliate who signs in, with her token, and Bob, another affiliate (made once). */
    const annAndBob = () =>
      (affiliatesMade ??= (async () => {
        const owners = api(app.url, ownerToken);
        const mine = await owners.post('/affiliates', {
          name: 'Ann Affiliate',
          email: 'ann@example.com',
          password: 'ann password 123',
          status: 'approved',
        });
        assert.equal(mine.status, 201, mine.text);
        const other = await owners.post('/affiliates', { name: 'Bob Affiliate', email: 'bob@example.com' });
        assert.equal(other.status, 201, other.text);
        return {
          ownAffiliateId: mine.body.id as number,
          otherAffiliateId: other.body.id as number,
          affiliateToken: await tokenFor(app.url, 'ann@example.com', 'ann password 123'),
        };
      })());
    const MAX = { email: 'max@example.com', password: 'manager password 1', name: 'Max Manager' };

    test('an affiliate token reads its own record and nothing else', async () => {
      const { affiliateToken, ownAffiliateId, otherAffiliateId } = await annAndBob();
      const aff = api(app.url, affiliateToken);
      const own = await aff.get(`/affiliates/${ownAffiliateId}`);
      assert.equal(own.status, 200);
      assert.equal(own.body.id, ownAffiliateId);
      assert.equal(own.body.email, 'ann@example.com');
      assertError(await aff.get(`/affiliates/${otherAffiliateId}`), 403, 'forbidden');
      const me = await aff.get('/me');
      assert.equal(me.body.role, 'affiliate');
      assert.equal(me.body.affiliateId, ownAffiliateId);
    });

    test('an affiliate token is refused on merchant routes', async () => {
      const { affiliateToken, ownAffiliateId } = await annAndBob();
      const aff = api(app.url, affiliateToken);
      for (const path of [
        '/affiliates',
        '/campaigns',
        '/settings',
        '/banners',
        '/coupons',
        '/plugins',
        '/users',
        '/audit-log',
      ]) {
        assertError(await aff.get(path), 403, 'forbidden');
      }
      assertError(await aff.patch('/settings', { cookieDays: 1 }), 403, 'forbidden');
      assertError(
        await aff.patch(`/affiliates/${ownAffiliateId}`, { status: 'approved', name: 'Renamed' }),
        403,
        'forbidden',
      );
      assertError(await aff.delete(`/affiliates/${ownAffiliateId}`), 403, 'forbidden');
      assertError(await aff.post('/campaigns', { name: 'Mine now' }), 403, 'forbidden');
      assertError(await aff.post(`/affiliates/${ownAffiliateId}/approve`), 403, 'forbidden');
      const settings = await api(app.url, ownerToken).get('/settings');
      assert.equal(settings.body.cookieDays, 60, 'nothing changed');
    });

    test('an affiliate cannot sign in to the merchant admin', async () => {
      await annAndBob();
      const agent = new Agent(app.url);
      await agent.get('/admin/login');
      const res = await agent.post('/admin/login', { email: 'ann@example.com', password: 'ann password 123' });
      assert.equal(res.status, 403);
      assert.equal(agent.cookies.get('affix_session'), undefined);
    });

    test('a manager manages campaigns but not settings or staff', async () => {
      const created = await api(app.url, ownerToken).post('/users', MAX);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.role, 'manager');
      assert.equal(created.body.email, 'max@example.com');

      const mgr = api(app.url, await tokenFor(app.url, 'max@example.com', 'manager password 1'));
      const campaign = await mgr.post('/campaigns', { name: 'Manager campaign' });
      assert.equal(campaign.status, 201, campaign.text);
      const patched = await mgr.patch(`/campaigns/${campaign.body.id}`, { status: 'paused' });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.status, 'paused');
      assert.equal((await mgr.delete(`/campaigns/${campaign.body.id}`)).status, 204);
      assert.equal((await mgr.get('/settings')).status, 200, 'a manager may read the settings');

      assertError(await mgr.patch('/settings', { cookieDays: 1 }), 403, 'forbidden');
      assertError(await mgr.post('/settings/regenerate-postback-key'), 403, 'forbidden');
      assertError(
        await mgr.post('/users', { email: 'eve@example.com', password: 'eve password 12' }),
        403,
        'forbidden',
      );
      assertError(await mgr.get('/users'), 403, 'forbidden');
      const eve = await request(app.url, 'POST', '/api/v1/auth/token', {
        body: { email: 'eve@example.com', password: 'eve password 12' },
      });
      assert.equal(eve.status, 401, 'the refused user was not created');
    });

    test('POST /api/v1/users refuses a second account with the same email and an owner role', async () => {
      const owners = api(app.url, ownerToken);
      // Max, whom the manager test makes: made here when it did not run.
      const max = await owners.post('/users', MAX);
      if (max.status !== 201) assertFieldError(max, 'email');
      const dup = await owners.post('/users', { email: 'MAX@example.com', password: 'another password' });
      assertError(dup, 422, 'validation_failed');
      assert.ok(dup.body.error.details.some((d: { field: string }) => d.field === 'email'));
      const asOwner = await owners.post('/users', {
        email: 'second-owner@example.com',
        password: 'second owner pw',
        role: 'owner',
      });
      assertError(asOwner, 422, 'validation_failed');
      assert.ok(asOwner.body.error.details.some((d: { field: string }) => d.field === 'role'));
    });

    test('without a token every API route is 401', async () => {
      const { ownAffiliateId } = await annAndBob();
      const routes: Array<[string, string]> = [
        ['GET', '/me'],
        ['GET', '/settings'],
        ['PATCH', '/settings'],
        ['POST', '/settings/regenerate-postback-key'],
        ['GET', '/plugins'],
        ['GET', '/plugins/anything'],
        ['PATCH', '/plugins/anything'],
        ['GET', '/users'],
        ['POST', '/users'],
        ['GET', '/audit-log'],
        ['GET', '/affiliates'],
        ['POST', '/affiliates'],
        ['GET', `/affiliates/${ownAffiliateId}`],
        ['PATCH', `/affiliates/${ownAffiliateId}`],
        ['DELETE', `/affiliates/${ownAffiliateId}`],
        ['POST', `/affiliates/${ownAffiliateId}/approve`],
        ['POST', `/affiliates/${ownAffiliateId}/decline`],
        ['GET', '/campaigns'],
        ['POST', '/campaigns'],
        ['GET', '/campaigns/1'],
        ['PATCH', '/campaigns/1'],
        ['DELETE', '/campaigns/1'],
        ['POST', '/campaigns/1/regenerate-secret-key'],
        ['GET', '/campaigns/1/payouts'],
        ['POST', '/campaigns/1/payouts'],
        ['GET', '/campaigns/1/payouts/1'],
        ['PATCH', '/campaigns/1/payouts/1'],
        ['DELETE', '/campaigns/1/payouts/1'],
        ['GET', '/banners'],
        ['POST', '/banners'],
        ['GET', '/banners/1'],
        ['PATCH', '/banners/1'],
        ['DELETE', '/banners/1'],
        ['GET', '/coupons'],
        ['POST', '/coupons'],
        ['GET', '/coupons/1'],
        ['PATCH', '/coupons/1'],
        ['DELETE', '/coupons/1'],
      ];
      for (const [method, path] of routes) {
        const res = await request(
          app.url,
          method,
          `/api/v1${path}`,
          method === 'GET' || method === 'DELETE' ? {} : { body: {} },
        );
        assertError(res, 401, 'unauthorized');
      }
      const campaigns = await api(app.url, ownerToken).get('/campaigns?perPage=200');
      assert.ok(
        campaigns.body.data.some((c: { id: number }) => c.id === 1),
        'the refused DELETE left campaign 1 alone',
      );
      assert.equal((await api(app.url, ownerToken).get(`/affiliates/${ownAffiliateId}`)).status, 200);
    });
  });

  describe('security headers', () => {
    beforeEach(signedInOwner);
    test('pages and API answers carry CSP, nosniff and frame protection', async () => {
      for (const path of ['/admin/login', '/api/v1/me', '/healthz']) {
        const res = await fetch(`${app.url}${path}`, { redirect: 'manual' });
        const csp = res.headers.get('content-security-policy') ?? '';
        assert.ok(csp, `${path}: Content-Security-Policy`);
        assert.match(csp, /default-src 'self'/, path);
        assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/, `${path}: no inline scripts`);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
        const xfo = res.headers.get('x-frame-options');
        assert.ok(
          (xfo && /deny|sameorigin/i.test(xfo)) || /frame-ancestors '(none|self)'/.test(csp),
          `${path}: framing is refused`,
        );
      }
    });
  });

  // Last: the throttle also counts per client IP.
  describe('login throttling', () => {
    beforeEach(signedInOwner);
    test('after 5 failures further attempts are 429 with Retry-After, even with the right password', async () => {
      const owners = api(app.url, ownerToken);
      assert.equal(
        (await owners.post('/users', { email: 'tina@example.com', password: 'tina password 1' })).status,
        201,
      );
      const attempt = (password: string, ip = '203.0.113.7', email = 'tina@example.com') =>
        request(app.url, 'POST', '/api/v1/auth/token', {
          body: { email, password },
          headers: { 'x-forwarded-for': ip },
        });

      for (let i = 1; i <= 5; i++) assertError(await attempt(`wrong password ${i}`), 401, 'unauthorized');
      const throttled = await attempt('wrong password 6');
      assertError(throttled, 429, 'too_many_requests');
      const retryAfter = Number(throttled.headers.get('retry-after'));
      assert.ok(
        Number.isInteger(retryAfter) && retryAfter >= 1,
        `Retry-After: ${throttled.headers.get('retry-after')}`,
      );

      const right = await attempt('tina password 1');
      assertError(right, 429, 'too_many_requests');
      assert.equal(right.body.token, undefined, 'no token while throttled');
      assert.ok(Number(right.headers.get('retry-after')) >= 1);

      // The email is throttled from any address; the address is throttled for any email.
      assertError(await attempt('tina password 1', '198.51.100.20'), 429, 'too_many_requests');
      assertError(await attempt(OWNER.password, '203.0.113.7', OWNER.email), 429, 'too_many_requests');

      // The login form shares the brake.
      const agent = new Agent(app.url);
      await agent.get('/admin/login');
      const form = await agent.post('/admin/login', { email: 'tina@example.com', password: 'tina password 1' });
      assert.equal(form.status, 429);
      assert.equal(agent.cookies.get('affix_session'), undefined);
    });
  });
});
