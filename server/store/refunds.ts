import type { Knex } from 'knex';
import { toIso } from './rows.js';
import { add, asUnits, type Units } from '../domain/money.js';

export type RefundType = 'refund' | 'chargeback';

export interface RefundRow {
  created_at: number;
  sale_id: number;
  type: RefundType;
  amount: number;
  amount_base: number;
  actor: string;
}

export interface Refund {
  id: number;
  createdAt: string | null;
  saleId: number;
  type: RefundType;
  /** In the sale's currency. */
  amount: Units;
  /** Converted to the base currency with the sale's exchange rate. */
  amountBase: Units;
  actor: string;
}

const toRefund = (r: RefundRow & { id: number }): Refund => ({
  id: Number(r.id),
  createdAt: toIso(r.created_at),
  saleId: Number(r.sale_id),
  type: r.type,
  amount: asUnits(Number(r.amount)),
  amountBase: asUnits(Number(r.amount_base)),
  actor: r.actor,
});

/** What a refund needs of a sale, with amounts in units. */
export interface RefundableSale {
  id: number;
  kind: 'sale' | 'action';
  orderId: string | null;
  campaignId: number;
  affiliateId: number | null;
  bannerId: number | null;
  status: string;
  totalCost: Units | null;
  currency: string;
  exchangeRate: Units;
  refunded: Units;
}

interface SaleFacts {
  id: number;
  kind: 'sale' | 'action';
  order_id: string | null;
  campaign_id: number;
  affiliate_id: number | null;
  banner_id: number | null;
  status: string;
  total_cost: number | string | null;
  currency: string;
  exchange_rate: number | string;
  refunded: number | string;
}

const SALE_COLUMNS = [
  'id',
  'kind',
  'order_id',
  'campaign_id',
  'affiliate_id',
  'banner_id',
  'status',
  'total_cost',
  'currency',
  'exchange_rate',
  'refunded',
];

const toRefundable = (r: SaleFacts): RefundableSale => ({
  id: Number(r.id),
  kind: r.kind,
  orderId: r.order_id,
  campaignId: Number(r.campaign_id),
  affiliateId: r.affiliate_id === null ? null : Number(r.affiliate_id),
  bannerId: r.banner_id === null ? null : Number(r.banner_id),
  status: r.status,
  totalCost: r.total_cost === null ? null : asUnits(Number(r.total_cost)),
  currency: r.currency,
  exchangeRate: asUnits(Number(r.exchange_rate)),
  refunded: asUnits(Number(r.refunded)),
});

/** Sales (not actions, not declined duplicate copies) recorded with this order id, at most `limit`. */
export async function salesWithOrderId(
  db: Knex,
  orderId: string,
  campaignId: number | undefined,
  limit = 20,
): Promise<RefundableSale[]> {
  const q = db('sales').select(SALE_COLUMNS).where({ order_id: orderId, kind: 'sale' }).whereNull('duplicate_of');
  if (campaignId !== undefined) q.where('campaign_id', campaignId);
  const rows = (await q.orderBy('id').limit(limit)) as SaleFacts[];
  return rows.map(toRefundable);
}

export async function refundableSale(db: Knex, id: number): Promise<RefundableSale | null> {
  const row = (await db('sales').select(SALE_COLUMNS).where({ id }).first()) as SaleFacts | undefined;
  return row ? toRefundable(row) : null;
}

/** The sale, locked for the refund's transaction. */
export async function lockSale(trx: Knex, id: number): Promise<RefundableSale | null> {
  const row = (await trx('sales').select(SALE_COLUMNS).where({ id }).forUpdate().first()) as SaleFacts | undefined;
  return row ? toRefundable(row) : null;
}

/** Adds to `sales.refunded` only if nobody else did meanwhile; answers whether it did. */
export async function addRefunded(trx: Knex, saleId: number, before: Units, amount: Units): Promise<boolean> {
  const changed = await trx('sales')
    .where({ id: saleId, refunded: before })
    .update({ refunded: add(before, amount) });
  return Number(changed) > 0;
}

export async function insertRefund(trx: Knex, row: RefundRow): Promise<number> {
  const [id] = await trx('refunds').insert(row);
  return Number(id);
}

export async function countRefunds(trx: Knex, saleId: number): Promise<number> {
  const row = (await trx('refunds').where({ sale_id: saleId }).count({ n: '*' }).first()) as
    { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

export async function refundsOfSale(db: Knex, saleId: number): Promise<Refund[]> {
  const rows = (await db('refunds').where({ sale_id: saleId }).orderBy('id')) as Array<RefundRow & { id: number }>;
  return rows.map(toRefund);
}

/** Has the sale been refunded (or charged back) at least once? */
export async function saleHasRefund(db: Knex, saleId: number): Promise<boolean> {
  return Boolean(await db('refunds').where({ sale_id: saleId }).first('id'));
}
