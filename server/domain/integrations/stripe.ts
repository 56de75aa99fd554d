import { z } from 'zod';
import { parse } from '../../validation.js';
import { fromMinorUnits, stripeMinorDigits } from '../minor-units.js';
import { currencyCode, ignore, isVisitorId, type Intent, type PlatformEvent } from './types.js';

/*
 * Stripe events (SPEC §14), as delivered to a webhook endpoint: amounts in the currency's minor
 * unit, ids as strings, related objects as ids (or expanded objects). Every event is keyed by
 * its id: Stripe retries an event with the same id.
 */

const minor = z.number().int('must be a whole amount in minor units').nonnegative('must not be negative');
/** An id, or an expanded object carrying it. */
const ref = z
  .union([z.string().min(1).max(191), z.object({ id: z.string().min(1).max(191) })])
  .transform((v) => (typeof v === 'string' ? v : v.id));
const maybeRef = ref.nullish().transform((v) => v ?? null);
/** A promotion code: its id (promo_…), or its code when the object was expanded. */
const promotionCode = z
  .union([z.string().max(64), z.object({ code: z.string().max(64) })])
  .nullish()
  .transform((v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : v.code));
const metadata = z
  .record(z.string(), z.unknown())
  .nullish()
  .transform((m) => m ?? {});

const eventSchema = z.object({
  id: z.string().min(1).max(191),
  type: z.string().min(1).max(100),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

const checkoutSession = z.object({
  id: z.string().min(1).max(191),
  mode: z.string(),
  payment_status: z.string(),
  amount_total: minor,
  currency: currencyCode,
  payment_intent: maybeRef,
  invoice: maybeRef,
  subscription: maybeRef,
  customer: maybeRef,
  client_reference_id: z.string().nullish(),
  metadata,
  discounts: z
    .array(z.object({ promotion_code: promotionCode }))
    .nullish()
    .transform((d) => d ?? []),
  total_details: z
    .object({
      breakdown: z
        .object({ discounts: z.array(z.object({ discount: z.object({ promotion_code: promotionCode }) })) })
        .nullish(),
    })
    .nullish(),
});

const invoice = z.object({
  id: z.string().min(1).max(191),
  billing_reason: z.string().nullish(),
  amount_paid: minor,
  currency: currencyCode,
  customer: maybeRef,
  subscription: maybeRef.optional(),
  // API versions from 2025-03-31 name the subscription here instead.
  parent: z.object({ subscription_details: z.object({ subscription: maybeRef }).nullish() }).nullish(),
});

const charge = z.object({
  id: z.string().min(1).max(191),
  amount_refunded: minor,
  currency: currencyCode,
  payment_intent: maybeRef,
  invoice: maybeRef.optional(),
});

const dispute = z.object({
  id: z.string().min(1).max(191),
  amount: minor,
  currency: currencyCode,
  charge: ref,
  payment_intent: maybeRef,
});

/** Parses the event's object, naming fields from the event's top (`data.object.amount_total`). */
function objectOf<S extends z.ZodType>(schema: S, event: unknown): z.output<S> {
  const parsed = parse(z.object({ data: z.object({ object: schema }) }), event) as { data: { object: z.output<S> } };
  return parsed.data.object;
}

const units = (amount: number, currency: string) => fromMinorUnits(amount, stripeMinorDigits(currency));

export function stripeEvent(raw: unknown): PlatformEvent {
  const event = parse(eventSchema, raw);
  const base = { eventType: event.type, eventId: event.id, dedupeKey: event.id };
  const { orderId, intent } = intentOf(event.type, raw);
  return { ...base, orderId, intent };
}

function intentOf(type: string, raw: unknown): { orderId: string | null; intent: Intent } {
  switch (type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return checkoutSale(type, objectOf(checkoutSession, raw));
    case 'invoice.paid':
      return renewal(objectOf(invoice, raw));
    case 'charge.refunded': {
      const c = objectOf(charge, raw);
      const orderIds = candidates(c.payment_intent, c.invoice ?? null, c.id);
      return {
        orderId: orderIds[0] ?? null,
        intent: {
          kind: 'refund',
          type: 'refund',
          orderIds,
          amount: { kind: 'upTo', units: units(c.amount_refunded, c.currency) },
          currency: c.currency,
        },
      };
    }
    case 'charge.dispute.created': {
      const d = objectOf(dispute, raw);
      const orderIds = candidates(d.payment_intent, d.charge);
      return {
        orderId: orderIds[0] ?? null,
        intent: {
          kind: 'refund',
          type: 'chargeback',
          orderIds,
          amount: { kind: 'exact', units: units(d.amount, d.currency) },
          currency: d.currency,
        },
      };
    }
    default:
      return { orderId: null, intent: ignore(`Affix does not act on ${type} events`) };
  }
}

/**
 * A completed Checkout Session. Its order is the payment intent, or for a subscription the
 * first invoice. A delayed payment method completes the session unpaid: the sale comes with
 * `checkout.session.async_payment_succeeded`.
 */
function checkoutSale(type: string, s: z.output<typeof checkoutSession>): { orderId: string | null; intent: Intent } {
  if (s.mode === 'setup') return { orderId: null, intent: ignore('a setup session takes no payment') };
  if (s.payment_status === 'unpaid')
    return {
      orderId: null,
      intent: ignore(`${type} is not paid yet: the sale comes with checkout.session.async_payment_succeeded`),
    };
  const orderId = (s.mode === 'subscription' ? s.invoice : s.payment_intent) ?? s.id;
  const fromReference = isVisitorId(s.client_reference_id) ? s.client_reference_id : null;
  const fromMetadata = isVisitorId(s.metadata.affix_vid) ? s.metadata.affix_vid : null;
  const coupon =
    s.discounts.find((d) => d.promotion_code)?.promotion_code ??
    s.total_details?.breakdown?.discounts.find((d) => d.discount.promotion_code)?.discount.promotion_code ??
    null;
  return {
    orderId,
    intent: {
      kind: 'sale',
      sale: {
        orderId,
        totalCost: units(s.amount_total, s.currency),
        currency: s.currency,
        customerId: s.customer,
        // A client_reference_id that is not a visitor id is the merchant's own: say so through the sale's warning.
        visitorId: fromReference ?? fromMetadata ?? s.client_reference_id ?? null,
        coupon,
        items: [],
        subscriptionId: s.subscription,
        recurring: false,
      },
      buyer: { ip: '', userAgent: '' },
    },
  };
}

/** A paid invoice of a subscription after its first one: a recurring sale (SPEC §14). */
function renewal(i: z.output<typeof invoice>): { orderId: string | null; intent: Intent } {
  const subscriptionId = i.subscription ?? i.parent?.subscription_details?.subscription ?? null;
  if (!subscriptionId) return { orderId: i.id, intent: ignore('the invoice is not for a subscription') };
  if (i.billing_reason === 'subscription_create')
    return {
      orderId: i.id,
      intent: ignore("the subscription's first invoice is recorded from checkout.session.completed"),
    };
  return {
    orderId: i.id,
    intent: {
      kind: 'sale',
      sale: {
        orderId: i.id,
        totalCost: units(i.amount_paid, i.currency),
        currency: i.currency,
        customerId: i.customer,
        visitorId: null,
        coupon: null,
        items: [],
        subscriptionId,
        recurring: true,
      },
      buyer: { ip: '', userAgent: '' },
    },
  };
}

const candidates = (...ids: Array<string | null>): string[] => [
  ...new Set(ids.filter((id): id is string => id !== null)),
];
