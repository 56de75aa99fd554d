import type { Knex } from 'knex';
import type { CommissionRow, CommissionStatus } from './commissions.js';
import { TEXT_LENGTH, clip } from '../domain/limits.js';

/** Status changes of existing commissions (approve, decline, reverse, pay), row-locked where the database can. */

export type StoredCommission = CommissionRow & { id: number };

const normalise = (r: StoredCommission): StoredCommission => ({
  ...r,
  id: Number(r.id),
  sale_id: r.sale_id === null ? null : Number(r.sale_id),
  parent_id: r.parent_id === null ? null : Number(r.parent_id),
  batch_id: r.batch_id === null ? null : Number(r.batch_id),
  amount: Number(r.amount),
  merchant_amount: Number(r.merchant_amount),
});

/** The rows of `ids`, locked for the transaction (FOR UPDATE on MySQL; SQLite has one writer). */
export async function lockCommissions(trx: Knex, ids: number[]): Promise<StoredCommission[]> {
  const out: StoredCommission[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await trx('commissions')
      .whereIn('id', ids.slice(i, i + 500))
      .forUpdate()) as StoredCommission[];
    out.push(...rows.map(normalise));
  }
  return out;
}

export async function lockCommissionsOfSale(trx: Knex, saleId: number): Promise<StoredCommission[]> {
  const rows = (await trx('commissions').where({ sale_id: saleId }).orderBy('id').forUpdate()) as StoredCommission[];
  return rows.map(normalise);
}

/** Linked commissions (refund and chargeback reversals) of `parentIds` in `statuses`. */
export async function childrenOf(
  trx: Knex,
  parentIds: number[],
  statuses: CommissionStatus[],
): Promise<StoredCommission[]> {
  if (!parentIds.length) return [];
  const rows = (await trx('commissions')
    .whereIn('parent_id', parentIds)
    .whereIn('status', statuses)
    .orderBy('id')
    .forUpdate()) as StoredCommission[];
  return rows.map(normalise);
}

export async function readCommissions(db: Knex, ids: number[]): Promise<StoredCommission[]> {
  if (!ids.length) return [];
  const rows = (await db('commissions').whereIn('id', ids).orderBy('id')) as StoredCommission[];
  return rows.map(normalise);
}

/**
 * Moves one commission from one of `from` to `to`, only while it is still there and (unless
 * `inBatch`) not in a payout batch. Leaving the open PPC/CPM accumulator: `aggregate_key` is
 * cleared, so later clicks start a new row. Answers whether the row changed.
 */
export async function setCommissionStatus(
  trx: Knex,
  id: number,
  from: CommissionStatus[],
  to: CommissionStatus,
  reason: string | null | undefined,
  now: number,
  opts: { inBatch?: boolean } = {},
): Promise<boolean> {
  const q = trx('commissions').where('id', id).whereIn('status', from);
  if (!opts.inBatch) q.whereNull('batch_id');
  const patch: Record<string, unknown> = { status: to, aggregate_key: null, updated_at: now };
  if (reason !== undefined) patch.status_reason = reason === null ? null : clip(reason, TEXT_LENGTH);
  const changed = await q.update(patch);
  return Number(changed) > 0;
}
