import { z } from 'zod';
import { parse } from '../../validation.js';
import { currencyCode, decimalAmount, idText, ignore, lineQuantity, maybeText, type PlatformEvent } from './types.js';

/*
 * WooCommerce webhooks (SPEC §14): the REST API's order on `order.created` / `order.updated`.
 * WooCommerce sends the order again on every save, with a new delivery id each time, so a
 * delivery is keyed by the order and its status: the same status again is a replay.
 */

const SALE_STATUSES = new Set(['processing', 'completed']);

const order = z.object({
  id: idText,
  status: z.string().min(1).max(32),
  currency: currencyCode,
  total: decimalAmount,
  customer_id: z.number().int().nonnegative().nullish(),
  customer_ip_address: maybeText(45),
  customer_user_agent: maybeText(512),
  meta_data: z
    .array(z.object({ key: z.string(), value: z.unknown() }))
    .nullish()
    .transform((d) => d ?? []),
  coupon_lines: z
    .array(z.object({ code: maybeText(64) }))
    .nullish()
    .transform((d) => d ?? []),
  line_items: z
    .array(
      z.object({
        id: idText,
        product_id: z.number().int().nonnegative().nullish(),
        sku: maybeText(191),
        quantity: lineQuantity,
        // The line after discounts, before tax.
        total: decimalAmount,
      }),
    )
    .nullish()
    .transform((d) => d ?? []),
});

export interface WooCommerceDelivery {
  /** X-WC-Webhook-Topic. */
  topic: string | undefined;
  /** X-WC-Webhook-Delivery-ID. */
  deliveryId: string | undefined;
  payload: unknown;
}

export function wooCommerceEvent({ topic, deliveryId, payload }: WooCommerceDelivery): PlatformEvent {
  const eventType = topic ?? null;
  const eventId = deliveryId ?? null;
  if (topic !== 'order.created' && topic !== 'order.updated') {
    return {
      eventType,
      eventId,
      orderId: null,
      dedupeKey: null,
      intent: ignore(topic ? `Affix does not act on ${topic} webhooks` : 'the delivery names no X-WC-Webhook-Topic'),
    };
  }
  const o = parse(order, payload);
  const base = { eventType, eventId, orderId: o.id };
  const keyed = { ...base, dedupeKey: `order:${o.id}:${o.status}` };
  if (SALE_STATUSES.has(o.status)) {
    const vid = o.meta_data.find((m) => m.key === 'affix_vid')?.value;
    return {
      ...keyed,
      intent: {
        kind: 'sale',
        sale: {
          orderId: o.id,
          totalCost: o.total,
          currency: o.currency,
          customerId: o.customer_id ? String(o.customer_id) : null,
          visitorId: typeof vid === 'string' && vid ? vid : null,
          coupon: o.coupon_lines[0]?.code ?? null,
          items: o.line_items
            .filter((l) => l.quantity > 0)
            .map((l) => ({
              productId: l.product_id ? String(l.product_id) : (l.sku ?? `line ${l.id}`),
              totalCost: l.total,
              quantity: l.quantity,
            })),
          subscriptionId: null,
          recurring: false,
        },
        buyer: { ip: o.customer_ip_address ?? '', userAgent: o.customer_user_agent ?? '' },
      },
    };
  }
  if (o.status === 'refunded')
    return {
      ...keyed,
      intent: { kind: 'refund', type: 'refund', orderIds: [o.id], amount: { kind: 'all' }, currency: o.currency },
    };
  if (o.status === 'cancelled')
    return { ...keyed, intent: { kind: 'decline', orderIds: [o.id], reason: 'WooCommerce order cancelled' } };
  return { ...base, dedupeKey: null, intent: ignore(`an order with status ${o.status} is not a sale yet`) };
}
