import type { Knex } from 'knex';
import type { ConfigCache } from './config-cache.js';
import { ExactAmount } from '../domain/money.js';
import { countSums, exactSum, exactSums } from '../store/daily-stats.js';
import { dayIn } from '../domain/time.js';

export const GROUP_BY = [
  'day',
  'campaign',
  'affiliate',
  'banner',
  'flow',
  'landing',
  'offer',
  'source',
  'country',
] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface ReportQuery {
  groupBy: GroupBy;
  /** Report days "YYYY-MM-DD" in the timezone setting, inclusive. */
  from: string;
  to: string;
  campaignId?: number;
  affiliateId?: number;
  bannerId?: number;
  flowId?: number;
  sourceId?: number;
  country?: string;
}

export interface ReportRow {
  key: string | number | null;
  label: string;
  clicks: number;
  uniqueClicks: number;
  impressions: number;
  conversions: number;
  sales: number;
  /** Amounts are exact however large (sums of rollup parts): see ExactAmount. */
  revenue: ExactAmount;
  cost: ExactAmount;
  profit: ExactAmount;
  roi: number | null;
  cr: number | null;
  epc: number | null;
  commissions: ExactAmount;
  commissionsPending: ExactAmount;
  commissionsApproved: ExactAmount;
}

/** Dimensions read from the campaign-URL rollup; the others from the daily rollup. */
const TRAFFIC_DIMENSIONS: ReadonlySet<GroupBy> = new Set(['flow', 'landing', 'offer', 'source', 'country']);

/** Counts as numbers; amounts as exact units. */
interface Raw {
  key: string | number | null;
  clicks: number;
  uniqueClicks: number;
  impressions: number;
  conversions: number;
  sales: number;
  revenue: bigint;
  cost: bigint;
  commissions: bigint;
  pending: bigint;
  approved: bigint;
}

const n = (v: unknown) => Number(v ?? 0);
/** A count summed by countSums. */
const count = (row: Record<string, unknown>, alias: string) => Number(exactSum(row, alias));
const round = (v: number, places = 2) => Math.round(v * 10 ** places) / 10 ** places;

/**
 * Reports (SPEC §9) from the rollups maintained as events are stored (daily_stats,
 * traffic_stats), never from raw clicks, so they answer in constant time per day and key.
 * profit = revenue − cost − commissions; roi = profit ÷ (cost + commissions) × 100;
 * cr = conversions ÷ clicks × 100; epc = revenue ÷ clicks.
 */
export class ReportService {
  constructor(
    private readonly db: Knex,
    private readonly cache: ConfigCache,
    private readonly clock: () => number = Date.now,
  ) {}

  defaultRange(days = 30): { from: string; to: string } {
    const tz = this.cache.peek()?.settings.timezone ?? 'UTC';
    const now = this.clock();
    return { from: dayIn(now - (days - 1) * 86_400_000, tz), to: dayIn(now, tz) };
  }

  async run(q: ReportQuery): Promise<ReportRow[]> {
    const raws = TRAFFIC_DIMENSIONS.has(q.groupBy) ? await this.fromTraffic(q) : await this.fromDaily(q);
    const snap = await this.cache.snapshot();
    const label = (key: Raw['key']): string => {
      if (key === null || key === '' || key === 0 || key === -1) return '(none)';
      switch (q.groupBy) {
        case 'campaign':
          return snap.campaigns.get(Number(key))?.name ?? `#${key}`;
        case 'affiliate':
          return snap.affiliates.get(Number(key))?.name ?? `#${key}`;
        case 'banner':
          return snap.banners.get(Number(key))?.name ?? `#${key}`;
        case 'source':
          return snap.sources.get(Number(key))?.name ?? `#${key}`;
        case 'flow':
          for (const flows of snap.flows.values()) for (const f of flows) if (f.id === Number(key)) return f.name;
          return `#${key}`;
        case 'landing':
        case 'offer':
          return String(key);
        default:
          return String(key);
      }
    };
    return raws.map((r) => {
      const spend = r.cost + r.commissions;
      const profit = r.revenue - spend;
      const money = (units: bigint) => new ExactAmount(units);
      return {
        key: r.key,
        label: label(r.key),
        clicks: r.clicks,
        uniqueClicks: r.uniqueClicks,
        impressions: r.impressions,
        conversions: r.conversions,
        sales: r.sales,
        revenue: money(r.revenue),
        cost: money(r.cost),
        profit: money(profit),
        roi: spend > 0n ? round((Number(profit) / Number(spend)) * 100) : null,
        cr: r.clicks > 0 ? round((r.conversions / r.clicks) * 100) : null,
        epc: r.clicks > 0 ? round(Number(r.revenue) / 10_000 / r.clicks, 4) : null,
        commissions: money(r.commissions),
        commissionsPending: money(r.pending),
        commissionsApproved: money(r.approved),
      };
    });
  }

  private async fromDaily(q: ReportQuery): Promise<Raw[]> {
    const column = { day: 'day', campaign: 'campaign_id', affiliate: 'affiliate_id', banner: 'banner_id' }[
      q.groupBy as 'day'
    ];
    const query = this.db('daily_stats')
      .whereBetween('day', [q.from, q.to])
      .select({ key: column })
      .select(
        ...countSums(this.db, {
          clicks: 'clicks',
          unique_clicks: 'unique_clicks',
          impressions: 'impressions',
          conversions: 'conversions',
          sales: 'sales',
        }),
        ...exactSums(this.db, {
          revenue: 'revenue',
          cost: 'cost',
          commissions: 'commissions',
        }),
      )
      .groupBy(column)
      .orderBy(column);
    if (q.campaignId) query.where('campaign_id', q.campaignId);
    if (q.affiliateId) query.where('affiliate_id', q.affiliateId);
    if (q.bannerId) query.where('banner_id', q.bannerId);
    const rows = (await query) as Array<Record<string, unknown>>;
    const statusTotals = await this.commissionStatusTotals(q, column);
    return rows.map((r) => {
      const key = r.key as string | number;
      const t = statusTotals.get(String(key));
      return {
        key,
        clicks: count(r, 'clicks'),
        uniqueClicks: count(r, 'unique_clicks'),
        impressions: count(r, 'impressions'),
        conversions: count(r, 'conversions'),
        sales: count(r, 'sales'),
        revenue: exactSum(r, 'revenue'),
        cost: exactSum(r, 'cost'),
        commissions: exactSum(r, 'commissions'),
        pending: t?.pending ?? 0n,
        approved: t?.approved ?? 0n,
      };
    });
  }

  /**
   * Pending and approved commission totals by the same key (from the commissions table, by its
   * report day). Commissions are not per banner: like their `commissions` in the daily rollup,
   * they stand under banner 0 ("(none)"), and a banner filter leaves none.
   */
  private async commissionStatusTotals(
    q: ReportQuery,
    column: string,
  ): Promise<Map<string, { pending: bigint; approved: bigint }>> {
    if (q.bannerId) return new Map();
    const key = column === 'banner_id' ? this.db.raw('0') : column;
    const query = this.db('commissions')
      .whereBetween('day', [q.from, q.to])
      .whereIn('status', ['pending', 'approved'])
      .select({ key, status: 'status' })
      .select(exactSums(this.db, { total: 'amount' }))
      .groupBy(...(column === 'banner_id' ? [] : [column]), 'status');
    if (q.campaignId) query.where('campaign_id', q.campaignId);
    if (q.affiliateId) query.where('affiliate_id', q.affiliateId);
    const out = new Map<string, { pending: bigint; approved: bigint }>();
    for (const r of (await query) as Array<Record<string, unknown> & { key: string | number; status: string }>) {
      const entry = out.get(String(r.key)) ?? { pending: 0n, approved: 0n };
      if (r.status === 'pending') entry.pending += exactSum(r, 'total');
      else entry.approved += exactSum(r, 'total');
      out.set(String(r.key), entry);
    }
    return out;
  }

  private async fromTraffic(q: ReportQuery): Promise<Raw[]> {
    const columns: Record<string, string[]> = {
      flow: ['flow_id'],
      landing: ['flow_id', 'landing_index'],
      offer: ['flow_id', 'offer_index'],
      source: ['source_id'],
      country: ['country'],
    };
    const cols = columns[q.groupBy] as string[];
    const query = this.db('traffic_stats')
      .whereBetween('day', [q.from, q.to])
      .select(cols)
      .select(
        ...countSums(this.db, {
          clicks: 'clicks',
          unique_clicks: 'unique_clicks',
          conversions: 'conversions',
          sales: 'sales',
        }),
        ...exactSums(this.db, { revenue: 'revenue', cost: 'cost' }),
      )
      .groupBy(cols)
      .orderBy(cols);
    if (q.campaignId) query.where('campaign_id', q.campaignId);
    if (q.flowId) query.where('flow_id', q.flowId);
    if (q.sourceId) query.where('source_id', q.sourceId);
    if (q.country) query.where('country', q.country);
    const rows = (await query) as Array<Record<string, unknown>>;
    const snap = await this.cache.snapshot();
    const urlOf = (flowId: number, kind: 'landings' | 'offers', index: number) => {
      if (index < 0) return null;
      for (const flows of snap.flows.values()) {
        const f = flows.find((x) => x.id === flowId);
        if (f) return f[kind][index]?.url ?? `flow ${flowId} #${index + 1}`;
      }
      return `flow ${flowId} #${index + 1}`;
    };
    return rows.map((r) => {
      const key =
        q.groupBy === 'landing'
          ? urlOf(n(r.flow_id), 'landings', n(r.landing_index))
          : q.groupBy === 'offer'
            ? urlOf(n(r.flow_id), 'offers', n(r.offer_index))
            : ((r[cols[0] as string] as string | number) ?? null);
      return {
        key,
        clicks: count(r, 'clicks'),
        uniqueClicks: count(r, 'unique_clicks'),
        impressions: 0,
        conversions: count(r, 'conversions'),
        sales: count(r, 'sales'),
        revenue: exactSum(r, 'revenue'),
        cost: exactSum(r, 'cost'),
        commissions: 0n,
        pending: 0n,
        approved: 0n,
      };
    });
  }
}
