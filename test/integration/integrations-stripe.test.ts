import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { fixture } from '../helpers/fixtures.js';
import {
  counts,
  deliveries,
  enableIntegrations,
  postWebhook,
  sendStripe,
  stripeSignature,
  SECRETS,
} from '../helpers/integrations.js';

/* Stripe webhooks (SPEC §14): POST /integrations/stripe/webhook, signed with the endpoint's secret. */

type Api = ReturnType<typeof api>;

describe('Stripe webhooks', () => {
  let app: TestApp;
  let owner: Api;
  let campaignId: number;
  let annId: number;
  let seq = 0;
  const unique = (prefix: string) => `${prefix}_${process.pid}x${++seq}`;

  /** A visitor who came through Ann's link: the id the storefront passes as client_reference_id. */
  async function annVisitor(): Promise<string> {
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=ann&a_cid=${campaignId}` },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(click.status, 200, click.text);
    return click.body.visitorId as string;
  }

  /** The documented checkout.session.completed event with its own ids. */
  function checkout(opts: { visitorId?: string | null; currency?: string; amount?: number } = {}) {
    const event = fixture('stripe/checkout.session.completed.json');
    event.id = unique('evt');
    const s = event.data.object;
    s.payment_intent = unique('pi');
    s.client_reference_id = opts.visitorId ?? null;
    if (opts.currency) s.currency = opts.currency;
    if (opts.amount !== undefined) s.amount_total = opts.amount;
    return event;
  }

  const saleOf = async (orderId: string) => {
    const res = await owner.get(`/sales?orderId=${encodeURIComponent(orderId)}`);
    assert.equal(res.status, 200, res.text);
    return res.body.data as Array<Record<string, any>>;
  };
  const commissionsOf = async (saleId: number) =>
    (await owner.get(`/commissions?saleId=${saleId}&perPage=200`)).body.data as Array<Record<string, any>>;
  const lastDelivery = async () => (await deliveries(app.services.db, 'stripe')).at(-1)!;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const settings = await owner.patch('/settings', { exchangeRates: { EUR: 1.1, JPY: 0.0067, KWD: 3.25 } });
    assert.equal(settings.status, 200, settings.text);
    const campaign = await owner.post('/campaigns', { name: 'Stripe shop', approval: 'manual' });
    assert.equal(campaign.status, 201, campaign.text);
    campaignId = campaign.body.id;
    const payout = await owner.post(`/campaigns/${campaignId}/payouts`, {
      kind: 'general',
      title: '10%',
      type: 'CPS',
      affiliateCommission: { value: 10, unit: 'percent' },
    });
    assert.equal(payout.status, 201, payout.text);
    const ann = await owner.post('/affiliates', {
      name: 'Ann',
      email: 'ann@example.com',
      refId: 'ann',
      status: 'approved',
    });
    assert.equal(ann.status, 201, ann.text);
    annId = ann.body.id;
    await enableIntegrations(owner);
  });
  after(() => app.close());

  test('checkout.session.completed records the sale, attributed through client_reference_id', async () => {
    const visitorId = await annVisitor();
    const event = checkout({ visitorId });
    const orderId = event.data.object.payment_intent as string;
    const res = await sendStripe(app.url, event);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'sale');
    // Acknowledged only once stored: the sale is there at once.
    const [sale] = await saleOf(orderId);
    assert.ok(sale, 'the sale is stored');
    assert.equal(res.body.saleId, sale.id);
    assert.equal(sale.totalCost, 21.98);
    assert.equal(sale.currency, 'USD');
    assert.equal(sale.customerId, 'cus_QTN8iGPmXDdxQ1');
    assert.equal(sale.visitorId, visitorId);
    assert.equal(sale.coupon, 'promo_1PcQqdLkdIwHu7ixxHJ8fZ2V');
    assert.equal(sale.source, 'stripe');
    assert.equal(sale.campaignId, campaignId);
    assert.equal(sale.affiliateId, annId);
    const [commission] = await commissionsOf(sale.id);
    assert.equal(commission?.amount, 2.198);
    assert.equal(commission?.status, 'pending');

    const logged = await lastDelivery();
    assert.equal(logged.outcome, 'sale');
    assert.equal(logged.event_type, 'checkout.session.completed');
    assert.equal(logged.event_id, event.id);
    assert.equal(logged.order_id, orderId);
    assert.equal(logged.sale_id, sale.id);
    assert.equal(logged.status, 200);
  });

  test('a replayed event gets the first answer and changes nothing', async () => {
    const event = checkout({ visitorId: await annVisitor() });
    const payload = JSON.stringify(event);
    const first = await sendStripe(app.url, payload);
    assert.equal(first.status, 200, first.text);
    const before = await counts(app.services.db);
    // Stripe retries with a fresh signature over the same body.
    const again = await sendStripe(app.url, payload);
    assert.equal(again.status, first.status);
    assert.deepEqual(again.body, first.body);
    assert.deepEqual(await counts(app.services.db), before, 'no sale, commission or refund added');
    const [original, replay] = (await deliveries(app.services.db, 'stripe')).slice(-2);
    assert.equal(replay?.outcome, 'duplicate');
    assert.equal(replay?.duplicate_of, original?.id);
    assert.equal(replay?.event_id, event.id);
  });

  test('the same event delivered several times at once is acted on once', async () => {
    const event = checkout({ visitorId: await annVisitor() });
    const payload = JSON.stringify(event);
    const before = await counts(app.services.db);
    const answers = await Promise.all(Array.from({ length: 6 }, () => sendStripe(app.url, payload)));
    for (const a of answers) assert.ok(a.status === 200 || a.status === 409, `${a.status} ${a.text}`);
    const ok = answers.filter((a) => a.status === 200);
    assert.ok(ok.length >= 1);
    for (const a of ok) assert.deepEqual(a.body, ok[0]!.body);
    // A delivery that came while the first was still being handled is told to retry: it gets the answer then.
    const retried = await sendStripe(app.url, payload);
    assert.deepEqual(retried.body, ok[0]!.body);
    assert.equal((await counts(app.services.db)).sales, before.sales + 1);
    assert.equal((await saleOf(event.data.object.payment_intent)).length, 1);
    const rows = (await deliveries(app.services.db, 'stripe')).filter((d) => d.event_id === event.id);
    assert.equal(rows.filter((d) => d.outcome === 'sale').length, 1);
    assert.equal(rows.filter((d) => d.outcome === 'duplicate').length, 6);
  });

  test('a wrong, stale or missing signature is 401 and stores nothing', async () => {
    const event = checkout({ visitorId: await annVisitor() });
    const orderId = event.data.object.payment_intent as string;
    const payload = JSON.stringify(event);
    const before = await counts(app.services.db);
    const wrong = await postWebhook(app.url, 'stripe', payload, {
      'Stripe-Signature': stripeSignature(payload, 'whsec_someone_else'),
    });
    assert.equal(wrong.status, 401, wrong.text);
    assert.equal(wrong.body.error.code, 'unauthorized');
    const tampered = await postWebhook(app.url, 'stripe', payload.replace('2198', '2199'), {
      'Stripe-Signature': stripeSignature(payload),
    });
    assert.equal(tampered.status, 401, 'the signature covers the exact body');
    const stale = await postWebhook(app.url, 'stripe', payload, {
      'Stripe-Signature': stripeSignature(payload, SECRETS.stripe, Math.floor(Date.now() / 1000) - 3600),
    });
    assert.equal(stale.status, 401, 'an hour-old signature is outside the tolerance');
    const missing = await postWebhook(app.url, 'stripe', payload, {});
    assert.equal(missing.status, 401);
    assert.match(missing.body.error.message, /Stripe-Signature/);
    assert.deepEqual(await counts(app.services.db), before);
    assert.deepEqual(await saleOf(orderId), []);
    const logged = (await deliveries(app.services.db, 'stripe')).slice(-4);
    assert.deepEqual(
      logged.map((d) => [d.outcome, d.status]),
      Array(4).fill(['bad_signature', 401]),
    );
    // The event was never accepted: it can still come with a good signature.
    const good = await sendStripe(app.url, payload);
    assert.equal(good.body.outcome, 'sale', good.text);
  });

  test('a JPY order (no minor unit) and a KWD order (three decimals) convert exactly', async () => {
    const jpy = checkout({ visitorId: await annVisitor(), currency: 'jpy', amount: 5000 });
    assert.equal((await sendStripe(app.url, jpy)).status, 200);
    const [yen] = await saleOf(jpy.data.object.payment_intent);
    assert.equal(yen?.totalCost, 5000);
    assert.equal(yen?.currency, 'JPY');
    assert.equal(yen?.totalCostBase, 33.5);
    assert.equal((await commissionsOf(yen!.id))[0]?.amount, 3.35);

    const kwd = checkout({ visitorId: await annVisitor(), currency: 'kwd', amount: 12340 });
    assert.equal((await sendStripe(app.url, kwd)).status, 200);
    const [dinar] = await saleOf(kwd.data.object.payment_intent);
    assert.equal(dinar?.totalCost, 12.34);
    assert.equal(dinar?.currency, 'KWD');
    assert.equal(dinar?.totalCostBase, 40.105);
    assert.equal((await commissionsOf(dinar!.id))[0]?.amount, 4.0105);
  });

  test('a currency without an exchange rate is refused (422) and can be retried once the rate is set', async () => {
    const event = checkout({ visitorId: await annVisitor(), currency: 'chf', amount: 1000 });
    const refused = await sendStripe(app.url, event);
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.body.error.details[0].field, 'currency');
    assert.equal((await lastDelivery()).outcome, 'failed');
    assert.equal(
      (await owner.patch('/settings', { exchangeRates: { EUR: 1.1, JPY: 0.0067, KWD: 3.25, CHF: 1.12 } })).status,
      200,
    );
    const retried = await sendStripe(app.url, event);
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.body.outcome, 'sale');
  });

  test('a subscription checkout records its first invoice; a renewal (invoice.paid) is a recurring sale', async () => {
    const visitorId = await annVisitor();
    const start = fixture('stripe/checkout.session.completed.subscription.json');
    start.id = unique('evt');
    start.data.object.invoice = unique('in');
    start.data.object.metadata.affix_vid = visitorId;
    const res = await sendStripe(app.url, start);
    assert.equal(res.status, 200, res.text);
    const [first] = await saleOf(start.data.object.invoice);
    assert.equal(first?.totalCost, 15);
    assert.equal(first?.currency, 'EUR');
    assert.equal(first?.affiliateId, annId, 'the visitor from metadata.affix_vid');

    const renewal = fixture('stripe/invoice.paid.json');
    renewal.id = unique('evt');
    renewal.data.object.id = unique('in');
    const paid = await sendStripe(app.url, renewal);
    assert.equal(paid.status, 200, paid.text);
    assert.equal(paid.body.outcome, 'sale');
    const [again] = await saleOf(renewal.data.object.id);
    assert.equal(again?.totalCost, 15);
    assert.equal(again?.customerId, 'cus_QTNGbq2vHkE1Xw');
    assert.match((await lastDelivery()).message ?? '', /subscription sub_1PcR0ZLkdIwHu7ixTn4bJx9Q \(renewal\)/);

    const firstInvoice = fixture('stripe/invoice.paid.json');
    firstInvoice.id = unique('evt');
    firstInvoice.data.object.id = unique('in');
    firstInvoice.data.object.billing_reason = 'subscription_create';
    const ignored = await sendStripe(app.url, firstInvoice);
    assert.equal(ignored.status, 200);
    assert.equal(ignored.body.outcome, 'ignored');
    assert.deepEqual(await saleOf(firstInvoice.data.object.id), []);
  });

  test('charge.refunded refunds the difference since the last refund event, in any order', async () => {
    const event = checkout({ visitorId: await annVisitor() });
    const orderId = event.data.object.payment_intent as string;
    assert.equal((await sendStripe(app.url, event)).status, 200);
    const [sale] = await saleOf(orderId);
    const refundEvent = (refunded: number) => {
      const e = fixture('stripe/charge.refunded.json');
      e.id = unique('evt');
      e.data.object.payment_intent = orderId;
      e.data.object.amount_refunded = refunded;
      return e;
    };
    const refunds = async () =>
      ((await app.services.db('refunds').where({ sale_id: sale!.id }).orderBy('id')) as Array<{ amount: number }>).map(
        (r) => Number(r.amount) / 10_000,
      );

    const partial = refundEvent(1000);
    const res = await sendStripe(app.url, partial);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'refund');
    assert.equal(res.body.amount, 10);
    assert.deepEqual(await refunds(), [10]);
    const replay = await sendStripe(app.url, partial);
    assert.deepEqual(replay.body, res.body, 'the replay gets the first answer');
    assert.deepEqual(await refunds(), [10], 'and refunds nothing');

    const rest = await sendStripe(app.url, refundEvent(2198));
    assert.equal(rest.body.amount, 11.98, rest.text);
    assert.equal(rest.body.full, true);
    assert.deepEqual(await refunds(), [10, 11.98]);
    // An older event arriving late changes nothing: the sale is already refunded further.
    const late = await sendStripe(app.url, refundEvent(1000));
    assert.equal(late.status, 200);
    assert.equal(late.body.outcome, 'ignored');
    assert.deepEqual(await refunds(), [10, 11.98]);
    const statuses = (await commissionsOf(sale!.id)).filter((c) => c.parentId === null).map((c) => c.status);
    assert.deepEqual(statuses, ['reversed'], 'the fully refunded sale’s commission is reversed');
  });

  test('charge.dispute.created is a chargeback of the disputed amount', async () => {
    const event = checkout({ visitorId: await annVisitor() });
    const orderId = event.data.object.payment_intent as string;
    assert.equal((await sendStripe(app.url, event)).status, 200);
    const dispute = fixture('stripe/charge.dispute.created.json');
    dispute.id = unique('evt');
    dispute.data.object.payment_intent = orderId;
    const res = await sendStripe(app.url, dispute);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'chargeback');
    assert.equal(res.body.amount, 21.98);
    const [sale] = await saleOf(orderId);
    const rows = (await app.services.db('refunds').where({ sale_id: sale!.id })) as Array<{
      type: string;
      amount: number;
    }>;
    assert.deepEqual(
      rows.map((r) => [r.type, Number(r.amount)]),
      [['chargeback', 219_800]],
    );
    assert.equal((await lastDelivery()).refund_id !== null, true);
  });

  test('an event type Affix does not act on is answered 200 and logged as ignored', async () => {
    const event = fixture('stripe/customer.created.json');
    event.id = unique('evt');
    const before = await counts(app.services.db);
    const res = await sendStripe(app.url, event);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'ignored');
    assert.deepEqual(await counts(app.services.db), before);
    const logged = await lastDelivery();
    assert.deepEqual([logged.outcome, logged.event_type, logged.event_id], ['ignored', 'customer.created', event.id]);
  });

  test('a refund or chargeback of an order Affix never recorded is 200, logged, and changes nothing', async () => {
    const before = await counts(app.services.db);
    for (const name of ['stripe/charge.refunded.json', 'stripe/charge.dispute.created.json']) {
      const event = fixture(name);
      event.id = unique('evt');
      event.data.object.payment_intent = unique('pi_unknown');
      event.data.object[name.includes('dispute') ? 'charge' : 'id'] = unique('ch_unknown');
      const res = await sendStripe(app.url, event);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.outcome, 'unknown_order');
      assert.equal((await lastDelivery()).outcome, 'unknown_order');
    }
    assert.deepEqual(await counts(app.services.db), before);
  });

  test('bad bodies are 4xx, never 500, and logged', async () => {
    const notJson = '{"id": "evt_x", "type": ';
    const res = await postWebhook(app.url, 'stripe', notJson, { 'Stripe-Signature': stripeSignature(notJson) });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error.code, 'invalid_json');
    assert.equal((await lastDelivery()).outcome, 'invalid');

    const event = checkout();
    delete event.data.object.amount_total;
    const missing = await sendStripe(app.url, event);
    assert.equal(missing.status, 422, missing.text);
    assert.equal(missing.body.error.details[0].field, 'data.object.amount_total');
    assert.equal((await lastDelivery()).outcome, 'invalid');

    const array = await sendStripe(app.url, '[1, 2]');
    assert.equal(array.status, 422, array.text);

    const huge = `{"pad": "${'x'.repeat(1024 * 1024)}"}`;
    const tooBig = await postWebhook(app.url, 'stripe', huge, { 'Stripe-Signature': stripeSignature(huge) });
    assert.equal(tooBig.status, 413, tooBig.text);
  });

  test('switched off, or with the plugin inactive, the endpoint is 404', async () => {
    const event = checkout();
    const off = await owner.patch('/plugins/integrations', { settings: { stripeEnabled: false } });
    assert.equal(off.status, 200, off.text);
    const switchedOff = await sendStripe(app.url, event);
    assert.equal(switchedOff.status, 404, switchedOff.text);
    assert.match(switchedOff.body.error.message, /switched off/);

    assert.equal(
      (await owner.patch('/plugins/integrations', { active: false, settings: { stripeEnabled: true } })).status,
      200,
    );
    const inactive = await sendStripe(app.url, event);
    assert.equal(inactive.status, 404, inactive.text);
    assert.match(inactive.body.error.message, /not active/);
    assert.deepEqual(await saleOf(event.data.object.payment_intent), []);
    await enableIntegrations(owner);
    assert.equal((await sendStripe(app.url, event)).status, 200);
  });
});
