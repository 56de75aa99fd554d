import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import {
  ReportInputError,
  ReportService,
  REPORT_PER_PAGE,
  type Metrics,
  type Report,
  type ReportQuery,
  type ReportRow,
} from '../../services/reports.js';
import { optionalId, parseQuery } from './crud.js';
import { toCsv } from '../../domain/csv.js';
import { exactJson } from '../exact-json.js';
import { AppError } from '../../errors.js';
import { pageInfo } from '../../validation.js';
import { DIMENSIONS, VALUE_LENGTH, daysBetween, weekOf, type Dimension } from '../../domain/report-dimensions.js';

const realDay = (v: string) => {
  const t = Date.parse(`${v}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === v;
};
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-11-01')
  .refine(realDay, 'is not a real date');

/** The longest period of one report (SPEC §15 bad input: a range over 3 years). */
export const MAX_REPORT_DAYS = 3 * 366;

const groupBy = z.string().transform((v, ctx): Dimension[] => {
  const names = v.split(',').map((d) => d.trim());
  const unknown = names.find((d) => !(DIMENSIONS as readonly string[]).includes(d));
  const problem =
    names.length > 2
      ? 'takes one dimension or two separated by a comma'
      : unknown !== undefined
        ? `${unknown ? `"${unknown}" is not a dimension` : 'names no dimension'}: one of ${DIMENSIONS.join(', ')}`
        : names.length === 2 && names[0] === names[1]
          ? 'names the same dimension twice'
          : null;
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return names as Dimension[];
});

const id = z.coerce.number().int().positive().max(2_147_483_647).transform(String);
const text = z.string().trim().min(1).max(VALUE_LENGTH, `at most ${VALUE_LENGTH} characters`);

/** How each dimension is given as a filter (`&sub_id_1=zone7&country=DE`). */
const FILTERS: Record<Dimension, z.ZodType<string>> = Object.fromEntries(
  DIMENSIONS.map((d): [Dimension, z.ZodType<string>] => {
    switch (d) {
      case 'campaign':
      case 'group':
      case 'affiliate':
      case 'banner':
      case 'flow':
      case 'source':
        return [d, id];
      case 'day':
        return [d, day];
      case 'week':
        return [d, day.transform(weekOf)];
      case 'month':
        return [d, z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month such as 2026-11')];
      case 'hour':
        return [
          d,
          z.coerce
            .number()
            .int()
            .min(0)
            .max(23)
            .transform((h) => String(h).padStart(2, '0')),
        ];
      case 'landing':
      case 'offer':
        return [
          d,
          z
            .string()
            .regex(/^\d{1,10}:\d{1,4}$/, 'must be flowId:index as the report gives it')
            .transform((v) => {
              const [f, i] = v.split(':');
              return `${Number(f)}:${Number(i)}`;
            }),
        ];
      case 'country':
        return [
          d,
          z
            .string()
            .regex(/^[A-Za-z]{2}$/, 'must be a 2-letter country code')
            .transform((c) => c.toUpperCase()),
        ];
      default:
        return [d, text];
    }
  }),
) as Record<Dimension, z.ZodType<string>>;

/** Earlier names of the id filters (SPEC §9), kept. */
const ALIASES = {
  campaignId: 'campaign',
  affiliateId: 'affiliate',
  bannerId: 'banner',
  flowId: 'flow',
  sourceId: 'source',
} as const;

export const reportQuery = z
  .strictObject({
    groupBy: groupBy.default(['day']),
    from: day.optional(),
    to: day.optional(),
    compare: z.enum(['previous', 'none']).optional(),
    format: z.enum(['json', 'csv']).default('json'),
    // JSON answers are paged (a CSV export has every row); totals are always over every row.
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    perPage: z.coerce
      .number()
      .int()
      .min(1)
      .max(REPORT_PER_PAGE, `at most ${REPORT_PER_PAGE.toLocaleString('en')} rows a page`)
      .default(REPORT_PER_PAGE),
    campaignId: optionalId,
    affiliateId: optionalId,
    bannerId: optionalId,
    flowId: optionalId,
    sourceId: optionalId,
    ...Object.fromEntries(DIMENSIONS.map((d) => [d, FILTERS[d].optional()])),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be after `to`', path: ['from'] })
  .refine((q) => !q.from || !q.to || daysBetween(q.from, q.to) <= MAX_REPORT_DAYS, {
    message: `the period is longer than 3 years (${MAX_REPORT_DAYS} days)`,
    path: ['from'],
  });

export type ParsedReportQuery = z.output<typeof reportQuery>;

/** The service's query from the parsed parameters, with the default period where none is given. */
export function toReportQuery(
  q: ParsedReportQuery,
  range: { from: string; to: string },
): ReportQuery & { compare: boolean } {
  const filters: Partial<Record<Dimension, string>> = {};
  const all = q as unknown as Record<string, unknown>;
  for (const d of DIMENSIONS) if (typeof all[d] === 'string') filters[d] = all[d] as string;
  for (const [alias, d] of Object.entries(ALIASES)) {
    const v = all[alias];
    if (typeof v === 'number' && filters[d] === undefined) filters[d] = String(v);
  }
  let from = q.from ?? range.from;
  const to = q.to ?? range.to;
  // Only `to` given, before the default start: the default length ending on `to`.
  if (!q.from && from > to) from = to;
  if (daysBetween(from, to) > MAX_REPORT_DAYS)
    throw new AppError('validation_failed', 'from: the period is longer than 3 years', [
      { field: 'from', message: 'the period is longer than 3 years' },
    ]);
  return {
    groupBy: q.groupBy,
    from,
    to,
    filters,
    compare: q.compare === 'previous',
    ...(q.format === 'csv' ? {} : { page: { page: q.page, perPage: q.perPage } }),
  };
}

/** Checks that one rollup can answer; else 422 naming the parameter. */
export function checkFamily(q: ReportQuery): void {
  try {
    ReportService.familyOf(q);
  } catch (err) {
    if (err instanceof ReportInputError)
      throw new AppError('validation_failed', `${err.field}: ${err.message}`, [
        { field: err.field, message: err.message },
      ]);
    throw err;
  }
}

const METRICS: Array<keyof Metrics> = [
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

export const REPORT_COLUMNS: Array<keyof ReportRow> = ['key', 'label', ...METRICS];

/** CSV of one report (and of the previous period, marked in a `period` column). */
export const reportCsv = (current: Report, previous?: Report) => {
  const two = current.groupBy.length > 1;
  const columns: Array<keyof ReportRow> = two ? ['key', 'label', 'key2', 'label2', ...METRICS] : REPORT_COLUMNS;
  const rowsOf = (r: Report, period: string) =>
    r.rows.map((row) => [...(previous ? [period] : []), ...columns.map((c) => row[c] ?? null)]);
  return toCsv(
    [...(previous ? ['period'] : []), ...columns],
    [...rowsOf(current, 'current'), ...(previous ? rowsOf(previous, 'previous') : [])],
  );
};

/** GET /api/v1/reports (SPEC §9, §15): one or two dimensions, every dimension a filter, compare=previous, CSV. */
export function reportRoutes(router: Router<AppState, AppCustom>): void {
  router.get('/reports', requireRole('owner', 'manager'), async (ctx) => {
    const q = parseQuery(ctx, reportQuery);
    const query = toReportQuery(q, ctx.services.reports.defaultRange());
    checkFamily(query);
    const { current, previous } = query.compare
      ? await ctx.services.reports.compare(query)
      : { current: await ctx.services.reports.report(query), previous: undefined };
    const groupByText = query.groupBy.join(',');
    if (q.format === 'csv') {
      ctx.type = 'text/csv; charset=utf-8';
      ctx.set(
        'Content-Disposition',
        `attachment; filename="affix-report-${groupByText.replace(',', '-')}-${query.from}-${query.to}.csv"`,
      );
      ctx.body = reportCsv(current, previous);
      return;
    }
    // Totals of rollup parts can pass 2^53 units: every digit is printed (see exactJson).
    ctx.type = 'application/json';
    ctx.body = exactJson({
      groupBy: groupByText,
      from: query.from,
      to: query.to,
      filters: query.filters,
      currency: ctx.services.settings.get().baseCurrency,
      rows: current.rows,
      totals: current.totals,
      pagination: pageInfo(q, current.rowCount),
      ...(previous
        ? {
            previous: {
              from: previous.from,
              to: previous.to,
              rows: previous.rows,
              totals: previous.totals,
              pagination: pageInfo(q, previous.rowCount),
            },
          }
        : {}),
    });
  });
}
