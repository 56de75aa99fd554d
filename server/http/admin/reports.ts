import type Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render } from './render.js';
import { reportQuery, REPORT_COLUMNS } from '../api/reports.js';
import { GROUP_BY } from '../../services/reports.js';

/** The reports page: the REST report as a table, with the same filters and a CSV download. */
export function reportPages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/reports', async (ctx) => {
    const parsed = reportQuery.safeParse(ctx.query);
    const q = parsed.success ? parsed.data : reportQuery.parse({});
    const range = ctx.services.reports.defaultRange();
    const query = { ...q, from: q.from ?? range.from, to: q.to ?? range.to };
    const rows = await ctx.services.reports.run(query);
    const snap = await ctx.services.cache.snapshot();
    const csv = new URLSearchParams(
      Object.entries({ ...query, format: 'csv' })
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    const max = Math.max(1, ...rows.map((r) => r.clicks));
    render(ctx, views, 'admin/reports', {
      title: 'Reports',
      nav: 'reports',
      query,
      error: parsed.success ? null : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      groupBys: GROUP_BY,
      campaigns: [...snap.campaigns.values()].filter((c) => !c.archived).sort((a, b) => a.name.localeCompare(b.name)),
      columns: REPORT_COLUMNS.filter((c) => c !== 'key'),
      rows: rows.map((r) => ({
        ...r,
        cells: REPORT_COLUMNS.filter((c) => c !== 'key').map((c) => r[c] ?? '—'),
        bar: Math.round((r.clicks / max) * 100),
      })),
      currency: snap.settings.baseCurrency,
      csvUrl: `/api/v1/reports?${csv.toString()}`,
    });
  });
}
