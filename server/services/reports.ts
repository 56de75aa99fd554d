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
}

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

const add = (a: Raw, b: Raw, sign = 1): void => {
  const s = BigInt(sign);
  a.clicks += sign * b.clicks;
  a.uniqueClicks += sign * b.uniqueClicks;
  a.impressions += sign * b.impressions;
  a.conversions += sign * b.conversions;
  a.sales += sign * b.sales;
  a.revenue += s * b.revenue;
  a.cost += s * b.cost;
  a.commissions += s * b.commissions;
  a.pending += s * b.pending;
  a.approved += s * b.approved;
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

function metrics(r: Raw): Metrics {
  const spend = r.cost + r.commissions;
  const profit = r.revenue - spend;
  const money = (units: bigint) => new ExactAmount(units);
  return {
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
    const grouped =
      range.from > range.to
        ? new Map<string, Raw>()
        : family === 'daily'
          ? await this.fromDaily(ctx)
          : family === 'sales'
            ? await this.fromSales(ctx)
            : family === 'values'
              ? await this.fromValues(ctx)
              : await this.fromRaw(ctx);
    const labels = await this.labeller(snap, q.groupBy);
    const total = zero();
    const rows: Array<{ parts: string[]; raw: Raw }> = [];
    for (const [key, raw] of grouped) {
      if (isEmpty(raw)) continue;
      add(total, raw);
      rows.push({ parts: key.split(SEP), raw });
    }
    const [first, second] = q.groupBy as [Dimension, Dimension | undefined];
    const firstClicks = new Map<string, number>();
    for (const r of rows) firstClicks.set(r.parts[0]!, (firstClicks.get(r.parts[0]!) ?? 0) + r.raw.clicks);
    const order = (d: Dimension, a: string, b: string) => {
      if (TIME.has(d) || d === 'hour') return a < b ? -1 : a > b ? 1 : 0;
      return 0;
    };
    rows.sort((a, b) => {
      const byFirst = order(first, a.parts[0]!, b.parts[0]!);
      if (byFirst) return byFirst;
      if (!TIME.has(first) && first !== 'hour' && a.parts[0] !== b.parts[0]) {
        // Biggest first: the totals of the first-level value.
        const ta = firstClicks.get(a.parts[0]!) ?? 0;
        const tb = firstClicks.get(b.parts[0]!) ?? 0;
        if (ta !== tb) return tb - ta;
        return a.parts[0]! < b.parts[0]! ? -1 : 1;
      }
      if (second) {
        const bySecond = order(second, a.parts[1]!, b.parts[1]!);
        if (bySecond) return bySecond;
        if (!TIME.has(second) && second !== 'hour' && b.raw.clicks !== a.raw.clicks) return b.raw.clicks - a.raw.clicks;
        return a.parts[1]! < b.parts[1]! ? -1 : a.parts[1]! > b.parts[1]! ? 1 : 0;
      }
      return 0;
    });
    return {
      groupBy: q.groupBy,
      from: range.from,
      to: range.to,
      totals: metrics(total),
      rows: rows.map(({ parts, raw }) => ({
        key: keyOut(first, parts[0]!),
        label: labels(first, parts[0]!),
        ...(second ? { key2: keyOut(second, parts[1]!), label2: labels(second, parts[1]!) } : {}),
        ...metrics(raw),
      })),
    };
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
      add(less, raw, -1);
      merge(out, noneKey(parts), less);
    }
    return out;
  }

  /**
   * The campaign-URL rollup by dimension value: with a value dimension in the grouping, its
   * values and "(none)" as the totals (`*`) less the values; with one as a filter, that value.
   */
  private async fromValues(ctx: Ctx): Promise<Grouped> {
    const valueDim =
      [...ctx.q.groupBy, ...(Object.keys(ctx.filters) as Dimension[])].find((d) => VALUES.has(d)) ?? null;
    const grouped = valueDim !== null && ctx.q.groupBy.includes(valueDim);
    const filtered = valueDim !== null && ctx.filters[valueDim] !== undefined;
    const column = (d: Dimension) =>
      d === valueDim ? 'value' : ({ campaign: 'campaign_id', flow: 'flow_id' } as Record<string, string>)[d]!;
    const physical = physicalColumns(ctx.q.groupBy, column);
    // Landing and offer values are indexes within their flow: the key is "flowId:index".
    const pairs = valueDim === 'landing' || valueDim === 'offer';
    if (pairs && grouped && !physical.includes('flow_id')) physical.push('flow_id');
    const base = this.keyFns(ctx, column);
    const keys: KeyFn[] = ctx.q.groupBy.map((d, i) =>
      d === valueDim && pairs ? (r) => `${String(r.flow_id)}:${String(r.value)}` : base[i]!,
    );
    const scope = this.campaignScope(ctx);
    const out: Grouped = new Map();
    const totals: Grouped = new Map();
    // Whole months from the monthly rows, the days at the edges from the daily rows; a grouping
    // keyed by day or week needs the days.
    const byDay = ctx.q.groupBy.some((d) => d === 'day' || d === 'week');
    for (const [table, lo, hi] of byDay
      ? [['dimension_stats', ctx.from, ctx.to] as const]
      : ReportService.monthSegments(ctx.from, ctx.to)) {
      const filter = filtered ? (ctx.filters[valueDim] as string) : null;
      const [flow, index] = pairs && filter !== null ? filter.split(':') : [];
      const rows = await dimensionReportRows(this.db, table, {
        columns: physical,
        from: lo,
        to: hi,
        dimensions: filtered ? [valueDim] : grouped ? ['*', valueDim] : ['*'],
        value: filter === null ? undefined : pairs ? String(Number(index)) : filter,
        valueFlowId: pairs && filter !== null ? Number(flow) : undefined,
        campaignIds: scope,
        flowId: ctx.filters.flow ? Number(ctx.filters.flow) : undefined,
      });
      for (const { dimension, keys: values, ...sums } of rows) {
        const r = { ...values, dimension };
        const raw = { ...zero(), ...sums };
        if (grouped && !filtered && r.dimension === '*') {
          merge(totals, ctx.q.groupBy.map((d, i) => (d === valueDim ? NONE : keys[i]!(r))).join(SEP), raw);
          continue;
        }
        const key = keys.map((k) => k(r)).join(SEP);
        merge(out, key, raw);
        if (grouped && !filtered) {
          const less = zero();
          add(less, raw, -1);
          merge(totals, ctx.q.groupBy.map((d, i) => (d === valueDim ? NONE : keys[i]!(r))).join(SEP), less);
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

interface Ctx {
  q: ReportQuery;
  filters: Partial<Record<Dimension, string>>;
  from: string;
  to: string;
  snap: ConfigSnapshot;
  tz: string;
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

const ID_DIMENSIONS: ReadonlySet<Dimension> = new Set(['campaign', 'group', 'affiliate', 'banner', 'flow', 'source']);

/** A key as the API gives it: ids as numbers, no value as null. */
function keyOut(d: Dimension, key: string): string | number | null {
  if (key === NONE) return null;
  if (ID_DIMENSIONS.has(d)) return Number(key) === 0 ? null : Number(key);
  return key;
}

export { DIMENSIONS };
