import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import type { Knex } from 'knex';
import type { api } from './http.js';
import { request, type JsonResponse } from './http.js';

/* Store platform webhooks as the platforms send them (SPEC §14), for the integration tests. */

type Api = ReturnType<typeof api>;

export const SECRETS = {
  stripe: 'whsec_test_5f0c8e1b9a7d4c3e2b1a0f9e8d7c6b5a',
  shopify: 'shpss_0123456789abcdef0123456789abcdef',
  woocommerce: 'wc-secret: t0p s3cret!',
};

/** Activates the `integrations` plugin with every platform switched on and its secret set. */
export async function enableIntegrations(owner: Api): Promise<void> {
  const res = await owner.patch('/plugins/integrations', {
    active: true,
    settings: {
      stripeEnabled: true,
      stripeSecret: SECRETS.stripe,
      shopifyEnabled: true,
      shopifySecret: SECRETS.shopify,
      woocommerceEnabled: true,
      woocommerceSecret: SECRETS.woocommerce,
    },
  });
  assert.equal(res.status, 200, res.text);
}

/** Stripe's own test signature (the official package), optionally dated `timestamp` (unix s). */
export const stripeSignature = (payload: string, secret = SECRETS.stripe, timestamp?: number) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });

/** Shopify's and WooCommerce's signature: base64 HMAC-SHA256 of the exact body. */
export const hmacBase64 = (payload: string, secret: string) =>
  createHmac('sha256', secret).update(payload, 'utf8').digest('base64');

export const postWebhook = (
  base: string,
  platform: 'stripe' | 'shopify' | 'woocommerce',
  payload: string,
  headers: Record<string, string>,
): Promise<JsonResponse> =>
  request(base, 'POST', `/integrations/${platform}/webhook`, {
    raw: payload,
    headers: { 'content-type': 'application/json', ...headers },
  });

export const sendStripe = (base: string, event: unknown, secret = SECRETS.stripe) => {
  const payload = typeof event === 'string' ? event : JSON.stringify(event, null, 2);
  return postWebhook(base, 'stripe', payload, { 'Stripe-Signature': stripeSignature(payload, secret) });
};

export const sendShopify = (base: string, topic: string, payload: string, webhookId: string) =>
  postWebhook(base, 'shopify', payload, {
    'X-Shopify-Topic': topic,
    'X-Shopify-Hmac-Sha256': hmacBase64(payload, SECRETS.shopify),
    'X-Shopify-Shop-Domain': 'affix-test.myshopify.com',
    'X-Shopify-API-Version': '2026-07',
    'X-Shopify-Webhook-Id': webhookId,
    'X-Shopify-Triggered-At': '2026-07-10T16:15:47.000000Z',
    'X-Shopify-Event-Id': `event-${webhookId}`,
  });

export const sendWooCommerce = (base: string, topic: string, order: unknown, deliveryId: string) => {
  const payload = typeof order === 'string' ? order : JSON.stringify(order);
  const [resource, event] = topic.split('.');
  return postWebhook(base, 'woocommerce', payload, {
    'User-Agent': 'WooCommerce/9.1.2 Hookshot (WordPress/6.6)',
    'X-WC-Webhook-Source': 'https://woo.example.com/',
    'X-WC-Webhook-Topic': topic,
    'X-WC-Webhook-Resource': resource ?? '',
    'X-WC-Webhook-Event': event ?? '',
    'X-WC-Webhook-Signature': hmacBase64(payload, SECRETS.woocommerce),
    'X-WC-Webhook-ID': '14',
    'X-WC-Webhook-Delivery-ID': deliveryId,
  });
};

export interface DeliveryRow {
  id: number;
  platform: string;
  event_type: string | null;
  event_id: string | null;
  order_id: string | null;
  outcome: string;
  status: number | null;
  sale_id: number | null;
  refund_id: number | null;
  message: string | null;
  duplicate_of: number | null;
}

/** The delivery log, newest last. */
export const deliveries = async (db: Knex, platform: string): Promise<DeliveryRow[]> =>
  ((await db('integration_deliveries').where({ platform }).orderBy('id')) as DeliveryRow[]).map((r) => ({
    ...r,
    id: Number(r.id),
    status: r.status === null ? null : Number(r.status),
    sale_id: r.sale_id === null ? null : Number(r.sale_id),
    refund_id: r.refund_id === null ? null : Number(r.refund_id),
    duplicate_of: r.duplicate_of === null ? null : Number(r.duplicate_of),
  }));

/** How many rows the tables the webhooks write to hold. */
export async function counts(db: Knex): Promise<{ sales: number; commissions: number; refunds: number }> {
  const n = async (table: string) => Number(((await db(table).count({ n: '*' }).first()) as { n: number }).n);
  return { sales: await n('sales'), commissions: await n('commissions'), refunds: await n('refunds') };
}
