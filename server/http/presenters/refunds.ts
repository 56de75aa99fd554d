import { formatMoney, fromUnits } from '../../domain/money.js';
import type { Refund } from '../../store/refunds.js';

/** A refund as JSON: amounts as decimal numbers (SPEC §1). */
export const refundJson = (r: Refund) => ({ ...r, amount: fromUnits(r.amount), amountBase: fromUnits(r.amountBase) });

/** A refund on the sale page: its JSON fields and the amount as text in the sale's currency. */
export const refundView = (r: Refund, currency: string) => ({
  ...refundJson(r),
  amountText: formatMoney(r.amount, currency),
});
