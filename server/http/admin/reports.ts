import { plural } from '../../messages.js';
import type Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render } from './render.js';
import { lineChart, type LineSeries } from './chart.js';
import { reportQuery, toReportQuery } from '../api/reports.js';
import { ReportService, type Metrics, type Report, type ReportQuery } from '../../services/reports.js';
import { ExactAmount, formatMoney, toUnits } from '../../domain/money.js';
import { DIMENSIONS, DIMENSION_WORDS, previousPeriod, type Dimension } from '../../domain/report-dimensions.js';

/** Table headings in words (SPEC §15), with how each figure is shown. */
const COLUMNS: Array<{ key: keyof Metrics; words: string; show: 'count' | 'money' | 'percent' | 'epc' }> = [
  { key: 'clicks', words: 'Clicks', show: 'count' },
  { key: 'uniqueClicks', words: 'Unique clicks', show: 'count' },
  { key: 'impressions', words: 'Impressions', show: 'count' },
  { key: 'conversions', words: 'Conversions', show: 'count' },
  { key: 'sales', words: 'Sales', show: 'count' },
  { key: 'revenue', words: 'Revenue', show: 'money' },
  { key: 'cost', words: 'Cost', show: 'money' },
  { key: 'profit', words: 'Profit', show: 'money' },
  { key: 'roi', words: 'ROI', show: 'percent' },
  { key: 'cr', words: 'Conversion rate', show: 'percent' },
  { key: 'epc', words: 'Earnings per click', show: 'epc' },
  { key: 'commissions', words: 'Commissions', show: 'money' },
  { key: 'commissionsPending', words: 'Pending commissions', show: 'money' },
  { key: 'commissionsApproved', words: 'Approved commissions', show: 'money' },
];

/** Where a click on a row goes next (drill-down): the row's value becomes a filter, this the grouping. */
const NEXT: Partial<Record<Dimension, Dimension>> = {
  day: 'hour',
  week: 'day',
  month: 'day',
  group: 'campaign',
  campaign: 'flow',
  flow: 'landing',
  landing: 'offer',
  offer: 'sub_id_1',
  source: 'campaign',
  affiliate: 'campaign',
  banner: 'day',
  country: 'device',
  device: 'os',
  os: 'browser',
  browser: 'language',
  coupon: 'day',
  product: 'day',
};
for (let n = 1; n < 15; n++) NEXT[`sub_id_${n}` as Dimension] = `sub_id_${n + 1}` as Dimension;

/** The figures a chart can draw over time. */
const CHART_METRICS = [
  { key: 'clicks', words: 'Clicks', money: false },
  { key: 'conversions', words: 'Conversions', money: false },
  { key: 'revenue', words: 'Revenue', money: true },
  { key: 'cost', words: 'Cost', money: true },
  { key: 'profit', words: 'Profit', money: true },
] as const;
type ChartMetric = (typeof CHART_METRICS)[number]['key'];

const figure = (m: Metrics, key: ChartMetric): number => {
  const v = m[key];
  return v instanceof ExactAmount ? Number(v.units) / 10_000 : (v as number);
};

/** The value of a figure for sorting. */
const sortValue = (m: Metrics, key: keyof Metrics): number => {
  const v = m[key];
  if (v === null || v === undefined) return -Infinity;
  return v instanceof ExactAmount ? Number(v.units) : (v as number);
};

/**
 * A line chart of one figure over the days of a report, and of the previous period dashed
 * (SPEC §15). Days without events are drawn as zero.
 */
export function timeChart(
  current: Report,
  previous: Report | null,
  metric: ChartMetric,
  currency: string,
  days: string[],
  previousDays: string[],
) {
  const words = CHART_METRICS.find((m) => m.key === metric)!;
  const money = (m: Metrics | undefined, k: 'revenue' | 'cost' | 'profit') =>
    formatMoney(m ? m[k].units : 0n, currency);
  /** Every figure of the day in its tooltip, the drawn one first. */
  const title = (day: string, m: Metrics | undefined, suffix = '') =>
    `${day}${suffix}: ${plural(m?.clicks ?? 0, 'click')}, ${plural(m?.conversions ?? 0, 'conversion')}, ${money(m, 'revenue')} revenue, ${money(m, 'cost')} cost, ${money(m, 'profit')} profit`;
  const seriesOf = (r: Report, on: string[], suffix: string) => {
    const byDay = new Map(r.rows.map((row) => [String(row.key), row]));
    return {
      values: on.map((d) => (byDay.has(d) ? figure(byDay.get(d)!, metric) : 0)),
      titles: on.map((d) => title(d, byDay.get(d), suffix)),
    };
  };
  const series: LineSeries[] = [{ name: 'current', ...seriesOf(current, days, '') }];
  if (previous)
    series.push({ name: 'previous', ...seriesOf(previous, previousDays, ' (previous period)'), dashed: true });

  return lineChart({
    labels: days.map((d, i) => (i === 0 || i === days.length - 1 ? d : d.slice(5))),
    series,
    xLabel: 'Day',
    yLabel: words.money ? `${words.words} (${currency})` : words.words,
    format: (v) => (words.money ? String(Math.round(v * 100) / 100) : String(Math.round(v))),
    description: `${words.words} per day, ${days[0]} to ${days.at(-1)}${previous ? ', previous period dashed' : ''}`,
  });
}

/** Every day from `from` to `to`. */
export function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/**
 * The dashboard's chart: one figure per day over the last 30 days with the 30 before dashed
 * (SPEC §15); `?chart=` picks the figure.
 */
export async function dashboardChart(ctx: { services: AppCustom['services']; query: Record<string, unknown> }) {
  const metric = (CHART_METRICS.find((m) => m.key === ctx.query.chart)?.key ?? 'clicks') as ChartMetric;
  const range = ctx.services.reports.defaultRange(30);
  const { current, previous } = await ctx.services.reports.compare({ groupBy: ['day'], ...range });
  const chart = timeChart(
    current,
    previous,
    metric,
    ctx.services.settings.get().baseCurrency,
    daysOf(current.from, current.to),
    daysOf(previous.from, previous.to),
  );
  return {
    ...chart,
    metrics: CHART_METRICS.map((m) => ({ words: m.words, current: m.key === metric, url: `/admin?chart=${m.key}` })),
  };
}

type ReportPage = {
  then?: string;
  filterDimension?: string;
  filterValue?: string;
  sort?: string;
  dir: 'asc' | 'desc';
  chart: ChartMetric;
};

/**
 * The report form read as a query: page-only fields apart, a bad field named and left out (the
 * rest still applies), a grouping no rollup answers replaced by the default report with the error.
 */
function readReportForm(
  fields: Record<string, string | string[] | undefined>,
  range: ReturnType<ReportService['defaultRange']>,
): { page: ReportPage; query: ReportQuery & { compare: boolean }; error: string | null } {
  // A form sends every field: an empty one ("All campaigns", no date) means no filter.
  const sent: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    const value = Array.isArray(v) ? v[v.length - 1] : v;
    if (value !== '' && value !== undefined) sent[k] = value;
  }
  // Page-only fields: the second level, a filter picked in the form, sorting, the chart's figure.
  const page: ReportPage = {
    then: sent.then,
    filterDimension: sent.filterDimension,
    filterValue: sent.filterValue,
    sort: sent.sort,
    dir: (sent.dir === 'asc' ? 'asc' : 'desc') as ReportPage['dir'],
    chart: (CHART_METRICS.find((m) => m.key === sent.chart)?.key ?? 'clicks') as ChartMetric,
  };
  for (const k of ['then', 'filterDimension', 'filterValue', 'sort', 'dir', 'chart']) delete sent[k];
  if (page.then && sent.groupBy && !sent.groupBy.includes(',')) sent.groupBy = `${sent.groupBy},${page.then}`;
  if (page.filterDimension && page.filterValue && (DIMENSIONS as readonly string[]).includes(page.filterDimension))
    sent[page.filterDimension] = page.filterValue;
  delete sent.format;
  const parsed = reportQuery.safeParse(sent);
  // A bad field is named and left out; the rest of the form still applies.
  const bad = new Set(parsed.success ? [] : parsed.error.issues.map((i) => String(i.path[0])));
  const q = parsed.success
    ? parsed.data
    : (reportQuery.safeParse(Object.fromEntries(Object.entries(sent).filter(([k]) => !bad.has(k)))).data ??
      reportQuery.parse({}));
  let error = parsed.success ? null : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  let query: ReportQuery & { compare: boolean };
  try {
    // The page shows and sorts every row (the API pages its JSON).
    query = { ...toReportQuery(q, range), page: undefined };
    ReportService.familyOf(query);
  } catch (err) {
    error = `${error ? `${error}; ` : ''}${err instanceof Error ? err.message : String(err)}`;
    query = { ...toReportQuery(reportQuery.parse({}), range), page: undefined };
  }
  return { page, query, error };
}

/** The chart: the same filters by day (and the previous period when compared); none if it cannot be drawn. */
async function reportCharts(
  reports: ReportService,
  query: ReportQuery & { compare: boolean },
  current: Report,
): Promise<{ chartCurrent: Report | null; chartPrevious: Report | null }> {
  const [first, second] = query.groupBy as [Dimension, Dimension | undefined];
  const chartQuery = { ...query, groupBy: ['day' as Dimension] };
  let chartCurrent: Report | null = null;
  let chartPrevious: Report | null = null;
  try {
    chartCurrent = first === 'day' && !second ? current : await reports.report(chartQuery);
    if (query.compare) chartPrevious = await reports.report({ ...chartQuery, ...previousPeriod(query.from, query.to) });
  } catch {
    chartCurrent = null;
  }
  return { chartCurrent, chartPrevious };
}

/** Links keep the whole query; each changes what it says. */
function reportLinks(query: ReportQuery & { compare: boolean }, page: ReportPage) {
  const params = (): URLSearchParams => {
    const p = new URLSearchParams();
    p.set('groupBy', query.groupBy.join(','));
    p.set('from', query.from);
    p.set('to', query.to);
    if (query.compare) p.set('compare', 'previous');
    for (const [d, v] of Object.entries(query.filters ?? {})) p.set(d, String(v));
    return p;
  };
  const link = (change: (p: URLSearchParams) => void) => {
    const p = params();
    if (page.sort) p.set('sort', page.sort);
    if (page.sort) p.set('dir', page.dir);
    if (page.chart !== 'clicks') p.set('chart', page.chart);
    change(p);
    return `/admin/reports?${p.toString()}`;
  };
  /** A row's drill-down: its values as filters, the next dimension as the grouping. */
  const drill = (values: Array<[Dimension, string | number | null]>): string | null => {
    if (values.some(([, v]) => v === null)) return null;
    const last = values.at(-1)![0];
    const next = NEXT[last];
    if (!next) return null;
    const filters = { ...query.filters, ...Object.fromEntries(values.map(([d, v]) => [d, String(v)])) };
    if (filters[next] !== undefined) return null;
    try {
      ReportService.familyOf({ groupBy: [next], filters });
    } catch {
      return null;
    }
    return link((p) => {
      for (const [d, v] of values) p.set(d, String(v));
      p.set('groupBy', next);
      p.delete('sort');
      p.delete('dir');
    });
  };
  return { params, link, drill };
}

function cell(m: Metrics, c: (typeof COLUMNS)[number]): string {
  const v = m[c.key];
  if (v === null || v === undefined) return '—';
  if (c.show === 'money') return formatMoney(v instanceof ExactAmount ? v.units : toUnits(v as number));
  if (c.show === 'percent') return `${v as number} %`;
  return String(v);
}

/** The reports page: one or two dimensions, filters, drill-down, sortable columns, totals, a chart, CSV. */
export function reportPages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/reports', async (ctx) => {
    const { page, query, error } = readReportForm(ctx.query, ctx.services.reports.defaultRange());
    const reports = ctx.services.reports;
    const current = await reports.report(query);
    const snap = await ctx.services.cache.snapshot();
    const currency = snap.settings.baseCurrency;
    const [first, second] = query.groupBy as [Dimension, Dimension | undefined];
    const { chartCurrent, chartPrevious } = await reportCharts(reports, query, current);
    const previous = query.compare ? await reports.report({ ...query, ...previousPeriod(query.from, query.to) }) : null;
    const { params, link, drill } = reportLinks(query, page);
    const sortKey = COLUMNS.find((c) => c.key === page.sort)?.key;
    const rows = [...current.rows];
    if (sortKey) {
      const sign = page.dir === 'asc' ? 1 : -1;
      rows.sort((a, b) => sign * (sortValue(a, sortKey) - sortValue(b, sortKey)));
    }
    const csv = params();
    csv.set('format', 'csv');
    const filterList = Object.entries(query.filters ?? {}).map(([d, v]) => ({
      dimension: d,
      words: DIMENSION_WORDS[d as Dimension],
      value: v,
      removeUrl: link((p) => p.delete(d)),
    }));
    const dimensionOptions = DIMENSIONS.map((value) => ({ value, words: DIMENSION_WORDS[value] }));
    render(ctx, views, 'admin/reports', {
      title: 'Reports',
      nav: 'reports',
      query: { ...query, first, second: second ?? '' },
      error,
      dimensions: dimensionOptions,
      campaigns: [...snap.campaigns.values()].filter((c) => !c.archived).sort((a, b) => a.name.localeCompare(b.name)),
      campaignFilter: query.filters?.campaign ? Number(query.filters.campaign) : null,
      hiddenFilters: filterList.filter((f) => f.dimension !== 'campaign'),
      filters: filterList,
      headings: [{ words: DIMENSION_WORDS[first] }, ...(second ? [{ words: DIMENSION_WORDS[second] }] : [])],
      columns: COLUMNS.map((c) => ({
        words: c.words,
        sorted: sortKey === c.key ? (page.dir === 'asc' ? 'ascending' : 'descending') : null,
        url: link((p) => {
          p.set('sort', c.key);
          p.set('dir', sortKey === c.key && page.dir === 'desc' ? 'asc' : 'desc');
        }),
      })),
      rows: rows.map((r) => ({
        labels: [
          { text: r.label, url: second ? null : drill([[first, r.key]]) },
          ...(second
            ? [
                {
                  text: r.label2 ?? '',
                  url: drill([
                    [first, r.key],
                    [second, r.key2 ?? null],
                  ]),
                },
              ]
            : []),
        ],
        cells: COLUMNS.map((c) => cell(r, c)),
      })),
      totals: COLUMNS.map((c) => cell(current.totals, c)),
      previousTotals: previous ? COLUMNS.map((c) => cell(previous.totals, c)) : null,
      previousRange: previous ? { from: previous.from, to: previous.to } : null,
      labelSpan: second ? 2 : 1,
      chartMetrics: CHART_METRICS.map((m) => ({
        words: m.words,
        current: m.key === page.chart,
        url: link((p) => p.set('chart', m.key)),
      })),
      chart: chartCurrent
        ? timeChart(
            chartCurrent,
            chartPrevious,
            page.chart,
            currency,
            daysOf(query.from, query.to),
            chartPrevious ? daysOf(chartPrevious.from, chartPrevious.to) : [],
          )
        : null,
      currency,
      csvUrl: `/api/v1/reports?${csv.toString()}`,
    });
  });
}
