import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { stripeEvent } from '../../server/domain/integrations/stripe.js';
import { shopifyEvent } from '../../server/domain/integrations/shopify.js';
import { wooCommerceEvent } from '../../server/domain/integrations/woocommerce.js';
import { parseJsonKeepingIds } from '../../server/domain/json-ids.js';
import { toUnits } from '../../server/domain/money.js';
import { AppError } from '../../server/errors.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';

/* Platform payloads → the sale, refund, chargeback or decline they stand for (SPEC §14). */

const VID = 'vIsItOr_0123456789abcdef';
const noBuyer = { ip: '', userAgent: '' };

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, 'validation_failed');
    return (err.details as Array<{ field: string }>)[0]!.field;
  }
  assert.fail('expected a validation error');
}

describe('Stripe events', () => {
  test('checkout.session.completed (payment) is a sale of the payment intent', () => {
    assert.deepEqual(stripeEvent(fixture('stripe/checkout.session.completed.json')), {
      eventType: 'checkout.session.completed',
      eventId: 'evt_1PcQs2LkdIwHu7ixk2tXGYd4',
      orderId: 'pi_3PcQs1LkdIwHu7ix0a6Nr9tN',
      dedupeKey: 'evt_1PcQs2LkdIwHu7ixk2tXGYd4',
      intent: {
        kind: 'sale',
        sale: {
          orderId: 'pi_3PcQs1LkdIwHu7ix0a6Nr9tN',
          totalCost: toUnits('21.98'),
          currency: 'USD',
          customerId: 'cus_QTN8iGPmXDdxQ1',
          visitorId: VID,
          coupon: 'promo_1PcQqdLkdIwHu7ixxHJ8fZ2V',
          items: [],
          subscriptionId: null,
          recurring: false,
        },
        buyer: noBuyer,
      },
    });
  });

  test('a subscription checkout is a sale of its first invoice, visitor from metadata.affix_vid', () => {
    const e = stripeEvent(fixture('stripe/checkout.session.completed.subscription.json'));
    assert.equal(e.intent.kind, 'sale');
    if (e.intent.kind !== 'sale') return;
    assert.deepEqual(e.intent.sale, {
      orderId: 'in_1PcR0ZLkdIwHu7ixL0pW3e2k',
      totalCost: toUnits('15'),
      currency: 'EUR',
      customerId: 'cus_QTNGbq2vHkE1Xw',
      visitorId: VID,
      coupon: null,
      items: [],
      subscriptionId: 'sub_1PcR0ZLkdIwHu7ixTn4bJx9Q',
      recurring: false,
    });
  });

  test('client_reference_id that is not a visitor id gives way to metadata.affix_vid', () => {
    const event = fixture('stripe/checkout.session.completed.json');
    event.data.object.client_reference_id = 'order 77';
    event.data.object.metadata = { affix_vid: 'another_visitor_id_42' };
    const e = stripeEvent(event);
    assert.equal(e.intent.kind === 'sale' && e.intent.sale.visitorId, 'another_visitor_id_42');
  });

  test('zero-decimal (JPY) and three-decimal (KWD) amounts convert exactly', () => {
    const jpy = fixture('stripe/checkout.session.completed.json');
    jpy.data.object.currency = 'jpy';
    jpy.data.object.amount_total = 5000;
    const e1 = stripeEvent(jpy);
    assert.equal(e1.intent.kind === 'sale' && e1.intent.sale.totalCost, toUnits('5000'));
    const kwd = fixture('stripe/checkout.session.completed.json');
    kwd.data.object.currency = 'kwd';
    kwd.data.object.amount_total = 12340;
    const e2 = stripeEvent(kwd);
    assert.equal(e2.intent.kind === 'sale' && e2.intent.sale.totalCost, toUnits('12.34'));
    assert.equal(e2.intent.kind === 'sale' && e2.intent.sale.currency, 'KWD');
  });

  test('an unpaid checkout (delayed payment) waits for checkout.session.async_payment_succeeded', () => {
    const event = fixture('stripe/checkout.session.completed.json');
    event.data.object.payment_status = 'unpaid';
    assert.equal(stripeEvent(event).intent.kind, 'ignore');
    event.type = 'checkout.session.async_payment_succeeded';
    event.data.object.payment_status = 'paid';
    assert.equal(stripeEvent(event).intent.kind, 'sale');
  });

  test('invoice.paid for a renewal is a recurring sale of the invoice; the first invoice is ignored', () => {
    const e = stripeEvent(fixture('stripe/invoice.paid.json'));
    assert.equal(e.dedupeKey, 'evt_1PqT7bLkdIwHu7ixV2d8Zk1m');
    assert.deepEqual(e.intent, {
      kind: 'sale',
      sale: {
        orderId: 'in_1PqT6yLkdIwHu7ixQ8cNf3Hs',
        totalCost: toUnits('15'),
        currency: 'EUR',
        customerId: 'cus_QTNGbq2vHkE1Xw',
        visitorId: null,
        coupon: null,
        items: [],
        subscriptionId: 'sub_1PcR0ZLkdIwHu7ixTn4bJx9Q',
        recurring: true,
      },
      buyer: noBuyer,
    });
    const first = fixture('stripe/invoice.paid.json');
    first.data.object.billing_reason = 'subscription_create';
    assert.equal(stripeEvent(first).intent.kind, 'ignore');
    const oneOff = fixture('stripe/invoice.paid.json');
    oneOff.data.object.billing_reason = 'manual';
    oneOff.data.object.subscription = null;
    assert.equal(stripeEvent(oneOff).intent.kind, 'ignore', 'an invoice without a subscription');
  });

  test('invoice.paid names the subscription under parent.subscription_details in newer API versions', () => {
    const event = fixture('stripe/invoice.paid.json');
    delete event.data.object.subscription;
    event.data.object.parent = {
      type: 'subscription_details',
      subscription_details: { metadata: {}, subscription: 'sub_NEW' },
    };
    const e = stripeEvent(event);
    assert.equal(e.intent.kind === 'sale' && e.intent.sale.subscriptionId, 'sub_NEW');
  });

  test('charge.refunded refunds up to amount_refunded; charge.dispute.created is a chargeback', () => {
    assert.deepEqual(stripeEvent(fixture('stripe/charge.refunded.json')), {
      eventType: 'charge.refunded',
      eventId: 'evt_3PcQs1LkdIwHu7ix0Yk7dCpa',
      orderId: 'pi_3PcQs1LkdIwHu7ix0a6Nr9tN',
      dedupeKey: 'evt_3PcQs1LkdIwHu7ix0Yk7dCpa',
      intent: {
        kind: 'refund',
        type: 'refund',
        orderIds: ['pi_3PcQs1LkdIwHu7ix0a6Nr9tN', 'ch_3PcQs1LkdIwHu7ix0wPz3bqL'],
        amount: { kind: 'upTo', units: toUnits('10') },
        currency: 'USD',
      },
    });
    assert.deepEqual(stripeEvent(fixture('stripe/charge.dispute.created.json')).intent, {
      kind: 'refund',
      type: 'chargeback',
      orderIds: ['pi_3PcQs1LkdIwHu7ix0a6Nr9tN', 'ch_3PcQs1LkdIwHu7ix0wPz3bqL'],
      amount: { kind: 'exact', units: toUnits('21.98') },
      currency: 'USD',
    });
  });

  test('other event types are ignored, keyed by their event id', () => {
    const e = stripeEvent(fixture('stripe/customer.created.json'));
    assert.equal(e.eventType, 'customer.created');
    assert.equal(e.dedupeKey, 'evt_1PcQrzLkdIwHu7ixd1mLk0aB');
    assert.equal(e.intent.kind, 'ignore');
  });

  test('a payload without what the mapping needs names the field', () => {
    assert.equal(
      fieldOf(() => stripeEvent({})),
      'id',
    );
    const event = fixture('stripe/checkout.session.completed.json');
    delete event.data.object.amount_total;
    assert.equal(
      fieldOf(() => stripeEvent(event)),
      'data.object.amount_total',
    );
    const refund = fixture('stripe/charge.refunded.json');
    refund.data.object.amount_refunded = -5;
    assert.equal(
      fieldOf(() => stripeEvent(refund)),
      'data.object.amount_refunded',
    );
  });
});

describe('Shopify webhooks', () => {
  const WEBHOOK_ID = 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043';

  test('orders/paid is a sale: exact ids, items less line discounts, coupon, visitor and buyer', () => {
    const payload = parseJsonKeepingIds(fixtureText('shopify/orders-paid.json'));
    assert.deepEqual(shopifyEvent({ topic: 'orders/paid', webhookId: WEBHOOK_ID, payload }), {
      eventType: 'orders/paid',
      eventId: WEBHOOK_ID,
      orderId: '820982911946154508',
      dedupeKey: 'orders/paid:820982911946154508',
      intent: {
        kind: 'sale',
        sale: {
          orderId: '820982911946154508',
          totalCost: toUnits('359.96'),
          currency: 'USD',
          customerId: '115310627314723954',
          visitorId: VID,
          coupon: 'SPRING10',
          items: [
            { productId: '788032119674292922', totalCost: toUnits('179.98'), quantity: 2 },
            { productId: 'LENS-PROTECT-2YR', totalCost: toUnits('19.99'), quantity: 1 },
            { productId: '788032119674292922', totalCost: toUnits('149.99'), quantity: 1 },
          ],
          subscriptionId: null,
          recurring: false,
        },
        buyer: {
          ip: '203.0.113.7',
          userAgent:
            'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
        },
      },
    });
  });

  test('refunds/create refunds the sum of its successful refund transactions', () => {
    const payload = parseJsonKeepingIds(fixtureText('shopify/refunds-create.json'));
    assert.deepEqual(shopifyEvent({ topic: 'refunds/create', webhookId: WEBHOOK_ID, payload }), {
      eventType: 'refunds/create',
      eventId: WEBHOOK_ID,
      orderId: '820982911946154508',
      dedupeKey: 'refunds/create:890088186047892319',
      intent: {
        kind: 'refund',
        type: 'refund',
        orderIds: ['820982911946154508'],
        amount: { kind: 'exact', units: toUnits('85') },
        currency: null,
      },
    });
  });

  test('a refund without money (restock only) and other topics are ignored', () => {
    const payload = parseJsonKeepingIds(
      fixtureText('shopify/refunds-create.json').replace(/"status": "success"/g, '"status": "failure"'),
    );
    assert.equal(shopifyEvent({ topic: 'refunds/create', webhookId: WEBHOOK_ID, payload }).intent.kind, 'ignore');
    const other = shopifyEvent({ topic: 'products/update', webhookId: WEBHOOK_ID, payload: { id: 1 } });
    assert.equal(other.intent.kind, 'ignore');
    assert.equal(other.dedupeKey, `webhook:${WEBHOOK_ID}`);
  });

  test('an order without an id names the field', () => {
    assert.equal(
      fieldOf(() => shopifyEvent({ topic: 'orders/paid', webhookId: WEBHOOK_ID, payload: { total_price: '1' } })),
      'id',
    );
  });
});

describe('WooCommerce webhooks', () => {
  const order = () => fixture('woocommerce/order.json');
  const event = (status: string, topic = 'order.updated') =>
    wooCommerceEvent({ topic, deliveryId: 'd41d8cd98f00b204e9800998ecf8427e', payload: { ...order(), status } });

  test('a processing or completed order is a sale', () => {
    for (const status of ['processing', 'completed']) {
      const e = wooCommerceEvent({ topic: 'order.created', deliveryId: 'abc', payload: { ...order(), status } });
      assert.equal(e.dedupeKey, `order:727:${status}`);
      assert.deepEqual(e.intent, {
        kind: 'sale',
        sale: {
          orderId: '727',
          totalCost: toUnits('27.20'),
          currency: 'USD',
          customerId: '12',
          visitorId: VID,
          coupon: 'spring',
          items: [
            { productId: '93', totalCost: toUnits('4'), quantity: 2 },
            { productId: '22', totalCost: toUnits('12'), quantity: 1 },
          ],
          subscriptionId: null,
          recurring: false,
        },
        buyer: {
          ip: '198.51.100.23',
          userAgent:
            'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
        },
      });
    }
  });

  test('refunded is a full refund, cancelled declines the commissions, other statuses are ignored', () => {
    assert.deepEqual(event('refunded').intent, {
      kind: 'refund',
      type: 'refund',
      orderIds: ['727'],
      amount: { kind: 'all' },
      currency: 'USD',
    });
    const cancelled = event('cancelled').intent;
    assert.equal(cancelled.kind, 'decline');
    assert.deepEqual(cancelled.kind === 'decline' && cancelled.orderIds, ['727']);
    for (const status of ['pending', 'on-hold', 'failed']) assert.equal(event(status).intent.kind, 'ignore', status);
    assert.equal(event('processing', 'product.updated').intent.kind, 'ignore');
  });

  test('a guest order has no customer id', () => {
    const e = wooCommerceEvent({ topic: 'order.created', deliveryId: 'abc', payload: { ...order(), customer_id: 0 } });
    assert.equal(e.intent.kind === 'sale' && e.intent.sale.customerId, null);
  });

  test('an order with a bad total names the field', () => {
    assert.equal(
      fieldOf(() =>
        wooCommerceEvent({ topic: 'order.created', deliveryId: 'abc', payload: { ...order(), total: 'lots' } }),
      ),
      'total',
    );
  });
});
