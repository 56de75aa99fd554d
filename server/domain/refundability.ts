/*
 * Whether a sale can still be refunded, and how much of it (SPEC §6.4). Only sales are refunded
 * (actions are not), never a declined one, and never beyond what was recorded; a sale recorded
 * without an amount can be refunded once, in full. Amounts are units of the sale's currency.
 */

import { subtract, type Units } from './money.js';

/** What the refund rules read of a sale. */
export interface RefundFacts {
  kind: string;
  status: string;
  /** The recorded amount; null for a sale recorded without one. */
  totalCost: Units | null;
  /** What was refunded so far. */
  refunded: Units;
}

/** What is left to refund; null when the sale has no amount. */
export function refundRemaining(sale: RefundFacts): Units | null {
  return sale.totalCost === null ? null : subtract(sale.totalCost, sale.refunded);
}

/** Whether the sale page offers a refund, given how many refunds the sale already has. */
export function isRefundable(sale: RefundFacts | null, refundCount: number): boolean {
  if (sale?.kind !== 'sale' || sale.status === 'declined') return false;
  const left = refundRemaining(sale);
  return left === null ? refundCount === 0 : left > 0;
}

/**
 * Whether a refund of `amount` (null: everything left) is one the refund would accept, so it is
 * worth confirming first: a sale, not declined, with something left and no more than that asked.
 */
export function refundFits(sale: RefundFacts, amount: Units | null): boolean {
  if (sale.kind !== 'sale' || sale.status === 'declined') return false;
  const left = refundRemaining(sale);
  return left === null || (left > 0 && (amount ?? 0) <= left);
}
