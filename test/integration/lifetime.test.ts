import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { builtinPlugins, type BuiltinDeps } from '../../server/plugins/builtins.js';
import { createLifetimeCommissions } from '../../server/plugins/lifetime-commissions/index.js';
import type { AffixPlugin } from '../../server/plugins/types.js';
import { created } from '../helpers/assert.js';
import { campaignWithPayout } from '../helpers/programme.js';

/* The lifetime-commissions plugin (SPEC §5.2 rule 1, §6.1 LIFETIME) over HTTP. */

type Api = ReturnType<typeof api>;

const SHOP = 'https://shop.example/landing';

/** The built-ins plus this plugin (once, should builtins.ts list it already). */
function withLifetime(deps: BuiltinDeps): AffixPlugin[] {
  const base = builtinPlugins(deps);
  return base.some((p) => p.name === 'lifetime-commissions') ? base : [...base, createLifetimeCommissions(deps)];
}

let seq = 0;
const order = () => `LT-${process.pid}-${++seq}`;

describe('lifetime-commissions plugin', () => {
  let app: TestApp;
  let a: Api;
  let ann: number;
  let bob: number;
  let life: number;
  let lifePayout: number;
  let other: number;
  let plain: number;
  let cust1: Promise<void> | undefined;

  /** The customer cust-1 bound to Ann by a first sale through her link (the first test's sale). */
  const annCustomer = () =>
    (cust1 ??= (async () => {
      const first = await sale({ totalCost: 100, visitorId: await click('ann', life), customerId: 'cust-1' });
      assert.equal(first.status, 201, first.text);
    })());

  const post = (path: string, body: unknown) =>
    request(app.url, 'POST', path, { body, headers: { 'user-agent': CHROME } });
  const sale = (body: Record<string, unknown>) => post('/t/sale', { orderId: order(), ...body });
  async function click(ref: string, campaignId: number): Promise<string> {
    const res = await post('/t/click', { url: `${SHOP}?a_aid=${ref}&a_cid=${campaignId}` });
    assert.equal(res.body.status, 'unique', res.text);
    return res.body.visitorId as string;
  }
  const binding = (key: string) => app.services.db('lifetime_customers').where({ customer_key: key }).first();
  const setPlugin = async (body: Record<string, unknown>) => {
    const res = await a.patch('/plugins/lifetime-commissions', body);
    assert.equal(res.status, 200, res.text);
    return res.body;
  };

  before(async () => {
    app = await startTestApp({ builtins: withLifetime });
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    ann = created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
    bob = created(await a.post('/affiliates', { name: 'Bob', email: 'bob@example.com', refId: 'bob' }), 'affiliate');
    life = created(await a.post('/campaigns', { name: 'Subscriptions' }), 'campaign');
    lifePayout = created(
      await a.post(`/campaigns/${life}/payouts`, {
        kind: 'general',
        title: 'Lifetime 10%',
        type: 'LIFETIME',
        affiliateCommission: { value: 10, unit: 'percent' },
      }),
      'payout',
    );
    other = await campaignWithPayout(
      a,
      { name: 'Other shop' },
      { title: 'Other 20%', type: 'CPS', affiliateCommission: { value: 20, unit: 'percent' } },
    );
    created(
      await a.post(`/campaigns/${other}/payouts`, {
        kind: 'personal',
        title: 'Bob coupon 50%',
        type: 'CPS',
        affiliateCommission: { value: 50, unit: 'percent' },
        affiliateIds: [bob],
        couponCode: 'BOB50',
      }),
      'payout',
    );
    plain = await campaignWithPayout(
      a,
      { name: 'Plain CPS' },
      { title: 'Plain 5%', type: 'CPS', affiliateCommission: { value: 5, unit: 'percent' } },
    );
    const info = await setPlugin({ active: true });
    assert.equal(info.active, true);
    assert.deepEqual(info.settings, { recogniseCampaign: true });
  });
  after(async () => {
    await app.close();
  });

  test('a sale paid by a LIFETIME payout binds the customerId to the affiliate', async () => {
    const vid = await click('ann', life);
    const first = await sale({ totalCost: 100, visitorId: vid, customerId: 'cust-1' });
    cust1 = Promise.resolve();
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.matchedBy, 'cookie');
    assert.equal(first.body.affiliateId, ann);
    assert.equal(first.body.commissions[0].amount, 10);
    const row = await binding('cust-1');
    assert.ok(row, 'bound');
    assert.deepEqual([row.affiliate_id, row.campaign_id, Number(row.sale_id)], [ann, life, first.body.saleId]);
    const commission = await app.services.db('commissions').where({ sale_id: first.body.saleId }).first();
    assert.equal(commission.payout_id, lifePayout);
  });

  test('a later sale of that customer with no click, cookie or coupon → matchedBy lifetime, same affiliate, paid', async () => {
    await annCustomer();
    const later = await sale({ totalCost: 50, customerId: 'cust-1' });
    assert.equal(later.status, 201, later.text);
    assert.equal(later.body.matchedBy, 'lifetime');
    assert.equal(later.body.campaignId, life);
    assert.equal(later.body.affiliateId, ann);
    assert.equal(later.body.commissions.length, 1);
    assert.equal(later.body.commissions[0].affiliateId, ann);
    assert.equal(later.body.commissions[0].amount, 5);
    const sim = await a.post('/simulate/sale', { orderId: order(), totalCost: 50, customerId: 'cust-1' });
    const rule1 = (sim.body.trace.candidates as Array<{ rule: number; outcome: string; detail: string }>).find(
      (c) => c.rule === 1,
    )!;
    assert.equal(rule1.outcome, 'matched');
    assert.match(
      rule1.detail,
      new RegExp(`^lifetime customer of affiliate ${ann} since \\d{4}-\\d\\d-\\d\\d \\(sale \\d+\\)$`),
    );
  });

  test("the first binding wins: another affiliate's click does not take the customer", async () => {
    await annCustomer();
    const vid = await click('bob', life);
    const res = await sale({ totalCost: 30, visitorId: vid, customerId: 'cust-1' });
    assert.equal(res.body.matchedBy, 'lifetime', 'rule 1 ranks above the cookie');
    assert.equal(res.body.affiliateId, ann);
    assert.equal((await binding('cust-1')).affiliate_id, ann);
  });

  test('without customerId the visitor id is the customer key', async () => {
    const vid = await click('bob', life);
    const first = await sale({ totalCost: 40, visitorId: vid });
    assert.equal(first.body.affiliateId, bob);
    assert.equal((await binding(vid)).affiliate_id, bob);
    // The server cookie counts as the visitor id too.
    const viaCookie = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: order(), totalCost: 10 },
      headers: { 'user-agent': CHROME, cookie: `affix_vid=${vid}` },
    });
    assert.equal(viaCookie.body.matchedBy, 'lifetime');
    assert.equal(viaCookie.body.affiliateId, bob);
    assert.equal(viaCookie.body.commissions[0].amount, 1);
  });

  test('only LIFETIME campaigns bind; declined sales never bind', async () => {
    const vid = await click('ann', plain);
    const res = await sale({ totalCost: 100, visitorId: vid, customerId: 'cust-2' });
    assert.equal(res.body.affiliateId, ann);
    assert.equal(res.body.commissions[0].amount, 5);
    assert.equal(await binding('cust-2'), undefined);
    assert.equal((await sale({ totalCost: 10, customerId: 'cust-2' })).body.matchedBy, 'default');

    const declined = await a.post('/sales', {
      orderId: order(),
      totalCost: 10,
      campaignId: life,
      affiliateId: 'ann',
      customerId: 'cust-declined',
      status: 'declined',
    });
    assert.equal(declined.status, 201, declined.text);
    assert.equal(declined.body.status, 'declined');
    assert.equal(await binding('cust-declined'), undefined);
  });

  test('recogniseCampaign=false: the campaign comes from the other rules, the affiliate is kept', async () => {
    await annCustomer();
    const info = await setPlugin({ settings: { recogniseCampaign: false } });
    assert.deepEqual(info.settings, { recogniseCampaign: false });
    try {
      const byCampaign = await sale({ totalCost: 100, customerId: 'cust-1', campaignId: other });
      assert.equal(byCampaign.body.matchedBy, 'campaign');
      assert.equal(byCampaign.body.campaignId, other);
      assert.equal(byCampaign.body.affiliateId, ann);
      assert.equal(byCampaign.body.commissions[0].amount, 20);
      const fallback = await sale({ totalCost: 100, customerId: 'cust-1' });
      assert.equal(fallback.body.matchedBy, 'default');
      assert.equal(fallback.body.affiliateId, ann);
      // Bob's coupon decides the campaign, but the customer stays Ann's: Bob's personal coupon
      // payout must not pay Ann (it names Bob only) — she earns the campaign's general 20 %.
      const coupon = await sale({ totalCost: 100, customerId: 'cust-1', coupon: 'BOB50' });
      assert.equal(coupon.body.matchedBy, 'coupon');
      assert.equal(coupon.body.campaignId, other);
      assert.equal(coupon.body.affiliateId, ann);
      assert.equal(coupon.body.commissions[0].amount, 20);
    } finally {
      await setPlugin({ settings: { recogniseCampaign: true } });
    }
    assert.equal((await sale({ totalCost: 10, customerId: 'cust-1', campaignId: other })).body.matchedBy, 'lifetime');
  });

  test('the plugin inactive: no binding is used, and none is made', async () => {
    await annCustomer();
    await setPlugin({ active: false });
    try {
      const res = await sale({ totalCost: 100, customerId: 'cust-1' });
      assert.equal(res.body.matchedBy, 'default');
      assert.equal(res.body.affiliateId, null);
      assert.deepEqual(res.body.commissions, []);
      const vid = await click('ann', life);
      const paid = await sale({ totalCost: 100, visitorId: vid, customerId: 'cust-3' });
      assert.equal(paid.body.commissions[0].amount, 10, 'the LIFETIME payout still pays the sale');
      assert.equal(await binding('cust-3'), undefined);
    } finally {
      await setPlugin({ active: true });
    }
    assert.equal((await sale({ totalCost: 10, customerId: 'cust-3' })).body.matchedBy, 'default');
    assert.equal((await sale({ totalCost: 10, customerId: 'cust-1' })).body.matchedBy, 'lifetime');
  });
});
