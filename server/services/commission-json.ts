import { fromUnits } from '../domain/money.js';
import type { Commission } from '../store/commissions.js';

/*
 * The JSON shape of a commission, shared by the API (through server/http/presenters/commissions.ts)
 * and the plugin hooks that carry commissions (`commission.statusChanged`, `sale.refunded`), so
 * a plugin sees exactly what an integrator sees.
 */

/** A commission as JSON: amount, merchant's cut, basis and rate value as decimal numbers (SPEC §1). */
export const commissionJson = (c: Commission) => ({
  ...c,
  amount: fromUnits(c.amount),
  merchantAmount: fromUnits(c.merchantAmount),
  basis: c.basis === null ? null : fromUnits(c.basis),
  rate: c.rate === null ? null : { value: fromUnits(c.rate.value), unit: c.rate.unit },
});

export type CommissionJson = ReturnType<typeof commissionJson>;
