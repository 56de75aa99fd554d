import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created, assertFieldError } from '../helpers/assert.js';

/*
 * SPEC §10a: every money amount a client sends lies in [0, 1,000,000,000] of its currency unit,
 * before and after conversion to the base currency; otherwise 422 naming the field. A visitor on
 * a campaign URL is never answered 422: an out-of-range `cost` parameter costs 0, with the reason
 * in the run log, and the visitor is still redirected. Also the event-losing 500s of issue 8.2.
 */

type Api = ReturnType<typeof api>;

let seq = 0;
const order = () => `LIM-${process.pid}-${++seq}`;

describe(`amount limits (SPEC §10a) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let token: string;
  let key: string;
  let costCampaign: number;
  let clickApiToken: string;

  const sale = (body: Record<string, unknown>) =>
    request(app.url, 'POST', '/t/sale', { body, headers: { 'user-agent': CHROME } });
  const storedSales = async (orderId: string) =>
    (await app.services.db('sales').where({ order_id: orderId })) as Array<{ id: number; items: string }>;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    token = await tokenFor(app.url, OWNER.email, OWNER.password);
    a = api(app.url, token);
    key = app.services.settings.get().postbackKey;
    assert.equal((await a.patch('/settings', { exchangeRates: { EUR: 1.1, JPY: 0.0067 } })).status, 200);
    costCampaign = created(
      await a.post('/campaigns', { name: 'Paid traffic', alias: 'paid', costAuto: false, costModel: 'CPC' }),
      'campaign',
    );
    created(
      await a.post(`/campaigns/${costCampaign}/flows`, {
        name: 'Offer',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}&c={cost}', weight: 100 }],
      }),
      'flow',
    );
    clickApiToken = (await a.get(`/campaigns/${costCampaign}`)).body.apiToken as string;
    assert.ok(clickApiToken, 'the campaign has a Click API token');
  });
  after(async () => {
    await app?.close();
  });

  describe('sales and actions', () => {
    test('totalCost up to 1,000,000,000 is stored; above is 422 naming totalCost (/t/sale and the API)', async () => {
      const ok = order();
      const res = await sale({ orderId: ok, totalCost: '1000000000' });
      assert.equal(res.status, 201, res.text);
      for (const totalCost of ['1000000000.0001', 1e12, '900719925474.0991', '99999999999999999999']) {
        const orderId = order();
        assertFieldError(await sale({ orderId, totalCost }), 'totalCost');
        assertFieldError(await a.post('/sales', { orderId, totalCost }), 'totalCost');
        assert.equal((await storedSales(orderId)).length, 0);
      }
    });

    test('fixedCost and items[].totalCost have the same limit', async () => {
      assertFieldError(await sale({ orderId: order(), totalCost: 10, fixedCost: '1000000001' }), 'fixedCost');
      assertFieldError(
        await sale({
          orderId: order(),
          items: [
            { productId: 'a', totalCost: 5 },
            { productId: 'b', totalCost: 2e9 },
          ],
        }),
        'items.1.totalCost',
      );
      assertFieldError(
        await request(app.url, 'POST', '/t/action', {
          body: { actionCode: 'signup', orderId: order(), totalCost: 1e10 },
        }),
        'totalCost',
      );
    });

    test('the limit holds after conversion to the base currency: 900,000,000,000 EUR is 422, not 500', async () => {
      for (const body of [
        { totalCost: '900000000000', currency: 'EUR' },
        // 950,000,000 EUR is 1,045,000,000 USD.
        { totalCost: '950000000', currency: 'EUR' },
      ]) {
        const orderId = order();
        const res = await sale({ orderId, ...body });
        assertFieldError(res, 'totalCost');
        assert.equal((await storedSales(orderId)).length, 0);
      }
      assertFieldError(
        await sale({ orderId: order(), currency: 'EUR', items: [{ productId: 'x', totalCost: 950_000_000 }] }),
        'items.0.totalCost',
      );
      assertFieldError(
        await sale({ orderId: order(), currency: 'EUR', totalCost: 10, fixedCost: 950_000_000 }),
        'fixedCost',
      );
      // A large amount in a currency worth less than the base one fits after conversion, but not before.
      assertFieldError(await sale({ orderId: order(), currency: 'JPY', totalCost: 2_000_000_000 }), 'totalCost');
      const fits = order();
      assert.equal((await sale({ orderId: fits, currency: 'JPY', totalCost: 1_000_000_000 })).status, 201);
    });

    test('a 77 KB items array is stored whole (201), not a 500', async () => {
      const items = Array.from({ length: 400 }, (_, i) => ({
        productId: `product-${i}-${'p'.repeat(150)}`,
        category: 'c'.repeat(30),
        totalCost: '1.25',
        quantity: 1,
      }));
      const orderId = order();
      const body = { orderId, items };
      assert.ok(JSON.stringify(body).length > 77_000, `${JSON.stringify(body).length}`);
      const res = await sale(body);
      assert.equal(res.status, 201, res.text.slice(0, 300));
      const stored = await a.get(`/sales/${res.body.saleId}`);
      assert.equal(stored.status, 200, stored.text.slice(0, 300));
      assert.equal(stored.body.items.length, 400);
      assert.equal(stored.body.items[399].productId, items[399]!.productId);
    });

    test('a sale of 400 items that pays a commission per item is stored with its commission', async () => {
      const shop = (await a.post('/campaigns', { name: 'Items', approval: 'auto' })).body.id as number;
      const payout = await a.post(`/campaigns/${shop}/payouts`, {
        kind: 'general',
        title: '10%',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
      });
      assert.equal(payout.status, 201, payout.text);
      const aff = await a.post('/affiliates', {
        name: 'Ivy',
        email: 'ivy@example.com',
        refId: 'ivy',
        status: 'approved',
      });
      assert.equal(aff.status, 201, aff.text);
      const items = Array.from({ length: 400 }, (_, i) => ({
        productId: `product-${i}-${'p'.repeat(150)}`,
        totalCost: '2.5',
      }));
      const res = await a.post('/sales', { orderId: order(), campaignId: shop, affiliateId: 'ivy', items });
      assert.equal(res.status, 201, res.text.slice(0, 300));
      assert.equal(res.body.commissions.length, 1, res.text.slice(0, 300));
      assert.equal(res.body.commissions[0].amount, 100, '10 % of 400 × 2.50');
    });

    test('a refund amount over 1,000,000,000 is 422 naming amount', async () => {
      const orderId = order();
      assert.equal((await a.post('/sales', { orderId, totalCost: 100 })).status, 201);
      assertFieldError(await a.post(`/sales/${orderId}/refund`, { amount: 1e12, type: 'refund' }), 'amount');
      assertFieldError(await a.post(`/sales/${orderId}/refund`, { amount: 1_000_000_000.5, type: 'refund' }), 'amount');
    });
  });

  describe('postbacks', () => {
    async function clickSubid(query = ''): Promise<string> {
      const res = await request(app.url, 'GET', `/paid${query}`, { headers: { 'user-agent': CHROME } });
      assert.equal(res.status, 302, res.text);
      return new URL(res.headers.get('location')!).searchParams.get('s')!;
    }
    const postback = (params: Record<string, string>) =>
      request(app.url, 'GET', `/postback/${key}?${new URLSearchParams(params).toString()}`);

    test('payout and revenue over 1,000,000,000 are 422 naming the field, before and after conversion', async () => {
      const subid = await clickSubid();
      assertFieldError(await postback({ subid, payout: '999999999999' }), 'payout');
      assertFieldError(await postback({ subid, payout: '1000000000.01' }), 'payout');
      assertFieldError(await postback({ subid, revenue: '999999999999' }), 'revenue');
      assertFieldError(await postback({ subid, payout: '950000000', currency: 'EUR' }), 'payout');
      assert.equal((await app.services.db('conversions').where({ click_id: subid })).length, 0);
      const ok = await postback({ subid, payout: '1000000000' });
      assert.equal(ok.status, 200, ok.text);
    });

    test('postback parameters over 64 KB are stored (cut to fit), not a 500', async () => {
      const subid = await clickSubid();
      // A JSON body (the largest a postback may send): 24 parameters of 1,000 emoji, 96 KB of UTF-8.
      const body: Record<string, string> = { subid, payout: '5', tid: 'big-1' };
      for (let i = 0; i < 24; i++) body[`extra${i}`] = '😀'.repeat(1000);
      const res = await request(app.url, 'POST', `/postback/${key}`, { body });
      assert.equal(res.status, 200, res.text.slice(0, 300));
      const [row] = (await app.services.db('conversions').where({ click_id: subid })) as Array<{ params: string }>;
      assert.ok(row, 'the conversion is stored');
      assert.ok(Buffer.byteLength(row.params) <= 65_535, `${Buffer.byteLength(row.params)} bytes`);
      const stored = JSON.parse(row.params) as Record<string, string>;
      assert.equal(stored.subid, subid, 'the postback fields are kept first');
      assert.equal(stored.payout, '5');
    });
  });

  describe('the cost parameter of a campaign URL', () => {
    const costOf = async (subid: string) =>
      Number(((await app.services.db('clicks').where({ click_id: subid }).first()) as { cost: number | string }).cost);

    test('a cost in range is the click cost', async () => {
      const res = await request(app.url, 'GET', '/paid?cost=0.25', { headers: { 'user-agent': CHROME } });
      assert.equal(res.status, 302);
      const subid = new URL(res.headers.get('location')!).searchParams.get('s')!;
      assert.equal(await costOf(subid), 2500);
    });

    for (const cost of ['1000000000.5', '900719925474.0991', '1e15', '99999999999999999999999']) {
      test(`cost=${cost} still redirects the visitor; the click costs 0 and the run log says why`, async () => {
        const res = await request(app.url, 'GET', `/paid?cost=${encodeURIComponent(cost)}`, {
          headers: { 'user-agent': CHROME },
        });
        assert.equal(res.status, 302, res.text);
        const subid = new URL(res.headers.get('location')!).searchParams.get('s')!;
        assert.equal(await costOf(subid), 0);
        const viaApi = await request(
          app.url,
          'GET',
          `/click_api/v3?token=${clickApiToken}&log=1&cost=${encodeURIComponent(cost)}`,
        );
        assert.equal(viaApi.status, 200, viaApi.text);
        assert.ok(
          (viaApi.body.log as string[]).some((l) => /cost/.test(l) && /1,000,000,000|range|limit/.test(l)),
          JSON.stringify(viaApi.body.log),
        );
        assert.equal(await costOf(viaApi.body.info.sub_id as string), 0);
      });
    }

    test('a cost over the limit after conversion costs 0 too', async () => {
      const res = await request(app.url, 'GET', '/paid?cost=950000000&currency=EUR', {
        headers: { 'user-agent': CHROME },
      });
      assert.equal(res.status, 302);
      assert.equal(await costOf(new URL(res.headers.get('location')!).searchParams.get('s')!), 0);
    });
  });
});
