import type { Knex } from 'knex';
import type { ConfigCache, ConfigSnapshot } from './config-cache.js';
import { ExactAmount } from '../domain/money.js';
import {
  commissionReportRows,
  dailyReportRows,
  dimensionReportRows,
  rawReportClicks,
  rawReportConversions,
  saleFactRows,
  type DimensionTable,
} from '../store/reports.js';
import { dayIn } from '../domain/time.js';
import { allGroups } from '../store/groups.js';
import { saleFigures } from '../domain/report-figures.js';
import {
  DAILY,
  DIMENSIONS,
  SALE_FACTS,
  TIME,
  TRAFFIC_KEYS,
  VALUES,
  addDays,
  clickValues,
  cutValue,
  dayStart,
  hourIn,
  monthOf,
  previousPeriod,
  weekOf,
  type Dimension,
} from '../domain/report-dimensions.js';

/** The one-level groupings of SPEC §9 (kept for the callers that list them); §15 adds DIMENSIONS. */
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
] as const satisfies readonly Dimension[];
export type GroupBy = Dimension;

export interface ReportQuery {
  /** One or two dimensions (SPEC §15). */
  groupBy: Dimension[];
  /** Report days "YYYY-MM-DD" in the timezone setting, inclusive. */
  from: string;
  to: string;
  /** Dimension → value (ids as digits; landing and offer as "flowId:index"; day, week (its Monday), month "YYYY-MM"). */
  filters?: Partial<Record<Dimension, string>>;
  /** One page of the rows (from 1); without it every row (CSV exports, the admin page). */
  page?: { page: number; perPage: number };
}

/** The most rows of one page of a report (and the API's default page). */
export const REPORT_PER_PAGE = 10_000;

export interface Metrics {
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

export interface ReportRow extends Metrics {
  key: string | number | null;
  label: string;
  /** The second level of a two-level grouping. */
  key2?: string | number | null;
  label2?: string;
}

export interface Report {
  groupBy: Dimension[];
  from: string;
  to: string;
  rows: ReportRow[];
  totals: Metrics;
  /** Rows of the whole report; `rows` are the asked page of them. */
  rowCount: number;
}

/** A report that cannot be made as asked: the route answers 422 naming `field`. */
export class ReportInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Counts as numbers; amounts as exact units. */
interface Raw {
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

/** The figures of a campaign-URL rollup row (no impressions, no commissions). */
const trafficRaw = (row: {
  clicks: number;
  uniqueClicks: number;
  conversions: number;
  sales: number;
  revenue: bigint;
  cost: bigint;
}): Raw => ({
  clicks: row.clicks,
  uniqueClicks: row.uniqueClicks,
  impressions: 0,
  conversions: row.conversions,
  sales: row.sales,
  revenue: row.revenue,
  cost: row.cost,
  commissions: 0n,
  pending: 0n,
  approved: 0n,
});

const zero = (): Raw => ({
  clicks: 0,
  uniqueClicks: 0,
  impressions: 0,
  conversions: 0,
  sales: 0,
  revenue: 0n,
  cost: 0n,
  commissions: 0n,
  pending: 0n,
  approved: 0n,
});

// Amounts that are zero (commissions in most reports) are skipped: each BigInt sum is a new value.
const add = (a: Raw, b: Raw): void => {
  a.clicks += b.clicks;
  a.uniqueClicks += b.uniqueClicks;
  a.impressions += b.impressions;
  a.conversions += b.conversions;
  a.sales += b.sales;
  if (b.revenue) a.revenue += b.revenue;
  if (b.cost) a.cost += b.cost;
  if (b.commissions) a.commissions += b.commissions;
  if (b.pending) a.pending += b.pending;
  if (b.approved) a.approved += b.approved;
};

const subtract = (a: Raw, b: Raw): void => {
  a.clicks -= b.clicks;
  a.uniqueClicks -= b.uniqueClicks;
  a.impressions -= b.impressions;
  a.conversions -= b.conversions;
  a.sales -= b.sales;
  if (b.revenue) a.revenue -= b.revenue;
  if (b.cost) a.cost -= b.cost;
  if (b.commissions) a.commissions -= b.commissions;
  if (b.pending) a.pending -= b.pending;
  if (b.approved) a.approved -= b.approved;
};

const isEmpty = (r: Raw) =>
  !r.clicks &&
  !r.uniqueClicks &&
  !r.impressions &&
  !r.conversions &&
  !r.sales &&
  !r.revenue &&
  !r.cost &&
  !r.commissions &&
  !r.pending &&
  !r.approved;

const round = (v: number, places = 2) => Math.round(v * 10 ** places) / 10 ** places;
/** The empty key (no value: shown as "(none)"). */
const NONE = '';
const SEP = '\u0000';

type KeyFn = (row: Record<string, unknown>) => string;

/** Rows keyed by the grouping's values joined with SEP. */
type Grouped = Map<string, Raw>;

/** Zero amounts are one shared value (an ExactAmount does not change). */
const ZERO_AMOUNT = new ExactAmount(0n);
const money = (units: bigint) => (units === 0n ? ZERO_AMOUNT : new ExactAmount(units));

/** The figures of `r` set on `out` (a report row's keys, or a new object for totals). */
function metrics<T extends object>(r: Raw, out: T = {} as T): T & Metrics {
  const spend = r.cost + r.commissions;
  const profit = r.revenue - spend;
  const m = out as T & Metrics;
  m.clicks = r.clicks;
  m.uniqueClicks = r.uniqueClicks;
  m.impressions = r.impressions;
  m.conversions = r.conversions;
  m.sales = r.sales;
  m.revenue = money(r.revenue);
  m.cost = money(r.cost);
  m.profit = money(profit);
  m.roi = spend > 0n ? round((Number(profit) / Number(spend)) * 100) : null;
  m.cr = r.clicks > 0 ? round((r.conversions / r.clicks) * 100) : null;
  m.epc = r.clicks > 0 ? round(Number(r.revenue) / 10_000 / r.clicks, 4) : null;
  m.commissions = money(r.commissions);
  m.commissionsPending = money(r.pending);
  m.commissionsApproved = money(r.approved);
  return m;
}

/** Where a report is counted (see domain/report-dimensions.ts). */
type Family = 'daily' | 'sales' | 'values' | 'raw';

/**
 * Reports (SPEC §9, §15) from the rollups maintained as events are stored (daily_stats,
 * dimension_stats), so they answer in time proportional to days × keys, not to clicks. Groupings
 * no rollup holds (two value dimensions, external_id) are counted from the raw campaign-URL
 * clicks and conversions with the same rules.
 * profit = revenue − cost − commissions; roi = profit ÷ (cost + commissions) × 100;
 * cr = conversions ÷ clicks × 100; epc = revenue ÷ clicks.
 */
export class ReportService {
  constructor(
    private readonly db: Knex,
    private readonly cache: ConfigCache,
    private readonly clock: () => number = Date.now,
  ) {}

  private timezone(): string {
    return this.cache.peek()?.settings.timezone ?? 'UTC';
  }

  defaultRange(days = 30): { from: string; to: string } {
    const tz = this.timezone();
    const now = this.clock();
    return { from: dayIn(now - (days - 1) * 86_400_000, tz), to: dayIn(now, tz) };
  }

  /** Which rollup answers `q`; a combination none can is a ReportInputError. */
  static familyOf(q: Pick<ReportQuery, 'groupBy' | 'filters'>): Family {
    const dims = new Set<Dimension>([...q.groupBy, ...(Object.keys(q.filters ?? {}) as Dimension[])]);
    const all = [...dims];
    if (all.some((d) => SALE_FACTS.has(d))) {
      const facts = all.filter((d) => SALE_FACTS.has(d));
      if (facts.length > 1 || !all.every((d) => DAILY.has(d) || SALE_FACTS.has(d)))
        throw new ReportInputError(
          'groupBy',
          'coupon and product are facts of sales: they go only with day, week, month, campaign, group, affiliate and banner',
        );
      return 'sales';
    }
    if (all.every((d) => DAILY.has(d))) return 'daily';
    const values = all.filter((d) => VALUES.has(d));
    if (values.length <= 1 && all.every((d) => TRAFFIC_KEYS.has(d) || VALUES.has(d))) return 'values';
    return 'raw';
  }

  /** Rows of one grouping (the report without its totals). */
  async run(q: ReportQuery): Promise<ReportRow[]> {
    return (await this.report(q)).rows;
  }

  async report(q: ReportQuery): Promise<Report> {
    const filters = q.filters ?? {};
    const range = narrow(q.from, q.to, filters);
    const family = ReportService.familyOf(q);
    const snap = await this.cache.snapshot();
    const ctx: Ctx = { q, filters, from: range.from, to: range.to, snap, tz: snap.settings.timezone };
    const [first, second] = q.groupBy as [Dimension, Dimension | undefined];
    const window = q.page ? { offset: (q.page.page - 1) * q.page.perPage, limit: q.page.perPage } : null;
    const { rows, total, rowCount } =
      range.from > range.to
        ? { rows: [], total: zero(), rowCount: 0 }
        : family === 'values' && ReportService.byDayAndValue(q)
          ? await this.dayValuePage(ctx, window)
          : paged(
              ReportService.ordered(
                q.groupBy,
                family === 'daily'
                  ? await this.fromDaily(ctx)
                  : family === 'sales'
                    ? await this.fromSales(ctx)
                    : family === 'values'
                      ? await this.fromValues(ctx)
                      : await this.fromRaw(ctx),
              ),
              window,
            );
    const labels = await this.labeller(snap, q.groupBy);
    const label1 = cachedLabels(labels, first);
    const label2 = second ? cachedLabels(labels, second) : null;
    const out: ReportRow[] = new Array<ReportRow>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const { k1, k2, raw } = rows[i]!;
      out[i] = metrics(
        raw,
        second
          ? { key: keyOut(first, k1), label: label1(k1), key2: keyOut(second, k2), label2: label2!(k2) }
          : { key: keyOut(first, k1), label: label1(k1) },
      );
    }
    return { groupBy: q.groupBy, from: range.from, to: range.to, totals: metrics(total), rows: out, rowCount };
  }

  /**
   * The rows of a grouping in the answer's order, empty ones left out: time and hour in their
   * order; other values biggest first (the first level by its totals), then by key.
   */
  private static ordered(groupBy: Dimension[], grouped: Grouped): OrderedRow[] {
    const [first, second] = groupBy as [Dimension, Dimension | undefined];
    const rows: OrderedRow[] = [];
    const firstClicks = new Map<string, number>();
    for (const [key, raw] of grouped) {
      if (isEmpty(raw)) continue;
      const at = second ? key.indexOf(SEP) : -1;
      const k1 = at < 0 ? key : key.slice(0, at);
      rows.push({ k1, k2: at < 0 ? '' : key.slice(at + 1), raw });
      firstClicks.set(k1, (firstClicks.get(k1) ?? 0) + raw.clicks);
    }
    const firstInOrder = TIME.has(first) || first === 'hour';
    const secondInOrder = second !== undefined && (TIME.has(second) || second === 'hour');
    rows.sort((a, b) => {
      if (a.k1 !== b.k1) {
        if (firstInOrder) return a.k1 < b.k1 ? -1 : 1;
        const ta = firstClicks.get(a.k1) ?? 0;
        const tb = firstClicks.get(b.k1) ?? 0;
        if (ta !== tb) return tb - ta;
        return a.k1 < b.k1 ? -1 : 1;
      }
      return second ? bySecond(a, b, secondInOrder) : 0;
    });
    return rows;
  }

  /**
   * `day,<value dimension>` with no filter but days: read from the rows over every campaign and
   * flow (one per day and value, see fromValues), in the answer's order without keying each row.
   */
  private static byDayAndValue(q: ReportQuery): boolean {
    const [first, second] = q.groupBy;
    return (
      first === 'day' &&
      second !== undefined &&
      VALUES.has(second) &&
      (Object.keys(q.filters ?? {}) as Dimension[]).every((d) => TIME.has(d))
    );
  }

  /**
   * One page of `day,<value dimension>` (byDayAndValue) reading only the days it covers: how many
   * rows each day has (its values with figures, and "(none)" when the day's totals are more than
   * its values) and the totals (the days' `*` rows) come from one grouped count per day.
   */
  private async dayValuePage(ctx: Ctx, window: Window | null): Promise<Paged> {
    if (!window) return paged(await this.dayValueRows(ctx), null);
    const second = ctx.q.groupBy[1]!;
    const perDay = new Map<string, { star: Raw | null; values: Raw | null; count: number }>();
    const dayOf = (day: string) => {
      let d = perDay.get(day);
      if (!d) perDay.set(day, (d = { star: null, values: null, count: 0 }));
      return d;
    };
    const read = { columns: ['day'], from: ctx.from, to: ctx.to, campaignIds: null };
    for (const row of await dimensionReportRows(this.db, 'dimension_value_stats', { ...read, dimensions: ['*'] }))
      dayOf(String(row.keys.day)).star = trafficRaw(row);
    for (const row of await dimensionReportRows(this.db, 'dimension_value_stats', {
      ...read,
      dimensions: [second],
      countValues: true,
    })) {
      const d = dayOf(String(row.keys.day));
      d.values = trafficRaw(row);
      d.count = row.values ?? 0;
    }
    const total = zero();
    let rowCount = 0;
    let firstDay: string | null = null;
    let lastDay: string | null = null;
    let skip = 0;
    for (const day of [...perDay.keys()].sort()) {
      const d = perDay.get(day)!;
      const none = d.star ? { ...d.star } : zero();
      if (d.star) add(total, d.star);
      if (d.values) subtract(none, d.values);
      const count = d.count + (isEmpty(none) ? 0 : 1);
      if (count && rowCount + count > window.offset && rowCount < window.offset + window.limit) {
        if (firstDay === null) {
          firstDay = day;
          skip = window.offset - rowCount;
        }
        lastDay = day;
      }
      rowCount += count;
    }
    const rows =
      firstDay === null
        ? []
        : (await this.dayValueRows({ ...ctx, from: firstDay, to: lastDay! })).slice(skip, skip + window.limit);
    return { rows, total, rowCount };
  }

  /** The rows of `day,<value dimension>` (byDayAndValue): each day's values and its "(none)", in order. */
  private async dayValueRows(ctx: Ctx): Promise<OrderedRow[]> {
    const second = ctx.q.groupBy[1]!;
    const secondInOrder = second === 'hour';
    const days = new Map<string, { totals: Raw | null; rows: OrderedRow[] }>();
    for (const row of await dimensionReportRows(this.db, 'dimension_value_stats', {
      columns: ['day', 'value'],
      from: ctx.from,
      to: ctx.to,
      dimensions: ['*', second],
      campaignIds: null,
    })) {
      const day = String(row.keys.day);
      let bucket = days.get(day);
      if (!bucket) days.set(day, (bucket = { totals: null, rows: [] }));
      const raw = trafficRaw(row);
      if (row.dimension === '*') bucket.totals = raw;
      else bucket.rows.push({ k1: day, k2: String(row.keys.value ?? NONE), raw });
    }
    const out: OrderedRow[] = [];
    for (const day of [...days.keys()].sort()) {
      const { totals, rows } = days.get(day)!;
      // What is left of the day's totals had no value: "(none)".
      const none = totals ?? zero();
      for (const r of rows) subtract(none, r.raw);
      const kept = rows.filter((r) => !isEmpty(r.raw));
      if (!isEmpty(none)) kept.push({ k1: day, k2: NONE, raw: none });
      kept.sort((a, b) => bySecond(a, b, secondInOrder));
      for (const r of kept) out.push(r);
    }
    return out;
  }

  /** The report and, with compare=previous, the same report for the preceding period of equal length. */
  async compare(q: ReportQuery): Promise<{ current: Report; previous: Report }> {
    const p = previousPeriod(q.from, q.to);
    return { current: await this.report(q), previous: await this.report({ ...q, ...p }) };
  }

  private async labeller(snap: ConfigSnapshot, dims: Dimension[]) {
    const groups = dims.includes('group') ? new Map((await allGroups(this.db)).map((g) => [g.id, g.name])) : null;
    const flowName = (id: number) => {
      for (const flows of snap.flows.values()) for (const f of flows) if (f.id === id) return f.name;
      return `#${id}`;
    };
    const urlOf = (key: string, kind: 'landings' | 'offers') => {
      const [flowId, index] = key.split(':').map(Number) as [number, number];
      for (const flows of snap.flows.values()) {
        const f = flows.find((x) => x.id === flowId);
        if (f) return f[kind][index]?.url ?? `${f.name} #${index + 1}`;
      }
      return `flow ${flowId} #${index + 1}`;
    };
    return (d: Dimension, key: string): string => {
      if (key === NONE || key === '0') return '(none)';
      switch (d) {
        case 'campaign':
          return snap.campaigns.get(Number(key))?.name ?? `#${key}`;
        case 'affiliate':
          return snap.affiliates.get(Number(key))?.name ?? `#${key}`;
        case 'banner':
          return snap.banners.get(Number(key))?.name ?? `#${key}`;
        case 'source':
          return snap.sources.get(Number(key))?.name ?? `#${key}`;
        case 'group':
          return groups?.get(Number(key)) ?? `#${key}`;
        case 'flow':
          return flowName(Number(key));
        case 'landing':
          return urlOf(key, 'landings');
        case 'offer':
          return urlOf(key, 'offers');
        case 'hour':
          return `${key}:00`;
        case 'week':
          return `Week of ${key}`;
        default:
          return key;
      }
    };
  }

  /** The key of a time dimension from a rollup day. */
  /**
   * The period split into the rollup ranges that answer it: the whole months inside it from
   * `dimension_stats_monthly` (keyed by the month's first day), the days before the first and
   * after the last whole month from `dimension_stats`. Without a whole month, all days.
   */
  static monthSegments(from: string, to: string): Array<readonly [DimensionTable, string, string]> {
    const firstWhole = from.endsWith('-01') ? from : `${monthOf(addDays(`${monthOf(from)}-28`, 7))}-01`;
    const lastWhole =
      monthOf(addDays(to, 1)) !== monthOf(to) ? `${monthOf(to)}-01` : `${monthOf(addDays(`${monthOf(to)}-01`, -1))}-01`;
    if (firstWhole > lastWhole) return [['dimension_stats', from, to]];
    const out: Array<readonly [DimensionTable, string, string]> = [];
    if (from < firstWhole) out.push(['dimension_stats', from, addDays(firstWhole, -1)]);
    out.push(['dimension_stats_monthly', firstWhole, lastWhole]);
    const afterLast = `${monthOf(addDays(`${lastWhole.slice(0, 7)}-28`, 7))}-01`;
    if (afterLast <= to) out.push(['dimension_stats', afterLast, to]);
    return out;
  }

  private static timeKey(d: Dimension, day: string): string {
    return d === 'week' ? weekOf(day) : d === 'month' ? monthOf(day) : day;
  }

  private keyFns(ctx: Ctx, column: (d: Dimension) => string): KeyFn[] {
    return ctx.q.groupBy.map((d): KeyFn => {
      if (TIME.has(d)) return (r) => ReportService.timeKey(d, String(r.day));
      if (d === 'group') return (r) => String(ctx.snap.campaigns.get(Number(r.campaign_id))?.groupId ?? 0);
      const c = column(d);
      return (r) => String(r[c] ?? NONE);
    });
  }

  /** Campaign ids a campaign or group filter allows (null: all). */
  private campaignScope(ctx: Ctx): number[] | null {
    let ids: number[] | null = null;
    if (ctx.filters.campaign) ids = [Number(ctx.filters.campaign)];
    if (ctx.filters.group) {
      const inGroup = [...ctx.snap.campaigns.values()]
        .filter((c) => c.groupId === Number(ctx.filters.group))
        .map((c) => c.id);
      ids = ids ? ids.filter((id) => inGroup.includes(id)) : inGroup;
    }
    return ids;
  }

  private async fromDaily(ctx: Ctx): Promise<Grouped> {
    const column = (d: Dimension) =>
      ({ campaign: 'campaign_id', affiliate: 'affiliate_id', banner: 'banner_id' })[d as 'campaign'];
    const physical = physicalColumns(ctx.q.groupBy, column);
    const scope = this.campaignScope(ctx);
    const affiliateId = ctx.filters.affiliate ? Number(ctx.filters.affiliate) : undefined;
    const keys = this.keyFns(ctx, column);
    const out: Grouped = new Map();
    for (const r of await dailyReportRows(this.db, {
      columns: physical,
      from: ctx.from,
      to: ctx.to,
      campaignIds: scope,
      affiliateId,
      bannerId: ctx.filters.banner ? Number(ctx.filters.banner) : undefined,
    })) {
      const { keys: columns, ...sums } = r;
      merge(out, keys.map((k) => k(columns)).join(SEP), { ...zero(), ...sums });
    }
    // Pending and approved commissions by the same key, from the commissions by their report day.
    // Commissions are not per banner: like `commissions` in the daily rollup they stand under banner 0.
    if (!ctx.filters.banner) {
      const rows = await commissionReportRows(this.db, {
        columns: physical.filter((c) => c !== 'banner_id'),
        from: ctx.from,
        to: ctx.to,
        campaignIds: scope,
        affiliateId,
      });
      for (const r of rows) {
        const raw = zero();
        if (r.status === 'pending') raw.pending = r.total;
        else raw.approved = r.total;
        merge(out, keys.map((k) => k({ ...r.keys, banner_id: 0 })).join(SEP), raw);
      }
    }
    return out;
  }

  /**
   * coupon and product: the snippet and API sales that carry one (counted as the daily rollup
   * counts them, domain/report-figures.ts), and under "(none)" everything else of the daily
   * rollup with the same other keys, so the totals are the daily rollup's.
   */
  private async fromSales(ctx: Ctx): Promise<Grouped> {
    const fact = ctx.q.groupBy.find((d) => SALE_FACTS.has(d)) ?? null;
    const filterFact = (Object.keys(ctx.filters) as Dimension[]).find((d) => SALE_FACTS.has(d)) ?? null;
    const factDim = (fact ?? filterFact) as 'coupon' | 'product';
    const factColumn = factDim === 'coupon' ? 'coupon' : 'product_id';
    const start = dayStart(ctx.from, ctx.tz, dayIn);
    const end = dayStart(addDays(ctx.to, 1), ctx.tz, dayIn);
    const sales = await saleFactRows(this.db, {
      column: factColumn,
      start,
      end: end - 1,
      campaignIds: this.campaignScope(ctx),
      affiliateId: ctx.filters.affiliate ? Number(ctx.filters.affiliate) : undefined,
      bannerId: ctx.filters.banner ? Number(ctx.filters.banner) : undefined,
      value: filterFact ? (ctx.filters[filterFact] as string) : undefined,
    });
    const keyOf = (r: (typeof sales)[number], day: string) =>
      ctx.q.groupBy
        .map((d) => {
          if (d === fact) return cutValue(String(r.fact));
          if (TIME.has(d)) return ReportService.timeKey(d, day);
          if (d === 'group') return String(ctx.snap.campaigns.get(Number(r.campaign_id))?.groupId ?? 0);
          const v = r[`${d as 'campaign' | 'affiliate' | 'banner'}_id`];
          return v === null || v === undefined ? '0' : String(v);
        })
        .join(SEP);
    const facts: Grouped = new Map();
    for (const r of sales) {
      const f = saleFigures({
        kind: r.kind as 'sale' | 'action',
        status: String(r.status),
        source: String(r.source),
        totalCostBase: r.total_cost_base === null ? null : Number(r.total_cost_base),
      });
      if (!f.conversions) continue;
      const raw = zero();
      raw.conversions = f.conversions;
      raw.sales = f.sales;
      raw.revenue = BigInt(f.revenue);
      merge(facts, keyOf(r, dayIn(Number(r.at), ctx.tz)), raw);
    }
    if (filterFact) return facts;
    // "(none)": the daily rollup by the other keys, less what the facts hold.
    const otherDims = ctx.q.groupBy.filter((d) => d !== fact);
    const daily = await this.fromDaily({ ...ctx, q: { ...ctx.q, groupBy: otherDims } });
    const noneKey = (otherParts: string[]) => {
      let i = 0;
      return ctx.q.groupBy.map((d) => (d === fact ? NONE : (otherParts[i++] ?? NONE))).join(SEP);
    };
    const out: Grouped = new Map(facts);
    for (const [k, raw] of daily) merge(out, noneKey(otherDims.length ? k.split(SEP) : []), raw);
    for (const [k, raw] of facts) {
      const parts = k.split(SEP).filter((_, i) => ctx.q.groupBy[i] !== fact);
      const less = zero();
      subtract(less, raw);
      merge(out, noneKey(parts), less);
    }
    return out;
  }

  /**
   * The campaign-URL rollup by dimension value: with a value dimension in the grouping, its
   * values and "(none)" as the totals (`*`) less the values; with one as a filter, that value.
   * Without campaign, group or flow in the grouping and the filters, the days are read from the
   * rows over every campaign and flow (`dimension_value_stats`): one row per day and value.
   */
  private async fromValues(ctx: Ctx): Promise<Grouped> {
    const filterDims = Object.keys(ctx.filters) as Dimension[];
    const valueDim = [...ctx.q.groupBy, ...filterDims].find((d) => VALUES.has(d)) ?? null;
    const grouped = valueDim !== null && ctx.q.groupBy.includes(valueDim);
    const filtered = valueDim !== null && ctx.filters[valueDim] !== undefined;
    const allCampaigns = valueDim !== null && ![...ctx.q.groupBy, ...filterDims].some((d) => CAMPAIGN_KEYS.has(d));
    const column = (d: Dimension) =>
      d === valueDim ? 'value' : ({ campaign: 'campaign_id', flow: 'flow_id' } as Record<string, string>)[d]!;
    // Landing and offer values are indexes within their flow: the key is "flowId:index" (as
    // stored in the rows over every campaign and flow).
    const pairs = valueDim === 'landing' || valueDim === 'offer';
    const base = this.keyFns(ctx, column);
    const scope = this.campaignScope(ctx);
    const out: Grouped = new Map();
    const totals: Grouped = new Map();
    // Whole months from the monthly rows, the days at the edges from the daily rows; a grouping
    // keyed by day or week needs the days.
    const byDay = ctx.q.groupBy.some((d) => d === 'day' || d === 'week');
    const segments = byDay
      ? [['dimension_stats', ctx.from, ctx.to] as const]
      : ReportService.monthSegments(ctx.from, ctx.to);
    const filter = filtered ? (ctx.filters[valueDim] as string) : null;
    const [flow, index] = pairs && filter !== null ? filter.split(':') : [];
    /** Where the value dimension is in the grouping (-1: not grouped or filtered to one value). */
    const valueAt = grouped && !filtered ? ctx.q.groupBy.indexOf(valueDim) : -1;
    const width = ctx.q.groupBy.length;
    const parts: string[] = new Array<string>(width);
    for (const [daily, lo, hi] of segments) {
      // Over every campaign and flow, the rows without them (days or whole months).
      const table: DimensionTable = !allCampaigns
        ? daily
        : daily === 'dimension_stats'
          ? 'dimension_value_stats'
          : 'dimension_value_stats_monthly';
      const physical = physicalColumns(ctx.q.groupBy, column);
      const flowPairs = pairs && !allCampaigns;
      if (flowPairs && grouped && !physical.includes('flow_id')) physical.push('flow_id');
      const keys: KeyFn[] = ctx.q.groupBy.map((d, i) =>
        d === valueDim && flowPairs ? (r) => `${String(r.flow_id)}:${String(r.value)}` : base[i]!,
      );
      const rows = await dimensionReportRows(this.db, table, {
        columns: physical,
        from: lo,
        to: hi,
        dimensions: filtered ? [valueDim] : grouped ? ['*', valueDim] : ['*'],
        value:
          filter === null
            ? undefined
            : !pairs
              ? filter
              : flowPairs
                ? String(Number(index))
                : `${Number(flow)}:${Number(index)}`,
        valueFlowId: flowPairs && filter !== null ? Number(flow) : undefined,
        campaignIds: scope,
        flowId: ctx.filters.flow ? Number(ctx.filters.flow) : undefined,
      });
      for (const row of rows) {
        const r = row.keys;
        const raw = trafficRaw(row);
        for (let i = 0; i < width; i++) parts[i] = i === valueAt ? NONE : keys[i]!(r);
        if (valueAt >= 0 && row.dimension === '*') {
          // The totals of the other keys: "(none)" once the values are taken out.
          merge(totals, parts.join(SEP), raw);
          continue;
        }
        if (valueAt < 0) {
          merge(out, parts.join(SEP), raw);
          continue;
        }
        const noneKey = parts.join(SEP);
        parts[valueAt] = keys[valueAt]!(r);
        merge(out, parts.join(SEP), raw);
        const none = totals.get(noneKey);
        if (none) subtract(none, raw);
        else {
          const less = zero();
          subtract(less, raw);
          totals.set(noneKey, less);
        }
      }
    }
    // What is left of the totals had no value: "(none)".
    for (const [k, raw] of totals) merge(out, k, raw);
    return out;
  }

  /**
   * Counted from the raw campaign-URL clicks and postback conversions (groupings no rollup
   * holds), with the rollups' rules: a declined click costs but is no click; a conversion counts
   * on the day it arrived, with its click's dimensions.
   */
  private async fromRaw(ctx: Ctx): Promise<Grouped> {
    const start = dayStart(ctx.from, ctx.tz, dayIn);
    const end = dayStart(addDays(ctx.to, 1), ctx.tz, dayIn);
    const filters = { start, end: end - 1, campaignIds: this.campaignScope(ctx) };
    const out: Grouped = new Map();
    const filterEntries = Object.entries(ctx.filters) as Array<[Dimension, string]>;
    const visit = (r: Record<string, unknown>, raw: Raw) => {
      const at = Number(r.at);
      const day = dayIn(at, ctx.tz);
      const values = new Map<string, string>(clickValues(r, hourIn(at, ctx.tz)));
      const valueOf = (d: Dimension): string => {
        if (TIME.has(d)) return ReportService.timeKey(d, day);
        switch (d) {
          case 'campaign':
            return String(r.campaign_id);
          case 'group':
            return String(ctx.snap.campaigns.get(Number(r.campaign_id))?.groupId ?? 0);
          case 'flow':
            return String(r.flow_id ?? 0);
          case 'affiliate':
            return String(r.affiliate_id ?? 0);
          case 'banner':
            return String(r.banner_id ?? 0);
          case 'external_id':
            return r.external_id ? cutValue(String(r.external_id)) : NONE;
          case 'landing':
          case 'offer': {
            const v = values.get(d);
            return v === undefined ? NONE : `${String(r.flow_id)}:${v}`;
          }
          default:
            return values.get(d) ?? NONE;
        }
      };
      for (const [d, v] of filterEntries) {
        if (TIME.has(d)) continue; // The range is narrowed already.
        if (valueOf(d) !== v) return;
      }
      merge(out, ctx.q.groupBy.map(valueOf).join(SEP), raw);
    };
    for (const r of await rawReportClicks(this.db, filters)) {
      const raw = zero();
      raw.clicks = r.status === 'declined' ? 0 : 1;
      raw.uniqueClicks = r.status === 'unique' ? 1 : 0;
      raw.cost = BigInt(Number(r.cost ?? 0));
      visit(r, raw);
    }
    for (const r of await rawReportConversions(this.db, filters)) {
      const raw = zero();
      const status = String(r.conversion_status);
      raw.conversions = status === 'rejected' ? 0 : 1;
      raw.sales = status === 'sale' || status === 'rebill' ? 1 : 0;
      raw.revenue = raw.sales ? BigInt(Number(r.revenue_base ?? 0)) : 0n;
      raw.cost = BigInt(Number(r.conversion_cost ?? 0));
      visit(r, raw);
    }
    return out;
  }
}

/** A row of a report before its figures: the key of each level and the sums. */
interface OrderedRow {
  k1: string;
  k2: string;
  raw: Raw;
}

/** The rows asked for: `limit` rows from the `offset`-th. */
interface Window {
  offset: number;
  limit: number;
}

/** A page of a report's rows, with the totals and row count of all of them. */
interface Paged {
  rows: OrderedRow[];
  total: Raw;
  rowCount: number;
}

/** The window's rows of all `rows`, with the totals of all. */
function paged(rows: OrderedRow[], window: Window | null): Paged {
  const total = zero();
  for (const r of rows) add(total, r.raw);
  return {
    rows: window ? rows.slice(window.offset, window.offset + window.limit) : rows,
    total,
    rowCount: rows.length,
  };
}

/** Rows of one first-level key: the second level in its order (hour), else biggest first. */
function bySecond(a: OrderedRow, b: OrderedRow, inOrder: boolean): number {
  if (!inOrder && b.raw.clicks !== a.raw.clicks) return b.raw.clicks - a.raw.clicks;
  return a.k2 < b.k2 ? -1 : a.k2 > b.k2 ? 1 : 0;
}

interface Ctx {
  q: ReportQuery;
  filters: Partial<Record<Dimension, string>>;
  from: string;
  to: string;
  snap: ConfigSnapshot;
  tz: string;
}

/** A labeller for one dimension that makes each key's label once. */
function cachedLabels(labels: (d: Dimension, key: string) => string, d: Dimension): (key: string) => string {
  const seen = new Map<string, string>();
  return (key) => {
    let label = seen.get(key);
    if (label === undefined) seen.set(key, (label = labels(d, key)));
    return label;
  };
}

function merge(map: Grouped, key: string, raw: Raw): void {
  const have = map.get(key);
  if (have) add(have, raw);
  else map.set(key, raw);
}

/** The rollup columns a grouping reads (time dimensions from `day`, group from `campaign_id`). */
function physicalColumns(groupBy: Dimension[], column: (d: Dimension) => string): string[] {
  const out: string[] = [];
  for (const d of groupBy) {
    const c = TIME.has(d) ? 'day' : d === 'group' ? 'campaign_id' : column(d);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** A day, week or month filter narrows the period. */
function narrow(from: string, to: string, filters: Partial<Record<Dimension, string>>): { from: string; to: string } {
  let lo = from;
  let hi = to;
  const clamp = (a: string, b: string) => {
    if (a > lo) lo = a;
    if (b < hi) hi = b;
  };
  if (filters.day) clamp(filters.day, filters.day);
  if (filters.week) clamp(filters.week, addDays(filters.week, 6));
  if (filters.month) {
    const [y, m] = filters.month.split('-').map(Number) as [number, number];
    const last = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
    clamp(`${filters.month}-01`, last);
  }
  return { from: lo, to: hi };
}

/** Keys of the campaign-URL rollup that the rows over every campaign and flow do not have. */
const CAMPAIGN_KEYS: ReadonlySet<Dimension> = new Set(['campaign', 'group', 'flow']);

const ID_DIMENSIONS: ReadonlySet<Dimension> = new Set(['campaign', 'group', 'affiliate', 'banner', 'flow', 'source']);

/** A key as the API gives it: ids as numbers, no value as null. */
function keyOut(d: Dimension, key: string): string | number | null {
  if (key === NONE) return null;
  if (ID_DIMENSIONS.has(d)) return Number(key) === 0 ? null : Number(key);
  return key;
}

export { DIMENSIONS };
