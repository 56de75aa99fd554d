import type { Knex } from 'knex';
import { rateText } from '../domain/payouts.js';
import type { Hooks } from '../plugins/hooks.js';
import type { ConfigSnapshot } from './config-cache.js';
import type { Outbox } from './outbox.js';
import {
  planCommissions,
  cpmAmount,
  type CommissionPlan,
  type FixedCost,
  type PayoutDef,
  type Rate,
  type SaleLine,
  type SubscriptionFacts,
} from '../domain/payouts.js';
import { add, fromUnits, multiplyByRate, scale, unitsToFixed, type Units } from '../domain/money.js';
import {
  insertCommission,
  openTrafficCommission,
  updateTrafficCommission,
  type CommissionRow,
} from '../store/commissions.js';
import { addDailyStats, type StatsDelta } from '../store/daily-stats.js';
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

export interface TrafficCommissionDelta {
  kind: 'click' | 'impression';
  affiliateId: number;
  campaignId: number;
  payout: PayoutDef;
  day: string;
  quantity: number;
  status: 'approved' | 'pending';
}

/** Commissions for sales, actions, clicks and impressions (SPEC §6.1–6.3). */
export class CommissionService {
  constructor(
    private readonly hooks: Hooks,
    private readonly outbox: Outbox,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Plans the commissions of a sale or action without writing anything (also used by the simulator). */
  async plan(snap: ConfigSnapshot, sale: SaleForCommissions): Promise<CommissionPlanResult> {
    const currency = snap.settings.baseCurrency;
    if (sale.affiliateId === null)
      return { plan: null, commissions: [], explanation: ['No affiliate: no commission.'] };
    const affiliate = snap.affiliates.get(sale.affiliateId);
    if (!affiliate || affiliate.status !== 'approved') {
      return {
        plan: null,
        commissions: [],
        explanation: [`Affiliate ${sale.affiliateId} is not approved: no commission.`],
      };
    }
    const campaign = snap.campaigns.get(sale.campaignId);
    const none = (why: string): CommissionPlanResult => ({ plan: null, commissions: [], explanation: [why] });
    // A paused campaign pays nothing; a private one pays only invited affiliates.
    if (campaign?.status === 'paused')
      return none(`Campaign ${campaign.id} "${campaign.name}" is paused: no commission.`);
    if (campaign && !isInvited(campaign, affiliate.id, snap.invitations))
      return none(
        `Affiliate ${affiliate.id} is not invited to the private campaign ${campaign.id} "${campaign.name}": no commission.`,
      );
    const toBase = (units: Units) => multiplyByRate(units, sale.exchangeRate);
    const lines: SaleLine[] = sale.items.length
      ? sale.items.map((i) => ({
          productId: i.productId,
          category: i.category ?? null,
          totalCost: toBase(i.totalCost),
          quantity: i.quantity ?? 1,
        }))
      : [
          {
            productId: sale.productId,
            category: null,
            totalCost: sale.totalCost === null ? null : toBase(sale.totalCost),
            quantity: 1,
          },
        ];
    const fixedCost: FixedCost =
      sale.fixedCost?.kind === 'amount' ? { kind: 'amount', units: toBase(sale.fixedCost.units) } : sale.fixedCost;
    const payouts = await this.hooks.applyFilters('sale.payouts', snap.payoutsOf(sale.campaignId), sale);
    const plan = planCommissions(
      lines,
      {
        kind: sale.kind,
        actionCode: sale.actionCode,
        affiliateId: sale.affiliateId,
        couponPayoutId: sale.couponPayoutId,
        payouts,
        country: sale.country ?? null,
        subscription: sale.subscription ?? null,
      },
      fixedCost,
    );

    const explanation = plan.selections.map((s) => `Payout: ${s.reason}.`);
    for (const line of plan.tiers[0]?.lines ?? []) {
      const basis = line.basis === null ? 'no amount' : `${unitsToFixed(line.basis, 2)} ${currency}`;
      explanation.push(
        `${line.productId ?? 'Order'}: ${rateText(line.rate, currency)}${line.rate.unit === 'percent' ? ` of ${basis}` : line.quantity > 1 ? ` × ${line.quantity}` : ''} = ${unitsToFixed(line.amount, 2)} ${currency}`,
      );
    }
    explanation.push(...plan.notes);

    const commissions: PlannedCommission[] = [];
    const first = plan.tiers[0];
    if (first) {
      commissions.push({
        tier: 1,
        affiliateId: sale.affiliateId,
        amount: first.amount,
        merchantAmount: first.merchantAmount,
        payoutId: first.payoutId,
        basis: sumBasis(first.lines),
        rate: first.lines.length === 1 ? (first.lines[0]?.rate ?? null) : null,
        detail: {
          currency,
          lines: first.lines.map((l) => ({
            productId: l.productId,
            category: l.category,
            payoutId: l.payoutId,
            basis: l.basis === null ? null : fromUnits(l.basis),
            quantity: l.quantity,
            rate: { value: fromUnits(l.rate.value), unit: l.rate.unit },
            amount: fromUnits(l.amount),
            merchantAmount: fromUnits(l.merchantAmount),
          })),
          reasons: plan.selections.map((sel) => sel.reason),
          notes: plan.notes,
        },
      });
    }
    const tiers = await this.hooks.applyFilters('commission.tiers', [], {
      plan,
      affiliateId: sale.affiliateId,
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

  /**
   * PPC and CPM commissions accumulate per affiliate, campaign, payout and day in one open row
   * (not a row per click), written by the click and impression writers in their batch.
   */
  async addTraffic(trx: Knex, deltas: TrafficCommissionDelta[], currency: string): Promise<void> {
    const merged = new Map<string, TrafficCommissionDelta>();
    for (const d of deltas) {
      const key = `${d.kind}|${d.affiliateId}|${d.campaignId}|${d.payout.id}|${d.day}`;
      const prev = merged.get(key);
      merged.set(key, prev ? { ...prev, quantity: prev.quantity + d.quantity } : { ...d });
    }
    const now = this.clock();
    const stats: StatsDelta[] = [];
    for (const [key, d] of merged) {
      const rate = d.payout.affiliateCommission.value;
      const merchantRate = d.payout.merchantCommission.value;
      const amountFor = (q: number, r: Units) => (d.kind === 'impression' ? cpmAmount(r, q) : scale(r, q, 1));
      // One row holds as many clicks or impressions as keep its amounts exact (and its INT
      // quantity in range); a full row is closed and the rest accumulates in a new one, so a
      // later click is never refused by an overflowing accumulator.
      const perRow = rowCapacity(d.kind, [rate, merchantRate]);
      let remaining = d.quantity;
      const open = await openTrafficCommission(trx, key);
      if (open) {
        const before = Number(open.quantity);
        const take = Math.max(0, Math.min(remaining, perRow - before));
        const quantity = before + take;
        remaining -= take;
        if (take > 0)
          stats.push({
            day: d.day,
            campaign_id: d.campaignId,
            affiliate_id: d.affiliateId,
            banner_id: 0,
            commissions: amountFor(quantity, rate) - amountFor(before, rate),
          });
        await updateTrafficCommission(
          trx,
          open.id,
          {
            quantity,
            amount: amountFor(quantity, rate),
            merchant_amount: amountFor(quantity, merchantRate),
            updated_at: now,
          },
          remaining > 0,
        );
      }
      while (remaining > 0) {
        const quantity = Math.min(remaining, perRow);
        remaining -= quantity;
        const row: CommissionRow = {
          created_at: now,
          updated_at: now,
          kind: d.kind,
          sale_id: null,
          campaign_id: d.campaignId,
          affiliate_id: d.affiliateId,
          payout_id: d.payout.id,
          tier: 1,
          status: d.status,
          status_reason: null,
          amount: amountFor(quantity, rate),
          merchant_amount: amountFor(quantity, merchantRate),
          currency,
          basis: null,
          rate_unit: 'fixed',
          rate_value: rate,
          quantity,
          day: d.day,
          // Only the last row stays open; a full one is closed at once.
          aggregate_key: remaining > 0 ? null : key,
          parent_id: null,
          batch_id: null,
          detail: JSON.stringify({
            reason: `${d.payout.kind} ${d.payout.type} payout ${d.payout.id} "${d.payout.title}": ${unitsToFixed(rate, 2)} ${currency} per ${d.kind === 'impression' ? '1,000 impressions' : d.payout.rawClicks ? 'click' : 'unique click'}`,
          }),
        };
        const id = await insertCommission(trx, row);
        stats.push({
          day: d.day,
          campaign_id: d.campaignId,
          affiliate_id: d.affiliateId,
          banner_id: 0,
          commissions: row.amount,
        });
        await this.outbox.emit(trx, 'commission.created', {
          commission: {
            id,
            affiliateId: d.affiliateId,
            tier: 1,
            amount: fromUnits(amountFor(quantity, rate)),
            currency,
            status: d.status,
            campaignId: d.campaignId,
            kind: d.kind,
            day: d.day,
          },
        });
      }
    }
    await addDailyStats(
      trx,
      stats.filter((x) => x.commissions !== 0),
    );
  }
}

/** The most clicks (or impressions) one accumulator row holds: its amounts stay exact, its quantity an INT. */
function rowCapacity(kind: 'click' | 'impression', rates: Units[]): number {
  let capacity = 2_147_483_647;
  for (const r of rates) {
    if (r <= 0) continue;
    // PPC pays r per click; CPM pays r per 1,000 impressions.
    const most = kind === 'impression' ? (Number.MAX_SAFE_INTEGER / r) * 1000 : Number.MAX_SAFE_INTEGER / r;
    capacity = Math.min(capacity, Math.max(1, Math.floor(most)));
  }
  return capacity;
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
