import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import { campaignWithPayout } from '../helpers/programme.js';

/*
 * Paused campaigns (issue 9.5): a paused campaign takes no part in sale matching — no rule of
 * SPEC §5.2 picks it (the next rule decides) and it pays nothing — as clicks into it are declined.
 * The affiliate a rule names (lifetime binding, coupon, referral) still counts.
 */

type Api = ReturnType<typeof api>;

type SaleAnswer = {
  campaignId: number;
  matchedBy: string;
  affiliateId: number | null;
  commissions: Array<{ affiliateId: number; amount: number }>;
};

describe(`paused campaigns take no part in sale matching (issue 9.5) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let ann: number;
  let summer: number;
  let main: number;
  let defaultCampaign: number;
  let summerBanner: number;
  let order = 0;

  const click = async (query: string): Promise<string> => {
    const res = await request(app.url, 'POST', '/t/click', { body: { url: `https://shop.example/?${query}` } });
    assert.equal(res.status, 200, res.text);
    return res.body.visitorId as string;
  };
  const sale = async (body: Record<string, unknown>): Promise<SaleAnswer & { saleId: number }> => {
    const res = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: `Z-${++order}`, totalCost: 100, ...body },
    });
    assert.equal(res.status, 201, res.text);
    return res.body as SaleAnswer & { saleId: number };
  };
  const paid = (s: SaleAnswer) => s.commissions.map((c) => [c.affiliateId, c.amount]);
  const pause = async (id: number, status: 'paused' | 'active') =>
    assert.equal((await a.patch(`/campaigns/${id}`, { status })).status, 200);
  const cps = (campaignId: number, percent: number) =>
    a.post(`/campaigns/${campaignId}/payouts`, {
      kind: 'general',
      title: `${percent} %`,
      type: 'CPS',
      affiliateCommission: { value: percent, unit: 'percent' },
    });

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    ann = created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
    summer = created(
      await a.post('/campaigns', { name: 'Summer', approval: 'auto', productIds: ['sku-summer', 'sku-both'] }),
      'campaign',
    );
    main = created(
      await a.post('/campaigns', { name: 'Main', approval: 'auto', productIds: ['sku-both'] }),
      'campaign',
    );
    created(await cps(summer, 10), 'payout');
    created(await cps(main, 5), 'payout');
    summerBanner = created(await a.post('/banners', { campaignId: summer, name: 'Sun', type: 'link' }), 'banner');
    created(await a.post('/coupons', { code: 'SUMMER', affiliateId: ann, campaignId: summer }), 'coupon');
    const list = await a.get('/campaigns?perPage=200');
    defaultCampaign = (list.body.data as Array<{ id: number; isDefault: boolean }>).find((c) => c.isDefault)!.id;
  });
  after(async () => {
    await app?.close();
  });

  test('while active, each rule picks the campaign and pays (the baseline)', async () => {
    const visitor = await click(`a_aid=ann&a_cid=${main}`);
    const s = await sale({ visitorId: visitor, productId: 'sku-summer' });
    assert.deepEqual([s.matchedBy, s.campaignId, paid(s)], ['product', summer, [[ann, 10]]]);
  });

  test('product, campaignId, banner and coupon rules skip a paused campaign; the next rule decides', async () => {
    const visitor = await click(`a_aid=ann&a_cid=${main}`);
    await pause(summer, 'paused');
    try {
      for (const [label, body] of [
        ['product', { productId: 'sku-summer' }],
        ['campaignId', { campaignId: summer }],
        ['bannerId', { bannerId: summerBanner }],
      ] as const) {
        const s = await sale({ visitorId: visitor, ...body });
        assert.deepEqual(
          [s.matchedBy, s.campaignId, paid(s)],
          ['cookie', main, [[ann, 5]]],
          `${label}: the paused campaign neither captures nor pays the sale`,
        );
      }
      const both = await sale({ productId: 'sku-both' });
      assert.deepEqual([both.matchedBy, both.campaignId], ['product', main], 'the live campaign listing the product');

      // The coupon still names its affiliate, who earns by the campaign the next rule picks.
      const coupon = await sale({ coupon: 'SUMMER', productId: 'sku-both' });
      assert.deepEqual([coupon.matchedBy, coupon.campaignId, coupon.affiliateId], ['product', main, ann]);
      assert.deepEqual(paid(coupon), [[ann, 5]]);

      const stored = await a.get(`/sales/${coupon.saleId}`);
      assert.ok(
        (stored.body.explanation as string[]).includes(
          `campaign ${summer} "Summer" is paused: it takes no part in matching`,
        ),
        JSON.stringify(stored.body.explanation),
      );
    } finally {
      await pause(summer, 'active');
    }
  });

  test('a referral in a campaign paused since the click is not used to pick the campaign', async () => {
    const visitor = await click(`a_aid=ann&a_cid=${summer}`);
    await pause(summer, 'paused');
    try {
      const s = await sale({ visitorId: visitor });
      assert.deepEqual([s.matchedBy, s.campaignId, s.affiliateId], ['default', defaultCampaign, ann]);
      assert.deepEqual(paid(s), [], 'the default campaign has no payout; Summer pays nothing');
    } finally {
      await pause(summer, 'active');
    }
  });

  test('a paused default campaign still records the sale but pays nothing, and says why', async () => {
    created(await cps(defaultCampaign, 3), 'payout');
    created(await a.post('/coupons', { code: 'ANN', affiliateId: ann }), 'coupon');
    const before = await sale({ coupon: 'ANN' });
    assert.deepEqual([before.campaignId, paid(before)], [defaultCampaign, [[ann, 3]]]);
    await pause(defaultCampaign, 'paused');
    try {
      const s = await sale({ coupon: 'ANN' });
      assert.deepEqual([s.matchedBy, s.campaignId, s.affiliateId, paid(s)], ['default', defaultCampaign, ann, []]);
      const stored = await a.get(`/sales/${s.saleId}`);
      assert.ok(
        (stored.body.explanation as string[]).some((l) => /is paused: no commission/.test(l)),
        JSON.stringify(stored.body.explanation),
      );
    } finally {
      await pause(defaultCampaign, 'active');
    }
  });

  test('a lifetime binding in a paused campaign does not pick it; the customer stays the affiliate’s', async () => {
    assert.equal((await a.patch('/plugins/lifetime-commissions', { active: true })).status, 200);
    const life = await campaignWithPayout(
      a,
      { name: 'Life', approval: 'auto' },
      { title: 'Lifetime 8 %', type: 'LIFETIME', affiliateCommission: { value: 8, unit: 'percent' } },
    );
    const first = await sale({
      visitorId: await click(`a_aid=ann&a_cid=${life}`),
      campaignId: life,
      customerId: 'cust-1',
    });
    assert.deepEqual(paid(first), [[ann, 8]]);
    assert.deepEqual([(await sale({ customerId: 'cust-1' })).matchedBy], ['lifetime']);
    await pause(life, 'paused');
    try {
      const s = await sale({ customerId: 'cust-1', productId: 'sku-both' });
      assert.deepEqual([s.matchedBy, s.campaignId, s.affiliateId, paid(s)], ['product', main, ann, [[ann, 5]]]);
    } finally {
      await pause(life, 'active');
    }
  });
});
