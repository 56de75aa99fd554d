/**
 * Traffic costs (SPEC §7.4, the Keitaro cost models). Amounts are base-currency units.
 * CPC: the value per click; CPUC: per campaign-unique click; CPM: value / 1000 per click;
 * CPA, CPS and REVSHARE cost nothing at the click and are assigned at conversion.
 * Traffic loss raises the cost of what arrived: cost / (1 − loss / 100).
 */
import { percentOf, scale, SCALE, ZERO, type Units } from './money.js';

export type CostModel = 'CPC' | 'CPUC' | 'CPM' | 'CPA' | 'CPS' | 'REVSHARE';

/** cost / (1 − loss%), with `lossPercent` in units (12.5% = 125000); a loss of 100% or more is ignored. */
export function withTrafficLoss(cost: Units, lossPercent: Units): Units {
  if (lossPercent <= 0 || lossPercent >= 100 * SCALE) return cost;
  return scale(cost, 100 * SCALE, 100 * SCALE - lossPercent);
}

export interface ClickCostInput {
  model: CostModel;
  /** The campaign's `costValue` (base-currency units; a percentage in units for REVSHARE). */
  value: Units;
  /** Campaign `costAuto`: false takes the cost from the click's `cost` parameter instead. */
  auto: boolean;
  /** The `cost` URL parameter already converted to base units, when costAuto is off. */
  paramCost: Units | null;
  uniqueInCampaign: boolean;
  trafficLoss: Units;
}

export function clickCost(c: ClickCostInput): Units {
  let cost: Units;
  if (!c.auto) cost = c.paramCost ?? ZERO;
  else if (c.model === 'CPC') cost = c.value;
  else if (c.model === 'CPUC') cost = c.uniqueInCampaign ? c.value : ZERO;
  else if (c.model === 'CPM') cost = scale(c.value, 1, 1000);
  else cost = ZERO;
  return withTrafficLoss(cost, c.trafficLoss);
}

/** Cost assigned when a conversion arrives (CPA any conversion, CPS only a sale, REVSHARE % of revenue). */
export function conversionCost(
  model: CostModel,
  value: Units,
  status: string,
  revenue: Units,
  trafficLoss: Units,
): Units {
  let cost = ZERO;
  if (model === 'CPA') cost = value;
  else if (model === 'CPS') cost = status === 'sale' ? value : ZERO;
  else if (model === 'REVSHARE') cost = percentOf(revenue, value);
  return withTrafficLoss(cost, trafficLoss);
}
