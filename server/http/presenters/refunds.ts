import { formatMoney, fromUnits } from '../../domain/money.js';
import { commissionJson } from './commissions.js';
import type { RefundResult } from '../../services/refunds.js';
import type { Refund } from '../../store/refunds.js';

/** A refund as JSON: amounts as decimal numbers (SPEC §1). */
export const refundJson = (r: Refund) => ({ ...r, amount: fromUnits(r.amount), amountBase: fromUnits(r.amountBase) });

/** A refund on the sale page: its JSON fields and the amount as text in the sale's currency. */
export const refundView = (r: Refund, currency: string) => ({
  ...refundJson(r),
  amountText: formatMoney(r.amount, currency),
});

/** What a refund did, as JSON: the commissions it changed or created with decimal amounts. */
export const refundResultJson = (r: RefundResult) => ({ ...r, commissions: r.commissions.map(commissionJson) });
