import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { GROUP_BY, type ReportQuery, type ReportRow } from '../../services/reports.js';
import { optionalId, parseQuery } from './crud.js';
import { toCsv } from '../../domain/csv.js';
import { exactJson } from '../exact-json.js';

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-11-01')
  .refine((v) => !Number.isNaN(Date.parse(v)), 'is not a real date');

export const reportQuery = z
  .strictObject({
    groupBy: z.enum(GROUP_BY).default('day'),
    from: day.optional(),
    to: day.optional(),
    campaignId: optionalId,
    affiliateId: optionalId,
    bannerId: optionalId,
    flowId: optionalId,
    sourceId: optionalId,
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be a 2-letter country code')
      .transform((c) => c.toUpperCase())
      .optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be after `to`', path: ['from'] });

export const REPORT_COLUMNS: Array<keyof ReportRow> = [
  'key',
  'label',
  'clicks',
  'uniqueClicks',
  'impressions',
  'conversions',
  'sales',
  'revenue',
  'cost',
  'profit',
  'roi',
  'cr',
  'epc',
  'commissions',
  'commissionsPending',
  'commissionsApproved',
];

export const reportCsv = (rows: ReportRow[]) =>
  toCsv(
    REPORT_COLUMNS,
    rows.map((r) => REPORT_COLUMNS.map((c) => r[c])),
  );

/** GET /api/v1/reports (SPEC §9): rows per day, campaign, affiliate, banner, flow, landing, offer, source or country. */
export function reportRoutes(router: Router<AppState, AppCustom>): void {
  router.get('/reports', requireRole('owner', 'manager'), async (ctx) => {
    const q = parseQuery(ctx, reportQuery);
    const range = ctx.services.reports.defaultRange();
    const query: ReportQuery = { ...q, from: q.from ?? range.from, to: q.to ?? range.to };
    const rows = await ctx.services.reports.run(query);
    if (q.format === 'csv') {
      ctx.type = 'text/csv; charset=utf-8';
      ctx.set(
        'Content-Disposition',
        `attachment; filename="affix-report-${query.groupBy}-${query.from}-${query.to}.csv"`,
      );
      ctx.body = reportCsv(rows);
      return;
    }
    // Totals of rollup parts can pass 2^53 units: every digit is printed (see exactJson).
    ctx.type = 'application/json';
    ctx.body = exactJson({
      groupBy: query.groupBy,
      from: query.from,
      to: query.to,
      currency: ctx.services.settings.get().baseCurrency,
      rows,
    });
  });
}
