import { rateText } from '../domain/payouts.js';
import type { Hooks } from '../plugins/hooks.js';
import type { ConfigSnapshot } from './config-cache.js';
import {
  lineDetail,
  planCommissions,
  type CommissionPlan,
  type FixedCost,
  type PayoutDef,
  type Rate,
  type SaleLine,
  type SubscriptionFacts,
  type TierCommission,
} from '../domain/payouts.js';
import { add, fromUnits, multiplyByRate, unitsToFixed, type Units } from '../domain/money.js';
import type { AffiliateFacts } from '../domain/matching.js';
import { isInvited } from '../domain/invitations.js';

/** A commission to write: tier 1 is the sale's affiliate; the multi-tier plugin adds the parents. */
export interface PlannedCommission {
  tier: number;
  affiliateId: number;
  amount: Units;
  merchantAmount: Units;
  payoutId: number | null;
  basis: Units | null;
  rate: Rate | null;
  /** Why and how: the payout chosen for each line, with the amounts. */
  detail: Record<string, unknown>;
}

/** What the `commission.tiers` filter receives to add tier 2, 3, … commissions. */
export interface TierContext {
  plan: CommissionPlan;
  affiliateId: number;
  campaignId: number;
  affiliate(id: number): (AffiliateFacts & { parentId: number | null }) | undefined;
}

export interface SaleForCommissions {
  kind: 'sale' | 'action';
  actionCode: string | null;
  campaignId: number;
  affiliateId: number | null;
  couponPayoutId: number | null;
  /** In the sale's currency (units); converted here with `exchangeRate` (units of base per unit). */
  totalCost: Units | null;
  exchangeRate: Units;
  productId: string | null;
  items: Array<{ productId: string; category?: string; totalCost: Units; quantity?: number }>;
  fixedCost: FixedCost;
  /** For payout goals naming countries (SPEC §14). */
  country?: string | null;
  /** The sale's subscription, for RECURRING payouts (SPEC §14). */
  subscription?: SubscriptionFacts | null;
}

export interface CommissionPlanResult {
  plan: CommissionPlan | null;
  commissions: PlannedCommission[];
  /** The payout choice in a merchant's words. */
  explanation: string[];
}

export interface CommissionSummary {
  id: number;
  affiliateId: number;
  tier: number;
  amount: number;
  currency: string;
  status: string;
}

/** Plans the commissions of sales and actions (SPEC §6.1–6.3); the writers in ingest/ store them. */
export class CommissionService {
  constructor(private readonly hooks: Hooks) {}

  /** Plans the commissions of a sale or action without writing anything (also used by the simulator). */
  async plan(snap: ConfigSnapshot, sale: SaleForCommissions): Promise<CommissionPlanResult> {
    const currency = snap.settings.baseCurrency;
    const refused = refusal(snap, sale);
    if (refused) return { plan: null, commissions: [], explanation: [refused] };
    const affiliateId = sale.affiliateId!;
    const toBase = (units: Units) => multiplyByRate(units, sale.exchangeRate);
    const fixedCost: FixedCost =
      sale.fixedCost?.kind === 'amount' ? { kind: 'amount', units: toBase(sale.fixedCost.units) } : sale.fixedCost;
    const payouts = await this.hooks.applyFilters('sale.payouts', snap.payoutsOf(sale.campaignId), sale);
    const plan = planCommissions(
      baseCurrencyLines(sale, toBase),
      {
        kind: sale.kind,
        actionCode: sale.actionCode,
        affiliateId,
        couponPayoutId: sale.couponPayoutId,
        payouts,
        country: sale.country ?? null,
        subscription: sale.subscription ?? null,
      },
      fixedCost,
    );
    const explanation = explain(plan, currency);
    const first = plan.tiers[0];
    const commissions: PlannedCommission[] = first ? [firstTier(plan, first, affiliateId, currency)] : [];
    const tiers = await this.hooks.applyFilters('commission.tiers', [], {
      plan,
      affiliateId,
      campaignId: sale.campaignId,
      affiliate: (id: number) => {
        const a = snap.affiliates.get(id);
        return a ? { ...a, parentId: a.parentId } : undefined;
      },
    } satisfies TierContext);
    for (const c of [...commissions, ...tiers]) {
      c.amount = await this.hooks.applyFilters('commission.amount', c.amount, c, sale);
    }
    for (const t of tiers)
      explanation.push(`Tier ${t.tier}: affiliate ${t.affiliateId} earns ${unitsToFixed(t.amount, 2)} ${currency}.`);
    return { plan, commissions: [...commissions, ...tiers], explanation };
  }
}

/** Why a sale earns no commission at all (no or unapproved affiliate, paused or private campaign), or null. */
function refusal(snap: ConfigSnapshot, sale: SaleForCommissions): string | null {
  if (sale.affiliateId === null) return 'No affiliate: no commission.';
  const affiliate = snap.affiliates.get(sale.affiliateId);
  if (!affiliate || affiliate.status !== 'approved')
    return `Affiliate ${sale.affiliateId} is not approved: no commission.`;
  const campaign = snap.campaigns.get(sale.campaignId);
  // A paused campaign pays nothing; a private one pays only invited affiliates.
  if (campaign?.status === 'paused') return `Campaign ${campaign.id} "${campaign.name}" is paused: no commission.`;
  if (campaign && !isInvited(campaign, affiliate.id, snap.invitations))
    return `Affiliate ${affiliate.id} is not invited to the private campaign ${campaign.id} "${campaign.name}": no commission.`;
  return null;
}

/** The sale's lines (its items, else the whole order as one line) in the base currency. */
function baseCurrencyLines(sale: SaleForCommissions, toBase: (units: Units) => Units): SaleLine[] {
  if (sale.items.length)
    return sale.items.map((i) => ({
      productId: i.productId,
      category: i.category ?? null,
      totalCost: toBase(i.totalCost),
      quantity: i.quantity ?? 1,
    }));
  return [
    {
      productId: sale.productId,
      category: null,
      totalCost: sale.totalCost === null ? null : toBase(sale.totalCost),
      quantity: 1,
    },
  ];
}

/** Why each payout was chosen and how each line of the first tier was computed, in words. */
function explain(plan: CommissionPlan, currency: string): string[] {
  const explanation = plan.selections.map((s) => `Payout: ${s.reason}.`);
  for (const line of plan.tiers[0]?.lines ?? []) {
    const basis = line.basis === null ? 'no amount' : `${unitsToFixed(line.basis, 2)} ${currency}`;
    explanation.push(
      `${line.productId ?? 'Order'}: ${rateText(line.rate, currency)}${line.rate.unit === 'percent' ? ` of ${basis}` : line.quantity > 1 ? ` × ${line.quantity}` : ''} = ${unitsToFixed(line.amount, 2)} ${currency}`,
    );
  }
  explanation.push(...plan.notes);
  return explanation;
}

/** The referring affiliate's commission (tier 1), with the detail stored beside it. */
function firstTier(
  plan: CommissionPlan,
  first: TierCommission,
  affiliateId: number,
  currency: string,
): PlannedCommission {
  return {
    tier: 1,
    affiliateId,
    amount: first.amount,
    merchantAmount: first.merchantAmount,
    payoutId: first.payoutId,
    basis: sumBasis(first.lines),
    rate: first.lines.length === 1 ? (first.lines[0]?.rate ?? null) : null,
    detail: {
      currency,
      lines: first.lines.map((l) => ({ ...lineDetail(l), merchantAmount: fromUnits(l.merchantAmount) })),
      reasons: plan.selections.map((sel) => sel.reason),
      notes: plan.notes,
    },
  };
}

function sumBasis(lines: Array<{ basis: Units | null }>): Units | null {
  if (lines.some((l) => l.basis === null)) return null;
  return add(...lines.map((l) => l.basis as Units));
}

declare module '../plugins/contract.js' {
  interface HookFilters {
    'sale.payouts': [payouts: PayoutDef[], sale: SaleForCommissions];
    'commission.tiers': [tiers: PlannedCommission[], context: TierContext];
    'commission.amount': [amount: Units, commission: PlannedCommission, sale: SaleForCommissions];
  }
}
