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

export type SaleWrite =
  | { kind: 'created'; id: number; commissions: CommissionSummary[] }
  | { kind: 'duplicate' }
  | { kind: 'error'; error: unknown };

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
 * Sales are written in groups (SPEC §12): one transaction per batch, each sale in its own
 * savepoint so a duplicate order (unique key) or a bad row affects only itself. Its
 * commissions are written in the same savepoint as the sale.
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
        const out: SaleWrite[] = [];
        for (const item of items) {
          try {
            // Inside the batch's transaction this is a savepoint (no retry of its own).
            out.push(await transaction(trx, (sp) => writeOne(sp, item, emit, clock)));
          } catch (error) {
            // The database rolled back the whole batch, not just this savepoint: run the batch again.
            if (dialect.isRetriable(error)) throw error;
            if (item.row.order_key && dialect.isUniqueViolation(error)) out.push({ kind: 'duplicate' });
            else out.push({ kind: 'error', error });
          }
        }
        return out;
      }),
    { maxBatch: 500 },
  );
}

async function writeOne(
  trx: Knex.Transaction,
  { row, stats, subscription, commissions }: PendingSale,
  emit: OutboxEmit,
  clock: () => number,
): Promise<SaleWrite> {
  const id = await insertSale(trx, row);
  if (subscription) await rememberSubscription(trx, { ...subscription, firstSaleId: id });
  await addDailyStats(trx, [stats]);
  const written = commissions ? await writeCommissions(trx, id, row, commissions, emit, clock) : [];
  return { kind: 'created', id, commissions: written };
}

/** Writes the planned commissions in the sale's savepoint, with their notifications. */
async function writeCommissions(
  trx: Knex,
  saleId: number,
  sale: SaleRow,
  { day, currency, campaignName, planned }: PendingSaleCommissions,
  emit: OutboxEmit,
  clock: () => number,
): Promise<CommissionSummary[]> {
  const now = clock();
  const out: CommissionSummary[] = [];
  const deltas: StatsDelta[] = [];
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
  await addDailyStats(trx, deltas);
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
