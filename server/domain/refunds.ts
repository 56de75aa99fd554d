/**
 * What a refund takes back from one commission (SPEC §6.4): the refunded share of the order
 * (refund / order total), rounded half-up, or, when the refund completes the order's refund,
 * exactly what is left of the commission after its earlier reversals, so rounding never
 * leaves a cent behind.
 */
import { add, scale, type Units } from './money.js';

/** A commission's amounts (units): what the affiliate earns and what the merchant is charged. */
export interface CommissionAmounts {
  amount: Units;
  merchantAmount: Units;
}

/** An earlier refund or chargeback reversal of the commission (negative amounts). */
export interface ReversalAmounts extends CommissionAmounts {
  status: string;
}

export interface RefundShare {
  /** This refund, in the sale's currency. */
  amount: Units;
  /** The order's total in the sale's currency; null for a sale recorded without an amount. */
  orderTotal: Units | null;
  /** The refund completes the order's refund. */
  full: boolean;
}

/** The positive amounts to take back; a declined or reversed reversal no longer counts. */
export function refundTake(
  commission: CommissionAmounts,
  reversals: readonly ReversalAmounts[],
  refund: RefundShare,
): CommissionAmounts {
  if (refund.full) {
    const live = reversals.filter((c) => c.status !== 'declined' && c.status !== 'reversed');
    return {
      amount: add(commission.amount, ...live.map((c) => c.amount)),
      merchantAmount: add(commission.merchantAmount, ...live.map((c) => c.merchantAmount)),
    };
  }
  const total = refund.orderTotal ?? refund.amount;
  return {
    amount: scale(commission.amount, refund.amount, total),
    merchantAmount: scale(commission.merchantAmount, refund.amount, total),
  };
}
