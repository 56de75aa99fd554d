/**
 * A sale's status from its commissions (README "Sale status"). The sale's own
 * commissions (one per tier) decide; refund and chargeback reversals count against the
 * commission they take from. A commission counts as reversed when it is reversed, or when its
 * reversals take back all of it (a paid commission clawed back by a full refund).
 *
 * - no commission: the status the sale was recorded with (`pending`, `approved`, `declined`);
 * - none left (all declined or reversed): `reversed` if any was reversed, else `declined`;
 * - any left pending: `pending` (the merchant has not finished reviewing it);
 * - all left paid: `paid`;
 * - otherwise (approved, or approved and paid): `approved`.
 */

export type RecordedSaleStatus = 'pending' | 'approved' | 'declined';
export type CurrentSaleStatus = 'pending' | 'approved' | 'paid' | 'declined' | 'reversed';
export const SALE_STATUSES = [
  'pending',
  'approved',
  'paid',
  'declined',
  'reversed',
] as const satisfies readonly CurrentSaleStatus[];

export interface SaleCommissionFacts {
  id: number;
  /** The commission a refund or chargeback reversal takes from; null for the sale's own. */
  parentId: number | null;
  status: 'pending' | 'approved' | 'declined' | 'paid' | 'reversed';
  /** Units; reversals are negative. */
  amount: number;
}

const gone = (status: SaleCommissionFacts['status']) => status === 'declined' || status === 'reversed';

export function saleStatusOf(
  recorded: RecordedSaleStatus,
  commissions: readonly SaleCommissionFacts[],
): CurrentSaleStatus {
  const own = commissions.filter((c) => c.parentId === null);
  if (!own.length) return recorded;
  const left: CurrentSaleStatus[] = [];
  let reversed = false;
  for (const c of own) {
    if (gone(c.status)) {
      reversed ||= c.status === 'reversed';
      continue;
    }
    const reversals = commissions.filter((r) => r.parentId === c.id && !gone(r.status));
    if (reversals.length && c.amount + reversals.reduce((sum, r) => sum + r.amount, 0) <= 0) {
      reversed = true;
      continue;
    }
    left.push(c.status);
  }
  if (!left.length) return reversed ? 'reversed' : 'declined';
  if (left.includes('pending')) return 'pending';
  if (left.every((s) => s === 'paid')) return 'paid';
  return 'approved';
}

export type Approval = 'auto' | 'manual';

/**
 * The status a new sale's commissions (and a paid click's) start with: the campaign's approval,
 * else the programme's `defaultApproval`; `auto` approves at once, `manual` leaves them pending
 * for the merchant to review.
 */
export function commissionStatusFor(
  campaignApproval: Approval | null | undefined,
  defaultApproval: Approval,
): 'approved' | 'pending' {
  return (campaignApproval ?? defaultApproval) === 'auto' ? 'approved' : 'pending';
}
