/**
 * Choosing the payout and computing commissions (SPEC §6.1, §6.2), as pure functions. Every
 * amount is in 1/10,000 units of the base currency; every choice is explained in words.
 */
import { add, decimalText, formatMoney, percentOf, scale, subtract, type Units } from './money.js';

export type RateUnit = 'fixed' | 'percent';
export interface Rate {
  value: Units;
  unit: RateUnit;
}

/** A rate for people: "10%" or "5.00 USD". */
export function rateText(rate: Rate, currency: string): string {
  return rate.unit === 'percent' ? `${decimalText(rate.value)}%` : formatMoney(rate.value, currency);
}

export interface PayoutDef {
  id: number;
  campaignId: number;
  kind: 'general' | 'personal';
  title: string;
  type: 'CPS' | 'CPA' | 'PPC' | 'CPM' | 'LIFETIME';
  actionCode: string | null;
  rawClicks: boolean;
  affiliateCommission: Rate;
  merchantCommission: Rate;
  goal: { productIds: string[]; categories: string[] } | null;
  couponCode: string | null;
  tiers: Rate[];
  affiliateIds: number[];
}

/** One line of an order (an item, or the whole order when no items are sent). */
export interface SaleLine {
  productId: string | null;
  category: string | null;
  /** In base-currency units; null when the store sent no amount. */
  totalCost: Units | null;
  quantity: number;
}

export type SelectionStep = 'coupon' | 'personal_goal' | 'personal' | 'general_goal' | 'general';

export interface LineSelection {
  line: SaleLine;
  payout: PayoutDef | null;
  step: SelectionStep | null;
  reason: string;
}

export interface SelectionContext {
  kind: 'sale' | 'action';
  actionCode: string | null;
  affiliateId: number;
  /** The payout of the coupon that matched the sale, if it names one (step 1). */
  couponPayoutId: number | null;
  payouts: PayoutDef[];
}

const describe = (p: PayoutDef) => `payout ${p.id} "${p.title}"`;

/** Payout types that pay this kind of event. */
function paysFor(p: PayoutDef, ctx: SelectionContext): boolean {
  if (ctx.kind === 'sale') return p.type === 'CPS' || p.type === 'LIFETIME';
  return (
    p.type === 'CPA' && p.actionCode !== null && p.actionCode.toLowerCase() === (ctx.actionCode ?? '').toLowerCase()
  );
}

/** How a goal matches a line: by product (stronger) or by category; null when it does not. */
function goalMatch(p: PayoutDef, line: SaleLine): 'product' | 'category' | null {
  if (!p.goal) return null;
  if (line.productId !== null && p.goal.productIds.includes(line.productId)) return 'product';
  if (line.category !== null && p.goal.categories.includes(line.category)) return 'category';
  return null;
}

/** The first payout by id among `candidates` whose goal matches the line, products before categories. */
function bestGoal(candidates: PayoutDef[], line: SaleLine): { payout: PayoutDef; by: 'product' | 'category' } | null {
  for (const by of ['product', 'category'] as const) {
    const hit = candidates.filter((p) => goalMatch(p, line) === by).sort((a, b) => a.id - b.id)[0];
    if (hit) return { payout: hit, by };
  }
  return null;
}

/** SPEC §6.2: coupon payout → personal with goal → personal → general with goal → general. */
export function selectPayout(line: SaleLine, ctx: SelectionContext): LineSelection {
  const eligible = ctx.payouts.filter((p) => paysFor(p, ctx));
  const what = line.productId ? `product ${line.productId}${line.category ? ` (${line.category})` : ''}` : 'the order';
  if (ctx.couponPayoutId !== null) {
    const couponPayout = ctx.payouts.find((p) => p.id === ctx.couponPayoutId);
    // A personal coupon payout pays only the affiliate it names: the sale's affiliate may come from
    // a higher-ranked source (a lifetime binding) than the coupon that decided the campaign.
    const forAffiliate =
      couponPayout && (couponPayout.kind === 'general' || couponPayout.affiliateIds.includes(ctx.affiliateId));
    if (couponPayout && forAffiliate && paysFor(couponPayout, ctx)) {
      return {
        line,
        payout: couponPayout,
        step: 'coupon',
        reason: `${describe(couponPayout)} of the coupon applies to ${what}`,
      };
    }
  }
  // A payout with a coupon code applies only to sales matched by that coupon.
  const usable = eligible.filter((p) => p.couponCode === null);
  const personal = usable.filter((p) => p.kind === 'personal' && p.affiliateIds.includes(ctx.affiliateId));
  const general = usable.filter((p) => p.kind === 'general');
  const steps: Array<[SelectionStep, SelectionStep, PayoutDef[], string]> = [
    ['personal_goal', 'personal', personal, 'personal'],
    ['general_goal', 'general', general, 'general'],
  ];
  for (const [goalStep, plainStep, list, label] of steps) {
    const goal = bestGoal(list, line);
    if (goal) {
      return {
        line,
        payout: goal.payout,
        step: goalStep,
        reason: `${label} ${describe(goal.payout)}: its goal names the ${goal.by} of ${what}`,
      };
    }
    const plain = list.filter((p) => p.goal === null).sort((a, b) => a.id - b.id)[0];
    if (plain)
      return {
        line,
        payout: plain,
        step: plainStep,
        reason: `${label} ${describe(plain)} (no goal) applies to ${what}`,
      };
  }
  const kindText = ctx.kind === 'sale' ? 'CPS or LIFETIME' : `CPA "${ctx.actionCode ?? ''}"`;
  return {
    line,
    payout: null,
    step: null,
    reason: eligible.length
      ? `no ${kindText} payout of this campaign applies to ${what} for this affiliate (their goals name other products or categories)`
      : `the campaign has no ${kindText} payout: no commission`,
  };
}

export type FixedCost = { kind: 'amount' | 'percent'; units: Units } | null;

/** The line's amount after its share of the fixed cost (SPEC §4.2: subtracted before percentages). */
export function lineBasis(line: SaleLine, orderTotal: Units | null, fixedCost: FixedCost): Units | null {
  if (line.totalCost === null) return null;
  if (!fixedCost) return line.totalCost;
  const share =
    fixedCost.kind === 'percent'
      ? percentOf(line.totalCost, fixedCost.units)
      : orderTotal && orderTotal > 0
        ? scale(fixedCost.units, line.totalCost, orderTotal)
        : fixedCost.units;
  return Math.max(0, subtract(line.totalCost, share));
}

/** A rate applied to a line: a fixed value per unit of quantity, or a percentage of the basis. */
export function applyRate(rate: Rate, basis: Units | null, quantity: number): Units {
  if (rate.unit === 'fixed') return scale(rate.value, quantity, 1);
  return basis === null ? 0 : percentOf(basis, rate.value);
}

export interface LineCommission {
  productId: string | null;
  category: string | null;
  payoutId: number;
  basis: Units | null;
  quantity: number;
  rate: Rate;
  amount: Units;
  merchantAmount: Units;
}

export interface TierCommission {
  tier: number;
  amount: Units;
  merchantAmount: Units;
  /** The payout when every line used the same one. */
  payoutId: number | null;
  lines: LineCommission[];
}

export interface CommissionPlan {
  selections: LineSelection[];
  tiers: TierCommission[];
  /** Payout types involved (LIFETIME binds the customer). */
  types: Set<PayoutDef['type']>;
  notes: string[];
}

/**
 * Commissions for one sale or action: per line, the selected payout's rate on the line's basis;
 * one commission per tier, the sum over lines (SPEC §6.2). Tier 1 is the affiliate; tiers 2…
 * come from each payout's `tiers` (paid to the parent chain by the multi-tier plugin).
 */
export function planCommissions(lines: SaleLine[], ctx: SelectionContext, fixedCost: FixedCost): CommissionPlan {
  const orderTotal = lines.every((l) => l.totalCost !== null) ? add(...lines.map((l) => l.totalCost as Units)) : null;
  const selections = lines.map((line) => selectPayout(line, ctx));
  const notes: string[] = [];
  const types = new Set<PayoutDef['type']>();
  const byTier = new Map<number, LineCommission[]>();
  for (const sel of selections) {
    const p = sel.payout;
    if (!p) continue;
    types.add(p.type);
    const basis = lineBasis(sel.line, orderTotal, fixedCost);
    if (basis === null && (p.affiliateCommission.unit === 'percent' || p.tiers.some((t) => t.unit === 'percent'))) {
      notes.push(`${describe(p)} pays a percentage but the store sent no totalCost: the percentage pays 0`);
    }
    const rates = [p.affiliateCommission, ...p.tiers];
    rates.forEach((rate, i) => {
      const tier = i + 1;
      const list = byTier.get(tier) ?? [];
      list.push({
        productId: sel.line.productId,
        category: sel.line.category,
        payoutId: p.id,
        basis,
        quantity: sel.line.quantity,
        rate,
        amount: applyRate(rate, basis, sel.line.quantity),
        merchantAmount: tier === 1 ? applyRate(p.merchantCommission, basis, sel.line.quantity) : 0,
      });
      byTier.set(tier, list);
    });
  }
  const tiers: TierCommission[] = [...byTier.entries()]
    .sort(([a], [b]) => a - b)
    .map(([tier, list]) => {
      const ids = new Set(list.map((l) => l.payoutId));
      return {
        tier,
        amount: add(...list.map((l) => l.amount)),
        merchantAmount: add(...list.map((l) => l.merchantAmount)),
        payoutId: ids.size === 1 ? (list[0]?.payoutId ?? null) : null,
        lines: list,
      };
    });
  return { selections, tiers, types, notes };
}

/** The payout that pays clicks (PPC) or impressions (CPM) for an affiliate: personal first, then general. */
export function selectTrafficPayout(type: 'PPC' | 'CPM', affiliateId: number, payouts: PayoutDef[]): PayoutDef | null {
  const list = payouts.filter((p) => p.type === type && p.couponCode === null).sort((a, b) => a.id - b.id);
  return (
    list.find((p) => p.kind === 'personal' && p.affiliateIds.includes(affiliateId)) ??
    list.find((p) => p.kind === 'general') ??
    null
  );
}

/** A CPM commission for `impressions`: the rate is per 1,000 impressions. */
export const cpmAmount = (rate: Units, impressions: number): Units => scale(rate, impressions, 1000);
