import type { Knex } from 'knex';
import { dialectHelper, type Cell } from '../db/index.js';
import { parseJson, toIso, paginate, eachRow, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';
import { asUnits, type Units } from '../domain/money.js';
import { explainTrace, type MatchTrace } from '../domain/matching.js';
import {
  saleStatusOf,
  type CurrentSaleStatus,
  type RecordedSaleStatus,
  type SaleCommissionFacts,
} from '../domain/sale-status.js';

/** The status a sale is recorded with; its status later follows its commissions (`current_status`). */
export type SaleStatus = RecordedSaleStatus;

export interface SaleRow {
  at: number;
  kind: 'sale' | 'action';
  action_code: string | null;
  order_id: string | null;
  order_key: string | null;
  campaign_id: number;
  affiliate_id: number | null;
  banner_id: number | null;
  status: SaleStatus;
  /** The sale's status from its commissions (domain/sale-status.ts), kept up to date on every change. */
  current_status: CurrentSaleStatus;
  decline_reason: string | null;
  matched_by: string;
  total_cost: number | null;
  fixed_cost: string | null;
  currency: string;
  total_cost_base: number | null;
  exchange_rate: number;
  product_id: string | null;
  coupon: string | null;
  channel: string | null;
  customer_id: string | null;
  visitor_id: string | null;
  /** The store's subscription (SPEC §14); absent in rows written before it existed. */
  subscription_id?: string | null;
  data: string;
  items: string;
  ip: string | null;
  source: string;
  duplicate_of: number | null;
  trace: string;
}

export interface Sale {
  id: number;
  at: string | null;
  kind: 'sale' | 'action';
  actionCode: string | null;
  orderId: string | null;
  campaignId: number;
  affiliateId: number | null;
  bannerId: number | null;
  /** From its commissions (README "Sale status"). */
  status: CurrentSaleStatus;
  /** As recorded: a sale recorded `declined` counts no revenue; any other does, whatever its commissions became. */
  recordedStatus: SaleStatus;
  declineReason: string | null;
  matchedBy: string;
  totalCost: Units | null;
  fixedCost: string | null;
  currency: string;
  totalCostBase: Units | null;
  exchangeRate: Units;
  productId: string | null;
  coupon: string | null;
  channel: string | null;
  customerId: string | null;
  visitorId: string | null;
  subscriptionId: string | null;
  data: Record<string, string>;
  items: Array<{ productId: string; category?: string; totalCost: Units; quantity?: number }>;
  source: string;
  duplicateOf: number | null;
  trace: MatchTrace | null;
  explanation: string[];
}

export const toSale = (r: SaleRow & { id: number }): Sale => {
  const trace = parseJson<MatchTrace | null>(r.trace, null);
  return {
    id: Number(r.id),
    at: toIso(r.at),
    kind: r.kind,
    actionCode: r.action_code,
    orderId: r.order_id,
    campaignId: r.campaign_id,
    affiliateId: r.affiliate_id,
    bannerId: r.banner_id,
    status: r.current_status,
    recordedStatus: r.status,
    declineReason: r.decline_reason,
    matchedBy: r.matched_by,
    totalCost: r.total_cost === null ? null : asUnits(Number(r.total_cost)),
    fixedCost: r.fixed_cost,
    currency: r.currency,
    totalCostBase: r.total_cost_base === null ? null : asUnits(Number(r.total_cost_base)),
    exchangeRate: asUnits(Number(r.exchange_rate)),
    productId: r.product_id,
    coupon: r.coupon,
    channel: r.channel,
    customerId: r.customer_id,
    visitorId: r.visitor_id,
    subscriptionId: r.subscription_id ?? null,
    data: parseJson<Record<string, string>>(r.data, {}),
    items: parseJson<Array<Omit<Sale['items'][number], 'totalCost'> & { totalCost: number }>>(r.items, []).map((i) => ({
      ...i,
      totalCost: asUnits(i.totalCost),
    })),
    source: r.source,
    duplicateOf: r.duplicate_of === null ? null : Number(r.duplicate_of),
    trace,
    explanation: trace ? explainTrace(trace) : [],
  };
};

export async function insertSale(db: Knex, row: SaleRow): Promise<number> {
  return dialectHelper(db).insertOne(db, 'sales', row as unknown as Record<string, Cell>);
}

/** Inserts sales (all or none) and answers their ids in order. */
export async function insertSaleRows(trx: Knex.Transaction, rows: SaleRow[]): Promise<number[]> {
  return dialectHelper(trx).insertMany(trx, 'sales', rows as unknown as Array<Record<string, Cell>>);
}

export async function findSaleByOrderKey(db: Knex, campaignId: number, orderKey: string): Promise<Sale | null> {
  const row = (await db('sales').where({ campaign_id: campaignId, order_key: orderKey }).first()) as
    (SaleRow & { id: number }) | undefined;
  return row ? toSale(row) : null;
}

export async function getSale(db: Knex, id: number): Promise<Sale | null> {
  const row = (await db('sales').where({ id }).first()) as (SaleRow & { id: number }) | undefined;
  return row ? toSale(row) : null;
}

export interface SaleFilters {
  campaignId?: number;
  affiliateId?: number;
  status?: CurrentSaleStatus;
  kind?: 'sale' | 'action';
  orderId?: string;
  matchedBy?: string;
  from?: number;
  to?: number;
}

export async function listSales(db: Knex, f: SaleFilters, page: PageQuery): Promise<Page<Sale>> {
  return paginate<SaleRow & { id: number }, Sale>(salesQuery(db, f), page, toSale);
}

/** Every sale matching the filters, newest first, read in batches (CSV export). */
export function eachSale(db: Knex, f: SaleFilters): AsyncGenerator<Sale> {
  return eachRow<SaleRow & { id: number }, Sale>(salesQuery(db, f), toSale);
}

function salesQuery(db: Knex, f: SaleFilters): Knex.QueryBuilder {
  const q = db('sales').select('*');
  if (f.campaignId) q.where('campaign_id', f.campaignId);
  if (f.affiliateId) q.where('affiliate_id', f.affiliateId);
  if (f.status) q.where('current_status', f.status);
  if (f.kind) q.where('kind', f.kind);
  if (f.orderId) q.where('order_id', f.orderId);
  if (f.matchedBy) q.where('matched_by', f.matchedBy);
  if (f.from !== undefined) q.where('at', '>=', f.from);
  if (f.to !== undefined) q.where('at', '<', f.to);
  return q;
}

/**
 * Locks the sales of these commissions (FOR UPDATE, in id order) and answers their ids. Every
 * change of existing commissions locks their sales first, as a refund does, so that two changes
 * of one sale never wait for each other's commissions (and the sale's status is set in the same
 * transaction as the change).
 */
export async function lockSalesOfCommissions(trx: Knex, commissionIds: number[]): Promise<number[]> {
  const saleIds = new Set<number>();
  for (let i = 0; i < commissionIds.length; i += 500) {
    // sale_id never changes: a plain read is enough to learn which sales to lock.
    const rows = (await trx('commissions')
      .whereIn('id', commissionIds.slice(i, i + 500))
      .whereNotNull('sale_id')
      .distinct('sale_id')) as Array<{ sale_id: number | string }>;
    for (const r of rows) saleIds.add(Number(r.sale_id));
  }
  const ids = [...saleIds].sort((a, b) => a - b);
  for (let i = 0; i < ids.length; i += 500)
    await trx('sales')
      .whereIn('id', ids.slice(i, i + 500))
      .orderBy('id')
      .forUpdate()
      .select('id');
  return ids;
}

/**
 * Sets each sale's `current_status` from its commissions as they are now in `trx`; the sales
 * must be locked by it. Locking reads: they see what other transactions committed after this one
 * began (a plain read on MySQL could show an older snapshot and write a stale status).
 */
export async function refreshSaleStatuses(trx: Knex, saleIds: number[]): Promise<void> {
  const ids = [...new Set(saleIds)];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const sales = (await trx('sales')
      .whereIn('id', chunk)
      .forUpdate()
      .select('id', 'status', 'current_status')) as Array<{
      id: number | string;
      status: SaleStatus;
      current_status: CurrentSaleStatus;
    }>;
    const rows = (await trx('commissions')
      .whereIn('sale_id', chunk)
      .forShare()
      .select('id', 'sale_id', 'parent_id', 'status', 'amount')) as Array<{
      id: number | string;
      sale_id: number | string;
      parent_id: number | string | null;
      status: SaleCommissionFacts['status'];
      amount: number | string;
    }>;
    const bySale = new Map<number, SaleCommissionFacts[]>();
    for (const r of rows) {
      const list = bySale.get(Number(r.sale_id)) ?? [];
      list.push({
        id: Number(r.id),
        parentId: r.parent_id === null ? null : Number(r.parent_id),
        status: r.status,
        amount: Number(r.amount),
      });
      bySale.set(Number(r.sale_id), list);
    }
    const changes = new Map<CurrentSaleStatus, number[]>();
    for (const sale of sales) {
      const next = saleStatusOf(sale.status, bySale.get(Number(sale.id)) ?? []);
      if (next !== sale.current_status) changes.set(next, [...(changes.get(next) ?? []), Number(sale.id)]);
    }
    for (const [status, changed] of changes)
      await trx('sales').whereIn('id', changed).update({ current_status: status });
  }
}
