import type { Knex } from 'knex';
import { TRAFFIC_COUNTERS, countSums, exactSum, exactSums } from './daily-stats.js';

/*
 * The reads of reports (SPEC §9, §15): the rollups summed by the grouping's columns, and the raw
 * campaign-URL clicks and conversions for groupings no rollup holds. Filters are plain values;
 * a null campaign list means every campaign.
 */

/** A count summed by countSums. */
const count = (row: Record<string, unknown>, alias: string) => Number(exactSum(row, alias));

/** The grouping columns of a summed row, as the database gave them. */
const keysOf = (row: Record<string, unknown>, columns: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(columns.map((c) => [c, row[c]]));

export interface DailyReportFilters {
  /** Group by these `daily_stats` columns (none: one row of totals). */
  columns: string[];
  /** Report days, inclusive. */
  from: string;
  to: string;
  campaignIds: number[] | null;
  affiliateId?: number;
  bannerId?: number;
}

export interface DailyReportRow {
  keys: Record<string, unknown>;
  clicks: number;
  uniqueClicks: number;
  impressions: number;
  conversions: number;
  sales: number;
  revenue: bigint;
  cost: bigint;
  commissions: bigint;
}

/** `daily_stats` summed by the grouping's columns. */
export async function dailyReportRows(db: Knex, f: DailyReportFilters): Promise<DailyReportRow[]> {
  const query = db('daily_stats')
    .whereBetween('day', [f.from, f.to])
    .select(
      ...f.columns,
      ...countSums(db, {
        clicks: 'clicks',
        unique_clicks: 'unique_clicks',
        impressions: 'impressions',
        conversions: 'conversions',
        sales: 'sales',
      }),
      ...exactSums(db, { revenue: 'revenue', cost: 'cost', commissions: 'commissions' }),
    );
  if (f.columns.length) query.groupBy(f.columns);
  if (f.campaignIds) query.whereIn('campaign_id', f.campaignIds);
  if (f.affiliateId !== undefined) query.where('affiliate_id', f.affiliateId);
  if (f.bannerId !== undefined) query.where('banner_id', f.bannerId);
  return ((await query) as Array<Record<string, unknown>>).map((r) => ({
    keys: keysOf(r, f.columns),
    clicks: count(r, 'clicks'),
    uniqueClicks: count(r, 'unique_clicks'),
    impressions: count(r, 'impressions'),
    conversions: count(r, 'conversions'),
    sales: count(r, 'sales'),
    revenue: exactSum(r, 'revenue'),
    cost: exactSum(r, 'cost'),
    commissions: exactSum(r, 'commissions'),
  }));
}

export interface CommissionReportFilters {
  /** Group by these `commissions` columns besides the status. */
  columns: string[];
  /** Report days of the commissions, inclusive. */
  from: string;
  to: string;
  campaignIds: number[] | null;
  affiliateId?: number;
}

/** Pending and approved commission amounts by the grouping's columns and status. */
export async function commissionReportRows(
  db: Knex,
  f: CommissionReportFilters,
): Promise<Array<{ keys: Record<string, unknown>; status: 'pending' | 'approved'; total: bigint }>> {
  const query = db('commissions')
    .whereBetween('day', [f.from, f.to])
    .whereIn('status', ['pending', 'approved'])
    .select(...f.columns, 'status', ...exactSums(db, { total: 'amount' }))
    .groupBy(...f.columns, 'status');
  if (f.campaignIds) query.whereIn('campaign_id', f.campaignIds);
  if (f.affiliateId !== undefined) query.where('affiliate_id', f.affiliateId);
  return ((await query) as Array<Record<string, unknown>>).map((r) => ({
    keys: keysOf(r, f.columns),
    status: r.status === 'pending' ? 'pending' : 'approved',
    total: exactSum(r, 'total'),
  }));
}

export interface SaleFactFilters {
  /** The sale column of the fact: `coupon` or `product_id`. */
  column: 'coupon' | 'product_id';
  /** Instants (ms), inclusive. */
  start: number;
  end: number;
  campaignIds: number[] | null;
  affiliateId?: number;
  bannerId?: number;
  /** Only sales with this fact value. */
  value?: string;
}

export interface SaleFactRow {
  at: number | string;
  campaign_id: number;
  affiliate_id: number | null;
  banner_id: number | null;
  kind: string;
  status: string;
  source: string;
  total_cost_base: number | string | null;
  fact: string;
}

/** The snippet and API sales not declined that carry the fact (a coupon or a product). */
export async function saleFactRows(db: Knex, f: SaleFactFilters): Promise<SaleFactRow[]> {
  const query = db('sales')
    .whereBetween('at', [f.start, f.end])
    .whereNot('source', 'postback')
    .whereNot('status', 'declined')
    .whereNotNull(f.column)
    .whereNot(f.column, '')
    .select('at', 'campaign_id', 'affiliate_id', 'banner_id', 'kind', 'status', 'source', 'total_cost_base', {
      fact: f.column,
    });
  if (f.campaignIds) query.whereIn('campaign_id', f.campaignIds);
  if (f.affiliateId !== undefined) query.where('affiliate_id', f.affiliateId);
  if (f.bannerId !== undefined) query.where('banner_id', f.bannerId);
  if (f.value !== undefined) query.where(f.column, f.value);
  return (await query) as SaleFactRow[];
}

/**
 * The campaign-URL rollup by dimension value: by day, or by month (`day` is the month's first
 * day), or by day over every campaign and flow (`dimension_value_stats`: no campaign_id or
 * flow_id columns, landing and offer values as "flowId:index").
 */
export type DimensionTable =
  'dimension_stats' | 'dimension_stats_monthly' | 'dimension_value_stats' | 'dimension_value_stats_monthly';

export interface DimensionReportFilters {
  /** Group by `dimension` and these columns. */
  columns: string[];
  /** Rollup days, inclusive. */
  from: string;
  to: string;
  /** Rows of these dimensions (`*`: the totals). */
  dimensions: string[];
  /** Only this value (of the one dimension), within this flow for landings and offers. */
  value?: string;
  valueFlowId?: number;
  campaignIds: number[] | null;
  flowId?: number;
  /**
   * Only rows with a figure that is not zero, and each result row also counts its distinct
   * values (`values`): how many answer rows a grouping by `columns` and value would have.
   */
  countValues?: boolean;
}

export interface DimensionReportRow {
  dimension: string;
  /** The row as the database gave it: the grouping's columns (and the sums as selected). */
  keys: Record<string, unknown>;
  clicks: number;
  uniqueClicks: number;
  conversions: number;
  sales: number;
  revenue: bigint;
  cost: bigint;
  /** With `countValues`: the distinct values with figures summed into this row. */
  values?: number;
}

/** A dimension rollup summed by dimension and the grouping's columns. */
export async function dimensionReportRows(
  db: Knex,
  table: DimensionTable,
  f: DimensionReportFilters,
): Promise<DimensionReportRow[]> {
  const query = db(table)
    .whereBetween('day', [f.from, f.to])
    .select(
      'dimension',
      ...f.columns,
      ...countSums(db, {
        clicks: 'clicks',
        unique_clicks: 'unique_clicks',
        conversions: 'conversions',
        sales: 'sales',
      }),
      ...exactSums(db, { revenue: 'revenue', cost: 'cost' }),
    )
    .groupBy('dimension', ...f.columns);
  if (f.dimensions.length === 1) query.where('dimension', f.dimensions[0]!);
  else query.whereIn('dimension', f.dimensions);
  if (f.valueFlowId !== undefined) query.where('flow_id', f.valueFlowId);
  if (f.value !== undefined) query.where('value', f.value);
  if (f.campaignIds) query.whereIn('campaign_id', f.campaignIds);
  if (f.flowId !== undefined) query.where('flow_id', f.flowId);
  if (f.countValues) {
    // A value has parts past the first only when the first is full (see addCounters), so its
    // figures sum to zero exactly when every part's do.
    query.where((w) => {
      for (const c of TRAFFIC_COUNTERS) w.orWhere(c, '<>', 0);
    });
    query.select(db.raw('COUNT(DISTINCT ??) AS ??', ['value', 'value_count']));
  }
  // Day-keyed reports read hundreds of thousands of rows: each is read once, without copies.
  const rows = (await query) as Array<Record<string, unknown>>;
  const out: DimensionReportRow[] = new Array<DimensionReportRow>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out[i] = {
      dimension: String(r.dimension),
      keys: r,
      clicks: Number(r.clicks__r ?? 0),
      uniqueClicks: Number(r.unique_clicks__r ?? 0),
      conversions: Number(r.conversions__r ?? 0),
      sales: Number(r.sales__r ?? 0),
      revenue: splitSum(r.revenue__q, r.revenue__r),
      cost: splitSum(r.cost__q, r.cost__r),
      ...(f.countValues ? { values: Number(r.value_count ?? 0) } : {}),
    };
  }
  return out;
}

/**
 * A sum selected by `exactSums` (quotient and remainder by 10^9) as exactUnits gives it: as a
 * number while the whole is a safe integer (one BigInt made), else exactly from its parts.
 */
function splitSum(q: unknown, r: unknown): bigint {
  if (typeof q === 'number' && typeof r === 'number' && q < 9e6 && q > -9e6) {
    const whole = q * 1e9 + r;
    if (Number.isSafeInteger(whole)) return BigInt(whole);
  }
  return exactSum({ s__q: q, s__r: r }, 's');
}

/** The click columns a raw report reads (its dimensions and figures). */
const RAW_CLICK_COLUMNS = [
  'click_id',
  'at',
  'campaign_id',
  'affiliate_id',
  'banner_id',
  'flow_id',
  'landing_index',
  'offer_index',
  'source_id',
  'country',
  'device',
  'os',
  'browser',
  'language',
  'sub_ids',
  'referrer',
  'external_id',
  'status',
  'cost',
];

export interface RawReportFilters {
  /** Instants (ms), inclusive. */
  start: number;
  end: number;
  campaignIds: number[] | null;
}

/** The campaign-URL clicks of the period, with their dimensions, status and cost. */
export async function rawReportClicks(db: Knex, f: RawReportFilters): Promise<Array<Record<string, unknown>>> {
  const query = db('clicks').whereBetween('at', [f.start, f.end]).whereNotNull('flow_id').select(RAW_CLICK_COLUMNS);
  if (f.campaignIds) query.whereIn('campaign_id', f.campaignIds);
  return (await query) as Array<Record<string, unknown>>;
}

/**
 * The postback conversions that arrived in the period, each with its click's dimensions, `at` the
 * conversion's arrival, and `conversion_status`, `revenue_base`, `conversion_cost`.
 */
export async function rawReportConversions(db: Knex, f: RawReportFilters): Promise<Array<Record<string, unknown>>> {
  const query = db('conversions as v')
    .join('clicks as c', 'c.click_id', 'v.click_id')
    .whereBetween('v.created_at', [f.start, f.end])
    .select(...RAW_CLICK_COLUMNS.filter((c) => c !== 'at' && c !== 'status' && c !== 'cost').map((c) => `c.${c}`), {
      at: 'v.created_at',
      conversion_status: 'v.status',
      revenue_base: 'v.revenue_base',
      conversion_cost: 'v.cost',
    });
  if (f.campaignIds) query.whereIn('v.campaign_id', f.campaignIds);
  return (await query) as Array<Record<string, unknown>>;
}
