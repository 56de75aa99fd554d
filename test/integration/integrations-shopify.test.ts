import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { fixtureText } from '../helpers/fixtures.js';
import {
  counts,
  deliveries,
  enableIntegrations,
  hmacBase64,
  postWebhook,
  sendShopify,
  SECRETS,
} from '../helpers/integrations.js';

/* Shopify webhooks (SPEC §14): POST /integrations/shopify/webhook, X-Shopify-Hmac-Sha256 over the raw body. */

type Api = ReturnType<typeof api>;
const DOCUMENTED_ORDER = '820982911946154508';
const FIXTURE_VISITOR = 'vIsItOr_0123456789abcdef';

describe('Shopify webhooks', () => {
  let app: TestApp;
  let owner: Api;
  let campaignId: number;
  let annId: number;
  let seq = 0;
  /** An order id beyond 2^53 like Shopify's, unique per test. */
  const orderId = () => `8209829119461${String(process.pid % 1000).padStart(3, '0')}${String(++seq).padStart(2, '0')}`;
  const webhookId = () =>
    `b54557e4-bdd9-4b37-8a5f-${String(process.pid).padStart(6, '0')}${String(++seq).padStart(6, '0')}`;

  async function annVisitor(): Promise<string> {
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=ann&a_cid=${campaignId}` },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(click.status, 200, click.text);
    return click.body.visitorId as string;
  }
  /** The documented payload, edited as text so the big ids stay exact. */
  const ordersPaid = (id: string, visitorId: string) =>
    fixtureText('shopify/orders-paid.json').replaceAll(DOCUMENTED_ORDER, id).replace(FIXTURE_VISITOR, visitorId);
  const refundCreate = (order: string, refundId: string) =>
    fixtureText('shopify/refunds-create.json')
      .replaceAll(DOCUMENTED_ORDER, order)
      .replace('"id": 890088186047892319', `"id": ${refundId}`);
  const saleOf = async (id: string) =>
    (await owner.get(`/sales?orderId=${encodeURIComponent(id)}`)).body.data as Array<Record<string, any>>;
  const refundsOf = async (saleId: number) =>
    ((await app.services.db('refunds').where({ sale_id: saleId }).orderBy('id')) as Array<{ amount: number }>).map(
      (r) => Number(r.amount) / 10_000,
    );
  const lastDelivery = async () => (await deliveries(app.services.db, 'shopify')).at(-1)!;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const campaign = await owner.post('/campaigns', { name: 'Shopify store', approval: 'manual' });
    assert.equal(campaign.status, 201, campaign.text);
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
    const ann = await owner.post('/affiliates', {
      name: 'Ann',
      email: 'ann@example.com',
      refId: 'ann',
      status: 'approved',
    });
    annId = ann.body.id;
    await enableIntegrations(owner);
  });
  after(() => app.close());

  test('orders/paid records the sale: exact order id, items less discounts, coupon, visitor from note_attributes', async () => {
    const visitorId = await annVisitor();
    const id = orderId();
    const res = await sendShopify(app.url, 'orders/paid', ordersPaid(id, visitorId), webhookId());
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'sale');
    assert.equal(res.body.orderId, id);
    const [sale] = await saleOf(id);
    assert.ok(sale, `a sale with order id ${id}`);
    assert.equal(sale.orderId, id, 'the id beyond 2^53 is kept digit for digit');
    assert.equal(sale.totalCost, 359.96);
    assert.equal(sale.currency, 'USD');
    assert.equal(sale.coupon, 'SPRING10');
    assert.equal(sale.customerId, '115310627314723954');
    assert.equal(sale.visitorId, visitorId);
    assert.equal(sale.affiliateId, annId);
    assert.equal(sale.source, 'shopify');
    assert.deepEqual(
      sale.items.map((i: { productId: string; totalCost: number; quantity: number }) => [
        i.productId,
        i.totalCost,
        i.quantity,
      ]),
      [
        ['788032119674292922', 179.98, 2],
        ['LENS-PROTECT-2YR', 19.99, 1],
        ['788032119674292922', 149.99, 1],
      ],
    );
    const commissions = (await owner.get(`/commissions?saleId=${sale.id}`)).body.data as Array<{ amount: number }>;
    assert.equal(
      commissions.reduce((s, c) => s + Math.round(c.amount * 10_000), 0),
      349_960,
      '10% of the lines',
    );
    const logged = await lastDelivery();
    assert.deepEqual([logged.outcome, logged.event_type, logged.order_id], ['sale', 'orders/paid', id]);
  });

  test('the same order again — a retry or a second webhook subscription — gets the first answer', async () => {
    const id = orderId();
    const payload = ordersPaid(id, await annVisitor());
    const hook = webhookId();
    const first = await sendShopify(app.url, 'orders/paid', payload, hook);
    assert.equal(first.status, 200, first.text);
    const before = await counts(app.services.db);
    const retry = await sendShopify(app.url, 'orders/paid', payload, hook);
    const otherSubscription = await sendShopify(app.url, 'orders/paid', payload, webhookId());
    for (const again of [retry, otherSubscription]) {
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body);
    }
    assert.deepEqual(await counts(app.services.db), before);
    assert.deepEqual(
      (await deliveries(app.services.db, 'shopify')).slice(-2).map((d) => d.outcome),
      ['duplicate', 'duplicate'],
    );
  });

  test('refunds/create refunds its transactions’ amount, once', async () => {
    const id = orderId();
    assert.equal(
      (await sendShopify(app.url, 'orders/paid', ordersPaid(id, await annVisitor()), webhookId())).status,
      200,
    );
    const [sale] = await saleOf(id);
    const payload = refundCreate(id, `89008818604789${String(++seq).padStart(4, '0')}`);
    const res = await sendShopify(app.url, 'refunds/create', payload, webhookId());
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'refund');
    assert.equal(res.body.amount, 85);
    assert.deepEqual(await refundsOf(sale!.id), [85]);
    const negative = ((await owner.get(`/commissions?saleId=${sale!.id}`)).body.data as Array<any>).filter(
      (c) => c.kind === 'refund',
    );
    assert.ok(negative.length > 0 && negative.every((c) => c.amount < 0), 'linked negative commissions');
    const again = await sendShopify(app.url, 'refunds/create', payload, webhookId());
    assert.deepEqual(again.body, res.body);
    assert.deepEqual(await refundsOf(sale!.id), [85], 'the same refund id refunds once');
  });

  test('a wrong or missing X-Shopify-Hmac-Sha256 is 401 and stores nothing', async () => {
    const id = orderId();
    const payload = ordersPaid(id, await annVisitor());
    const before = await counts(app.services.db);
    const wrong = await postWebhook(app.url, 'shopify', payload, {
      'X-Shopify-Topic': 'orders/paid',
      'X-Shopify-Hmac-Sha256': hmacBase64(payload, 'not the secret'),
    });
    assert.equal(wrong.status, 401, wrong.text);
    const missing = await postWebhook(app.url, 'shopify', payload, { 'X-Shopify-Topic': 'orders/paid' });
    assert.equal(missing.status, 401);
    const reformatted = JSON.stringify(JSON.parse(payload));
    const respaced = await postWebhook(app.url, 'shopify', reformatted, {
      'X-Shopify-Topic': 'orders/paid',
      'X-Shopify-Hmac-Sha256': hmacBase64(payload, SECRETS.shopify),
    });
    assert.equal(respaced.status, 401, 'the signature is of the raw bytes, not of the parsed JSON');
    assert.deepEqual(await counts(app.services.db), before);
    assert.deepEqual(await saleOf(id), []);
    const logged = (await deliveries(app.services.db, 'shopify')).slice(-3);
    assert.deepEqual(
      logged.map((d) => [d.outcome, d.event_type]),
      Array(3).fill(['bad_signature', 'orders/paid']),
    );
  });

  test('other topics are 200 and ignored; a refund of an unknown order is 200 and changes nothing', async () => {
    const before = await counts(app.services.db);
    const other = await sendShopify(app.url, 'products/update', '{"id": 788032119674292922}', webhookId());
    assert.equal(other.status, 200, other.text);
    assert.equal(other.body.outcome, 'ignored');
    assert.equal((await lastDelivery()).event_type, 'products/update');
    const unknown = await sendShopify(app.url, 'refunds/create', refundCreate(orderId(), '1234567'), webhookId());
    assert.equal(unknown.status, 200, unknown.text);
    assert.equal(unknown.body.outcome, 'unknown_order');
    assert.equal((await lastDelivery()).outcome, 'unknown_order');
    assert.deepEqual(await counts(app.services.db), before);
  });

  test('invalid JSON with a valid signature is 400; an order without an id is 422; both logged', async () => {
    const bad = '{"id": 1, "line_items": [';
    const res = await sendShopify(app.url, 'orders/paid', bad, webhookId());
    assert.equal(res.status, 400, res.text);
    assert.equal((await lastDelivery()).outcome, 'invalid');
    const noId = await sendShopify(app.url, 'orders/paid', '{"total_price": "10.00", "currency": "USD"}', webhookId());
    assert.equal(noId.status, 422, noId.text);
    assert.equal(noId.body.error.details[0].field, 'id');
    assert.equal((await lastDelivery()).outcome, 'invalid');
  });

  test('a line whose quantity, or price × quantity, is beyond the limits is 422 naming it; nothing is stored', async () => {
    const before = await counts(app.services.db);
    const paid = ordersPaid(orderId(), 'AAAAAAAAAAAAAAAAAAAAAA');
    const line = (quantity: string, price = '89.99') =>
      paid.replace('"quantity": 2,', `"quantity": ${quantity},`).replace('"price": "89.99"', `"price": "${price}"`);
    for (const [body, fields] of [
      [line('1000000000000'), ['line_items.0.quantity']],
      [line('1000000', '999999999.99'), ['line_items.0.quantity']],
      [line('1000000000000', 'abc'), ['line_items.0.quantity', 'line_items.0.price']],
    ] as const) {
      const res = await sendShopify(app.url, 'orders/paid', body, webhookId());
      assert.equal(res.status, 422, res.text);
      assert.deepEqual(
        (res.body.error.details as Array<{ field: string }>).map((d) => d.field).sort(),
        [...fields].sort(),
      );
      assert.equal((await lastDelivery()).outcome, 'invalid');
    }
    assert.deepEqual(await counts(app.services.db), before);
  });
});
