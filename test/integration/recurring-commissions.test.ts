import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, type Agent } from '../helpers/http.js';
import { fixture } from '../helpers/fixtures.js';
import { SECRETS, enableIntegrations, postWebhook, stripeSignature } from '../helpers/integrations.js';
import { created } from '../helpers/assert.js';

/*
 * Recurring commissions (SPEC §14): RECURRING payouts with recurringMonths, sales carrying a
 * subscriptionId from /t/sale, /api/v1/sales and Stripe's invoice.paid, matchedBy 'subscription'.
 */

type Api = ReturnType<typeof api>;
const MONTH = 31 * 86_400_000;

describe('recurring commissions', () => {
  let app: TestApp;
  let owner: Api;
  let admin: Agent;
  let offset = 0;
  let saas: number;
  let shop: number;
  let ann: number;
  let monthly: number;
  let seq = 0;
  const unique = (prefix: string) => `${prefix}_${process.pid}x${++seq}`;

  /** Moves the app's clock (the owner's token lasts a year of it). */
  async function clockAt(ms: number): Promise<void> {
    offset = ms;
  }
  /** Stripe signs at the time it sends: the app's time here. */
  const sendStripe = (base: string, event: unknown) => {
    const payload = JSON.stringify(event, null, 2);
    const timestamp = Math.floor((Date.now() + offset) / 1000);
    return postWebhook(base, 'stripe', payload, {
      'Stripe-Signature': stripeSignature(payload, SECRETS.stripe, timestamp),
    });
  };
  const post = (path: string, body: unknown) =>
    request(app.url, 'POST', path, { body, headers: { 'user-agent': CHROME } });
  async function annVisitor(): Promise<string> {
    const res = await post('/t/click', { url: `https://saas.example/?a_aid=ann&a_cid=${saas}` });
    assert.equal(res.body.status, 'unique', res.text);
    return res.body.visitorId as string;
  }
  const commissionsOf = async (saleId: number) =>
    (await owner.get(`/commissions?saleId=${saleId}&perPage=200`)).body.data as Array<Record<string, any>>;
  const saleOf = async (orderId: string) => {
    const res = await owner.get(`/sales?orderId=${encodeURIComponent(orderId)}`);
    assert.equal(res.status, 200, res.text);
    return (res.body.data as Array<Record<string, any>>)[0];
  };

  before(async () => {
    app = await startTestApp({ clock: () => Date.now() + offset });
    admin = await setupOwner(app.url);
    const token = await request(app.url, 'POST', '/api/v1/auth/token', {
      body: { ...OWNER, expiresInHours: 24 * 365 },
    });
    assert.equal(token.status, 200, token.text);
    owner = api(app.url, token.body.token);
    assert.equal((await owner.patch('/settings', { exchangeRates: { EUR: 1.1 } })).status, 200);
    saas = created(await owner.post('/campaigns', { name: 'SaaS', approval: 'auto' }), 'campaign');
    shop = created(await owner.post('/campaigns', { name: 'Shop', approval: 'auto' }), 'campaign');
    ann = created(
      await owner.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann', status: 'approved' }),
      'ann',
    );
    const bob = created(
      await owner.post('/affiliates', { name: 'Bob', email: 'bob@example.com', refId: 'bob', status: 'approved' }),
      'bob',
    );
    monthly = created(
      await owner.post(`/campaigns/${saas}/payouts`, {
        kind: 'general',
        title: 'Monthly 20%',
        type: 'RECURRING',
        recurringMonths: 3,
        affiliateCommission: { value: 20, unit: 'percent' },
      }),
      'payout',
    );
    created(
      await owner.post(`/campaigns/${shop}/payouts`, {
        kind: 'general',
        title: 'Shop 10%',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
      }),
      'shop payout',
    );
    created(await owner.post('/coupons', { code: 'BOBSHOP', affiliateId: bob, campaignId: shop }), 'coupon');
  });
  after(async () => {
    await app?.close();
  });
  afterEach(async () => {
    if (offset !== 0) await clockAt(0);
  });

  test('the payout API takes RECURRING with recurringMonths, and refuses it elsewhere', async () => {
    const read = await owner.get(`/campaigns/${saas}/payouts/${monthly}`);
    assert.equal(read.body.type, 'RECURRING');
    assert.equal(read.body.recurringMonths, 3);
    const cps = await owner.post(`/campaigns/${saas}/payouts`, {
      kind: 'general',
      title: 'x',
      type: 'CPS',
      recurringMonths: 3,
      affiliateCommission: { value: 1, unit: 'fixed' },
    });
    assert.equal(cps.status, 422, cps.text);
    assert.match(cps.text, /recurringMonths/);
    const bad = await owner.patch(`/campaigns/${saas}/payouts/${monthly}`, { recurringMonths: 0 });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /recurringMonths/);
    const wrongType = await owner.patch(`/campaigns/${saas}/payouts/${monthly}`, { recurringMonths: 'three' });
    assert.equal(wrongType.status, 422);
  });

  test('a renewal is attributed to the first sale, before every other rule, for recurringMonths', async () => {
    const subscriptionId = unique('sub');
    const visitorId = await annVisitor();
    const first = await post('/t/sale', { orderId: unique('o'), totalCost: 30, visitorId, subscriptionId });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.matchedBy, 'cookie');
    assert.equal(first.body.affiliateId, ann);
    assert.deepEqual(
      first.body.commissions.map((c: any) => c.amount),
      [6],
    );

    // A month later: no visitor, and a coupon of another affiliate in another campaign (rule 2).
    await clockAt(MONTH);
    const renewal = await post('/t/sale', { orderId: unique('o'), totalCost: 30, subscriptionId, coupon: 'BOBSHOP' });
    assert.equal(renewal.status, 201, renewal.text);
    assert.equal(renewal.body.matchedBy, 'subscription');
    assert.equal(renewal.body.campaignId, saas);
    assert.equal(renewal.body.affiliateId, ann);
    assert.deepEqual(
      renewal.body.commissions.map((c: any) => [c.affiliateId, c.amount]),
      [[ann, 6]],
    );
    const stored = await owner.get(`/sales/${renewal.body.saleId}`);
    assert.equal(stored.body.subscriptionId, subscriptionId, stored.text.slice(0, 300));
    assert.equal(stored.body.trace.candidates[0].name, 'subscription');
    assert.equal(stored.body.trace.candidates.find((c: any) => c.name === 'coupon').outcome, 'outranked');

    // Four months on: past the 3 recurringMonths. Not attributed, not paid, and the trace says why.
    await clockAt(4 * MONTH);
    const sim = await owner.post('/simulate/sale', { orderId: unique('o'), totalCost: 30, subscriptionId });
    assert.equal(sim.status, 200, sim.text);
    assert.notEqual(sim.body.matchedBy, 'subscription');
    const why = (sim.body.explanation as string[]).join('\n');
    assert.match(why, /past the 3 recurringMonths of payout \d+ "Monthly 20%"/);
    const late = await post('/t/sale', { orderId: unique('o'), totalCost: 30, subscriptionId, campaignId: saas });
    assert.equal(late.status, 201, late.text);
    assert.equal(late.body.matchedBy, 'campaign');
    assert.equal(late.body.affiliateId, null);
    assert.deepEqual(late.body.commissions, []);
    // Even sent with the affiliate named by the store, a renewal past the window earns nothing.
    const named = { totalCost: 30, subscriptionId, campaignId: saas, affiliateId: 'ann' };
    const withAffiliate = await owner.post('/sales', { orderId: unique('o'), ...named });
    assert.equal(withAffiliate.status, 201, withAffiliate.text);
    assert.equal(withAffiliate.body.affiliateId, ann);
    assert.deepEqual(withAffiliate.body.commissions, []);
    const lateSale = await owner.get(`/sales/${withAffiliate.body.saleId}`);
    assert.match((lateSale.body.explanation as string[]).join('\n'), /past the 3 recurringMonths/);
    const payoutWhy = await owner.post('/simulate/sale', { orderId: unique('o'), ...named });
    assert.match(
      (payoutWhy.body.payoutExplanation as string[]).join('\n'),
      /renewal of subscription .* is past the recurringMonths of payout \d+ "Monthly 20%" \(3 months after the first sale on \d{4}-\d\d-\d\d, until \d{4}-\d\d-\d\d\): renewals no longer pay/,
    );
    await clockAt(0);
  });

  test('a RECURRING payout without a subscription pays once, and the trace says why', async () => {
    const visitorId = await annVisitor();
    const res = await post('/t/sale', { orderId: unique('o'), totalCost: 50, visitorId });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(
      res.body.commissions.map((c: any) => c.amount),
      [10],
    );
    const sim = await owner.post('/simulate/sale', { orderId: unique('o'), totalCost: 50, visitorId });
    assert.match(
      (sim.body.payoutExplanation as string[]).join('\n'),
      /RECURRING, but the sale carries no subscriptionId: paid once, as a one-time commission/,
    );
    const commissions = await commissionsOf(res.body.saleId);
    assert.match(JSON.stringify(commissions[0]?.detail ?? commissions[0]), /one-time commission/);
  });

  test('POST /api/v1/sales takes subscriptionId; a bad one is dropped with a warning and the sale is one-time', async () => {
    const subscriptionId = unique('sub');
    const first = await owner.post('/sales', {
      orderId: unique('o'),
      totalCost: 40,
      campaignId: saas,
      affiliateId: 'ann',
      subscriptionId,
    });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.affiliateId, ann);
    const renewal = await owner.post('/sales', { orderId: unique('o'), totalCost: 40, subscriptionId });
    assert.equal(renewal.status, 201, renewal.text);
    assert.equal(renewal.body.matchedBy, 'subscription');
    assert.deepEqual(
      renewal.body.commissions.map((c: any) => [c.affiliateId, c.amount]),
      [[ann, 8]],
    );
    // Subscription ids compare exactly (Stripe's are case-sensitive), on MariaDB too.
    const otherCase = await owner.post('/sales', {
      orderId: unique('o'),
      totalCost: 40,
      subscriptionId: subscriptionId.toUpperCase(),
    });
    assert.equal(otherCase.status, 201, otherCase.text);
    assert.notEqual(otherCase.body.matchedBy, 'subscription');
    const bad = await owner.post('/sales', { orderId: unique('o'), totalCost: 40, subscriptionId: { $ne: 1 } });
    assert.equal(bad.status, 201, bad.text);
    assert.equal(bad.body.warnings[0].field, 'subscriptionId');
    assert.notEqual(bad.body.matchedBy, 'subscription');
    const unknown = await owner.post('/sales', { orderId: unique('o'), totalCost: 40, subscriptionID: subscriptionId });
    assert.equal(unknown.status, 422, 'a misspelled key on the API is refused');
    assert.match(unknown.text, /subscriptionID/);
  });

  test('Stripe: the checkout starts the subscription; invoice.paid renewals pay for recurringMonths', async () => {
    await enableIntegrations(owner);
    const subscriptionId = unique('sub');
    const visitorId = await annVisitor();
    const start = fixture('stripe/checkout.session.completed.subscription.json');
    start.id = unique('evt');
    start.data.object.invoice = unique('in');
    start.data.object.subscription = subscriptionId;
    start.data.object.metadata.affix_vid = visitorId;
    const res = await sendStripe(app.url, start);
    assert.equal(res.status, 200, res.text);
    const first = await saleOf(start.data.object.invoice);
    assert.equal(first?.affiliateId, ann);
    assert.equal(first?.subscriptionId, subscriptionId);
    assert.deepEqual(
      (await commissionsOf(first!.id)).map((c) => c.amount),
      [3.3],
      '20% of 15 EUR at 1.1',
    );

    const renewal = (billingReason = 'subscription_cycle') => {
      const e = fixture('stripe/invoice.paid.json');
      e.id = unique('evt');
      e.data.object.id = unique('in');
      e.data.object.billing_reason = billingReason;
      e.data.object.subscription = subscriptionId;
      return e;
    };
    await clockAt(MONTH);
    const paid = renewal();
    const answer = await sendStripe(app.url, paid);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.outcome, 'sale');
    assert.equal(answer.body.matchedBy, 'subscription');
    assert.equal(answer.body.affiliateId, ann);
    const again = await saleOf(paid.data.object.id);
    assert.equal(again?.matchedBy, 'subscription');
    assert.deepEqual(
      (await commissionsOf(again!.id)).map((c) => [c.affiliateId, c.amount]),
      [[ann, 3.3]],
    );
    const [delivery] = (await app.services
      .db('integration_deliveries')
      .where({ platform: 'stripe', event_id: paid.id })
      .select('message')) as Array<{ message: string }>;
    assert.match(delivery?.message ?? '', /\(subscription, affiliate \d+\)/);
    // A replay is answered as the first time and pays nothing more.
    const replay = await sendStripe(app.url, paid);
    assert.equal(replay.status, 200);
    assert.equal((await commissionsOf(again!.id)).length, 1);

    await clockAt(5 * MONTH);
    const late = renewal();
    const lateAnswer = await sendStripe(app.url, late);
    assert.equal(lateAnswer.status, 200, lateAnswer.text);
    assert.notEqual(lateAnswer.body.matchedBy, 'subscription');
    const lateSale = await saleOf(late.data.object.id);
    assert.deepEqual(await commissionsOf(lateSale!.id), []);
    assert.match((lateSale!.explanation as string[]).join('\n'), /past the 3 recurringMonths/);
    await clockAt(0);
    // Back in today's session: the sale's admin page names the subscription and how the renewal was matched.
    const page = await admin.get(`/admin/sales/${again!.id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, new RegExp(`<dt>Subscription</dt><dd>${subscriptionId}</dd>`));
    assert.match(page.text, /Matched by subscription \(rule 0\)/);
  });
});
