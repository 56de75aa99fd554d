import type { Knex } from 'knex';
import { dialectHelper, type Cell } from '../db/index.js';
import { parseJson, toIso, paginate, eachRow, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';
import { asUnits, type Units } from '../domain/money.js';

export type CommissionStatus = 'pending' | 'approved' | 'declined' | 'paid' | 'reversed';
export type CommissionKind = 'sale' | 'action' | 'click' | 'impression' | 'refund' | 'chargeback';

export interface CommissionRow {
  created_at: number;
  updated_at: number;
  kind: CommissionKind;
  sale_id: number | null;
  campaign_id: number;
  affiliate_id: number;
  payout_id: number | null;
  tier: number;
  status: CommissionStatus;
  status_reason: string | null;
  amount: number;
  merchant_amount: number;
  currency: string;
  basis: number | null;
  rate_unit: string | null;
  rate_value: number | null;
  quantity: number;
  day: string | null;
  aggregate_key: string | null;
  parent_id: number | null;
  batch_id: number | null;
  detail: string;
}

export interface Commission {
  id: number;
  createdAt: string | null;
  updatedAt: string | null;
  kind: CommissionKind;
  saleId: number | null;
  campaignId: number;
  affiliateId: number;
  payoutId: number | null;
  tier: number;
  status: CommissionStatus;
  statusReason: string | null;
  amount: Units;
  merchantAmount: Units;
  currency: string;
  basis: Units | null;
  rate: { value: Units; unit: string } | null;
  quantity: number;
  day: string | null;
  parentId: number | null;
  batchId: number | null;
  detail: Record<string, unknown>;
}

export const toCommission = (r: CommissionRow & { id: number | string }): Commission => ({
  id: Number(r.id),
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
  kind: r.kind,
  saleId: r.sale_id === null ? null : Number(r.sale_id),
  campaignId: r.campaign_id,
  affiliateId: r.affiliate_id,
  payoutId: r.payout_id,
  tier: r.tier,
  status: r.status,
  statusReason: r.status_reason,
  amount: asUnits(Number(r.amount)),
  merchantAmount: asUnits(Number(r.merchant_amount)),
  currency: r.currency,
  basis: r.basis === null ? null : asUnits(Number(r.basis)),
  rate:
    r.rate_unit === null || r.rate_value === null ? null : { value: asUnits(Number(r.rate_value)), unit: r.rate_unit },
  quantity: Number(r.quantity),
  day: r.day,
  parentId: r.parent_id === null ? null : Number(r.parent_id),
  batchId: r.batch_id === null ? null : Number(r.batch_id),
  detail: parseJson<Record<string, unknown>>(r.detail, {}),
});

export async function insertCommission(db: Knex, row: CommissionRow): Promise<number> {
  return dialectHelper(db).insertOne(db, 'commissions', row as unknown as Record<string, Cell>);
}

/** Inserts commissions (all or none) and answers their ids in order. */
export async function insertCommissions(trx: Knex.Transaction, rows: CommissionRow[]): Promise<number[]> {
  return dialectHelper(trx).insertMany(trx, 'commissions', rows as unknown as Array<Record<string, Cell>>);
}

/** Whether any commission was paid by this payout (its history: the payout is archived, not deleted). */
export async function payoutHasCommissions(db: Knex, payoutId: number): Promise<boolean> {
  return Boolean(await db('commissions').where({ payout_id: payoutId }).first('id'));
}

export async function getCommission(db: Knex, id: number): Promise<Commission | null> {
  const row = (await db('commissions').where({ id }).first()) as (CommissionRow & { id: number }) | undefined;
  return row ? toCommission(row) : null;
}

export async function commissionsOfSale(db: Knex, saleId: number): Promise<Commission[]> {
  const rows = (await db('commissions').where({ sale_id: saleId }).orderBy('id')) as Array<
    CommissionRow & { id: number }
  >;
  return rows.map(toCommission);
}

export interface CommissionFilters {
  status?: CommissionStatus;
  kind?: CommissionKind;
  campaignId?: number;
  affiliateId?: number;
  saleId?: number;
  batchId?: number;
  from?: number;
  to?: number;
}

function filtered(db: Knex, f: CommissionFilters): Knex.QueryBuilder {
  const q = db('commissions');
  if (f.status) q.where('status', f.status);
  if (f.kind) q.where('kind', f.kind);
  if (f.campaignId) q.where('campaign_id', f.campaignId);
  if (f.affiliateId) q.where('affiliate_id', f.affiliateId);
  if (f.saleId) q.where('sale_id', f.saleId);
  if (f.batchId) q.where('batch_id', f.batchId);
  if (f.from !== undefined) q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q.where('created_at', '<', f.to);
  return q;
}

/** Every commission matching the filters, newest first, read in batches (CSV export). */
export function eachCommission(db: Knex, f: CommissionFilters): AsyncGenerator<Commission> {
  return eachRow<CommissionRow & { id: number }, Commission>(filtered(db, f).select('*'), toCommission);
}

/** The ids of the pending commissions matching the filters ("select all matching"), oldest first. */
export async function pendingCommissionIds(db: Knex, f: CommissionFilters): Promise<number[]> {
  const rows = (await filtered(db, { ...f, status: 'pending' })
    .orderBy('id')
    .pluck('id')) as Array<number | string>;
  return rows.map(Number);
}

export async function listCommissions(db: Knex, f: CommissionFilters, page: PageQuery): Promise<Page<Commission>> {
  return paginate<CommissionRow & { id: number }, Commission>(filtered(db, f).select('*'), page, toCommission);
}

/** Totals per status of the filtered commissions, in units. */
export async function commissionTotals(
  db: Knex,
  f: CommissionFilters,
): Promise<Record<string, { count: number; amount: Units }>> {
  const rows = (await filtered(db, { ...f, status: undefined })
    .modify((q) => {
      if (f.status) q.where('status', f.status);
    })
    .select('status')
    .count({ n: '*' })
    .sum({ total: 'amount' })
    .groupBy('status')) as Array<{ status: string; n: number | string; total: number | string | null }>;
  const out: Record<string, { count: number; amount: Units }> = {};
  for (const r of rows) out[r.status] = { count: Number(r.n), amount: asUnits(Number(r.total ?? 0)) };
  return out;
}

/** The open PPC/CPM accumulator row of an affiliate, campaign, payout and day, if any. */
export async function openTrafficCommission(
  db: Knex,
  aggregateKey: string,
): Promise<{ id: number; quantity: number } | null> {
  return (
    ((await dialectHelper(db)
      .lockRows(db('commissions').where({ aggregate_key: aggregateKey }))
      .first('id', 'quantity')) as { id: number; quantity: number } | undefined) ?? null
  );
}

/** Sets an accumulator row's count and amounts; `close` ends it (the rest goes to a new row). */
export async function updateTrafficCommission(
  db: Knex,
  id: number,
  cols: { quantity: number; amount: number; merchant_amount: number; updated_at: number },
  close: boolean,
): Promise<void> {
  await db('commissions')
    .where({ id })
    .update({ ...cols, ...(close ? { aggregate_key: null } : {}) });
}
