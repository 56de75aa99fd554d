import { fromUnits, type Units } from '../../domain/money.js';
import type { Commission } from '../../store/commissions.js';
import type { Page } from '../../store/rows.js';

export { commissionJson, type CommissionJson } from '../../services/commission-json.js';
import { commissionJson } from '../../services/commission-json.js';

/** Totals per status as JSON: each amount as a decimal number. */
export const commissionTotalsJson = <S extends string>(totals: Record<S, { count: number; amount: Units }>) =>
  Object.fromEntries(
    Object.entries<{ count: number; amount: Units }>(totals).map(([s, t]) => [
      s,
      { count: t.count, amount: fromUnits(t.amount) },
    ]),
  ) as Record<S, { count: number; amount: number }>;

/** A page of commissions with its totals per status, as JSON. */
export const commissionPageJson = <
  P extends Page<Commission> & { totals: Record<string, { count: number; amount: Units }> },
>(
  page: P,
) => ({ ...page, data: page.data.map(commissionJson), totals: commissionTotalsJson(page.totals) });
