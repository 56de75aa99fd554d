import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { assertFieldError } from '../helpers/assert.js';
import { apiRouter } from '../../server/http/api/index.js';

/*
 * SPEC §10a: an unknown key in an API body, or an unknown query parameter on an API GET, is a
 * 422 naming it by its dotted path; nothing is stored. Tracking endpoints (/t/*) stay lenient:
 * the event is stored and the unknown fields are listed in `warnings`.
 */

type Api = ReturnType<typeof api>;
type Detail = { field: string; message: string };

/** 422 naming `field` as unknown; `suggest` is the near miss the message should offer. */
function assertUnknown(res: JsonResponse, field: string, suggest?: string): Detail {
  assertFieldError(res, field);
  const detail = (res.body.error.details as Detail[]).find((d) => d.field === field)!;
  assert.match(detail.message, /unknown/i, JSON.stringify(detail));
  if (suggest) assert.match(detail.message, new RegExp(`did you mean ${suggest}\\b`), JSON.stringify(detail));
  assert.ok(String(res.body.error.message).includes(field), res.body.error.message);
  return detail;
}

/** Every route of the API router, once per method (HEAD and duplicates left out). */
const ROUTES = [
  ...new Set(
    apiRouter().stack.flatMap((layer) =>
      layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${String(layer.path).replace(/^\/api\/v1/, '')}`),
    ),
  ),
].map((r) => {
  const [method, path] = r.split(' ') as [string, string];
  return { method, path };
});

describe('strict API input (SPEC §10a)', () => {
  let app: TestApp;
  let a: Api;
  let affiliateApi: Api;
  const ids: Record<string, number | string> = {};

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const id = (res: JsonResponse, what: string) => {
      assert.equal(res.status, 201, `${what}: ${res.text.slice(0, 300)}`);
      return res.body.id as number;
    };
    ids.groupA = id(await a.post('/groups', { name: 'Group A' }), 'group');
    ids.groupB = id(await a.post('/groups', { name: 'Group B' }), 'group');
    ids.campaign = id(
      await a.post('/campaigns', { name: 'Strict', groupId: ids.groupA, approval: 'auto', productIds: ['SKU-1'] }),
      'campaign',
    );
    ids.campaignB = id(await a.post('/campaigns', { name: 'In B', groupId: ids.groupB }), 'campaign');
    ids.affiliate = id(
      await a.post('/affiliates', {
        name: 'Ann',
        email: 'ann@strict.example',
        refId: 'ann',
        status: 'approved',
        password: 'ann password 123',
      }),
      'affiliate',
    );
    affiliateApi = api(app.url, await tokenFor(app.url, 'ann@strict.example', 'ann password 123'));
    ids.payout = id(
      await a.post(`/campaigns/${ids.campaign}/payouts`, {
        kind: 'general',
        title: 'Ten percent',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
      }),
      'payout',
    );
    ids.banner = id(await a.post('/banners', { campaignId: ids.campaign, name: 'Link', type: 'link' }), 'banner');
    ids.coupon = id(await a.post('/coupons', { code: 'STRICT', affiliateId: ids.affiliate }), 'coupon');
    ids.domain = id(await a.post('/domains', { host: 'strict.example' }), 'domain');
    ids.source = id(await a.post('/sources', { name: 'Ads' }), 'source');
    ids.commissionGroup = id(
      await a.post('/commission-groups', { name: 'VIP', affiliateIds: [ids.affiliate] }),
      'group',
    );
    ids.flow = id(
      await a.post(`/campaigns/${ids.campaign}/flows`, { name: 'Main', offers: [{ url: 'https://offer.example/' }] }),
      'flow',
    );
    const sale = await a.post('/sales', {
      orderId: 'STRICT-1',
      totalCost: 100,
      campaignId: ids.campaign,
      affiliateId: 'ann',
    });
    assert.equal(sale.status, 201, sale.text);
    ids.sale = sale.body.saleId as number;
    ids.orderId = 'STRICT-1';
    ids.commission = sale.body.commissions[0].id as number;
    const batch = await a.post('/payout-batches', {});
    assert.equal(batch.status, 201, batch.text);
    ids.batch = batch.body.id as number;
    const key = await a.post('/api-keys', { name: 'CI', role: 'manager' });
    assert.equal(key.status, 201, key.text);
    ids.apiKey = key.body.id as number;
  });
  after(async () => {
    await app.close();
  });

  /** A real object for each path parameter, so no answer is a 404 for want of one. */
  const fill = (path: string) =>
    path
      .replace(/^\/affiliates\/:id/, `/affiliates/${ids.affiliate}`)
      .replace(/^\/campaigns\/:id/, `/campaigns/${ids.campaign}`)
      .replace(/^\/banners\/:id/, `/banners/${ids.banner}`)
      .replace(/^\/coupons\/:id/, `/coupons/${ids.coupon}`)
      .replace(/^\/domains\/:id/, `/domains/${ids.domain}`)
      .replace(/^\/sources\/:id/, `/sources/${ids.source}`)
      .replace(/^\/groups\/:id/, `/groups/${ids.groupA}`)
      .replace(/^\/commission-groups\/:id/, `/commission-groups/${ids.commissionGroup}`)
      .replace(/^\/api-keys\/:id/, `/api-keys/${ids.apiKey}`)
      .replace(/^\/commissions\/:id/, `/commissions/${ids.commission}`)
      .replace(/^\/payout-batches\/:id/, `/payout-batches/${ids.batch}`)
      .replace(/^\/sales\/:orderId/, `/sales/${ids.orderId}`)
      .replace(/^\/sales\/:id/, `/sales/${ids.sale}`)
      .replace(/^\/plugins\/:name/, '/plugins/lifetime-commissions')
      .replace(/^\/outbox\/:id/, '/outbox/1')
      .replace(':payoutId', String(ids.payout))
      .replace(':flowId', String(ids.flow));
  const caller = (path: string) => (path.startsWith('/me/affiliate') ? affiliateApi : a);

  describe('every API route', () => {
    const writes = ROUTES.filter((r) => r.method === 'POST' || r.method === 'PATCH');
    const reads = ROUTES.filter((r) => r.method === 'GET');

    test('the router lists the routes (the tables below are not empty)', () => {
      assert.ok(writes.length >= 35, `found ${writes.length} POST/PATCH routes`);
      assert.ok(reads.length >= 30, `found ${reads.length} GET routes`);
    });

    for (const r of writes) {
      test(`${r.method} ${r.path} refuses an unknown body key with 422 naming it`, async () => {
        const path = fill(r.path);
        assert.ok(!path.includes(':'), `no object for a parameter of ${r.path}`);
        const res = await caller(r.path).raw(r.method, path, { zzUnknownKey: 1 });
        assertUnknown(res, 'zzUnknownKey');
      });
    }

    for (const r of reads) {
      test(`GET ${r.path} refuses an unknown query parameter with 422 naming it`, async () => {
        const path = fill(r.path);
        assert.ok(!path.includes(':'), `no object for a parameter of ${r.path}`);
        const res = await caller(r.path).get(`${path}?zzUnknownFilter=1`);
        assertUnknown(res, 'zzUnknownFilter');
      });
    }
  });

  describe('bodies', () => {
    const payouts = () => `/campaigns/${ids.campaign}/payouts`;
    const half = (over: Record<string, unknown>) => ({
      kind: 'general',
      title: 'Half on SKU-1',
      type: 'CPS',
      affiliateCommission: { value: 50, unit: 'percent' },
      ...over,
    });
    const payoutCount = async () => (await a.get(payouts())).body.pagination.total as number;

    test('a misspelled goal.productId is 422 naming goal.productId, and no payout is stored', async () => {
      const before = await payoutCount();
      const misspelled = await a.post(payouts(), half({ goal: { productId: ['SKU-1'] } }));
      assertUnknown(misspelled, 'goal.productId', 'productIds');
      assert.deepEqual(
        (misspelled.body.error.details as Detail[]).map((d) => d.field),
        ['goal.productId'],
        'the misspelling is the one problem named',
      );
      assert.equal(await payoutCount(), before, 'nothing stored');
      assertUnknown(
        await a.patch(`${payouts()}/${ids.payout}`, { goal: { productId: ['SKU-1'] } }),
        'goal.productId',
        'productIds',
      );
      const kept = await a.get(`${payouts()}/${ids.payout}`);
      assert.equal(kept.body.goal, null);
      assert.deepEqual(kept.body.affiliateCommission, { value: 10, unit: 'percent' });
    });

    test('an empty goal is refused (it would pay on every product); null means every product', async () => {
      const before = await payoutCount();
      for (const goal of [{}, { productIds: [] }, { productIds: [], categories: [] }]) {
        const res = await a.post(payouts(), half({ goal }));
        assertFieldError(res, 'goal');
        assert.match(
          (res.body.error.details as Detail[]).find((d) => d.field === 'goal')!.message,
          /null/,
          'the message says how to mean every product',
        );
      }
      assert.equal(await payoutCount(), before);
      const everything = await a.post(payouts(), half({ title: 'Everything', goal: null }));
      assert.equal(everything.status, 201, everything.text);
      assert.equal(everything.body.goal, null);
      const one = await a.post(payouts(), half({ title: 'One product', goal: { productIds: ['SKU-1'] } }));
      assert.equal(one.status, 201, one.text);
      assert.deepEqual(one.body.goal, { productIds: ['SKU-1'], categories: [], countries: [] });
      assertFieldError(await a.patch(`${payouts()}/${one.body.id}`, { goal: {} }), 'goal');
      assert.deepEqual((await a.get(`${payouts()}/${one.body.id}`)).body.goal, {
        productIds: ['SKU-1'],
        categories: [],
        countries: [],
      });
    });

    test('unknown keys inside commissions and tiers are named', async () => {
      assertUnknown(
        await a.post(payouts(), half({ affiliateCommission: { value: 5, unit: 'fixed', currency: 'EUR' } })),
        'affiliateCommission.currency',
      );
      assertUnknown(
        await a.post(payouts(), half({ merchantCommission: { value: 1, units: 'fixed' } })),
        'merchantCommission.units',
        'unit',
      );
      assertUnknown(
        await a.post(
          payouts(),
          half({
            tiers: [
              { value: 5, unit: 'percent' },
              { value: 1, unit: 'fixed', tier: 3 },
            ],
          }),
        ),
        'tiers.1.tier',
      );
    });

    test('`costmodel` is 422 (did you mean costModel?), and no campaign is created', async () => {
      const before = (await a.get('/campaigns')).body.pagination.total as number;
      assertUnknown(await a.post('/campaigns', { name: 'CPM buy', costmodel: 'CPM' }), 'costmodel', 'costModel');
      assert.equal((await a.get('/campaigns')).body.pagination.total, before);
      assertUnknown(await a.patch(`/campaigns/${ids.campaign}`, { costmodel: 'CPM' }), 'costmodel', 'costModel');
      assert.equal((await a.get(`/campaigns/${ids.campaign}`)).body.costModel, 'CPC');
      const right = await a.post('/campaigns', { name: 'CPM buy', costModel: 'CPM' });
      assert.equal(right.status, 201, right.text);
      assert.equal(right.body.costModel, 'CPM');
    });

    test('unknown keys in flow filters, landings and offers, and source params are named', async () => {
      const flows = `/campaigns/${ids.campaign}/flows`;
      assertUnknown(
        await a.post(flows, { name: 'F', filters: [{ name: 'country', values: ['DE'], negate: true }] }),
        'filters.0.negate',
      );
      assertUnknown(
        await a.post(flows, { name: 'F', landings: [{ url: 'https://lp.example/', weight: 1, title: 'LP' }] }),
        'landings.0.title',
      );
      assertUnknown(
        await a.patch(`${flows}/${ids.flow}`, { offers: [{ url: 'https://offer.example/', wieght: 5 }] }),
        'offers.0.wieght',
        'weight',
      );
      assertFieldError(await a.post('/sources', { name: 'S', params: { sub_id_16: 'zone' } }), 'params.sub_id_16');
    });

    test('settings: unknown keys in urlParams and fraud, and exchange-rate keys that are not currency codes', async () => {
      const before = (await a.get('/settings')).body;
      assertUnknown(await a.patch('/settings', { urlParams: { afiliate: 'aff' } }), 'urlParams.afiliate', 'affiliate');
      assertUnknown(
        await a.patch('/settings', { fraud: { blockedIp: ['10.0.0.1'] } }),
        'fraud.blockedIp',
        'blockedIps',
      );
      assertUnknown(await a.patch('/settings', { cookiedays: 30 }), 'cookiedays', 'cookieDays');
      const rate = await a.patch('/settings', { exchangeRates: { EUR: 1.1, EURO: 1.2 } });
      assertFieldError(rate, 'exchangeRates.EURO');
      assert.match((rate.body.error.details as Detail[])[0]!.message, /currency code/);
      assert.deepEqual((await a.get('/settings')).body, before, 'nothing saved');
    });

    test("plugin settings follow the plugin's declared settings, named by their dotted path", async () => {
      assertUnknown(
        await a.patch('/plugins/lifetime-commissions', { settings: { recogniseCampaigns: false } }),
        'settings.recogniseCampaigns',
        'recogniseCampaign',
      );
      assertFieldError(
        await a.patch('/plugins/lifetime-commissions', { settings: { recogniseCampaign: 'no' } }),
        'settings.recogniseCampaign',
      );
      const ok = await a.patch('/plugins/lifetime-commissions', { settings: { recogniseCampaign: false } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.settings.recogniseCampaign, false);
    });

    test('server-to-server sales: unknown keys, also inside items, are 422 and store nothing', async () => {
      const before = (await a.get('/sales')).body.pagination.total as number;
      assertUnknown(
        await a.post('/sales', { orderID: 'S2S-1', totalCost: 10, campaignId: ids.campaign }),
        'orderID',
        'orderId',
      );
      assertUnknown(
        await a.post('/sales', {
          orderId: 'S2S-2',
          totalCost: 10,
          items: [{ productId: 'SKU-1', totalCost: 10, price: 10 }],
        }),
        'items.0.price',
      );
      assertUnknown(await a.post('/actions', { actionCode: 'signup', orderId: 'S2S-3', foo: 1 }), 'foo');
      assert.equal((await a.get('/sales')).body.pagination.total, before, 'nothing stored');
    });

    test('bulk review and token bodies name unknown keys', async () => {
      assertUnknown(
        await a.post('/commissions/bulk', { ids: [ids.commission], action: 'approve', reasons: 'x' }),
        'reasons',
        'reason',
      );
      assertUnknown(
        await request(app.url, 'POST', '/api/v1/auth/token', {
          body: { email: OWNER.email, password: OWNER.password, expiresIn: 3 },
        }),
        'expiresIn',
        'expiresInHours',
      );
    });

    test('a body that sets nothing is refused: regenerating the postback key with a key sent changes nothing', async () => {
      const key = (await a.get('/settings')).body.postbackKey;
      assertUnknown(await a.post('/settings/regenerate-postback-key', { postbackKey: 'mine' }), 'postbackKey');
      assert.equal((await a.get('/settings')).body.postbackKey, key);
    });
  });

  describe('list filters', () => {
    test('GET /campaigns?groupId= filters by group', async () => {
      const inA = await a.get(`/campaigns?groupId=${ids.groupA}`);
      assert.equal(inA.status, 200, inA.text);
      assert.deepEqual(
        (inA.body.data as Array<{ id: number }>).map((c) => c.id),
        [ids.campaign],
      );
      const inB = await a.get(`/campaigns?groupId=${ids.groupB}&page=1&perPage=10`);
      assert.deepEqual(
        (inB.body.data as Array<{ id: number }>).map((c) => c.id),
        [ids.campaignB],
      );
      assert.equal((await a.get('/campaigns?groupId=999999')).body.pagination.total, 0);
      assertFieldError(await a.get('/campaigns?groupId=abc'), 'groupId');
    });

    test('an unknown or misspelled filter is 422 naming it', async () => {
      assertUnknown(await a.get(`/campaigns?groupid=${ids.groupA}`), 'groupid', 'groupId');
      assertUnknown(await a.get('/campaigns?perpage=10'), 'perpage', 'perPage');
      assertUnknown(await a.get('/affiliates?groupId=8'), 'groupId');
      assertUnknown(await a.get('/commissions?state=approved'), 'state');
      // SPEC §15: every dimension is a filter (`campaign=1`); a misspelt one is named, with the nearest.
      assertUnknown(await a.get('/reports?groupBy=campaign&campaing=1'), 'campaing', 'campaign');
    });
  });

  describe('periods', () => {
    test('every list with from and to refuses from after to, naming from', async () => {
      for (const path of ['/sales', '/clicks', '/commissions', '/conversions']) {
        assertFieldError(await a.get(`${path}?from=2026-03-02&to=2026-03-01`), 'from');
        assertFieldError(await a.get(`${path}?from=2026-03-02T10:00:00Z&to=2026-03-02T09:00:00Z`), 'from');
        const day = await a.get(`${path}?from=2026-03-01&to=2026-03-01`);
        assert.equal(day.status, 200, `${path}: ${day.text.slice(0, 200)}`);
      }
    });

    test('a plain date as `to` includes that whole day', async () => {
      const orderId = `PERIOD-${process.pid}`;
      assert.equal((await a.post('/sales', { orderId, totalCost: 1 })).status, 201);
      const today = new Date().toISOString().slice(0, 10);
      const listed = await a.get(`/sales?orderId=${orderId}&from=${today}&to=${today}`);
      assert.equal(listed.body.pagination.total, 1, listed.text.slice(0, 200));
    });
  });

  describe('tracking endpoints stay lenient', () => {
    const post = (path: string, body: unknown) =>
      request(app.url, 'POST', path, { body, headers: { 'user-agent': CHROME } });
    const warned = (res: JsonResponse) => (res.body.warnings as Detail[] | undefined) ?? [];

    test('/t/sale stores the sale and lists unknown fields, also inside items, in warnings', async () => {
      const res = await post('/t/sale', {
        orderId: 'T-SALE-1',
        totalCost: 20,
        campaignId: ids.campaign,
        orderID: 'typo',
        items: [{ productId: 'SKU-1', totalCost: 20, colour: 'red' }],
      });
      assert.equal(res.status, 201, res.text);
      const fields = warned(res).map((w) => w.field);
      assert.ok(fields.includes('orderID'), JSON.stringify(warned(res)));
      assert.ok(fields.includes('items.0.colour'), JSON.stringify(warned(res)));
      assert.match(warned(res).find((w) => w.field === 'orderID')!.message, /unknown.*ignored/i);
      const stored = await a.get(`/sales/${res.body.saleId}`);
      assert.equal(stored.status, 200);
      assert.equal(stored.body.orderId, 'T-SALE-1');
      assert.equal(stored.body.totalCost, 20);
    });

    test('/t/action stores the action with warnings', async () => {
      const res = await post('/t/action', { actionCode: 'signup', orderId: 'T-ACT-1', plan: 'pro' });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(
        warned(res).map((w) => w.field),
        ['plan'],
      );
      assert.equal((await a.get(`/sales/${res.body.saleId}`)).body.orderId, 'T-ACT-1');
    });

    test('/t/click stores the click and lists unknown fields in warnings', async () => {
      const res = await post('/t/click', {
        url: 'https://shop.example/?a_aid=ann',
        utm_source: 'mail',
        visitorID: 'x',
      });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.clickId, res.text);
      assert.deepEqual(
        warned(res)
          .map((w) => w.field)
          .sort(),
        ['utm_source', 'visitorID'],
      );
      assert.match(warned(res).find((w) => w.field === 'visitorID')!.message, /did you mean visitorId/);
      const clicks = await a.get(`/clicks?visitorId=${res.body.visitorId}`);
      assert.equal(clicks.body.pagination.total, 1, clicks.text);
    });

    test('a clean tracking body has no warnings', async () => {
      const res = await post('/t/click', { url: 'https://shop.example/?a_aid=ann' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.warnings, undefined);
    });
  });
});
