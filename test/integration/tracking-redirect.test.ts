import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

type Api = ReturnType<typeof api>;

const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const STORED_HOSTS = new Set(['shop.example', 'www.shop.example', 'hats.shop.example']);

interface Hit {
  status: number;
  location: string | null;
  cookie: string | null;
  body: string;
  headers: Headers;
}

describe('GET /r and GET /t/impression (SPEC §4.2)', () => {
  let app: TestApp;
  let a: Api;
  let shoes: number;
  let hats: number;
  let bare: number;
  let bannerWithUrl: number;
  let bannerNoUrl: number;
  let hatBanner: number;
  let ann: number;

  const get = async (path: string, headers: Record<string, string> = {}): Promise<Hit> => {
    const res = await fetch(app.url + path, { headers: { 'user-agent': CHROME, ...headers }, redirect: 'manual' });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('affix_vid=')) ?? null;
    return {
      status: res.status,
      location: res.headers.get('location'),
      cookie,
      body: await res.text(),
      headers: res.headers,
    };
  };
  const vidOf = (cookie: string | null) => cookie?.split(';')[0]?.split('=')[1] ?? '';
  const clicksOf = async (visitorId: string) =>
    (await a.get(`/clicks?visitorId=${encodeURIComponent(visitorId)}`)).body.data as Array<Record<string, any>>;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    shoes = created(
      await a.post('/campaigns', { name: 'Shoes', destinationUrl: 'https://shop.example/shoes' }),
      'campaign',
    );
    hats = created(
      await a.post('/campaigns', { name: 'Hats', destinationUrl: 'https://hats.shop.example/' }),
      'campaign',
    );
    bare = created(await a.post('/campaigns', { name: 'No destination' }), 'campaign');
    bannerWithUrl = created(
      await a.post('/banners', {
        campaignId: shoes,
        name: 'Sneakers',
        type: 'link',
        destinationUrl: 'https://shop.example/sneakers?x=1',
      }),
      'banner',
    );
    bannerNoUrl = created(await a.post('/banners', { campaignId: shoes, name: 'Plain', type: 'link' }), 'banner');
    hatBanner = created(
      await a.post('/banners', {
        campaignId: hats,
        name: 'Hat',
        type: 'image',
        content: 'https://cdn.example/hat.png',
      }),
      'banner',
    );
    ann = created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
  });
  after(async () => {
    await app.close();
  });

  test("302 to the banner's destinationUrl with affix_vid and the original parameters", async () => {
    const hit = await get(`/r?a_aid=ann&a_bid=${bannerWithUrl}&chan=newsletter&data1=x%20y`);
    assert.equal(hit.status, 302, hit.body);
    assert.ok(hit.location);
    const loc = new URL(hit.location);
    assert.equal(loc.origin + loc.pathname, 'https://shop.example/sneakers');
    assert.equal(loc.searchParams.get('x'), '1', "the stored URL's own parameters are kept");
    assert.equal(loc.searchParams.get('a_aid'), 'ann');
    assert.equal(loc.searchParams.get('a_bid'), String(bannerWithUrl));
    assert.equal(loc.searchParams.get('chan'), 'newsletter');
    assert.equal(loc.searchParams.get('data1'), 'x y');
    assert.ok(hit.cookie, 'the visitor cookie is set');
    assert.match(hit.cookie, /httponly/i);
    const vid = vidOf(hit.cookie);
    assert.equal(loc.searchParams.get('affix_vid'), vid);
    assert.equal(hit.headers.get('cache-control'), 'no-store');

    const [click] = await clicksOf(vid);
    assert.ok(click, 'the click is stored before the redirect is answered');
    assert.equal(click.source, 'redirect');
    assert.equal(click.status, 'unique');
    assert.equal(click.campaignId, shoes);
    assert.equal(click.affiliateId, ann);
    assert.equal(click.bannerId, bannerWithUrl);
    assert.equal(click.channel, 'newsletter');
  });

  test("a banner without destination → the campaign's destination", async () => {
    const hit = await get(`/r?a_aid=ann&a_bid=${bannerNoUrl}`);
    assert.equal(hit.status, 302);
    const loc = new URL(hit.location!);
    assert.equal(loc.origin + loc.pathname, 'https://shop.example/shoes');
    const byCampaign = await get(`/r?a_aid=ann&a_cid=${hats}`);
    assert.equal(new URL(byCampaign.location!).host, 'hats.shop.example');
  });

  test('a returning visitor keeps its id; a forged affix_vid parameter is replaced', async () => {
    const first = await get(`/r?a_aid=ann&a_bid=${hatBanner}`);
    const vid = vidOf(first.cookie);
    const again = await get(`/r?a_aid=ann&a_bid=${hatBanner}&affix_vid=forged-visitor-id-000`, {
      cookie: `affix_vid=${vid}`,
    });
    assert.equal(again.status, 302);
    assert.equal(new URL(again.location!).searchParams.get('affix_vid'), vid);
    assert.deepEqual(new URL(again.location!).searchParams.getAll('affix_vid'), [vid]);
    const clicks = await clicksOf(vid);
    assert.deepEqual(clicks.map((c) => c.status).sort(), ['raw', 'unique']);
  });

  test('no destination at all → 404 (JSON to a JSON client), the click still stored; the site URL then serves', async () => {
    // A shopper's browser gets a page instead (test/integration/visitor-pages.test.ts).
    const hit = await get(`/r?a_aid=ann&a_cid=${bare}`, { accept: 'application/json' });
    assert.equal(hit.status, 404, hit.body);
    const body = JSON.parse(hit.body) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'no_destination');
    assert.match(body.error.message, /destination/);
    const [click] = await clicksOf(vidOf(hit.cookie));
    assert.ok(click, 'the click was stored');
    assert.equal(click.campaignId, bare);

    const patched = await a.patch('/settings', { siteUrl: 'https://www.shop.example/home' });
    assert.equal(patched.status, 200, patched.text);
    const site = await get(`/r?a_aid=ann&a_cid=${bare}`);
    assert.equal(site.status, 302);
    const loc = new URL(site.location!);
    assert.equal(loc.origin + loc.pathname, 'https://www.shop.example/home');
    // No parameters at all: the default campaign (no destination) → the site URL.
    const none = await get('/r');
    assert.equal(none.status, 302);
    assert.equal(new URL(none.location!).host, 'www.shop.example');
    assert.equal((await a.patch('/settings', { siteUrl: null })).status, 200);
  });

  test('a destination taken from the request is never used (no open redirect)', async () => {
    const evil = 'https://evil.example/phish';
    const attempts = [
      `/r?a_aid=ann&a_bid=${bannerWithUrl}&url=${encodeURIComponent(evil)}`,
      `/r?a_aid=ann&a_bid=${bannerNoUrl}&destinationUrl=${encodeURIComponent(evil)}`,
      `/r?a_aid=ann&a_cid=${hats}&redirect=${encodeURIComponent(evil)}`,
      `/r?a_aid=ann&a_cid=${shoes}&next=${encodeURIComponent('//evil.example')}&returnTo=${encodeURIComponent(evil)}`,
      `/r?a_aid=ann&a_bid=${encodeURIComponent(evil)}&a_cid=${shoes}`,
      `/r?a_aid=ann&a_cid=${encodeURIComponent(evil)}&a_bid=${bannerWithUrl}`,
      `/r?a_aid=${encodeURIComponent(evil)}&a_cid=${hats}`,
      `/r?a_aid=ann&a_bid=${bannerWithUrl}&url=${encodeURIComponent(evil)}&url=${encodeURIComponent('javascript:alert(1)')}`,
    ];
    for (const path of attempts) {
      const hit = await get(path);
      assert.equal(hit.status, 302, `${path}: ${hit.status} ${hit.body}`);
      const loc = new URL(hit.location!);
      assert.ok(STORED_HOSTS.has(loc.host), `${path} redirected to ${loc.host}`);
      assert.equal(loc.protocol, 'https:');
    }
    // A banner id of another merchant URL matches no banner; with no stored destination the answer is a 404, not the URL.
    const hit = await get(`/r?a_aid=ann&a_bid=${encodeURIComponent(evil)}&a_cid=${bare}`);
    assert.equal(hit.status, 404);
    assert.equal(hit.location, null);
  });

  test('array and nested query values are plain text', async () => {
    const hit = await get(`/r?a_aid=ann&a_aid=bob&a_bid[]=1&a_cid[$gt]=0&a_bid=${bannerWithUrl}`);
    assert.ok(hit.status === 302, `${hit.status} ${hit.body}`);
    assert.equal(new URL(hit.location!).host, 'shop.example');
  });

  test('GDPR mode: the redirect sets no cookie', async () => {
    assert.equal((await a.patch('/settings', { gdprMode: true })).status, 200);
    try {
      const hit = await get(`/r?a_aid=ann&a_bid=${bannerWithUrl}`, { 'user-agent': `${CHROME} gdpr` });
      assert.equal(hit.status, 302);
      assert.equal(hit.cookie, null);
      // Without the cookie, IP + user agent decide uniqueness (SPEC §2).
      const vid = new URL(hit.location!).searchParams.get('affix_vid') ?? '';
      const again = await get(`/r?a_aid=ann&a_bid=${bannerWithUrl}`, { 'user-agent': `${CHROME} gdpr` });
      assert.equal(new URL(again.location!).searchParams.get('affix_vid'), vid);
      assert.deepEqual((await clicksOf(vid)).map((c) => c.status).sort(), ['raw', 'unique']);
    } finally {
      await a.patch('/settings', { gdprMode: false });
    }
  });

  describe('GET /t/impression', () => {
    const counts = async (bannerId: number) =>
      (await app.services.db('impression_counts').where({ banner_id: bannerId })) as Array<{
        day: string;
        campaign_id: number;
        affiliate_id: number;
        raw: number | string;
        unique: number | string;
      }>;
    const total = async (bannerId: number) => {
      const rows = await counts(bannerId);
      return {
        raw: rows.reduce((n, r) => n + Number(r.raw), 0),
        unique: rows.reduce((n, r) => n + Number(r.unique), 0),
      };
    };

    test('a 1×1 GIF; raw and unique counts per visitor per day', async () => {
      const v1 = 'visitorAAAAAAAAAAAAAAAA';
      const v2 = 'visitorBBBBBBBBBBBBBBBB';
      const hit = await get(`/t/impression?a_aid=ann&a_bid=${hatBanner}`, { cookie: `affix_vid=${v1}` });
      assert.equal(hit.status, 200);
      assert.equal(hit.headers.get('content-type'), 'image/gif');
      assert.match(hit.headers.get('cache-control') ?? '', /no-store/);
      const gif = await (
        await fetch(`${app.url}/t/impression?a_aid=ann&a_bid=${hatBanner}`, { headers: { cookie: `affix_vid=${v1}` } })
      ).arrayBuffer();
      assert.equal(Buffer.from(gif).subarray(0, 6).toString('latin1'), 'GIF89a');
      await get(`/t/impression?a_aid=ann&a_bid=${hatBanner}`, { cookie: `affix_vid=${v2}` });
      await get(`/t/impression?a_aid=ann&a_bid=${hatBanner}&vid=${v2}`);
      assert.deepEqual(await total(hatBanner), { raw: 4, unique: 2 });
      const [row] = await counts(hatBanner);
      assert.equal(row?.campaign_id, hats);
      assert.equal(Number(row?.affiliate_id), ann);
      assert.equal(row?.day, new Date(app.services.clock()).toISOString().slice(0, 10));
    });

    test('without a visitor id, IP + user agent identify the visitor', async () => {
      await get(`/t/impression?a_bid=${bannerNoUrl}`, { 'user-agent': 'UA-one' });
      await get(`/t/impression?a_bid=${bannerNoUrl}`, { 'user-agent': 'UA-one' });
      await get(`/t/impression?a_bid=${bannerNoUrl}`, { 'user-agent': 'UA-two' });
      assert.deepEqual(await total(bannerNoUrl), { raw: 3, unique: 2 });
    });

    test('concurrent impressions of one visitor count once as unique', async () => {
      const v = 'visitorCCCCCCCCCCCCCCCC';
      await Promise.all(
        Array.from({ length: 20 }, () => get(`/t/impression?a_bid=${bannerWithUrl}`, { cookie: `affix_vid=${v}` })),
      );
      assert.deepEqual(await total(bannerWithUrl), { raw: 20, unique: 1 });
    });

    test('an unknown or malformed banner still answers the GIF and counts nothing', async () => {
      const before = (await app.services.db('impression_counts').sum({ n: 'raw' }).first()) as {
        n: number | string | null;
      };
      for (const q of ['a_bid=999999', 'a_bid=abc', "a_bid=1'%20OR%201=1", 'a_bid[x]=1', '']) {
        const hit = await get(`/t/impression?${q}`);
        assert.equal(hit.status, 200, q);
        assert.equal(hit.headers.get('content-type'), 'image/gif');
      }
      const after = (await app.services.db('impression_counts').sum({ n: 'raw' }).first()) as {
        n: number | string | null;
      };
      assert.equal(Number(after.n), Number(before.n));
    });
  });
});
