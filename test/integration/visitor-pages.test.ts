import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';

/*
 * SPEC §13: a visitor is never shown JSON. A tracking link that leads nowhere answers a browser
 * with a small HTML page linking to the store's `siteUrl` (else the tracker's own home page);
 * a JSON client (Accept: application/json) still gets the JSON error.
 */

const BROWSER = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
};
const JSON_CLIENT = { accept: 'application/json' };

async function get(app: TestApp, path: string, headers: Record<string, string>) {
  const res = await fetch(app.url + path, { headers, redirect: 'manual' });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

function assertVisitorPage(res: { status: number; type: string; text: string }, link: string, what: string) {
  assert.equal(res.status, 404, `${what}: ${res.status}`);
  assert.match(res.type, /text\/html/, `${what}: ${res.type} ${res.text.slice(0, 200)}`);
  assert.doesNotMatch(res.text, /^\s*\{/, `${what} is not JSON`);
  assert.doesNotMatch(res.text, /"error"|no_destination|No route for/, what);
  assert.ok(res.text.includes(`href="${link}"`), `${what} links to ${link}: ${res.text}`);
}

describe(`visitors get pages, JSON clients get JSON (SPEC §13) on ${dialectName()}`, () => {
  let app: TestApp;
  let owner: ReturnType<typeof api>;
  let bare: number;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    await owner.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann', status: 'approved' });
    bare = (await owner.post('/campaigns', { name: 'No destination' })).body.id as number;
  });
  after(() => app?.close());

  test('a fresh install without siteUrl: the pages link to the tracker’s home page', async () => {
    const r = await get(app, `/r?a_aid=ann&a_cid=${bare}`, BROWSER);
    assertVisitorPage(r, '/', '/r without a destination');
    const clicks = await app.services.db('clicks').where({ campaign_id: bare });
    assert.equal(clicks.length, 1, 'the click is still stored');
    assertVisitorPage(await get(app, '/no-such-campaign', BROWSER), '/', 'an unknown campaign alias');
    assertVisitorPage(await get(app, '/lp/offer?subid=AAAAAAAAAAAAAAAAAAAAAAAA', BROWSER), '/', '/lp/offer');
    assertVisitorPage(await get(app, '/lp/offer', BROWSER), '/', '/lp/offer without subid');
  });

  test('JSON clients keep their JSON errors', async () => {
    const r = await get(app, `/r?a_aid=ann&a_cid=${bare}`, JSON_CLIENT);
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.text).error.code, 'no_destination');
    const alias = await get(app, '/no-such-campaign', JSON_CLIENT);
    assert.equal(alias.status, 404);
    assert.equal(JSON.parse(alias.text).error.code, 'not_found');
    const offer = await get(app, '/lp/offer?subid=AAAAAAAAAAAAAAAAAAAAAAAA', JSON_CLIENT);
    assert.equal(offer.status, 404);
    assert.equal(JSON.parse(offer.text).error.code, 'not_found');
  });

  test('with the store’s URL set, the pages link to it', async () => {
    assert.equal((await owner.patch('/settings', { siteUrl: 'https://shop.example/' })).status, 200);
    assertVisitorPage(await get(app, '/no-such-campaign', BROWSER), 'https://shop.example/', 'an unknown alias');
    assertVisitorPage(await get(app, '/lp/offer?subid=nope', BROWSER), 'https://shop.example/', '/lp/offer');
    // And /r now has somewhere to go.
    const r = await get(app, `/r?a_aid=ann&a_cid=${bare}`, BROWSER);
    assert.equal(r.status, 302);
  });
});

describe(`the setup page asks for the store’s URL and base currency (SPEC §13) on ${dialectName()}`, () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app?.close());

  test('a bad URL or currency is shown beside its field and nothing is created', async () => {
    const agent = new Agent(app.url);
    const page = await agent.get('/admin/setup');
    assert.match(page.text, /name="siteUrl"/);
    assert.match(page.text, /name="baseCurrency"/);
    const bad = await agent.post('/admin/setup', {
      ...OWNER,
      siteUrl: 'shop.example',
      baseCurrency: 'EURO',
    });
    assert.equal(bad.status, 422, bad.text.slice(0, 300));
    assert.match(bad.text, /must be an http\(s\) URL/);
    assert.match(bad.text, /value="shop.example"/, 'the typed value is kept');
    assert.equal(await app.services.auth.needsSetup(), true, 'no owner yet');
  });

  test('the owner, the store’s URL and the base currency in one step', async () => {
    const agent = new Agent(app.url);
    await agent.get('/admin/setup');
    const done = await agent.post('/admin/setup', {
      name: 'Olivia',
      ...OWNER,
      siteUrl: 'https://shop.example/',
      baseCurrency: 'eur',
    });
    assert.equal(done.status, 302, done.text.slice(0, 300));
    const settings = app.services.settings.get();
    assert.equal(settings.siteUrl, 'https://shop.example/');
    assert.equal(settings.baseCurrency, 'EUR');
  });
});
