import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import { campaignWithFlow } from '../helpers/programme.js';
import { createApp, routeServices } from '../../server/app.js';
import { hotFront } from '../../server/http/hot-front.js';

/**
 * The hot tracking paths are answered in front of the Koa stack (server/http/hot-front.ts). The
 * same requests sent to the app as served (front first) and to its bare Koa stack (the routes that
 * answered them before) must get the same answers: status, headers and body, with the ids that
 * differ on every request (visitor, click, subid) replaced by their kind.
 */
describe('the hot front answers as the Koa routes do (SPEC §12)', () => {
  let app: TestApp;
  let koaOnly: Server;
  let koaUrl: string;
  let frontOnly: Server;
  let frontUrl: string;
  let a: ReturnType<typeof api>;
  let banner: number;
  let bare: number;

  before(async () => {
    // One trusted proxy hop: X-Forwarded-Proto/Host/For count, as behind a load balancer.
    app = await startTestApp({ env: { TRUST_PROXY: '1' } });
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const shoes = created(
      await a.post('/campaigns', { name: 'Shoes', destinationUrl: 'https://shop.example/shoes', productIds: ['sku'] }),
      'campaign',
    );
    bare = created(await a.post('/campaigns', { name: 'Nowhere' }), 'campaign');
    banner = created(
      await a.post('/banners', {
        campaignId: shoes,
        name: 'B',
        type: 'link',
        destinationUrl: 'https://shop.example/b?x=1',
      }),
      'banner',
    );
    created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
    const flow = { type: 'default', schema: 'redirect' };
    await campaignWithFlow(
      a,
      { name: 'Traffic', alias: 'promo' },
      { ...flow, name: 'All', url: 'https://offer.example/?s={subid}&z={sub_id_1}' },
    );
    await campaignWithFlow(
      a,
      { name: 'Text', alias: 'says' },
      { ...flow, name: 'T', schema: 'action', action: 'show_text', text: 'hello' },
    );
    const domain = created(await a.post('/domains', { host: 'track.example.com' }), 'domain');
    await campaignWithFlow(
      a,
      { name: 'Hosted', alias: 'hosted', domainId: domain },
      { ...flow, name: 'H', url: 'https://h.example/' },
    );
    // The same services served by the Koa stack alone (Koa's own callback, without the front).
    koaOnly = http.createServer(Koa.prototype.callback.call(createApp(app.services)));
    await new Promise<void>((r) => koaOnly.listen(0, '127.0.0.1', () => r()));
    koaUrl = `http://127.0.0.1:${(koaOnly.address() as AddressInfo).port}`;
    // The front alone: whatever it leaves to Koa (or hands over with an error) is answered 599.
    frontOnly = http.createServer(
      hotFront(
        routeServices(app.services),
        app.config.trustProxy,
      )((_req, res) => {
        res.statusCode = 599;
        res.end();
      }),
    );
    await new Promise<void>((r) => frontOnly.listen(0, '127.0.0.1', () => r()));
    frontUrl = `http://127.0.0.1:${(frontOnly.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const server of [koaOnly, frontOnly]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    await app?.close();
  });

  /** An answer with what differs per request taken out: dates, ids, a cookie's value and expiry. */
  const answer = async (base: string, path: string, init: RequestInit) => {
    const res = await fetch(base + path, { redirect: 'manual', ...init });
    const ids = (s: string) =>
      s
        .replace(/"(visitorId|clickId|saleId)":("[^"]*"|\d+)/g, '"$1":"<id>"')
        .replace(/(s=|affix_vid=|affix_uniq=|affix_csrf=|subid=)[A-Za-z0-9_.-]+/g, '$1<id>')
        .replace(/expires=[^;]+/g, 'expires=<date>');
    const headers = [...res.headers.entries()]
      .filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k))
      .map(([k, v]) => `${k}: ${ids(v)}`)
      .sort();
    const body = await res.text();
    return { status: res.status, headers, body: ids(body).replace(/(Content-Length: )\d+/, '$1') };
  };
  /**
   * The app's answer equals the Koa stack's; `by` says who must have given it: the front itself
   * (the front alone answers the same) or the Koa stack (the front alone leaves it: 599).
   */
  const same = async (path: string, init: RequestInit = {}, by: 'front' | 'koa' = 'front') => {
    const served = await answer(app.url, path, init);
    const koa = await answer(koaUrl, path, init);
    assert.deepEqual(served, koa, `${init.method ?? 'GET'} ${path}`);
    const alone = await answer(frontUrl, path, init);
    if (by === 'front') assert.deepEqual(alone, koa, `${init.method ?? 'GET'} ${path}: answered by the front itself`);
    else assert.equal(alone.status, 599, `${init.method ?? 'GET'} ${path}: left to the Koa stack`);
    return served;
  };
  const post = (body: string, headers: Record<string, string> = {}): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': CHROME, ...headers },
    body,
  });

  test('POST /t/click: the answer, the CORS headers and the visitor cookie', async () => {
    const url = `https://shop.example/?a_aid=ann&a_bid=${banner}`;
    const first = await same('/t/click', post(JSON.stringify({ url })));
    assert.equal(first.status, 200);
    assert.ok(first.headers.includes('access-control-allow-origin: *'), first.headers.join('\n'));
    assert.ok(first.headers.some((h) => h.startsWith('set-cookie: affix_vid=<id>; path=/;')));
    const trusted = await same(
      '/t/click',
      post(JSON.stringify({ url, unknown: 1 }), { origin: 'https://shop.example' }),
    );
    assert.match(trusted.body, /"warnings"/);
    assert.ok(trusted.headers.includes('vary: Origin'));
    // Behind the trusted proxy over https: the cookie is Secure and SameSite=None.
    const secure = await same('/t/click', post(JSON.stringify({ url }), { 'x-forwarded-proto': 'https' }));
    assert.ok(
      secure.headers.some((h) => /samesite=none/.test(h) && /secure/.test(h)),
      secure.headers.join('\n'),
    );
  });

  test('errors on a hot path are answered by the error handler: invalid JSON, a body too large, a bad sale', async () => {
    const invalid = await same('/t/click', post('{"url":'), 'koa');
    assert.equal(invalid.status, 400);
    assert.match(invalid.body, /invalid_json/);
    assert.ok(invalid.headers.includes('access-control-allow-origin: *'), 'CORS headers on the error too');
    const large = await same('/t/click', post(JSON.stringify({ url: 'x'.repeat(200 * 1024) })), 'koa');
    assert.equal(large.status, 413);
    const sale = await same('/t/sale', post(JSON.stringify({ orderId: 'o-1', totalCost: 'lots' })), 'koa');
    assert.equal(sale.status, 422);
    assert.match(sale.body, /totalCost/);
  });

  test('POST /t/sale and /t/action: stored once, then answered as a duplicate', async () => {
    const body = (orderId: string) => JSON.stringify({ orderId, totalCost: 10, productId: 'sku' });
    const front = await answer(app.url, '/t/sale', post(body('o-front')));
    const koa = await answer(koaUrl, '/t/sale', post(body('o-koa')));
    assert.equal(front.status, 201);
    assert.deepEqual(front, { ...koa, body: koa.body.replace('o-koa', 'o-front') });
    const again = await same('/t/sale', post(body('o-front')));
    assert.equal(again.status, 200);
    assert.match(again.body, /"duplicate":true/);
    const action = await answer(app.url, '/t/action', post(JSON.stringify({ orderId: 'a-1', actionCode: 'signup' })));
    assert.equal(
      action.status,
      (await answer(koaUrl, '/t/action', post(JSON.stringify({ orderId: 'a-2', actionCode: 'signup' })))).status,
    );
  });

  test('GET /r: the redirect with its body, and a link that leads nowhere as a page or JSON', async () => {
    const hit = await same(`/r?a_aid=ann&a_bid=${banner}&chan=x%20y`, { headers: { 'user-agent': CHROME } });
    assert.equal(hit.status, 302);
    assert.ok(hit.headers.some((h) => h.startsWith('location: https://shop.example/b?x=1')));
    assert.match(hit.body, /^Redirecting to /);
    await same(`/r?a_aid=ann&a_bid=${banner}`, { headers: { accept: 'application/json' } });
    const nowhere = await same(`/r?a_cid=${bare}`, { headers: { accept: 'text/html' } });
    assert.equal(nowhere.status, 404);
    assert.match(nowhere.body, /<h1>/);
    const json = await same(`/r?a_cid=${bare}`, { headers: { accept: 'application/json' } });
    assert.match(json.body, /no_destination/);
  });

  test('GET /<alias>: a redirect, a text answer, an unknown alias and a reserved path', async () => {
    const promo = await same('/promo?sub_id_1=z7', { headers: { 'user-agent': CHROME } });
    assert.equal(promo.status, 302);
    assert.ok(promo.headers.some((h) => h.startsWith('location: https://offer.example/?s=<id>&z=z7')));
    const says = await same('/says', { headers: { 'user-agent': CHROME } });
    assert.equal(says.status, 200);
    assert.equal(says.body, 'hello');
    assert.equal((await same('/no-such-alias', {}, 'koa')).status, 404);
    // The Host a trusted proxy forwards chooses the campaign; the socket's own Host does not.
    const forwarded = await same('/hosted', {
      headers: { 'x-forwarded-host': 'track.example.com', 'user-agent': CHROME },
    });
    assert.equal(forwarded.status, 302);
    assert.equal((await same('/hosted', { headers: { 'user-agent': CHROME } }, 'koa')).status, 404);
    assert.equal((await same('/healthz', {}, 'koa')).status, 200);
    assert.equal((await same('/promo', { method: 'HEAD' }, 'koa')).status, 302, 'HEAD goes to the Koa route');
  });
});
