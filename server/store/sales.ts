import type { Knex } from 'knex';
import { dialectHelper, type Cell } from '../db/index.js';
import { parseJson, toIso, paginate, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';
import { fromUnits } from '../domain/money.js';
import { explainTrace, type MatchTrace } from '../domain/matching.js';

export type SaleStatus = 'approved' | 'pending' | 'declined';

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
  status: SaleStatus;
  declineReason: string | null;
  matchedBy: string;
  totalCost: number | null;
  fixedCost: string | null;
  currency: string;
  totalCostBase: number | null;
  exchangeRate: number;
  productId: string | null;
  coupon: string | null;
  channel: string | null;
  customerId: string | null;
  visitorId: string | null;
  data: Record<string, string>;
  items: Array<{ productId: string; category?: string; totalCost: number; quantity?: number }>;
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
    status: r.status,
    declineReason: r.decline_reason,
    matchedBy: r.matched_by,
    totalCost: r.total_cost === null ? null : fromUnits(Number(r.total_cost)),
    fixedCost: r.fixed_cost,
    currency: r.currency,
    totalCostBase: r.total_cost_base === null ? null : fromUnits(Number(r.total_cost_base)),
    exchangeRate: fromUnits(Number(r.exchange_rate)),
    productId: r.product_id,
    coupon: r.coupon,
    channel: r.channel,
    customerId: r.customer_id,
    visitorId: r.visitor_id,
    data: parseJson<Record<string, string>>(r.data, {}),
    items: parseJson<Sale['items']>(r.items, []).map((i) => ({ ...i, totalCost: fromUnits(i.totalCost) })),
    source: r.source,
    duplicateOf: r.duplicate_of === null ? null : Number(r.duplicate_of),
    trace,
    explanation: trace ? explainTrace(trace) : [],
  };
};

export async function insertSale(db: Knex, row: SaleRow): Promise<number> {
  return dialectHelper(db).insertOne(db, 'sales', row as unknown as Record<string, Cell>);
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
  status?: SaleStatus;
  kind?: 'sale' | 'action';
  orderId?: string;
  matchedBy?: string;
  from?: number;
  to?: number;
}

export async function listSales(db: Knex, f: SaleFilters, page: PageQuery): Promise<Page<Sale>> {
  const q = db('sales').select('*');
  if (f.campaignId) q.where('campaign_id', f.campaignId);
  if (f.affiliateId) q.where('affiliate_id', f.affiliateId);
  if (f.status) q.where('status', f.status);
  if (f.kind) q.where('kind', f.kind);
  if (f.orderId) q.where('order_id', f.orderId);
  if (f.matchedBy) q.where('matched_by', f.matchedBy);
  if (f.from !== undefined) q.where('at', '>=', f.from);
  if (f.to !== undefined) q.where('at', '<', f.to);
  return paginate<SaleRow & { id: number }, Sale>(q, page, toSale);
}
