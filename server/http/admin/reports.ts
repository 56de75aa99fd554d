import { plural } from '../../messages.js';
import type Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render } from './render.js';
import { barChart } from './chart.js';
import { reportQuery } from '../api/reports.js';
import { GROUP_BY, type GroupBy, type ReportRow } from '../../services/reports.js';
import { ExactAmount, formatMoney, toUnits } from '../../domain/money.js';

/** What a row is, per grouping: the first column's heading and the chart's x axis. */
const GROUP_WORDS: Record<GroupBy, string> = {
  day: 'Day',
  campaign: 'Campaign',
  affiliate: 'Affiliate',
  banner: 'Banner',
  flow: 'Flow',
  landing: 'Landing page',
  offer: 'Offer',
  source: 'Traffic source',
  country: 'Country',
};

/** Table headings in words (SPEC §15), with how each figure is shown. */
const COLUMNS: Array<{ key: keyof ReportRow; words: string; show: 'count' | 'money' | 'percent' | 'epc' }> = [
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

/** The reports page: the REST report as a table and a chart, with the same filters and a CSV download. */
export function reportPages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/reports', async (ctx) => {
    // A form sends every field: an empty one ("All campaigns", no date) means no filter.
    const sent = Object.fromEntries(Object.entries(ctx.query).filter(([, v]) => v !== '' && v !== undefined));
    const parsed = reportQuery.safeParse(sent);
    // A bad field is named and left out; the rest of the form still applies.
    const bad = new Set(parsed.success ? [] : parsed.error.issues.map((i) => String(i.path[0])));
    const q = parsed.success
      ? parsed.data
      : (reportQuery.safeParse(Object.fromEntries(Object.entries(sent).filter(([k]) => !bad.has(k)))).data ??
        reportQuery.parse({}));
    const range = ctx.services.reports.defaultRange();
    const query = { ...q, from: q.from ?? range.from, to: q.to ?? range.to };
    const rows = await ctx.services.reports.run(query);
    const snap = await ctx.services.cache.snapshot();
    const currency = snap.settings.baseCurrency;
    const csv = new URLSearchParams(
      Object.entries({ ...query, format: 'csv' })
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    const cell = (r: ReportRow, c: (typeof COLUMNS)[number]) => {
      const v = r[c.key];
      if (v === null || v === undefined) return '—';
      if (c.show === 'money') return formatMoney(v instanceof ExactAmount ? v.units : toUnits(v as number));
      if (c.show === 'percent') return `${v as number} %`;
      return String(v);
    };
    const groupWord = GROUP_WORDS[query.groupBy];
    render(ctx, views, 'admin/reports', {
      title: 'Reports',
      nav: 'reports',
      query,
      error: parsed.success ? null : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      groupBys: GROUP_BY.map((value) => ({ value, words: GROUP_WORDS[value] })),
      campaigns: [...snap.campaigns.values()].filter((c) => !c.archived).sort((a, b) => a.name.localeCompare(b.name)),
      groupWord,
      columns: COLUMNS.map((c) => c.words),
      rows: rows.map((r) => ({ label: r.label, cells: COLUMNS.map((c) => cell(r, c)) })),
      chart: rows.length
        ? barChart({
            points: rows.map((r) => ({
              label: r.label,
              bar: r.clicks,
              dot: r.conversions,
              title: `${r.label}: ${plural(r.clicks, 'click', 'clicks')}, ${plural(r.conversions, 'conversion', 'conversions')}, ${formatMoney(r.revenue.units, currency)} revenue`,
            })),
            xLabel: groupWord,
            barLabel: 'Clicks',
            dotLabel: 'Conversions',
            description: `Clicks (bars) and conversions (dots) by ${groupWord.toLowerCase()}, ${query.from} to ${query.to}`,
          })
        : null,
      currency,
      csvUrl: `/api/v1/reports?${csv.toString()}`,
    });
  });
}
