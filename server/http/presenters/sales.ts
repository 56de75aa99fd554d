import { fromUnits } from '../../domain/money.js';
import type { Page } from '../../store/rows.js';
import type { Sale } from '../../store/sales.js';

/** A sale or action as JSON: amounts and the exchange rate as decimal numbers (SPEC §1). */
export const saleJson = (s: Sale) => ({
  ...s,
  totalCost: s.totalCost === null ? null : fromUnits(s.totalCost),
  totalCostBase: s.totalCostBase === null ? null : fromUnits(s.totalCostBase),
  exchangeRate: fromUnits(s.exchangeRate),
  items: s.items.map((i) => ({ ...i, totalCost: fromUnits(i.totalCost) })),
});

export const salePageJson = (page: Page<Sale>) => ({ ...page, data: page.data.map(saleJson) });
