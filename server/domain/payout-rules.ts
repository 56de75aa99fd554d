import type { FieldError } from '../errors.js';

/** The consistency rules of SPEC §6.1 over a whole payout (after a PATCH is merged). */
export interface PayoutShape {
  kind: 'general' | 'personal';
  type: 'CPS' | 'CPA' | 'PPC' | 'CPM' | 'LIFETIME' | 'RECURRING';
  actionCode: string | null;
  rawClicks: boolean;
  affiliateCommission: { unit: 'fixed' | 'percent' };
  merchantCommission: { unit: 'fixed' | 'percent' };
  couponCode: string | null;
  tiers: Array<{ unit: 'fixed' | 'percent' }>;
  affiliateIds: number[];
  commissionGroupIds: number[];
  recurringMonths: number | null;
}

/** Percent rates need an amount to take a percentage of: sales, and actions that carry a value. */
export const PERCENT_TYPES: ReadonlySet<PayoutShape['type']> = new Set(['CPS', 'LIFETIME', 'RECURRING', 'CPA']);

export function payoutProblems(p: PayoutShape): FieldError[] {
  const problems: FieldError[] = [];
  const percentAllowed = PERCENT_TYPES.has(p.type);
  if (p.type === 'CPA' && !p.actionCode)
    problems.push({ field: 'actionCode', message: 'is required for a CPA payout' });
  if (p.type !== 'CPA' && p.actionCode) problems.push({ field: 'actionCode', message: 'applies only to CPA payouts' });
  if (p.rawClicks && p.type !== 'PPC') problems.push({ field: 'rawClicks', message: 'applies only to PPC payouts' });
  if (!percentAllowed) {
    if (p.affiliateCommission.unit === 'percent') {
      problems.push({
        field: 'affiliateCommission.unit',
        message: `a ${p.type} payout pays a fixed amount, not a percentage`,
      });
    }
    if (p.merchantCommission.unit === 'percent') {
      problems.push({
        field: 'merchantCommission.unit',
        message: `a ${p.type} payout pays a fixed amount, not a percentage`,
      });
    }
    p.tiers.forEach((t, i) => {
      if (t.unit === 'percent')
        problems.push({
          field: `tiers.${i}.unit`,
          message: `a ${p.type} payout pays a fixed amount, not a percentage`,
        });
    });
  }
  if (p.kind === 'personal' && p.affiliateIds.length === 0 && p.commissionGroupIds.length === 0) {
    problems.push({
      field: 'affiliateIds',
      message: 'a personal payout names at least one affiliate or commission group (commissionGroupIds)',
    });
  }
  if (p.kind === 'general' && p.affiliateIds.length > 0) {
    problems.push({
      field: 'affiliateIds',
      message: 'a general payout applies to every affiliate; use kind "personal" to name affiliates',
    });
  }
  if (p.kind === 'general' && p.commissionGroupIds.length > 0) {
    problems.push({
      field: 'commissionGroupIds',
      message: 'a general payout applies to every affiliate; use kind "personal" to name commission groups',
    });
  }
  if (p.recurringMonths !== null && p.type !== 'RECURRING')
    problems.push({ field: 'recurringMonths', message: 'applies only to RECURRING payouts' });
  if (p.couponCode && p.commissionGroupIds.length > 0)
    problems.push({
      field: 'couponCode',
      message: 'belongs only to a personal payout naming one affiliate and no commission group',
    });
  if (p.couponCode && (p.kind !== 'personal' || p.affiliateIds.length !== 1)) {
    problems.push({ field: 'couponCode', message: 'belongs only to a personal payout naming exactly one affiliate' });
  }
  return problems;
}
