import { z } from 'zod';
import type { Units } from '../money.js';
import { amount } from '../../validation.js';
import { optionalSaleFields } from '../../schemas/tracking.js';
import { MAX_QUANTITY } from '../limits.js';

/*
 * What a store platform's webhook stands for (SPEC §14), decided by pure functions per platform:
 * a sale, a refund or chargeback, declined commissions, or nothing. Amounts are units.
 */

export const PLATFORMS = ['stripe', 'shopify', 'woocommerce'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** A sale as the platform reported it, in the terms of POST /api/v1/sales. */
export interface PlatformSale {
  orderId: string;
  /** What the customer paid, in the order's currency. */
  totalCost: Units;
  currency: string;
  customerId: string | null;
  visitorId: string | null;
  coupon: string | null;
  /** The order's lines (empty: the whole order is one line). */
  items: Array<{ productId: string; totalCost: Units; quantity: number }>;
  /** Stripe's subscription, for recurring commissions (SPEC §14). */
  subscriptionId: string | null;
  /** A renewal of a subscription (Stripe `invoice.paid`), not its first sale. */
  recurring: boolean;
}

/**
 * How much to refund: `exact` an amount; `upTo` what brings the sale's refunded total to this
 * (Stripe reports the cumulative amount refunded); `all` everything left.
 */
export type RefundAmount = { kind: 'exact'; units: Units } | { kind: 'upTo'; units: Units } | { kind: 'all' };

export type Intent =
  | { kind: 'sale'; sale: PlatformSale; buyer: { ip: string; userAgent: string } }
  | {
      kind: 'refund';
      type: 'refund' | 'chargeback';
      /** The order ids the sale may have been recorded under, tried in order. */
      orderIds: string[];
      amount: RefundAmount;
      /** The refund's currency when the platform states it. */
      currency: string | null;
    }
  | { kind: 'decline'; orderIds: string[]; reason: string }
  | { kind: 'ignore'; reason: string };

export interface PlatformEvent {
  /** The event type or topic, as the platform names it (delivery log). */
  eventType: string | null;
  /** The platform's id of the event or delivery (delivery log). */
  eventId: string | null;
  /** The order the event is about (delivery log). */
  orderId: string | null;
  /**
   * What makes a delivery the same event: a second delivery with this key is a replay and gets
   * the first answer. Null: every delivery is handled (events that change nothing).
   */
  dedupeKey: string | null;
  intent: Intent;
}

export const ignore = (reason: string): Intent => ({ kind: 'ignore', reason });

// ---- Field schemas shared by the platforms -----------------------------------------------

/** An id as text; numbers (WooCommerce, Shopify within 2^53) become their digits. */
export const idText = z.union([z.string().trim().min(1).max(191), z.number().int().nonnegative()]).transform(String);

/** A decimal amount as text or a number ("89.99"), in units. */
export const decimalAmount = amount;

/** A line's quantity: 0 (a removed line, skipped) up to a sale item's limit. */
export const lineQuantity = z.number().int('must be a whole number').nonnegative().max(MAX_QUANTITY);

export const currencyCode = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be a 3-letter ISO 4217 currency code')
  .transform((c) => c.toUpperCase());

/** Optional text: empty becomes null. */
export const maybeText = (max = 191) =>
  z
    .union([z.string(), z.number()])
    .nullish()
    .transform((v) =>
      v === null || v === undefined || String(v).trim() === '' ? null : String(v).trim().slice(0, max),
    );

/** Whether a value is a visitor id as Affix issues them. */
export const isVisitorId = (v: unknown): v is string => optionalSaleFields.visitorId.safeParse(v).success;
