import { z } from 'zod';
import { parse } from '../../validation.js';
import { add, atLeastZero, scale, subtract, type Units } from '../money.js';
import { AMOUNT_LIMIT_MESSAGE, MAX_AMOUNT_UNITS, MAX_QUANTITY } from '../limits.js';
import { currencyCode, decimalAmount, idText, ignore, lineQuantity, maybeText, type PlatformEvent } from './types.js';

/*
 * Shopify webhooks (SPEC §14). Amounts are decimal strings in the shop's currency; ids are
 * numbers that may exceed 2^53, so the body must be read with parseJsonKeepingIds. A sale is
 * keyed by its order id and a refund by its refund id: one payment or refund acts once, however
 * many deliveries (or webhook subscriptions) bring it.
 */

const lineItem = z
  .object({
    id: idText,
    product_id: idText.nullish(),
    sku: maybeText(191),
    quantity: lineQuantity,
    price: decimalAmount,
    discount_allocations: z
      .array(z.object({ amount: decimalAmount }))
      .nullish()
      .transform((d) => d ?? []),
  })
  // The line's total is price × quantity: it must be an amount Affix can hold.
  .superRefine((l, ctx) => {
    // (It runs even when a field failed: only a valid price and quantity are multiplied.)
    const valid = Number.isSafeInteger(l.price) && Number.isSafeInteger(l.quantity) && l.quantity <= MAX_QUANTITY;
    if (valid && BigInt(l.price) * BigInt(l.quantity) > BigInt(MAX_AMOUNT_UNITS))
      ctx.addIssue({ code: 'custom', path: ['quantity'], message: `price × quantity ${AMOUNT_LIMIT_MESSAGE}` });
  });

const order = z.object({
  id: idText,
  total_price: decimalAmount,
  currency: currencyCode,
  customer: z.object({ id: idText }).nullish(),
  discount_codes: z
    .array(z.object({ code: maybeText(64) }))
    .nullish()
    .transform((d) => d ?? []),
  note_attributes: z
    .array(z.object({ name: z.string(), value: z.unknown() }))
    .nullish()
    .transform((d) => d ?? []),
  line_items: z
    .array(lineItem)
    .nullish()
    .transform((d) => d ?? []),
  browser_ip: maybeText(45),
  client_details: z.object({ user_agent: maybeText(512) }).nullish(),
});

const refund = z.object({
  id: idText,
  order_id: idText,
  transactions: z
    .array(z.object({ kind: z.string(), status: z.string().nullish(), amount: decimalAmount }))
    .nullish()
    .transform((d) => d ?? []),
});

export interface ShopifyDelivery {
  /** X-Shopify-Topic. */
  topic: string | undefined;
  /** X-Shopify-Webhook-Id. */
  webhookId: string | undefined;
  payload: unknown;
}

export function shopifyEvent({ topic, webhookId, payload }: ShopifyDelivery): PlatformEvent {
  const eventType = topic ?? null;
  const eventId = webhookId ?? null;
  if (topic === 'orders/paid') {
    const o = parse(order, payload);
    const vid = o.note_attributes.find((a) => a.name === 'affix_vid')?.value;
    return {
      eventType,
      eventId,
      orderId: o.id,
      dedupeKey: `orders/paid:${o.id}`,
      intent: {
        kind: 'sale',
        sale: {
          orderId: o.id,
          totalCost: o.total_price,
          currency: o.currency,
          customerId: o.customer?.id ?? null,
          visitorId: typeof vid === 'string' && vid ? vid : null,
          coupon: o.discount_codes[0]?.code ?? null,
          items: o.line_items.filter((l) => l.quantity > 0).map(itemOf),
          subscriptionId: null,
          recurring: false,
        },
        buyer: { ip: o.browser_ip ?? '', userAgent: o.client_details?.user_agent ?? '' },
      },
    };
  }
  if (topic === 'refunds/create') {
    const r = parse(refund, payload);
    const paid = r.transactions.filter((t) => t.kind === 'refund' && t.status === 'success');
    const units = add(...paid.map((t) => t.amount));
    const base = { eventType, eventId, orderId: r.order_id, dedupeKey: `refunds/create:${r.id}` };
    if (units <= 0)
      return { ...base, intent: ignore('the refund returned no money (no successful refund transaction)') };
    return {
      ...base,
      intent: {
        kind: 'refund',
        type: 'refund',
        orderIds: [r.order_id],
        amount: { kind: 'exact', units },
        currency: null,
      },
    };
  }
  return {
    eventType,
    eventId,
    orderId: null,
    dedupeKey: webhookId ? `webhook:${webhookId}` : null,
    intent: ignore(topic ? `Affix does not act on ${topic} webhooks` : 'the delivery names no X-Shopify-Topic'),
  };
}

/** A line: its product (else its SKU, else the line), price × quantity less its discounts. */
function itemOf(l: z.output<typeof lineItem>): { productId: string; totalCost: Units; quantity: number } {
  const gross = scale(l.price, l.quantity, 1);
  const net = subtract(gross, add(...l.discount_allocations.map((d) => d.amount)));
  return { productId: l.product_id ?? l.sku ?? `line ${l.id}`, totalCost: atLeastZero(net), quantity: l.quantity };
}
