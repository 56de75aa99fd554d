import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { fixture } from '../helpers/fixtures.js';
import {
  counts,
  deliveries,
  enableIntegrations,
  hmacBase64,
  postWebhook,
  sendWooCommerce,
} from '../helpers/integrations.js';

/* WooCommerce webhooks (SPEC §14): POST /integrations/woocommerce/webhook, X-WC-Webhook-Signature over the raw body. */

type Api = ReturnType<typeof api>;

describe('WooCommerce webhooks', () => {
  let app: TestApp;
  let owner: Api;
  let campaignId: number;
  let annId: number;
  let bobId: number;
  let seq = 0;
  const orderId = () => 7000 + (process.pid % 1000) * 100 + ++seq;
  const deliveryId = () => `d41d8cd98f00b204e98009${String(++seq).padStart(10, '0')}`;

  async function annVisitor(): Promise<string> {
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://woo.example/?a_aid=ann&a_cid=${campaignId}` },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(click.status, 200, click.text);
    return click.body.visitorId as string;
  }
  /** The documented REST API order, with its own id, status, visitor and coupon. */
  function order(id: number, status: string, visitorId: string | null, coupon: string | null = null) {
    const o = fixture('woocommerce/order.json');
    o.id = id;
    o.number = String(id);
    o.status = status;
    o.meta_data = o.meta_data.filter((m: { key: string }) => m.key !== 'affix_vid');
    if (visitorId) o.meta_data.push({ id: 13107, key: 'affix_vid', value: visitorId });
    o.coupon_lines = coupon ? [{ id: 319, code: coupon, discount: '2.00', discount_tax: '0.15', meta_data: [] }] : [];
    return o;
  }
  const saleOf = async (id: number) =>
    (await owner.get(`/sales?orderId=${id}`)).body.data as Array<Record<string, any>>;
  const commissionsOf = async (saleId: number) =>
    (await owner.get(`/commissions?saleId=${saleId}`)).body.data as Array<Record<string, any>>;
  const lastDelivery = async () => (await deliveries(app.services.db, 'woocommerce')).at(-1)!;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const campaign = await owner.post('/campaigns', { name: 'Woo store', approval: 'manual' });
    campaignId = campaign.body.id;
    assert.equal(
      (
        await owner.post(`/campaigns/${campaignId}/payouts`, {
          kind: 'general',
          title: '10%',
          type: 'CPS',
          affiliateCommission: { value: 10, unit: 'percent' },
        })
      ).status,
      201,
    );
    annId = (
      await owner.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann', status: 'approved' })
    ).body.id;
    bobId = (
      await owner.post('/affiliates', { name: 'Bob', email: 'bob@example.com', refId: 'bob', status: 'approved' })
    ).body.id;
    const coupon = await owner.post('/coupons', { code: 'SPRING', affiliateId: bobId, campaignId });
    assert.equal(coupon.status, 201, coupon.text);
    await enableIntegrations(owner);
  });
  after(() => app.close());

  test('a processing order is a sale, attributed through the order meta affix_vid', async () => {
    const id = orderId();
    const visitorId = await annVisitor();
    const res = await sendWooCommerce(app.url, 'order.created', order(id, 'processing', visitorId), deliveryId());
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'sale');
    const [sale] = await saleOf(id);
    assert.ok(sale);
    assert.equal(sale.totalCost, 27.2);
    assert.equal(sale.visitorId, visitorId);
    assert.equal(sale.affiliateId, annId);
    assert.equal(sale.customerId, '12');
    assert.equal(sale.source, 'woocommerce');
    assert.deepEqual(
      sale.items.map((i: any) => [i.productId, i.totalCost, i.quantity]),
      [
        ['93', 4, 2],
        ['22', 12, 1],
      ],
    );
    assert.equal((await commissionsOf(sale.id))[0]?.amount, 1.6, '10% of the lines after discount');
  });

  test('the coupon of coupon_lines names its affiliate', async () => {
    const id = orderId();
    const res = await sendWooCommerce(
      app.url,
      'order.created',
      order(id, 'processing', await annVisitor(), 'spring'),
      deliveryId(),
    );
    assert.equal(res.status, 200, res.text);
    const [sale] = await saleOf(id);
    assert.equal(sale?.coupon, 'spring');
    assert.equal(sale?.matchedBy, 'coupon');
    assert.equal(sale?.affiliateId, bobId);
  });

  test('the order saved again is a replay; completed after processing records no second sale', async () => {
    const id = orderId();
    const o = order(id, 'processing', await annVisitor());
    const first = await sendWooCommerce(app.url, 'order.created', o, deliveryId());
    assert.equal(first.status, 200, first.text);
    const before = await counts(app.services.db);
    // WooCommerce sends the whole order on every save, each time with a new delivery id.
    const saved = await sendWooCommerce(app.url, 'order.updated', o, deliveryId());
    assert.deepEqual(saved.body, first.body);
    const completed = await sendWooCommerce(app.url, 'order.updated', { ...o, status: 'completed' }, deliveryId());
    assert.equal(completed.status, 200, completed.text);
    assert.equal(completed.body.outcome, 'duplicate');
    assert.equal(completed.body.saleId, first.body.saleId);
    assert.deepEqual(await counts(app.services.db), before);
  });

  test('refunded refunds the whole order; cancelled declines its pending commissions', async () => {
    const refunded = orderId();
    const visitorId = await annVisitor();
    await sendWooCommerce(app.url, 'order.created', order(refunded, 'processing', visitorId), deliveryId());
    const res = await sendWooCommerce(app.url, 'order.updated', order(refunded, 'refunded', visitorId), deliveryId());
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'refund');
    assert.equal(res.body.amount, 27.2);
    assert.equal(res.body.full, true);
    const [sale] = await saleOf(refunded);
    assert.deepEqual(
      (await commissionsOf(sale!.id)).map((c) => c.status),
      ['reversed'],
    );

    const cancelled = orderId();
    await sendWooCommerce(app.url, 'order.created', order(cancelled, 'processing', visitorId), deliveryId());
    const [second] = await saleOf(cancelled);
    const cancel = await sendWooCommerce(
      app.url,
      'order.updated',
      order(cancelled, 'cancelled', visitorId),
      deliveryId(),
    );
    assert.equal(cancel.status, 200, cancel.text);
    assert.equal(cancel.body.outcome, 'declined');
    const [commission] = await commissionsOf(second!.id);
    assert.equal(commission?.status, 'declined');
    assert.equal(commission?.statusReason, 'WooCommerce order cancelled');
    assert.equal((await lastDelivery()).sale_id, second!.id);
  });

  test('pending orders and other topics are ignored; a refund of an unknown order changes nothing', async () => {
    const before = await counts(app.services.db);
    const pending = await sendWooCommerce(app.url, 'order.created', order(orderId(), 'pending', null), deliveryId());
    assert.equal(pending.status, 200);
    assert.equal(pending.body.outcome, 'ignored');
    const product = await sendWooCommerce(app.url, 'product.updated', { id: 93, name: 'Woo Single #1' }, deliveryId());
    assert.equal(product.body.outcome, 'ignored');
    const unknown = await sendWooCommerce(app.url, 'order.updated', order(orderId(), 'refunded', null), deliveryId());
    assert.equal(unknown.status, 200, unknown.text);
    assert.equal(unknown.body.outcome, 'unknown_order');
    assert.deepEqual(await counts(app.services.db), before);
  });

  test('the ping of a new webhook is answered 200 (WooCommerce saves the webhook only then)', async () => {
    const res = await request(app.url, 'POST', '/integrations/woocommerce/webhook', {
      raw: 'webhook_id=14',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'WooCommerce/9.1.2 Hookshot' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal((await lastDelivery()).event_type, 'ping');
  });

  test('a wrong or missing X-WC-Webhook-Signature is 401; invalid JSON signed right is 400', async () => {
    const id = orderId();
    const payload = JSON.stringify(order(id, 'processing', null));
    const before = await counts(app.services.db);
    const wrong = await postWebhook(app.url, 'woocommerce', payload, {
      'X-WC-Webhook-Topic': 'order.created',
      'X-WC-Webhook-Signature': hmacBase64(payload, 'wrong'),
    });
    assert.equal(wrong.status, 401, wrong.text);
    const missing = await postWebhook(app.url, 'woocommerce', payload, { 'X-WC-Webhook-Topic': 'order.created' });
    assert.equal(missing.status, 401);
    assert.deepEqual(await counts(app.services.db), before);
    assert.equal((await lastDelivery()).outcome, 'bad_signature');
    const broken = await sendWooCommerce(app.url, 'order.created', '{"id": 5, ', deliveryId());
    assert.equal(broken.status, 400, broken.text);
    assert.equal((await lastDelivery()).outcome, 'invalid');
  });
});
