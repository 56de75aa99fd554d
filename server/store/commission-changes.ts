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

/**
 * The rows of `ids`, locked for the transaction (FOR UPDATE on MySQL; SQLite has one writer),
 * in ascending id order: every transaction takes its commission locks in that one order, so
 * two of them never wait for each other in a circle.
 */
export async function lockCommissions(trx: Knex, ids: number[]): Promise<StoredCommission[]> {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const out: StoredCommission[] = [];
  for (let i = 0; i < sorted.length; i += 500) {
    const rows = (await trx('commissions')
      .whereIn('id', sorted.slice(i, i + 500))
      .orderBy('id')
      .forUpdate()) as StoredCommission[];
    out.push(...rows.map(normalise));
  }
  return out;
}

export async function lockCommissionsOfSale(trx: Knex, saleId: number): Promise<StoredCommission[]> {
  const rows = (await trx('commissions').where({ sale_id: saleId }).orderBy('id').forUpdate()) as StoredCommission[];
  return rows.map(normalise);
}

/**
 * Linked commissions (refund and chargeback reversals) of `parentIds` in `statuses`, locked.
 * Call it with the parents locked (a reversal is written under its parent's lock, so none can
 * appear meanwhile). Found by a plain read, then locked by primary key: a locking read by
 * `parent_id` would also lock index gaps, or other commissions when the plan goes through
 * another index, and parallel reviews of different commissions would deadlock on those.
 */
export async function childrenOf(
  trx: Knex,
  parentIds: number[],
  statuses: CommissionStatus[],
): Promise<StoredCommission[]> {
  if (!parentIds.length) return [];
  const ids: number[] = [];
  for (let i = 0; i < parentIds.length; i += 500) {
    const found = (await trx('commissions')
      .whereIn('parent_id', parentIds.slice(i, i + 500))
      .whereIn('status', statuses)
      .pluck('id')) as Array<number | string>;
    ids.push(...found.map(Number));
  }
  // The status is checked again under the lock.
  return (await lockCommissions(trx, ids)).filter((r) => statuses.includes(r.status));
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
