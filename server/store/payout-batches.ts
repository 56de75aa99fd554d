import type { PayoutDetails, PayoutMethod } from '../schemas/affiliate-profile.js';
import type { Knex } from 'knex';
import { toIso, paginate, type Page } from './rows.js';
import { dialectHelper } from '../db/index.js';
import type { PageQuery } from '../validation.js';
import { asUnits, type Units } from '../domain/money.js';

export type PayoutBatchStatus = 'open' | 'paid';

export interface PayoutBatchRow {
  created_at: number;
  updated_at: number;
  status: PayoutBatchStatus;
  minimum: number;
  total: number;
  affiliates: number;
  commissions: number;
  currency: string;
  created_by: string;
  paid_at: number | null;
  note: string | null;
}

export interface PayoutBatch {
  id: number;
  createdAt: string | null;
  updatedAt: string | null;
  status: PayoutBatchStatus;
  minimum: Units;
  total: Units;
  affiliates: number;
  commissions: number;
  currency: string;
  createdBy: string;
  paidAt: string | null;
  note: string | null;
}

/** One affiliate's line of a batch (or of a preview), amounts in units. */
export interface PayoutLine {
  affiliateId: number;
  refId: string;
  name: string;
  email: string;
  amount: Units;
  commissions: number;
  /** How the affiliate wants to be paid (its profile), and the details it gave. */
  payoutMethod?: PayoutMethod | null;
  payoutDetails?: PayoutDetails | null;
}

export const toPayoutBatch = (r: PayoutBatchRow & { id: number }): PayoutBatch => ({
  id: Number(r.id),
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
  status: r.status,
  minimum: asUnits(Number(r.minimum)),
  total: asUnits(Number(r.total)),
  affiliates: Number(r.affiliates),
  commissions: Number(r.commissions),
  currency: r.currency,
  createdBy: r.created_by,
  paidAt: toIso(r.paid_at),
  note: r.note,
});

/** Approved commissions not yet in a batch, locked for the batch's transaction. */
export async function payableCommissions(
  trx: Knex,
): Promise<Array<{ id: number; affiliateId: number; amount: Units }>> {
  const rows = (await trx('commissions')
    .select('id', 'affiliate_id', 'amount')
    .where('status', 'approved')
    .whereNull('batch_id')
    .orderBy('id')
    .forUpdate()) as Array<{ id: number | string; affiliate_id: number; amount: number | string }>;
  return rows.map((r) => ({
    id: Number(r.id),
    affiliateId: Number(r.affiliate_id),
    amount: asUnits(Number(r.amount)),
  }));
}

/** Per affiliate: the sum and count of approved commissions not yet in a batch. */
export async function payableTotals(
  db: Knex,
): Promise<Array<{ affiliateId: number; amount: Units; commissions: number }>> {
  const rows = (await db('commissions')
    .where('status', 'approved')
    .whereNull('batch_id')
    .select('affiliate_id')
    .sum({ total: 'amount' })
    .count({ n: '*' })
    .groupBy('affiliate_id')) as Array<{ affiliate_id: number; total: number | string | null; n: number | string }>;
  return rows.map((r) => ({
    affiliateId: Number(r.affiliate_id),
    amount: asUnits(Number(r.total ?? 0)),
    commissions: Number(r.n),
  }));
}

export async function affiliateContacts(
  db: Knex,
  ids: number[],
): Promise<Map<number, { refId: string; name: string; email: string }>> {
  const out = new Map<number, { refId: string; name: string; email: string }>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await db('affiliates')
      .select('id', 'ref_id', 'name', 'email')
      .whereIn('id', ids.slice(i, i + 500))) as Array<{
      id: number;
      ref_id: string;
      name: string;
      email: string;
    }>;
    for (const r of rows) out.set(Number(r.id), { refId: r.ref_id, name: r.name, email: r.email });
  }
  return out;
}

export async function insertBatch(trx: Knex, row: PayoutBatchRow): Promise<number> {
  const [id] = await trx('payout_batches').insert(row);
  return Number(id);
}

export async function insertBatchItems(
  trx: Knex,
  batchId: number,
  items: Array<{ affiliateId: number; amount: number; commissions: number }>,
): Promise<void> {
  for (let i = 0; i < items.length; i += 500) {
    await trx('payout_batch_items').insert(
      items.slice(i, i + 500).map((it) => ({
        batch_id: batchId,
        affiliate_id: it.affiliateId,
        amount: it.amount,
        commissions: it.commissions,
      })),
    );
  }
}

/** Puts commissions in a batch, only those still approved and in no batch; answers how many moved. */
export async function attachCommissions(trx: Knex, batchId: number, ids: number[], now: number): Promise<number> {
  let moved = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const n = await trx('commissions')
      .whereIn('id', ids.slice(i, i + 500))
      .where('status', 'approved')
      .whereNull('batch_id')
      .update({ batch_id: batchId, updated_at: now });
    moved += Number(n);
  }
  return moved;
}

/** The ids of these batches that are still open (not paid), read with a lock on them. */
export async function openBatchIds(trx: Knex, ids: number[]): Promise<Set<number>> {
  if (!ids.length) return new Set();
  const q = trx('payout_batches').select('id').whereIn('id', ids).where('status', 'open');
  const rows = (await dialectHelper(trx).lockRows(q)) as Array<{ id: number | string }>;
  return new Set(rows.map((r) => Number(r.id)));
}

/**
 * Takes a commission that stopped counting (reversed by a refund) out of its open batch: the
 * affiliate's line and the batch's totals drop by it. If what is left of the affiliate's line no
 * longer reaches the batch's minimum (or nothing is left), the affiliate leaves the batch: its
 * other commissions wait for a later one, as when the batch was made.
 */
export async function takeOutOfOpenBatch(
  trx: Knex,
  batchId: number,
  c: { id: number; affiliate_id: number; amount: number },
  now: number,
): Promise<void> {
  await trx('commissions').where({ id: c.id, batch_id: batchId }).update({ batch_id: null, updated_at: now });
  const batch = (await trx('payout_batches').where({ id: batchId }).first()) as PayoutBatchRow | undefined;
  const line = (await trx('payout_batch_items').where({ batch_id: batchId, affiliate_id: c.affiliate_id }).first()) as
    { amount: number | string; commissions: number | string } | undefined;
  if (!batch || !line) return;
  const left = Number(line.amount) - Number(c.amount);
  const count = Number(line.commissions) - 1;
  if (count <= 0 || left <= 0 || left < Number(batch.minimum)) {
    const released = Number(
      await trx('commissions')
        .where({ batch_id: batchId, affiliate_id: c.affiliate_id })
        .update({ batch_id: null, updated_at: now }),
    );
    await trx('payout_batch_items').where({ batch_id: batchId, affiliate_id: c.affiliate_id }).delete();
    await trx('payout_batches')
      .where({ id: batchId })
      .update({
        total: Number(batch.total) - Number(line.amount),
        affiliates: Number(batch.affiliates) - 1,
        commissions: Number(batch.commissions) - 1 - released,
        updated_at: now,
      });
    return;
  }
  await trx('payout_batch_items')
    .where({ batch_id: batchId, affiliate_id: c.affiliate_id })
    .update({ amount: left, commissions: count });
  await trx('payout_batches')
    .where({ id: batchId })
    .update({
      total: Number(batch.total) - Number(c.amount),
      commissions: Number(batch.commissions) - 1,
      updated_at: now,
    });
}

export async function releaseCommissions(trx: Knex, batchId: number, now: number): Promise<number> {
  return Number(await trx('commissions').where({ batch_id: batchId }).update({ batch_id: null, updated_at: now }));
}

export async function commissionIdsOfBatch(
  db: Knex,
  batchId: number,
  status?: string,
): Promise<Array<{ id: number; affiliateId: number }>> {
  const q = db('commissions').select('id', 'affiliate_id').where({ batch_id: batchId }).orderBy('id');
  if (status) q.where('status', status);
  const rows = (await q) as Array<{ id: number | string; affiliate_id: number }>;
  return rows.map((r) => ({ id: Number(r.id), affiliateId: Number(r.affiliate_id) }));
}

/** Marks the batch's approved commissions paid; answers how many. */
export async function payCommissions(trx: Knex, batchId: number, now: number): Promise<number> {
  return Number(
    await trx('commissions')
      .where({ batch_id: batchId, status: 'approved' })
      .update({ status: 'paid', updated_at: now }),
  );
}

export async function getBatch(db: Knex, id: number, lock = false): Promise<PayoutBatch | null> {
  const q = db('payout_batches').where({ id });
  if (lock) q.forUpdate();
  const row = (await q.first()) as (PayoutBatchRow & { id: number }) | undefined;
  return row ? toPayoutBatch(row) : null;
}

/** Changes the batch's status only from `from`; answers whether it changed. */
export async function setBatchStatus(
  trx: Knex,
  id: number,
  from: PayoutBatchStatus,
  patch: Partial<PayoutBatchRow>,
): Promise<boolean> {
  return Number(await trx('payout_batches').where({ id, status: from }).update(patch)) > 0;
}

export async function deleteBatch(trx: Knex, id: number): Promise<void> {
  await trx('payout_batch_items').where({ batch_id: id }).delete();
  await trx('payout_batches').where({ id }).delete();
}

export async function listBatches(
  db: Knex,
  f: { status?: PayoutBatchStatus },
  page: PageQuery,
): Promise<Page<PayoutBatch>> {
  const q = db('payout_batches').select('*');
  if (f.status) q.where('status', f.status);
  return paginate<PayoutBatchRow & { id: number }, PayoutBatch>(q, page, toPayoutBatch);
}

/** The batch's lines with each affiliate's contact, largest amount first. */
export async function batchLines(db: Knex, batchId: number): Promise<PayoutLine[]> {
  const rows = (await db('payout_batch_items as i')
    .join('affiliates as a', 'a.id', 'i.affiliate_id')
    .where('i.batch_id', batchId)
    .select(
      'i.affiliate_id',
      'i.amount',
      'i.commissions',
      'a.ref_id',
      'a.name',
      'a.email',
      'a.payout_method',
      'a.payout_details',
    )
    .orderBy([
      { column: 'i.amount', order: 'desc' },
      { column: 'i.affiliate_id', order: 'asc' },
    ])) as Array<{
    affiliate_id: number;
    amount: number | string;
    commissions: number;
    ref_id: string;
    name: string;
    email: string;
    payout_method: PayoutMethod | null;
    payout_details: string | null;
  }>;
  return rows.map((r) => ({
    affiliateId: Number(r.affiliate_id),
    refId: r.ref_id,
    name: r.name,
    email: r.email,
    amount: asUnits(Number(r.amount)),
    commissions: Number(r.commissions),
    payoutMethod: r.payout_method ?? null,
    payoutDetails: r.payout_details ? (JSON.parse(r.payout_details) as PayoutDetails) : null,
  }));
}
