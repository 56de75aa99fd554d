import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { optionalId, parseList } from './crud.js';
import type { ConversionEntry, ConversionFilters } from '../../store/conversions.js';
import { toCsv } from '../../domain/csv.js';
import { addDays, dayStart } from '../../domain/report-dimensions.js';
import { dayIn } from '../../domain/time.js';
import { conversionCell, conversionJson } from '../presenters/conversions.js';

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-11-01')
  .refine((v) => {
    const t = Date.parse(`${v}T00:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === v;
  }, 'is not a real date');

export const CONVERSION_STATUSES = ['lead', 'sale', 'rejected', 'rebill'] as const;

export const conversionFilters = z
  .strictObject({
    campaignId: optionalId,
    status: z.enum(CONVERSION_STATUSES).optional(),
    subid: z.string().trim().min(1).max(32).optional(),
    tid: z.string().trim().min(1).max(191).optional(),
    from: day.optional(),
    to: day.optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be after `to`', path: ['from'] });

/** The store's filters: `from` and `to` are report days in the time zone setting. */
export function conversionQuery(
  q: { campaignId?: number; status?: string; subid?: string; tid?: string; from?: string; to?: string },
  timezone: string,
): ConversionFilters {
  return {
    campaignId: q.campaignId,
    status: q.status,
    subid: q.subid,
    tid: q.tid,
    from: q.from ? dayStart(q.from, timezone, dayIn) : undefined,
    to: q.to ? dayStart(addDays(q.to, 1), timezone, dayIn) : undefined,
  };
}

const CSV_COLUMNS: Array<keyof ConversionEntry> = [
  'id',
  'createdAt',
  'updatedAt',
  'clickId',
  'tid',
  'campaignId',
  'flowId',
  'landingIndex',
  'offerIndex',
  'sourceId',
  'affiliateId',
  'status',
  'previousStatus',
  'revenue',
  'currency',
  'revenueBase',
  'cost',
  'saleId',
];
/** At most this many rows in one CSV download. */
export const CONVERSIONS_CSV_LIMIT = 100_000;

export const conversionsCsv = (rows: ConversionEntry[]) =>
  toCsv(
    CSV_COLUMNS,
    rows.map((r) => CSV_COLUMNS.map((c) => conversionCell(r, c))),
  );

/** GET /api/v1/conversions (SPEC §15): postback conversions, filtered, paged, or as CSV. */
export function conversionRoutes(router: Router<AppState, AppCustom>): void {
  router.get('/conversions', requireRole('owner', 'manager'), async (ctx) => {
    const { page, filters } = parseList(ctx, conversionFilters);
    const f = conversionQuery(filters, ctx.services.settings.get().timezone);
    if (filters.format === 'csv') {
      ctx.type = 'text/csv; charset=utf-8';
      ctx.set('Content-Disposition', 'attachment; filename="affix-conversions.csv"');
      ctx.body = conversionsCsv(await ctx.services.trackingLog.allConversions(f, CONVERSIONS_CSV_LIMIT));
      return;
    }
    const result = await ctx.services.trackingLog.conversions(f, page);
    ctx.body = { ...result, data: result.data.map(conversionJson) };
  });
}
