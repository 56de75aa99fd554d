import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME_LINUX, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

type Api = ReturnType<typeof api>;

const SHOP = 'https://shop.example/landing';

describe('POST /t/click (SPEC §4.2, §5.1)', () => {
  let app: TestApp;
  let a: Api;
  let shoes: number;
  let hats: number;
  let defaultCampaign: number;
  let banner: number;
  let ann: number;
  let pat: number;

  const click = (body: unknown, headers: Record<string, string> = {}) =>
    request(app.url, 'POST', '/t/click', { body, headers: { 'user-agent': CHROME_LINUX, ...headers } });
  const clicksOf = async (visitorId: string) => {
    const res = await a.get(`/clicks?visitorId=${encodeURIComponent(visitorId)}`);
    assert.equal(res.status, 200, res.text);
    return res.body.data as Array<Record<string, any>>;
  };

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    shoes = created(
      await a.post('/campaigns', { name: 'Shoes', destinationUrl: 'https://shop.example/shoes' }),
      'campaign',
    );
    hats = created(await a.post('/campaigns', { name: 'Hats' }), 'campaign');
    const list = await a.get('/campaigns?perPage=200');
    defaultCampaign = (list.body.data as Array<{ id: number; isDefault: boolean }>).find((c) => c.isDefault)!.id;
    banner = created(await a.post('/banners', { campaignId: shoes, name: 'Shoe banner', type: 'link' }), 'banner');
    ann = created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
    pat = created(
      await a.post('/affiliates', { name: 'Pat', email: 'pat@example.com', refId: 'pat', status: 'pending' }),
      'affiliate',
    );
  });
  after(async () => {
    await app.close();
  });

  test('a click answers { visitorId, clickId, status, campaignId, affiliateId, bannerId } and sets the cookie', async () => {
    const res = await click({
      url: `${SHOP}?a_aid=ann&a_bid=${banner}&chan=summer`,
      referrer: 'https://blog.example/',
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), [
      'affiliateId',
      'bannerId',
      'campaignId',
      'clickId',
      'status',
      'visitorId',
    ]);
    assert.equal(res.body.status, 'unique');
    assert.equal(res.body.affiliateId, ann);
    assert.equal(res.body.bannerId, banner);
    assert.equal(res.body.campaignId, shoes, "the banner's campaign");
    assert.match(res.body.visitorId, /^[A-Za-z0-9_-]{22,}$/);
    assert.match(res.body.clickId, /^[A-Za-z0-9_-]{16,}$/);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('affix_vid='));
    assert.ok(cookie, `no affix_vid cookie: ${res.headers.getSetCookie().join(' | ')}`);
    assert.match(cookie, new RegExp(`^affix_vid=${res.body.visitorId};`));
    assert.match(cookie, /httponly/i);
    assert.match(cookie, /expires=/i);

    const [stored] = await clicksOf(res.body.visitorId);
    assert.equal(stored?.clickId, res.body.clickId);
    assert.equal(stored?.status, 'unique');
    assert.equal(stored?.matchedBy, 'banner');
    assert.equal(stored?.channel, 'summer');
    assert.equal(stored?.referrer, 'https://blog.example/');
    assert.equal(stored?.source, 'snippet');
    assert.equal(stored?.declineReason, null);
    assert.equal(stored?.trace?.matchedBy, 'banner');
  });

  test('a repeat with the same visitorId is raw; the cookie visitor works as well', async () => {
    const first = await click({ url: `${SHOP}?a_aid=ann` });
    assert.equal(first.body.status, 'unique');
    assert.equal(first.body.campaignId, defaultCampaign);
    const vid = first.body.visitorId as string;
    const again = await click({ url: `${SHOP}?a_aid=ann`, visitorId: vid });
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'raw');
    assert.equal(again.body.visitorId, vid);
    assert.notEqual(again.body.clickId, first.body.clickId);
    const byCookie = await click({ url: `${SHOP}?a_aid=ann` }, { cookie: `affix_vid=${vid}` });
    assert.equal(byCookie.body.visitorId, vid);
    assert.equal(byCookie.body.status, 'raw');
    const stored = await clicksOf(vid);
    assert.deepEqual(stored.map((c) => c.status).sort(), ['raw', 'raw', 'unique']);
  });

  test('a text/plain body holding JSON is accepted (beacons)', async () => {
    const res = await request(app.url, 'POST', '/t/click', {
      raw: JSON.stringify({ url: `${SHOP}?a_aid=ann&a_cid=${hats}` }),
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': CHROME_LINUX },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'unique');
    assert.equal(res.body.campaignId, hats);
    assert.equal(res.body.affiliateId, ann);
  });

  test('campaign rules: forced campaignId > a_cid > a_bid > default', async () => {
    const forced = await click({ url: `${SHOP}?a_aid=ann&a_cid=${hats}&a_bid=${banner}`, campaignId: defaultCampaign });
    assert.equal(forced.body.campaignId, defaultCampaign);
    const byParam = await click({ url: `${SHOP}?a_aid=ann&a_cid=${hats}&a_bid=${banner}` });
    assert.equal(byParam.body.campaignId, hats);
    assert.equal(byParam.body.bannerId, banner);
    const [stored] = await clicksOf(byParam.body.visitorId);
    assert.equal(stored?.matchedBy, 'campaign');
    const outranked = (stored?.trace?.candidates as Array<{ rule: number; outcome: string }>).find((c) => c.rule === 3);
    assert.equal(outranked?.outcome, 'outranked');
    const unknownCid = await click({ url: `${SHOP}?a_aid=ann&a_cid=99999&a_bid=${banner}` });
    assert.equal(unknownCid.body.campaignId, shoes, 'an unknown a_cid falls through to the banner');
    assert.equal(unknownCid.body.status, 'unique');
  });

  test('the affiliate may be given by numeric id', async () => {
    const res = await click({ url: `${SHOP}?a_aid=${ann}` });
    assert.equal(res.body.affiliateId, ann);
    assert.equal(res.body.status, 'unique');
  });

  for (const [label, query, reason] of [
    ['an unknown affiliate', 'a_aid=nobody', /unknown affiliate/],
    ['an unknown banner', 'a_aid=ann&a_bid=987654', /unknown banner/],
    ['a pending affiliate', 'a_aid=pat', /pending/],
  ] as const) {
    test(`${label} → stored as declined with the reason`, async () => {
      const res = await click({ url: `${SHOP}?${query}` });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, 'declined');
      assert.equal(typeof res.body.clickId, 'string');
      const [stored] = await clicksOf(res.body.visitorId);
      assert.ok(stored, 'the declined click is stored');
      assert.equal(stored.status, 'declined');
      assert.match(stored.declineReason ?? '', reason);
      const listed = await a.get('/clicks?status=declined&perPage=200');
      assert.ok((listed.body.data as Array<{ clickId: string }>).some((c) => c.clickId === res.body.clickId));
    });
  }

  test('the pending affiliate is recorded on its declined click', async () => {
    const res = await click({ url: `${SHOP}?a_aid=pat` });
    assert.equal(res.body.affiliateId, pat);
  });

  test('renamed URL parameters (urlParams.affiliate = ref) are read', async () => {
    const patched = await a.patch('/settings', { urlParams: { affiliate: 'ref', banner: 'bid' } });
    assert.equal(patched.status, 200, patched.text);
    try {
      const res = await click({ url: `${SHOP}?ref=ann&bid=${banner}` });
      assert.equal(res.body.affiliateId, ann);
      assert.equal(res.body.bannerId, banner);
      assert.equal(res.body.campaignId, shoes);
      assert.equal(res.body.status, 'unique');
      const old = await click({ url: `${SHOP}?a_aid=ann` });
      assert.equal(old.body.affiliateId, null, 'the old name no longer counts');
    } finally {
      const back = await a.patch('/settings', { urlParams: { affiliate: 'a_aid', banner: 'a_bid' } });
      assert.equal(back.status, 200, back.text);
    }
    assert.equal((await click({ url: `${SHOP}?a_aid=ann` })).body.affiliateId, ann);
  });

  test('GDPR mode: no cookie without consent', async () => {
    assert.equal((await a.patch('/settings', { gdprMode: true })).status, 200);
    try {
      const res = await click({ url: `${SHOP}?a_aid=ann` });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.affiliateId, ann);
      assert.ok(
        !res.headers.getSetCookie().some((c) => c.startsWith('affix_vid=')),
        res.headers.getSetCookie().join(' | '),
      );
      // Cookie uniqueness is unavailable: IP + user agent identify the visitor (SPEC §2).
      const again = await click({ url: `${SHOP}?a_aid=ann` });
      assert.equal(again.body.visitorId, res.body.visitorId);
      assert.equal(again.body.status, 'raw');
      const otherDevice = await click({ url: `${SHOP}?a_aid=ann` }, { 'user-agent': `${CHROME_LINUX} Edg/131.0` });
      assert.notEqual(otherDevice.body.visitorId, res.body.visitorId);
      assert.equal(otherDevice.body.status, 'unique');
      const consented = await click({ url: `${SHOP}?a_aid=ann`, consent: true });
      assert.ok(
        consented.headers.getSetCookie().some((c) => c.startsWith('affix_vid=')),
        'consent given: the cookie is set',
      );
    } finally {
      await a.patch('/settings', { gdprMode: false });
    }
  });

  test('malformed JSON → 400', async () => {
    for (const type of ['application/json', 'text/plain']) {
      const res = await request(app.url, 'POST', '/t/click', {
        raw: '{"url": "https://shop.example/?a_aid=ann"',
        headers: { 'content-type': type },
      });
      assert.equal(res.status, 400, `${type}: ${res.text}`);
      assert.equal(res.body?.error?.code, 'invalid_json', res.text);
    }
  });

  test('an oversized body (> 100 kB) → 413', async () => {
    const big = JSON.stringify({ url: `${SHOP}?a_aid=ann`, referrer: 'x'.repeat(110_000) });
    for (const type of ['application/json', 'text/plain']) {
      const res = await request(app.url, 'POST', '/t/click', { raw: big, headers: { 'content-type': type } });
      assert.equal(res.status, 413, `${type}: ${res.text.slice(0, 200)}`);
      assert.equal(res.body?.error?.code, 'payload_too_large');
    }
  });

  test('object-valued, array and SQL-looking values are plain text, never a 500', async () => {
    const sql = "ann' OR '1'='1'; DROP TABLE clicks; --";
    const bodies: unknown[] = [
      { url: { href: `${SHOP}?a_aid=ann` } },
      { url: [`${SHOP}?a_aid=ann`] },
      { url: `${SHOP}?a_aid=ann`, campaignId: { $gt: 0 } },
      { url: `${SHOP}?a_aid=ann`, campaignId: [shoes] },
      { url: `${SHOP}?a_aid=ann`, visitorId: { $ne: null } },
      { url: `${SHOP}?a_aid=ann`, referrer: { evil: true } },
      {
        url: `${SHOP}?a_aid=${encodeURIComponent(sql)}&a_bid=${encodeURIComponent('1 OR 1=1')}&a_cid=${encodeURIComponent('1; DELETE FROM campaigns')}`,
      },
      { url: `${SHOP}?a_aid[$ne]=x&a_aid=ann` },
      { url: 'not a url at all' },
      { url: 'javascript:alert(1)' },
      [1, 2, 3],
      {},
    ];
    for (const body of bodies) {
      const res = await click(body);
      assert.equal(res.status, 200, `${JSON.stringify(body)}: ${res.status} ${res.text}`);
      assert.ok(['unique', 'raw', 'declined'].includes(res.body.status), res.text);
    }
    const res = await click({ url: `${SHOP}?a_aid=${encodeURIComponent(sql)}` });
    assert.equal(res.body.status, 'declined');
    const [stored] = await clicksOf(res.body.visitorId);
    assert.ok(stored?.declineReason?.includes("ann' OR"), stored?.declineReason);
    assert.ok(((await a.get('/clicks')).body.pagination.total as number) > 10, 'the clicks table is still there');
    // A JSON string or number as the whole body is not a click body.
    for (const raw of ['"hello"', '42', 'null']) {
      const scalar = await request(app.url, 'POST', '/t/click', { raw });
      assert.ok(scalar.status === 200 || scalar.status === 400, `${raw}: ${scalar.status} ${scalar.text}`);
    }
  });

  test('CORS: any origin, with credentials; preflight answered', async () => {
    const res = await click({ url: `${SHOP}?a_aid=ann` }, { origin: 'https://shop.example' });
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    const pre = await fetch(`${app.url}/t/click`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /content-type/i);
  });

  describe('fraud-protection plugin', () => {
    const dropped = async () => {
      const rows = (await app.services.db('dropped_counts').where({ kind: 'click' })) as Array<{
        reason: string;
        count: number | string;
      }>;
      return rows.filter((r) => r.reason === 'blockedIps').reduce((n, r) => n + Number(r.count), 0);
    };

    before(async () => {
      const res = await a.patch('/plugins/fraud-protection', { active: true });
      assert.equal(res.status, 200, res.text);
    });
    after(async () => {
      await a.patch('/settings', { fraud: { blockedIps: [] } });
      await a.patch('/plugins/fraud-protection', { active: false });
    });

    test('a blocked IP with action decline → the click is declined with a reason', async () => {
      const res = await a.patch('/settings', { fraud: { blockedIps: ['127.0.0.1'], blockedIpsAction: 'decline' } });
      assert.equal(res.status, 200, res.text);
      const c = await click({ url: `${SHOP}?a_aid=ann` });
      assert.equal(c.status, 200, c.text);
      assert.equal(c.body.status, 'declined');
      assert.equal(typeof c.body.clickId, 'string');
      const [stored] = await clicksOf(c.body.visitorId);
      assert.equal(stored?.status, 'declined');
      assert.match(stored?.declineReason ?? '', /127\.0\.0\.1 is blocked/);
    });

    test('a blocked IP with action drop → not stored, counted in dropped_counts', async () => {
      const before = await dropped();
      assert.equal(
        (await a.patch('/settings', { fraud: { blockedIps: ['127.0.0.0/8'], blockedIpsAction: 'drop' } })).status,
        200,
      );
      const total = (await a.get('/clicks')).body.pagination.total as number;
      const c = await click({ url: `${SHOP}?a_aid=ann` });
      assert.equal(c.status, 200, c.text);
      assert.equal(c.body.status, 'declined');
      assert.equal(c.body.clickId, null);
      assert.deepEqual(await clicksOf(c.body.visitorId), []);
      assert.equal((await a.get('/clicks')).body.pagination.total, total, 'nothing stored');
      assert.equal(await dropped(), before + 1);
      await click({ url: `${SHOP}?a_aid=ann` });
      assert.equal(await dropped(), before + 2);
    });

    test('another IP (X-Forwarded-For) passes', async () => {
      assert.equal(
        (await a.patch('/settings', { fraud: { blockedIps: ['198.51.100.0/24'], blockedIpsAction: 'decline' } }))
          .status,
        200,
      );
      const ok = await click({ url: `${SHOP}?a_aid=ann` }, { 'x-forwarded-for': '203.0.113.9' });
      assert.notEqual(ok.body.status, 'declined');
      const blocked = await click({ url: `${SHOP}?a_aid=ann` }, { 'x-forwarded-for': '198.51.100.77' });
      assert.equal(blocked.body.status, 'declined');
    });
  });
});

describe('CORS on tracking errors and the store origin', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('a malformed JSON body and an oversized body still carry CORS headers', async () => {
    const bad = await fetch(`${app.url}/t/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://shop.example' },
      body: '{"orderId":',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('access-control-allow-origin'), 'https://shop.example');
    const big = await fetch(`${app.url}/t/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://shop.example' },
      body: JSON.stringify({ orderId: 'x', data1: 'y'.repeat(200_000) }),
    });
    assert.equal(big.status, 413);
    assert.equal(big.headers.get('access-control-allow-origin'), 'https://shop.example');
  });

  test('with a site URL set, only the store origin gets credentialed CORS', async () => {
    await app.services.settings.update(
      { siteUrl: 'https://shop.example/home' },
      { userId: null, label: 'test', role: 'system', affiliateId: null },
    );
    const store = await fetch(`${app.url}/t/click`, {
      method: 'POST',
      headers: { origin: 'https://shop.example', 'content-type': 'text/plain' },
      body: '{}',
    });
    assert.equal(store.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.equal(store.headers.get('access-control-allow-credentials'), 'true');
    const other = await fetch(`${app.url}/t/click`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: '{}',
    });
    assert.equal(other.headers.get('access-control-allow-origin'), '*');
    assert.equal(other.headers.get('access-control-allow-credentials'), null);
  });
});
