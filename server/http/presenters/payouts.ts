import { fromUnits } from '../../domain/money.js';
import type { Rate } from '../../domain/payouts.js';
import type { PayoutRecord } from '../../store/payouts.js';

const rateJson = (r: Rate) => ({ value: fromUnits(r.value), unit: r.unit });

/** The JSON shape of a payout: rates as decimal numbers (SPEC §1). */
export function payoutJson<P extends PayoutRecord>(p: P) {
  return {
    ...p,
    affiliateCommission: rateJson(p.affiliateCommission),
    merchantCommission: rateJson(p.merchantCommission),
    tiers: p.tiers.map(rateJson),
  };
}
