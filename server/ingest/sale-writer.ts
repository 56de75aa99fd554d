import type { Knex } from 'knex';
import { transaction } from '../db/transaction.js';
import { dialectHelper } from '../db/index.js';
import { GroupWriter } from './group-writer.js';
import { insertSale, insertSaleRows, type SaleRow } from '../store/sales.js';
import { rememberSubscription, type SubscriptionRecord } from '../store/subscriptions.js';
import { insertCommissions, type CommissionRow } from '../store/commissions.js';
import { addDailyStats, type StatsDelta } from '../store/daily-stats.js';
import { fillMacros, saleCommissionMacros } from '../domain/macros.js';
import { fromUnits, type Units } from '../domain/money.js';
import type { CommissionSummary, PlannedCommission } from '../services/commissions.js';
import type { OutboxEvent, OutboxMessage } from '../services/outbox.js';

/** A sale ready to store, with everything the service decided for it. */
export interface PendingSale {
  row: SaleRow;
  /** The sale's contribution to the daily rollup. */
  stats: StatsDelta;
  /** Set on the first attributed sale of a subscription: where its renewals go (SPEC §14). */
  subscription: Omit<SubscriptionRecord, 'firstSaleId'> | null;
  /** The commissions to write with the sale; null when the sale is declined (none are written). */
  commissions: PendingSaleCommissions | null;
}

export interface PendingSaleCommissions {
  /** The sale's day in the report time zone. */
  day: string;
  /** The base currency, in which commissions are kept. */
  currency: string;
  campaignName: string | null;
  planned: Array<{
    commission: PlannedCommission;
    /** The affiliate's `postbackUrl` when it is notified of this commission (tier 1), else null. */
    postbackUrl: string | null;
  }>;
}

/** A written sale, or a duplicate order; a sale that cannot be written rejects its `write`. */
export type SaleWrite = { kind: 'created'; id: number; commissions: CommissionSummary[] } | { kind: 'duplicate' };

/**
 * Writes an event and its notifications to the outbox in the caller's transaction
 * (`Outbox.emit`). The writer is handed this function rather than prepared outbox rows: the
 * payload names the commission id, known only once its row is inserted, and emitting runs the
 * mail listener (which reads the affiliate in the transaction) and the plugins' `outbox.messages`
 * filter, so the rows cannot be composed before the sale is queued nor by the store alone.
 */
export type OutboxEmit = (
  trx: Knex,
  event: OutboxEvent,
  payload: Record<string, unknown>,
  messages: OutboxMessage[],
) => Promise<void>;

/**
 * Sales are written in groups (SPEC §12): one transaction per batch, in which the batch's sales are
 * inserted by one statement and then their commissions by another (MariaDB answers both with
 * their ids: a batch costs a few round trips, not a few per sale). A duplicate order (unique key)
 * fails that statement whole, on both databases without undoing the transaction; the batch's
 * sales are then inserted one by one, each failed insert undoing only itself, so a duplicate is
 * answered as such. Any other failure undoes the whole batch, and the group writer writes its
 * sales one by one, so a bad sale affects only itself. The rollup deltas of the batch's sales and
 * commissions are merged and added once, at the end.
 */
export function createSaleWriter(
  db: Knex,
  emit: OutboxEmit,
  clock: () => number = Date.now,
): GroupWriter<PendingSale, SaleWrite> {
  return new GroupWriter<PendingSale, SaleWrite>(
    (items) =>
      transaction(db, async (trx) => {
        const ids = await insertSales(trx, items);
        const deltas: StatsDelta[] = [];
        const created: Array<{ id: number; item: PendingSale }> = [];
        items.forEach((item, i) => {
          const id = ids[i];
          if (id === null || id === undefined) return;
          created.push({ id, item });
          deltas.push(item.stats);
        });
        for (const { id, item } of created)
          if (item.subscription) await rememberSubscription(trx, { ...item.subscription, firstSaleId: id });
        const commissions = await writeCommissions(trx, created, emit, clock(), deltas);
        await addDailyStats(trx, deltas);
        return ids.map((id): SaleWrite =>
          id === null ? { kind: 'duplicate' } : { kind: 'created', id, commissions: commissions.get(id) ?? [] },
        );
      }),
    { maxBatch: 500 },
  );
}

/** The ids of the batch's sales in order, null for a duplicate order. */
async function insertSales(trx: Knex.Transaction, items: PendingSale[]): Promise<Array<number | null>> {
  const dialect = dialectHelper(trx);
  const duplicate = (error: unknown) => !dialect.isRetriable(error) && dialect.isUniqueViolation(error);
  try {
    return await insertSaleRows(
      trx,
      items.map((i) => i.row),
    );
  } catch (error) {
    if (!duplicate(error)) throw error;
  }
  const ids: Array<number | null> = [];
  for (const { row } of items) {
    try {
      ids.push(await insertSale(trx, row));
    } catch (error) {
      if (!row.order_key || !duplicate(error)) throw error;
      ids.push(null);
    }
  }
  return ids;
}

/**
 * Writes the planned commissions of the batch's new sales (one insert), then their notifications
 * in order; their rollup deltas join `deltas`. Answers each sale's commissions by its id.
 */
async function writeCommissions(
  trx: Knex.Transaction,
  created: Array<{ id: number; item: PendingSale }>,
  emit: OutboxEmit,
  now: number,
  deltas: StatsDelta[],
): Promise<Map<number, CommissionSummary[]>> {
  const planned: Array<{
    saleId: number;
    sale: SaleRow;
    of: PendingSaleCommissions;
    commission: PlannedCommission;
    postbackUrl: string | null;
  }> = [];
  for (const { id, item } of created)
    for (const p of item.commissions?.planned ?? [])
      planned.push({ saleId: id, sale: item.row, of: item.commissions!, ...p });
  const ids = await insertCommissions(
    trx,
    planned.map(({ saleId, sale, of, commission: c }) => commissionRow(saleId, sale, of, c, now)),
  );
  const out = new Map<number, CommissionSummary[]>();
  for (const [i, { saleId, sale, of, commission: c, postbackUrl }] of planned.entries()) {
    const id = ids[i]!;
    const summary = {
      id,
      affiliateId: c.affiliateId,
      tier: c.tier,
      amount: fromUnits(c.amount),
      currency: of.currency,
      status: sale.status,
    };
    const ofSale = out.get(saleId);
    if (ofSale) ofSale.push(summary);
    else out.set(saleId, [summary]);
    deltas.push({
      day: of.day,
      campaign_id: sale.campaign_id,
      affiliate_id: c.affiliateId,
      banner_id: 0,
      commissions: c.amount,
    });
    const messages: OutboxMessage[] = postbackUrl
      ? [
          affiliatePostback(
            postbackUrl,
            { id, affiliateId: c.affiliateId, amount: c.amount },
            saleId,
            sale,
            of.day,
            of.currency,
            of.campaignName,
          ),
        ]
      : [];
    await emit(
      trx,
      'commission.created',
      { commission: { ...summary, saleId, campaignId: sale.campaign_id, kind: sale.kind } },
      messages,
    );
  }
  return out;
}

/** A planned commission of a sale as its row, with the sale's status. */
function commissionRow(
  saleId: number,
  sale: SaleRow,
  { day, currency }: PendingSaleCommissions,
  c: PlannedCommission,
  now: number,
): CommissionRow {
  return {
    created_at: now,
    updated_at: now,
    kind: sale.kind,
    sale_id: saleId,
    campaign_id: sale.campaign_id,
    affiliate_id: c.affiliateId,
    payout_id: c.payoutId,
    tier: c.tier,
    status: sale.status,
    status_reason: null,
    amount: c.amount,
    merchant_amount: c.merchantAmount,
    currency,
    basis: c.basis,
    rate_unit: c.rate?.unit ?? null,
    rate_value: c.rate?.value ?? null,
    quantity: 1,
    day,
    aggregate_key: null,
    parent_id: null,
    batch_id: null,
    detail: JSON.stringify(c.detail),
  };
}

/** The GET to the affiliate's own `postbackUrl` for a new commission, its macros filled (SPEC §7.6). */
function affiliatePostback(
  postbackUrl: string,
  commission: { id: number; affiliateId: number; amount: Units },
  saleId: number,
  sale: SaleRow,
  day: string,
  currency: string,
  campaignName: string | null,
): OutboxMessage {
  return {
    channel: 'affiliate_postback',
    method: 'GET',
    url: fillMacros(
      postbackUrl,
      saleCommissionMacros({
        commissionId: commission.id,
        saleId,
        orderId: sale.order_id,
        kind: sale.kind,
        campaignId: sale.campaign_id,
        campaignName,
        affiliateId: commission.affiliateId,
        channel: sale.channel,
        amount: commission.amount,
        currency,
        status: sale.status,
        day,
        // {random} is a cache-buster, not a rule: any source will do.
        random: Math.random,
      }),
    ),
  };
}
