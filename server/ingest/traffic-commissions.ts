import type { Knex } from 'knex';
import { cpmAmount, type PayoutDef } from '../domain/payouts.js';
import { fromUnits, scale, unitsToFixed, type Units } from '../domain/money.js';
import {
  insertCommission,
  openTrafficCommission,
  updateTrafficCommission,
  type CommissionRow,
} from '../store/commissions.js';
import { addDailyStats, type StatsDelta } from '../store/daily-stats.js';
import type { OutboxEmit } from './sale-writer.js';

/** Clicks or impressions of one affiliate, campaign, PPC/CPM payout and day, paid in a writer's batch. */
export interface TrafficCommissionDelta {
  kind: 'click' | 'impression';
  affiliateId: number;
  campaignId: number;
  payout: PayoutDef;
  day: string;
  quantity: number;
  status: 'approved' | 'pending';
}

/** What the click and impression writers call, in their batch's transaction. */
export type TrafficCommissionWriter = (trx: Knex, deltas: TrafficCommissionDelta[]) => Promise<void>;

/**
 * PPC and CPM commissions accumulate per affiliate, campaign, payout and day in one open row
 * (not a row per click). One row holds as many clicks or impressions as keep its amounts exact
 * (and its INT quantity in range); a full row is closed and the rest accumulates in a new one, so
 * a later click is never refused by an overflowing accumulator. Each new row is announced
 * (`commission.created`) through the outbox in the same transaction.
 */
export function createTrafficCommissionWriter(
  currency: () => string,
  emit: OutboxEmit,
  clock: () => number = Date.now,
): TrafficCommissionWriter {
  return async (trx, deltas) => {
    const now = clock();
    const base = currency();
    const stats: StatsDelta[] = [];
    for (const [key, d] of merged(deltas)) {
      const remaining = await topUpOpenRow(trx, key, d, now, stats);
      await addRows(trx, key, d, remaining, { currency: base, now, emit }, stats);
    }
    await addDailyStats(
      trx,
      stats.filter((x) => x.commissions !== 0),
    );
  };
}

/** The batch's deltas merged per accumulator key. */
function merged(deltas: TrafficCommissionDelta[]): Map<string, TrafficCommissionDelta> {
  const out = new Map<string, TrafficCommissionDelta>();
  for (const d of deltas) {
    const key = `${d.kind}|${d.affiliateId}|${d.campaignId}|${d.payout.id}|${d.day}`;
    const prev = out.get(key);
    out.set(key, prev ? { ...prev, quantity: prev.quantity + d.quantity } : { ...d });
  }
  return out;
}

const amountFor = (d: TrafficCommissionDelta, quantity: number, rate: Units): Units =>
  d.kind === 'impression' ? cpmAmount(rate, quantity) : scale(rate, quantity, 1);

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

const capacityOf = (d: TrafficCommissionDelta) =>
  rowCapacity(d.kind, [d.payout.affiliateCommission.value, d.payout.merchantCommission.value]);

/** Adds what fits to the open row of this key (closing it when full); answers what is left. */
async function topUpOpenRow(
  trx: Knex,
  key: string,
  d: TrafficCommissionDelta,
  now: number,
  stats: StatsDelta[],
): Promise<number> {
  const open = await openTrafficCommission(trx, key);
  if (!open) return d.quantity;
  const rate = d.payout.affiliateCommission.value;
  const before = Number(open.quantity);
  const take = Math.max(0, Math.min(d.quantity, capacityOf(d) - before));
  const quantity = before + take;
  const remaining = d.quantity - take;
  if (take > 0)
    stats.push({
      day: d.day,
      campaign_id: d.campaignId,
      affiliate_id: d.affiliateId,
      banner_id: 0,
      commissions: amountFor(d, quantity, rate) - amountFor(d, before, rate),
    });
  await updateTrafficCommission(
    trx,
    open.id,
    {
      quantity,
      amount: amountFor(d, quantity, rate),
      merchant_amount: amountFor(d, quantity, d.payout.merchantCommission.value),
      updated_at: now,
    },
    remaining > 0,
  );
  return remaining;
}

/** New rows for what the open row could not take; only the last one stays open. */
async function addRows(
  trx: Knex,
  key: string,
  d: TrafficCommissionDelta,
  remaining: number,
  { currency, now, emit }: { currency: string; now: number; emit: OutboxEmit },
  stats: StatsDelta[],
): Promise<void> {
  const rate = d.payout.affiliateCommission.value;
  const perRow = capacityOf(d);
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
      amount: amountFor(d, quantity, rate),
      merchant_amount: amountFor(d, quantity, d.payout.merchantCommission.value),
      currency,
      basis: null,
      rate_unit: 'fixed',
      rate_value: rate,
      quantity,
      day: d.day,
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
    await emit(
      trx,
      'commission.created',
      {
        commission: {
          id,
          affiliateId: d.affiliateId,
          tier: 1,
          amount: fromUnits(amountFor(d, quantity, rate)),
          currency,
          status: d.status,
          campaignId: d.campaignId,
          kind: d.kind,
          day: d.day,
        },
      },
      [],
    );
  }
}
