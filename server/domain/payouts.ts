/**
 * Choosing the payout and computing commissions (SPEC §6.1, §6.2), as pure functions. Every
 * amount is in 1/10,000 units of the base currency; every choice is explained in words.
 */
import {
  add,
  atLeastZero,
  decimalText,
  formatMoney,
  fromUnits,
  percentOf,
  scale,
  subtract,
  ZERO,
  type Units,
} from './money.js';

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
  type: 'CPS' | 'CPA' | 'PPC' | 'CPM' | 'LIFETIME' | 'RECURRING';
  actionCode: string | null;
  rawClicks: boolean;
  affiliateCommission: Rate;
  merchantCommission: Rate;
  /** `countries`: ISO 3166-1 alpha-2 codes; empty = any country (SPEC §14). */
  goal: { productIds: string[]; categories: string[]; countries?: string[] } | null;
  couponCode: string | null;
  tiers: Rate[];
  /**
   * The affiliates a personal payout applies to. In the configuration cache this includes the
   * members of its commission groups; the stored record lists only the affiliates it names.
   */
  affiliateIds: number[];
  /** Commission groups whose members a personal payout applies to (SPEC §14). */
  commissionGroupIds: number[];
  /** RECURRING: renewals are paid for this many months after the subscription's first sale; null = while it lasts. */
  recurringMonths: number | null;
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
  /** The visitor's country for goals naming countries: the click's GeoIP country, else the sale's `country`. */
  country?: string | null;
  /** The sale's subscription: unset or null for a one-time sale (SPEC §14, recurring commissions). */
  subscription?: SubscriptionFacts | null;
}

/**
 * A sale's subscription. `firstSaleAt` is set when an earlier sale of the subscription was
 * attributed (this sale is a renewal); null when this is its first sale.
 */
export interface SubscriptionFacts {
  subscriptionId: string;
  firstSaleAt: number | null;
  /** When this sale happens (unix ms). */
  at: number;
}

const MONTH_DAY = (y: number, m: number) => new Date(Date.UTC(y, m + 1, 0)).getUTCDate();

/**
 * The end (exclusive, unix ms) of the recurring window: the end of the UTC day `months` calendar
 * months after the first sale's day (31 January + 1 month = 28/29 February). A renewal dated on
 * that day still pays, so `recurringMonths: 3` pays the first sale and three monthly renewals
 * even when the store bills a few hours after the anniversary.
 */
export function recurringWindowEnd(firstSaleAt: number, months: number): number {
  const d = new Date(firstSaleAt);
  const total = d.getUTCMonth() + months;
  const y = d.getUTCFullYear() + Math.floor(total / 12);
  const m = ((total % 12) + 12) % 12;
  const day = Math.min(d.getUTCDate(), MONTH_DAY(y, m));
  return Date.UTC(y, m, day + 1);
}

/** Does a renewal at `at` fall within `months` of the first sale (null months: always)? */
export const withinRecurringMonths = (firstSaleAt: number, months: number | null, at: number): boolean =>
  months === null || at < recurringWindowEnd(firstSaleAt, months);

const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const describe = (p: PayoutDef) => `payout ${p.id} "${p.title}"`;

/** A renewal of a subscription: an earlier sale of it was attributed. */
const renewalOf = (ctx: SelectionContext) =>
  ctx.subscription && ctx.subscription.firstSaleAt !== null
    ? (ctx.subscription as SubscriptionFacts & { firstSaleAt: number })
    : null;

/**
 * Payout types that pay this kind of event. A renewal is paid only by RECURRING payouts, within
 * their `recurringMonths`; a first or one-time sale by CPS, LIFETIME and RECURRING payouts.
 */
function paysFor(p: PayoutDef, ctx: SelectionContext): boolean {
  if (ctx.kind === 'sale') {
    const renewal = renewalOf(ctx);
    if (renewal)
      return p.type === 'RECURRING' && withinRecurringMonths(renewal.firstSaleAt, p.recurringMonths, renewal.at);
    return p.type === 'CPS' || p.type === 'LIFETIME' || p.type === 'RECURRING';
  }
  return (
    p.type === 'CPA' && p.actionCode !== null && p.actionCode.toLowerCase() === (ctx.actionCode ?? '').toLowerCase()
  );
}

type GoalBy = 'product' | 'category' | 'country';

/**
 * How a goal matches a line: by product (strongest), by category, or (a goal naming only
 * countries) by country; null when it does not. A goal naming countries applies only to visitors
 * from one of them, whatever else it names.
 */
function goalMatch(p: PayoutDef, line: SaleLine, country: string | null): GoalBy | null {
  if (!p.goal) return null;
  const countries = p.goal.countries ?? [];
  if (countries.length && (country === null || !countries.includes(country))) return null;
  if (line.productId !== null && p.goal.productIds.includes(line.productId)) return 'product';
  if (line.category !== null && p.goal.categories.includes(line.category)) return 'category';
  if (countries.length && !p.goal.productIds.length && !p.goal.categories.length) return 'country';
  return null;
}

/** The first payout by id among `candidates` whose goal matches the line, products before categories before countries. */
function bestGoal(
  candidates: PayoutDef[],
  line: SaleLine,
  country: string | null,
): { payout: PayoutDef; by: GoalBy } | null {
  for (const by of ['product', 'category', 'country'] as const) {
    const hit = candidates.filter((p) => goalMatch(p, line, country) === by).sort((a, b) => a.id - b.id)[0];
    if (hit) return { payout: hit, by };
  }
  return null;
}

/** Why a RECURRING payout pays what it does (or why a renewal is not paid). */
function recurringNote(p: PayoutDef, ctx: SelectionContext): string {
  if (p.type !== 'RECURRING') return '';
  const sub = ctx.subscription;
  if (!sub) return '; it is RECURRING, but the sale carries no subscriptionId: paid once, as a one-time commission';
  if (sub.firstSaleAt === null) return `; first sale of subscription ${sub.subscriptionId}`;
  return `; renewal of subscription ${sub.subscriptionId} (first sale ${dayText(sub.firstSaleAt)}${
    p.recurringMonths === null
      ? ', paid while the subscription lasts'
      : `, paid until ${dayText(recurringWindowEnd(sub.firstSaleAt, p.recurringMonths) - 1)}`
  })`;
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
        reason: `${describe(couponPayout)} of the coupon applies to ${what}${recurringNote(couponPayout, ctx)}`,
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
  const country = ctx.country ?? null;
  for (const [goalStep, plainStep, list, label] of steps) {
    const goal = bestGoal(list, line, country);
    if (goal) {
      return {
        line,
        payout: goal.payout,
        step: goalStep,
        reason: `${label} ${describe(goal.payout)}: its goal names the ${goal.by} of ${
          goal.by === 'country' ? `the visitor (${country})` : what
        }${recurringNote(goal.payout, ctx)}`,
      };
    }
    const plain = list.filter((p) => p.goal === null).sort((a, b) => a.id - b.id)[0];
    if (plain)
      return {
        line,
        payout: plain,
        step: plainStep,
        reason: `${label} ${describe(plain)} (no goal) applies to ${what}${recurringNote(plain, ctx)}`,
      };
  }
  const renewal = renewalOf(ctx);
  if (renewal) {
    const recurring = ctx.payouts.filter((p) => p.type === 'RECURRING');
    const expired = recurring.filter((p) => !paysFor(p, ctx));
    return {
      line,
      payout: null,
      step: null,
      reason: !recurring.length
        ? `renewal of subscription ${renewal.subscriptionId}: only a RECURRING payout pays renewals, and the campaign has none: no commission`
        : expired.length === recurring.length
          ? `renewal of subscription ${renewal.subscriptionId} on ${dayText(renewal.at)} is past the recurringMonths of ${expired
              .map(
                (p) =>
                  `${describe(p)} (${p.recurringMonths} months after the first sale on ${dayText(renewal.firstSaleAt)}, until ${dayText(recurringWindowEnd(renewal.firstSaleAt, p.recurringMonths ?? 0) - 1)})`,
              )
              .join(', ')}: renewals no longer pay`
          : `no RECURRING payout of this campaign applies to ${what} for this affiliate: no commission`,
    };
  }
  const kindText = ctx.kind === 'sale' ? 'CPS, LIFETIME or RECURRING' : `CPA "${ctx.actionCode ?? ''}"`;
  return {
    line,
    payout: null,
    step: null,
    reason: eligible.length
      ? `no ${kindText} payout of this campaign applies to ${what} for this affiliate (their goals name other products, categories or countries${country ? `; the visitor is from ${country}` : "; the visitor's country is unknown"})`
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
  return atLeastZero(subtract(line.totalCost, share));
}

/** A rate applied to a line: a fixed value per unit of quantity, or a percentage of the basis. */
export function applyRate(rate: Rate, basis: Units | null, quantity: number): Units {
  if (rate.unit === 'fixed') return scale(rate.value, quantity, 1);
  return basis === null ? ZERO : percentOf(basis, rate.value);
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

/** One line of a commission as its stored detail explains it (amounts as decimals). */
export const lineDetail = (l: LineCommission) => ({
  productId: l.productId,
  category: l.category,
  payoutId: l.payoutId,
  basis: l.basis === null ? null : fromUnits(l.basis),
  quantity: l.quantity,
  rate: { value: fromUnits(l.rate.value), unit: l.rate.unit },
  amount: fromUnits(l.amount),
});

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
        merchantAmount: tier === 1 ? applyRate(p.merchantCommission, basis, sel.line.quantity) : ZERO,
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
