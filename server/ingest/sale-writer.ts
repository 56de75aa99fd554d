import type { Knex } from 'knex';
import { transaction } from '../db/transaction.js';
import { dialectHelper } from '../db/index.js';
import { GroupWriter } from './group-writer.js';
import { insertSale, type SaleRow } from '../store/sales.js';
import { rememberSubscription, type SubscriptionRecord } from '../store/subscriptions.js';
import { insertCommission, type CommissionRow } from '../store/commissions.js';
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
 * Sales are written in groups (SPEC §12): one transaction per batch. A sale's first statement is
 * its insert, and a failed insert undoes only itself on both databases (SQLite and InnoDB roll back
 * the statement, not the transaction), so a duplicate order (unique key) is answered as such
 * without a savepoint per sale. Any other failure undoes the whole batch, and the group writer then
 * writes its sales one by one, so a bad sale affects only itself. The rollup deltas of the batch's
 * sales and commissions are merged and added once, at the end of the batch.
 */
export function createSaleWriter(
  db: Knex,
  emit: OutboxEmit,
  clock: () => number = Date.now,
): GroupWriter<PendingSale, SaleWrite> {
  return new GroupWriter<PendingSale, SaleWrite>(
    (items) =>
      transaction(db, async (trx) => {
        const dialect = dialectHelper(trx);
        const deltas: StatsDelta[] = [];
        const out: SaleWrite[] = [];
        for (const item of items) {
          let id: number;
          try {
            id = await insertSale(trx, item.row);
          } catch (error) {
            if (!dialect.isRetriable(error) && item.row.order_key && dialect.isUniqueViolation(error)) {
              out.push({ kind: 'duplicate' });
              continue;
            }
            throw error;
          }
          out.push(await writeRest(trx, id, item, emit, clock, deltas));
        }
        await addDailyStats(trx, deltas);
        return out;
      }),
    { maxBatch: 500 },
  );
}

/** What follows a sale's insert: its subscription, its commissions and its rollup deltas (added by the batch). */
async function writeRest(
  trx: Knex,
  id: number,
  { row, stats, subscription, commissions }: PendingSale,
  emit: OutboxEmit,
  clock: () => number,
  deltas: StatsDelta[],
): Promise<SaleWrite> {
  if (subscription) await rememberSubscription(trx, { ...subscription, firstSaleId: id });
  deltas.push(stats);
  const written = commissions ? await writeCommissions(trx, id, row, commissions, emit, clock, deltas) : [];
  return { kind: 'created', id, commissions: written };
}

/** Writes the planned commissions in the sale's batch, with their notifications; their rollup deltas join `deltas`. */
async function writeCommissions(
  trx: Knex,
  saleId: number,
  sale: SaleRow,
  { day, currency, campaignName, planned }: PendingSaleCommissions,
  emit: OutboxEmit,
  clock: () => number,
  deltas: StatsDelta[],
): Promise<CommissionSummary[]> {
  const now = clock();
  const out: CommissionSummary[] = [];
  for (const { commission: c, postbackUrl } of planned) {
    const row: CommissionRow = {
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
    const id = await insertCommission(trx, row);
    const summary = {
      id,
      affiliateId: c.affiliateId,
      tier: c.tier,
      amount: fromUnits(c.amount),
      currency,
      status: sale.status,
    };
    out.push(summary);
    deltas.push({
      day,
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
            day,
            currency,
            campaignName,
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
