import type { Knex } from 'knex';
import type { PageQuery } from '../validation.js';
import { paginate, type Page } from './rows.js';
import { asUnits, type Units } from '../domain/money.js';

/** A postback conversion as the conversions log shows it (SPEC §7.5, §15). Amounts in units. */
export interface ConversionEntry {
  id: number;
  createdAt: string;
  updatedAt: string;
  clickId: string;
  tid: string | null;
  campaignId: number;
  flowId: number | null;
  landingIndex: number | null;
  offerIndex: number | null;
  sourceId: number | null;
  affiliateId: number | null;
  status: string;
  previousStatus: string | null;
  revenue: Units;
  currency: string;
  revenueBase: Units;
  cost: Units;
  saleId: number | null;
}

export interface ConversionFilters {
  campaignId?: number;
  status?: string;
  /** The click id (`subid`) the conversion was posted back for. */
  subid?: string;
  tid?: string;
  /** Instants (ms), `to` exclusive. */
  from?: number;
  to?: number;
}

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

const toEntry = (r: ConversionRow): ConversionEntry => ({
  id: Number(r.id),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  clickId: r.click_id,
  tid: r.tid,
  campaignId: r.campaign_id,
  flowId: r.flow_id,
  landingIndex: r.landing_index,
  offerIndex: r.offer_index,
  sourceId: r.source_id,
  affiliateId: r.affiliate_id,
  status: r.status,
  previousStatus: r.previous_status,
  revenue: asUnits(Number(r.revenue)),
  currency: r.currency,
  revenueBase: asUnits(Number(r.revenue_base)),
  cost: asUnits(Number(r.cost)),
  saleId: r.sale_id === null ? null : Number(r.sale_id),
});

function filtered(db: Knex, f: ConversionFilters): Knex.QueryBuilder {
  const q = db('conversions').select(
    'id',
    'created_at',
    'updated_at',
    'click_id',
    'tid',
    'campaign_id',
    'flow_id',
    'landing_index',
    'offer_index',
    'source_id',
    'affiliate_id',
    'status',
    'previous_status',
    'revenue',
    'currency',
    'revenue_base',
    'cost',
    'sale_id',
  );
  if (f.campaignId) q.where('campaign_id', f.campaignId);
  if (f.status) q.where('status', f.status);
  if (f.subid) q.where('click_id', f.subid);
  if (f.tid) q.where('tid', f.tid);
  if (f.from !== undefined) q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q.where('created_at', '<', f.to);
  return q;
}

/** The newest first, a page at a time. */
export function listConversions(db: Knex, f: ConversionFilters, page: PageQuery): Promise<Page<ConversionEntry>> {
  return paginate<ConversionRow, ConversionEntry>(filtered(db, f), page, toEntry);
}

/** Every matching conversion, newest first, at most `limit` (CSV export). */
export async function allConversions(db: Knex, f: ConversionFilters, limit: number): Promise<ConversionEntry[]> {
  return ((await filtered(db, f).orderBy('id', 'desc').limit(limit)) as ConversionRow[]).map(toEntry);
}

/** A postback conversion's stored columns (SPEC §7.5). Amounts in units. */
export interface ConversionColumns {
  created_at: number;
  updated_at: number;
  click_id: string;
  tid: string | null;
  campaign_id: number;
  flow_id: number | null;
  landing_index: number | null;
  offer_index: number | null;
  source_id: number | null;
  affiliate_id: number | null;
  status: string;
  previous_status: string | null;
  revenue: number;
  currency: string;
  revenue_base: number;
  cost: number;
  sale_id: number | null;
  params: string;
  dedupe_key: string;
}

/** The columns as the database answers them: ids, instants and amounts may come back as text (BIGINT on MariaDB). */
type ConversionRow = Omit<
  ConversionColumns,
  'params' | 'dedupe_key' | 'created_at' | 'updated_at' | 'revenue' | 'revenue_base' | 'cost' | 'sale_id'
> & {
  id: number | string;
  created_at: number | string;
  updated_at: number | string;
  revenue: number | string;
  revenue_base: number | string;
  cost: number | string;
  sale_id: number | string | null;
};

/** A stored conversion as its postbacks read it. */
export type StoredConversion = ConversionRow & { params: string | null; dedupe_key: string };

/** The conversion stored under any of these dedupe keys (a repeated postback finds it). */
export async function findConversionByDedupeKey(db: Knex, keys: string[]): Promise<StoredConversion | undefined> {
  return (await db('conversions').whereIn('dedupe_key', keys).first()) as StoredConversion | undefined;
}

export async function insertConversion(db: Knex, row: ConversionColumns): Promise<number> {
  const [id] = await db('conversions').insert(row);
  return Number(id);
}

export async function updateConversion(db: Knex, id: number, cols: Partial<ConversionColumns>): Promise<void> {
  await db('conversions').where({ id }).update(cols);
}

/** The sales of a campaign's order that are not declined: what a rejected conversion paid. */
export async function paidSalesOfOrder(db: Knex, campaignId: number, orderId: string): Promise<number[]> {
  const rows = (await db('sales')
    .where({ campaign_id: campaignId, order_id: orderId })
    .whereNot('status', 'declined')
    .select('id')) as Array<{ id: number | string }>;
  return rows.map((r) => Number(r.id));
}
