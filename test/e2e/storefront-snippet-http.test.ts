import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';

/* GET /snippet.js over HTTP (SPEC §4.1): headers, ETag revalidation, and settings baked in. */

type Api = ReturnType<typeof api>;

/*
 * fetch() adds `Cache-Control: no-cache` to a request with If-None-Match (an end-to-end reload,
 * which must not be answered 304); a browser revalidating its cached copy sends max-age=0.
 */
const get = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers: { 'Cache-Control': 'max-age=0', ...headers } });

describe('GET /snippet.js', () => {
  let app: TestApp;
  let owner: Api;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await owner.patch('/settings', { urlParams: { affiliate: 'a_aid' }, gdprMode: false });
    await app.close();
  });

  test('serves JavaScript with caching headers, an ETag and CORS', async () => {
    const res = await get(`${app.url}/snippet.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/javascript\b/);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('etag') ?? '', /^"[\w-]{16,}"$/);
    const body = await res.text();
    assert.doesNotThrow(() => new vm.Script(body), 'the body is valid JavaScript');
    assert.ok(!body.includes('__AFFIX_CONFIG__'), 'the configuration placeholder is replaced');
    assert.ok(body.includes(JSON.stringify(app.url).slice(1, -1)), 'the endpoint is this server');
    assert.ok(body.includes('a_aid'), 'the default affiliate parameter name is baked in');
  });

  test('answers 304 to If-None-Match with the current ETag, 200 to another', async () => {
    const etag = (await get(`${app.url}/snippet.js`)).headers.get('etag') as string;
    const again = await get(`${app.url}/snippet.js`, { 'If-None-Match': etag });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
    assert.equal(again.headers.get('etag'), etag);
    assert.equal(
      (await get(`${app.url}/snippet.js`, { 'If-None-Match': `W/${etag}, "other"` })).status,
      304,
      'weak and listed tags match',
    );
    const stale = await get(`${app.url}/snippet.js`, { 'If-None-Match': '"stale"' });
    assert.equal(stale.status, 200);
    assert.ok((await stale.text()).length > 500);
  });

  test('a renamed affiliate parameter changes the ETag and is in the body', async () => {
    const before = (await get(`${app.url}/snippet.js`)).headers.get('etag') as string;
    const patched = await owner.patch('/settings', { urlParams: { affiliate: 'partner_ref' } });
    assert.equal(patched.status, 200, patched.text);
    const res = await get(`${app.url}/snippet.js`, { 'If-None-Match': before });
    assert.equal(res.status, 200, 'the old ETag no longer matches');
    const etag = res.headers.get('etag');
    assert.ok(etag && etag !== before);
    const body = await res.text();
    assert.ok(body.includes('partner_ref'));
    assert.ok(!body.includes('a_aid'));

    const gdpr = await owner.patch('/settings', { gdprMode: true });
    assert.equal(gdpr.status, 200, gdpr.text);
    const third = await get(`${app.url}/snippet.js`);
    assert.notEqual(third.headers.get('etag'), etag, 'GDPR mode changes the ETag too');
    assert.match(await third.text(), /\\"gdpr\\":true/);
  });

  test('the endpoint is PUBLIC_URL when it is set', async () => {
    const other = await startTestApp({ env: { PUBLIC_URL: 'https://track.example.com/' } });
    try {
      const body = await (await get(`${other.url}/snippet.js`)).text();
      assert.ok(body.includes('https://track.example.com'));
      assert.ok(!body.includes(other.url));
    } finally {
      await other.close();
    }
  });
});
