import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

/*
 * Payout selection and commission amounts over HTTP (SPEC §6.1, §6.2, §6.5): data made through
 * the API, a click on /t/click, then the sale on /t/sale with the click's visitorId.
 */

type Api = ReturnType<typeof api>;

const SHOP = 'https://shop.example/landing';

let seq = 0;
const order = (p = 'PAY') => `${p}-${process.pid}-${++seq}`;

describe('payouts and commission amounts (SPEC §6)', () => {
  let app: TestApp;
  let a: Api;
  let ann: number;
  let bob: number;

  const post = (path: string, body: unknown) =>
    request(app.url, 'POST', path, { body, headers: { 'user-agent': CHROME } });
  const sale = (body: Record<string, unknown>) => post('/t/sale', { orderId: order(), ...body });

  async function click(
    ref: string,
    campaignId: number,
    visitorId?: string,
  ): Promise<{ visitorId: string; status: string }> {
    const res = await post('/t/click', {
      url: `${SHOP}?a_aid=${ref}&a_cid=${campaignId}`,
      ...(visitorId ? { visitorId } : {}),
    });
    assert.equal(res.status, 200, res.text);
    assert.notEqual(res.body.status, 'declined', res.text);
    return res.body;
  }

  async function campaignWith(
    name: string,
    payouts: Array<Record<string, unknown>>,
    extra: Record<string, unknown> = {},
  ) {
    const id = created(await a.post('/campaigns', { name, ...extra }), 'campaign');
    const payoutIds: number[] = [];
    for (const p of payouts)
      payoutIds.push(
        created(await a.post(`/campaigns/${id}/payouts`, { kind: 'general', title: name, ...p }), 'payout'),
      );
    return { id, payoutIds };
  }

  /** A sale by the affiliate's click in the campaign; asserts it was attributed by the cookie. */
  async function attributedSale(ref: string, campaignId: number, body: Record<string, unknown>) {
    const { visitorId } = await click(ref, campaignId);
    const res = await sale({ visitorId, ...body });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.matchedBy, 'cookie', res.text);
    assert.equal(res.body.campaignId, campaignId);
    return res;
  }

  const commissionRows = (where: Record<string, unknown>) => app.services.db('commissions').where(where).orderBy('id');

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    ann = created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
    bob = created(await a.post('/affiliates', { name: 'Bob', email: 'bob@example.com', refId: 'bob' }), 'affiliate');
  });
  after(async () => {
    await app.close();
  });

  test('CPS 10 % with fixedCost 20: 10 % of (120 − 20) = 10', async () => {
    const c = await campaignWith('CPS fixed cost', [
      { type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } },
    ]);
    const res = await attributedSale('ann', c.id, { totalCost: 120, fixedCost: 20 });
    assert.equal(res.body.affiliateId, ann);
    assert.equal(res.body.commissions.length, 1);
    const [com] = res.body.commissions;
    assert.equal(com.amount, 10);
    assert.equal(com.tier, 1);
    assert.equal(com.affiliateId, ann);
    assert.equal(com.currency, 'USD');
    assert.equal(com.status, 'pending');
  });

  test('fixedCost "10%": 10 % of (200 − 10 %) = 18; odd amounts round half-up to 4 places', async () => {
    const c = await campaignWith('CPS percent cost', [
      { type: 'CPS', affiliateCommission: { value: '12.5', unit: 'percent' } },
    ]);
    const res = await attributedSale('ann', c.id, { totalCost: 200, fixedCost: '10%' });
    assert.equal(res.body.commissions[0].amount, 22.5, '12.5 % of 180');
    const odd = await attributedSale('ann', c.id, { totalCost: '0.0012' });
    assert.equal(odd.body.commissions[0].amount, 0.0002, '12.5 % of 0.0012 = 0.00015 → 0.0002');
    const third = await campaignWith('Third', [
      { type: 'CPS', affiliateCommission: { value: '33.3333', unit: 'percent' } },
    ]);
    const res3 = await attributedSale('ann', third.id, { totalCost: 100 });
    assert.equal(res3.body.commissions[0].amount, 33.3333);
  });

  test('multi-item with product and category goals → one commission, the sum over items', async () => {
    const c = await campaignWith('Goals', [
      { title: 'Rest', type: 'CPS', affiliateCommission: { value: 5, unit: 'percent' } },
      {
        title: 'Shoes',
        type: 'CPS',
        affiliateCommission: { value: 15, unit: 'percent' },
        goal: { categories: ['shoes'] },
      },
      {
        title: 'SKU-1',
        type: 'CPS',
        affiliateCommission: { value: 20, unit: 'percent' },
        goal: { productIds: ['sku-1'] },
      },
      {
        title: 'Per hat',
        type: 'CPS',
        affiliateCommission: { value: 1.5, unit: 'fixed' },
        goal: { productIds: ['hat-1'] },
      },
    ]);
    const [rest, shoes, sku1, perHat] = c.payoutIds;
    const res = await attributedSale('ann', c.id, {
      totalCost: 209.99,
      items: [
        { productId: 'sku-1', category: 'shoes', totalCost: 100 }, // product goal beats category: 20 % → 20
        { productId: 'sku-2', category: 'shoes', totalCost: 50 }, // category goal: 15 % → 7.5
        { productId: 'sku-3', category: 'bags', totalCost: 19.99 }, // no goal: 5 % → 0.9995
        { productId: 'hat-1', category: 'shoes', totalCost: 40, quantity: 2 }, // fixed 1.5 × 2 → 3
      ],
    });
    assert.equal(res.body.commissions.length, 1, 'one commission per tier, not per item');
    assert.equal(res.body.commissions[0].amount, 31.4995);
    const [row] = await commissionRows({ sale_id: res.body.saleId });
    assert.equal(Number(row.amount), 314_995);
    assert.equal(row.payout_id, null, 'the items chose different payouts');
    const detail = JSON.parse(row.detail as string) as {
      lines: Array<{ productId: string; payoutId: number; amount: number }>;
    };
    assert.deepEqual(
      detail.lines.map((l) => [l.productId, l.payoutId, l.amount]),
      [
        ['sku-1', sku1, 20],
        ['sku-2', shoes, 7.5],
        ['sku-3', rest, 0.9995],
        ['hat-1', perHat, 3],
      ],
    );
  });

  test('a personal payout beats the general one, for that affiliate only', async () => {
    const c = await campaignWith('Personal', [
      { type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } },
      {
        kind: 'personal',
        title: 'Ann special',
        type: 'CPS',
        affiliateCommission: { value: 15, unit: 'percent' },
        affiliateIds: [ann],
      },
    ]);
    const annSale = await attributedSale('ann', c.id, { totalCost: 100 });
    assert.equal(annSale.body.commissions[0].amount, 15);
    const bobSale = await attributedSale('bob', c.id, { totalCost: 100 });
    assert.equal(bobSale.body.affiliateId, bob);
    assert.equal(bobSale.body.commissions[0].amount, 10);
  });

  test('a coupon payout applies when the sale is matched by its coupon; a plain coupon only attributes', async () => {
    const c = await campaignWith('Coupons', [
      { type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } },
      {
        kind: 'personal',
        title: 'Ann coupon',
        type: 'CPS',
        affiliateCommission: { value: 30, unit: 'percent' },
        affiliateIds: [ann],
        couponCode: 'ANN30',
      },
    ]);
    const couponPayout = c.payoutIds[1];
    const coupons = (await a.get('/coupons?perPage=200')).body.data as Array<{
      code: string;
      affiliateId: number;
      campaignId: number;
      payoutId: number;
    }>;
    const made = coupons.find((x) => x.code === 'ANN30');
    assert.ok(made, 'the payout created its coupon');
    assert.deepEqual([made.affiliateId, made.campaignId, made.payoutId], [ann, c.id, couponPayout]);

    const byCoupon = await sale({ totalCost: 100, coupon: 'ann30' });
    assert.equal(byCoupon.status, 201, byCoupon.text);
    assert.equal(byCoupon.body.matchedBy, 'coupon');
    assert.equal(byCoupon.body.campaignId, c.id);
    assert.equal(byCoupon.body.affiliateId, ann);
    assert.equal(byCoupon.body.commissions[0].amount, 30);
    const [row] = await commissionRows({ sale_id: byCoupon.body.saleId });
    assert.equal(row.payout_id, couponPayout);

    // Ann's sale by her link: the coupon payout does not apply.
    const byLink = await attributedSale('ann', c.id, { totalCost: 100 });
    assert.equal(byLink.body.commissions[0].amount, 10);

    // A coupon without payout attributes to its affiliate; the normal selection pays.
    created(await a.post('/coupons', { code: 'ANNPLAIN', affiliateId: ann, campaignId: c.id }), 'coupon');
    const plain = await sale({ totalCost: 100, coupon: 'AnnPlain' });
    assert.equal(plain.body.matchedBy, 'coupon');
    assert.equal(plain.body.affiliateId, ann);
    assert.equal(plain.body.commissions[0].amount, 10);
  });

  test('CPA: POST /t/action pays the payout of its actionCode (case-insensitive), fixed or percent', async () => {
    const c = await campaignWith('Actions', [
      { title: 'Signup', type: 'CPA', actionCode: 'signup', affiliateCommission: { value: 2.5, unit: 'fixed' } },
      { title: 'Purchase', type: 'CPA', actionCode: 'purchase', affiliateCommission: { value: 5, unit: 'percent' } },
      { title: 'Sales', type: 'CPS', affiliateCommission: { value: 50, unit: 'percent' } },
    ]);
    const { visitorId } = await click('ann', c.id);
    const signup = await post('/t/action', { actionCode: 'SignUp', visitorId });
    assert.equal(signup.status, 201, signup.text);
    assert.equal(signup.body.affiliateId, ann);
    assert.equal(signup.body.commissions.length, 1);
    assert.equal(signup.body.commissions[0].amount, 2.5);
    const purchase = await post('/t/action', {
      actionCode: 'purchase',
      orderId: order('ACT'),
      totalCost: 80,
      visitorId,
    });
    assert.equal(purchase.body.commissions[0].amount, 4);
    const other = await post('/t/action', { actionCode: 'download', visitorId });
    assert.equal(other.status, 201, other.text);
    assert.deepEqual(other.body.commissions, [], 'no CPA payout for this action; the CPS one never pays actions');
    const rows = await commissionRows({ campaign_id: c.id });
    assert.deepEqual(
      rows.map((r) => [r.kind, Number(r.amount)]),
      [
        ['action', 25_000],
        ['action', 40_000],
      ],
    );
  });

  test('PPC: unique clicks are paid, a repeat by the same visitor is not, unless rawClicks', async () => {
    const c = await campaignWith('PPC', [
      {
        type: 'PPC',
        affiliateCommission: { value: 0.25, unit: 'fixed' },
        merchantCommission: { value: 0.05, unit: 'fixed' },
      },
    ]);
    const first = await click('ann', c.id);
    assert.equal(first.status, 'unique');
    const repeat = await click('ann', c.id, first.visitorId);
    assert.equal(repeat.status, 'raw');
    const other = await click('ann', c.id);
    assert.equal(other.status, 'unique');
    let rows = await commissionRows({ campaign_id: c.id, kind: 'click' });
    assert.equal(rows.length, 1, 'one accumulating row per affiliate, payout and day');
    assert.deepEqual(
      [Number(rows[0].quantity), Number(rows[0].amount), Number(rows[0].merchant_amount)],
      [2, 5_000, 1_000],
    );
    assert.equal(rows[0].affiliate_id, ann);

    const raw = await campaignWith('PPC raw', [
      { type: 'PPC', rawClicks: true, affiliateCommission: { value: 0.1, unit: 'fixed' } },
    ]);
    const r1 = await click('bob', raw.id);
    const r2 = await click('bob', raw.id, r1.visitorId);
    assert.equal(r2.status, 'raw');
    rows = await commissionRows({ campaign_id: raw.id, kind: 'click' });
    assert.deepEqual([Number(rows[0].quantity), Number(rows[0].amount), rows[0].affiliate_id], [2, 2_000, bob]);
  });

  test('CPM via GET /t/impression: 10.00 per 1,000 impressions × 3 = 0.03', async () => {
    const c = await campaignWith('CPM', [{ type: 'CPM', affiliateCommission: { value: 10, unit: 'fixed' } }]);
    const banner = created(
      await a.post('/banners', {
        campaignId: c.id,
        name: 'Leaderboard',
        type: 'image',
        content: 'https://cdn.example/b.png',
      }),
      'banner',
    );
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${app.url}/t/impression?a_aid=ann&a_bid=${banner}`, {
        headers: { 'user-agent': CHROME },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/gif');
      await res.arrayBuffer();
    }
    const rows = await commissionRows({ campaign_id: c.id, kind: 'impression' });
    assert.equal(rows.length, 1);
    assert.deepEqual([Number(rows[0].quantity), Number(rows[0].amount), rows[0].affiliate_id], [3, 300, ann]);
  });

  test('the merchant commission is recorded beside the affiliate commission', async () => {
    const fixed = await campaignWith('Merchant fixed', [
      {
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
        merchantCommission: { value: 1.5, unit: 'fixed' },
      },
    ]);
    const res = await attributedSale('ann', fixed.id, { totalCost: 100 });
    let [row] = await commissionRows({ sale_id: res.body.saleId });
    assert.deepEqual([Number(row.amount), Number(row.merchant_amount)], [100_000, 15_000]);
    const percent = await campaignWith('Merchant percent', [
      {
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
        merchantCommission: { value: 3, unit: 'percent' },
      },
    ]);
    const res2 = await attributedSale('ann', percent.id, { totalCost: 250, fixedCost: 50 });
    [row] = await commissionRows({ sale_id: res2.body.saleId });
    assert.deepEqual([Number(row.amount), Number(row.merchant_amount)], [200_000, 60_000], '10 % and 3 % of 200');
  });

  test('a sale in EUR: the commission is in USD on the converted amount', async () => {
    const patched = await a.patch('/settings', { exchangeRates: { EUR: 1.1 } });
    assert.equal(patched.status, 200, patched.text);
    const c = await campaignWith('Euro', [{ type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } }]);
    const res = await attributedSale('ann', c.id, { totalCost: 100, fixedCost: 10, currency: 'EUR' });
    assert.equal(res.body.commissions[0].currency, 'USD');
    assert.equal(res.body.commissions[0].amount, 9.9, '10 % of (110 − 11) USD');
    const items = await attributedSale('ann', c.id, { currency: 'eur', items: [{ productId: 'x', totalCost: 19.99 }] });
    assert.equal(items.body.commissions[0].amount, 2.1989, '10 % of 21.989 USD');
    const [row] = await commissionRows({ sale_id: res.body.saleId });
    assert.equal(row.currency, 'USD');
    assert.equal(Number(row.basis), 990_000);
  });

  test('POST /api/v1/simulate/sale returns plannedCommissions and payoutExplanation, saving nothing', async () => {
    const c = await campaignWith('Simulated', [
      {
        title: 'Simulated ten',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
        merchantCommission: { value: 1, unit: 'fixed' },
      },
    ]);
    const count = async (table: string) =>
      Number(((await app.services.db(table).count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);
    const before = [await count('sales'), await count('commissions')];
    const res = await a.post('/simulate/sale', {
      orderId: order('SIM'),
      totalCost: 150,
      fixedCost: 50,
      campaignId: c.id,
      affiliateId: 'ann',
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.saleId, null);
    assert.equal(res.body.campaignId, c.id);
    assert.equal(res.body.affiliateId, ann);
    assert.deepEqual(res.body.commissions, []);
    assert.equal(res.body.plannedCommissions.length, 1);
    const [planned] = res.body.plannedCommissions;
    assert.deepEqual(
      [planned.tier, planned.affiliateId, planned.amount, planned.merchantAmount, planned.payoutId],
      [1, ann, 10, 1, c.payoutIds[0]],
    );
    const text = (res.body.payoutExplanation as string[]).join('\n');
    assert.match(text, /"Simulated ten"/);
    assert.match(text, /10% of 100\.00 USD = 10\.00 USD/);
    assert.deepEqual([await count('sales'), await count('commissions')], before, 'nothing saved');

    const none = await a.post('/simulate/sale', {
      orderId: order('SIM'),
      totalCost: 150,
      campaignId: c.id,
      affiliateId: 'ann',
      actionCode: 'signup',
    });
    assert.deepEqual(none.body.plannedCommissions, []);
    assert.match((none.body.payoutExplanation as string[]).join('\n'), /no CPA "signup" payout/);
  });
});
