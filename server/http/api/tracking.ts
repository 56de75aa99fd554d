import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { jsonBody, cookieVisitor, saleResponse } from '../tracking.js';
import { fieldError, notFound } from '../../errors.js';
import { id as idSchema, isoTimeParam, parse } from '../../validation.js';
import { answerOnce, authenticateServer, signerOfSale } from './server-calls.js';
import { nothing, optionalId, parseList, parseQuery } from './crud.js';
import { SALE_STATUSES } from '../../domain/sale-status.js';
import { KEY_LENGTH } from '../../domain/limits.js';
import { saleJson, salePageJson } from '../presenters/sales.js';
import { clickPageJson } from '../presenters/clicks.js';
import { listFormat, sendCsv } from '../csv-response.js';

const MERCHANT = ['owner', 'manager'] as const;

const saleFilters = z.strictObject({
  format: listFormat,
  campaignId: optionalId,
  affiliateId: optionalId,
  status: z.enum(SALE_STATUSES).optional(),
  kind: z.enum(['sale', 'action']).optional(),
  orderId: z.string().max(KEY_LENGTH).optional(),
  matchedBy: z.enum(['lifetime', 'coupon', 'banner', 'campaign', 'product', 'cookie', 'default']).optional(),
  from: isoTimeParam(false),
  to: isoTimeParam(true),
});

const clickFilters = z.strictObject({
  format: listFormat,
  campaignId: optionalId,
  affiliateId: optionalId,
  bannerId: optionalId,
  status: z.enum(['unique', 'raw', 'declined']).optional(),
  visitorId: z.string().max(64).optional(),
  from: isoTimeParam(false),
  to: isoTimeParam(true),
});

/** Sales, actions and clicks in the REST API (SPEC §4.2, §5.3, §9). */
export function trackingApiRoutes(router: Router<AppState, AppCustom>): void {
  for (const [path, kind] of [
    ['/sales', 'sale'],
    ['/actions', 'action'],
  ] as const) {
    router.post(path, async (ctx) => {
      const caller = await authenticateServer(ctx, () => signerOfSale(ctx));
      await answerOnce(ctx, caller, null, async () => {
        const result = await ctx.services.sales.record({
          kind,
          body: jsonBody(ctx),
          signed: true,
          ...(caller.kind === 'signature' ? { signedCampaignId: caller.campaignId } : {}),
          ip: ctx.ip,
          userAgent: ctx.get('User-Agent'),
          cookieVisitorId: null,
          source: 'api',
        });
        return { status: result.duplicate || result.saleId === null ? 200 : 201, body: saleResponse(result) };
      });
    });
  }

  router.post('/simulate/sale', requireRole(...MERCHANT), async (ctx) => {
    const raw = jsonBody(ctx);
    const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
    // A sale body plus `ip`, the visitor address to simulate; the rest is checked as on POST /api/v1/sales.
    const { ip, ...rest } = (isObject ? raw : {}) as Record<string, unknown>;
    const visitorIp = ip === undefined ? ctx.ip : typeof ip === 'string' && ip.length <= 64 ? ip : null;
    if (visitorIp === null) throw fieldError('ip', 'must be an IP address');
    // A body naming an actionCode is an action (with or without orderId), as on POST /t/action.
    const kind = typeof rest.actionCode === 'string' ? 'action' : 'sale';
    const result = await ctx.services.sales.simulate({
      kind,
      body: isObject ? rest : raw,
      signed: true,
      ip: visitorIp,
      userAgent: ctx.get('User-Agent'),
      cookieVisitorId: cookieVisitor(ctx),
      source: 'api',
    });
    ctx.body = {
      ...saleResponse(result),
      trace: result.trace,
      explanation: result.explanation,
      plannedCommissions: result.plannedCommissions,
      payoutExplanation: result.payoutExplanation,
    };
  });

  router.get('/sales', requireRole(...MERCHANT), async (ctx) => {
    const { page, filters } = parseList(ctx, saleFilters);
    const { format, ...f } = filters;
    if (format === 'csv') return sendCsv(ctx, 'sales', ctx.services.trackingLog.salesCsv(f));
    ctx.body = salePageJson(await ctx.services.trackingLog.sales(f, page));
  });
  router.get('/sales/:id', requireRole(...MERCHANT), async (ctx) => {
    const { id } = parse(z.object({ id: idSchema }), ctx.params);
    parseQuery(ctx, nothing);
    const sale = await ctx.services.trackingLog.sale(id);
    if (!sale) throw notFound('sale', id);
    ctx.body = saleJson(sale);
  });
  router.get('/clicks', requireRole(...MERCHANT), async (ctx) => {
    const { page, filters } = parseList(ctx, clickFilters);
    const { format, ...f } = filters;
    if (format === 'csv') return sendCsv(ctx, 'clicks', ctx.services.trackingLog.clicksCsv(f));
    ctx.body = clickPageJson(await ctx.services.trackingLog.clicks(f, page));
  });
}
