/**
 * What each stored event adds to the report figures (SPEC §9, §15), decided once for every
 * rollup and every grouping:
 * - a conversion is a sale or action recorded by the snippet or the API that is not declined,
 *   or a postback conversion that is not rejected (`lead`, `sale`, `rebill`);
 * - a conversion is one of the `sales` when it is a sale (kind `sale`, or status `sale` / `rebill`),
 *   else one of the `actions` (kind `action`, or status `lead`);
 * - revenue is the order total of those sales and actions (in the base currency) and the revenue
 *   of postback conversions in status `sale` or `rebill`;
 * - the sale or action recorded to pay the affiliate of a postback's click (SPEC §7.5) is how the
 *   affiliate is paid for that conversion, not another one: it adds its commissions, nothing else.
 */
import { asUnits, subtract, ZERO, type Units } from './money.js';

export interface Figures {
  conversions: number;
  sales: number;
  actions: number;
  revenue: Units;
}

export const NO_FIGURES: Figures = { conversions: 0, sales: 0, actions: 0, revenue: ZERO };

/**
 * A sale or action row: `source` is who recorded it (`postback` = the payment of a postback
 * conversion); `totalCostBase` is its stored `total_cost_base` column, an integer in units.
 */
export function saleFigures(sale: {
  kind: 'sale' | 'action';
  status: string;
  source: string;
  totalCostBase: number | null;
}): Figures {
  if (sale.source === 'postback' || sale.status === 'declined') return NO_FIGURES;
  return {
    conversions: 1,
    sales: sale.kind === 'sale' ? 1 : 0,
    actions: sale.kind === 'action' ? 1 : 0,
    revenue: sale.totalCostBase === null ? ZERO : asUnits(sale.totalCostBase),
  };
}

/** A postback conversion in `status` (null: not stored yet) with its revenue in the base currency. */
export function conversionFigures(status: string | null, revenueBase: Units): Figures {
  if (status === 'sale' || status === 'rebill') return { conversions: 1, sales: 1, actions: 0, revenue: revenueBase };
  if (status === 'lead') return { conversions: 1, sales: 0, actions: 1, revenue: ZERO };
  return NO_FIGURES;
}

/** after − before, for a conversion that changed status or revenue. */
export function figuresChange(before: Figures, after: Figures): Figures {
  return {
    conversions: after.conversions - before.conversions,
    sales: after.sales - before.sales,
    actions: after.actions - before.actions,
    revenue: subtract(after.revenue, before.revenue),
  };
}
