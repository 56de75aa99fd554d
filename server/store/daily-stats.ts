import type { Knex } from 'knex';
import { dialectHelper } from '../db/index.js';

/**
 * Counters of one day, campaign, affiliate and banner (0 = none), added to the rollup.
 * `conversions`, `sales`, `actions` and `revenue` follow domain/report-figures.ts (every conversion
 * once, whoever recorded it: `conversions` = `sales` + `actions`); `declined_sales` counts declined
 * snippet and API sales and actions.
 */
export interface StatsDelta {
  day: string;
  campaign_id: number;
  affiliate_id: number;
  banner_id: number;
  clicks?: number;
  unique_clicks?: number;
  declined_clicks?: number;
  sales?: number;
  actions?: number;
  declined_sales?: number;
  revenue?: number;
  commissions?: number;
  refunds?: number;
  chargebacks?: number;
  impressions?: number;
  conversions?: number;
  cost?: number;
}

const COUNTERS = [
  'clicks',
  'unique_clicks',
  'declined_clicks',
  'sales',
  'actions',
  'declined_sales',
  'revenue',
  'commissions',
  'refunds',
  'chargebacks',
  'impressions',
  'conversions',
  'cost',
] as const;

/** Adds deltas to `daily_stats`, merging deltas with the same key first (one row each). */
export async function addDailyStats(db: Knex, deltas: StatsDelta[]): Promise<void> {
  if (!deltas.length) return;
  const merged = new Map<string, Record<string, string | number>>();
  for (const d of deltas) {
    const key = `${d.day}|${d.campaign_id}|${d.affiliate_id}|${d.banner_id}`;
    const row = merged.get(key) ?? {
      day: d.day,
      campaign_id: d.campaign_id,
      affiliate_id: d.affiliate_id,
      banner_id: d.banner_id,
      ...Object.fromEntries(COUNTERS.map((c) => [c, 0])),
    };
    for (const c of COUNTERS) row[c] = Number(row[c]) + (d[c] ?? 0);
    merged.set(key, row);
  }
  await dialectHelper(db).upsertIncrement(
    db,
    'daily_stats',
    ['day', 'campaign_id', 'affiliate_id', 'banner_id'],
    // In key order: concurrent writers then lock the rollup rows in one order and cannot deadlock on them.
    [...merged.keys()].sort().map((k) => merged.get(k)!),
    [...COUNTERS],
  );
}

export interface StatsTotals {
  clicks: number;
  uniqueClicks: number;
  declinedClicks: number;
  sales: number;
  actions: number;
  declinedSales: number;
  revenue: number;
}

/** Totals over days `from`..`to` (inclusive, "YYYY-MM-DD"). */
export async function statsTotals(db: Knex, from: string, to: string): Promise<StatsTotals> {
  const row = (await db('daily_stats')
    .whereBetween('day', [from, to])
    .sum({
      clicks: 'clicks',
      uniqueClicks: 'unique_clicks',
      declinedClicks: 'declined_clicks',
      sales: 'sales',
      actions: 'actions',
      declinedSales: 'declined_sales',
      revenue: 'revenue',
    })
    .first()) as Record<keyof StatsTotals, number | string | null> | undefined;
  const n = (v: number | string | null | undefined) => Number(v ?? 0);
  return {
    clicks: n(row?.clicks),
    uniqueClicks: n(row?.uniqueClicks),
    declinedClicks: n(row?.declinedClicks),
    sales: n(row?.sales),
    actions: n(row?.actions),
    declinedSales: n(row?.declinedSales),
    revenue: n(row?.revenue),
  };
}

/** Per-day clicks, sales and revenue for a chart. */
export async function statsByDay(
  db: Knex,
  from: string,
  to: string,
): Promise<Array<{ day: string; clicks: number; sales: number; revenue: number }>> {
  const rows = (await db('daily_stats')
    .whereBetween('day', [from, to])
    .select('day')
    .sum({ clicks: 'clicks', sales: 'sales', revenue: 'revenue' })
    .groupBy('day')
    .orderBy('day')) as Array<{
    day: string;
    clicks: number | string;
    sales: number | string;
    revenue: number | string;
  }>;
  return rows.map((r) => ({
    day: r.day,
    clicks: Number(r.clicks),
    sales: Number(r.sales),
    revenue: Number(r.revenue),
  }));
}

/** A change to the campaign-URL rollup of one day, campaign, flow, landing, offer, source and country. */
export interface TrafficDelta {
  day: string;
  campaign_id: number;
  flow_id: number;
  landing_index: number;
  offer_index: number;
  source_id: number;
  country: string;
  clicks?: number;
  unique_clicks?: number;
  conversions?: number;
  sales?: number;
  revenue?: number;
  cost?: number;
}

const TRAFFIC_KEY = ['day', 'campaign_id', 'flow_id', 'landing_index', 'offer_index', 'source_id', 'country'] as const;
const TRAFFIC_COUNTERS = ['clicks', 'unique_clicks', 'conversions', 'sales', 'revenue', 'cost'] as const;

export async function addTrafficStats(db: Knex, deltas: TrafficDelta[]): Promise<void> {
  if (!deltas.length) return;
  const merged = new Map<string, Record<string, string | number>>();
  for (const d of deltas) {
    const key = TRAFFIC_KEY.map((k) => d[k]).join('|');
    const row = merged.get(key) ?? {
      ...Object.fromEntries(TRAFFIC_KEY.map((k) => [k, d[k]])),
      ...Object.fromEntries(TRAFFIC_COUNTERS.map((c) => [c, 0])),
    };
    for (const c of TRAFFIC_COUNTERS) row[c] = Number(row[c]) + (d[c] ?? 0);
    merged.set(key, row);
  }
  await dialectHelper(db).upsertIncrement(
    db,
    'traffic_stats',
    [...TRAFFIC_KEY],
    [...merged.values()],
    [...TRAFFIC_COUNTERS],
  );
}
