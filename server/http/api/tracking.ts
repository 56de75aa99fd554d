import type Router from '@koa/router';
import { z } from 'zod';
import type { AppContext, AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { jsonBody, cookieVisitor, saleResponse } from '../tracking.js';
import { AppError, notFound } from '../../errors.js';
import { id as idSchema, pageQuery, parse } from '../../validation.js';
import { verifySignature } from '../../services/signature.js';
import { listSales, getSale } from '../../store/sales.js';
import { listClicks } from '../../store/clicks.js';
import { optionalId } from './crud.js';
import { KEY_LENGTH } from '../../domain/limits.js';

const MERCHANT = ['owner', 'manager'] as const;

/** A date or date-time in a query: `from` / `to` as ISO 8601 (a plain date means midnight UTC). */
const isoTime = z
  .string()
  .trim()
  .max(40)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date such as 2026-11-01')
  .transform((v) => Date.parse(v))
  .optional();

/**
 * Server-to-server calls are authenticated by a merchant API token or by the campaign
 * signature (SPEC §4.2); only these may set `status` and `affiliateId`.
 */
export async function authenticateServer(ctx: AppContext): Promise<void> {
  const user = ctx.state.user;
  if (user) {
    if (user.role === 'affiliate') throw new AppError('forbidden', 'Affiliates cannot record sales');
    return;
  }
  const header = ctx.get('X-Affix-Signature');
  if (!header)
    throw new AppError('unauthorized', 'Send an API token (Authorization: Bearer …) or an X-Affix-Signature header');
  const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
  const snap = await ctx.services.cache.snapshot();
  const body = jsonBody(ctx) as { campaignId?: unknown } | null;
  const hinted =
    typeof body?.campaignId === 'number' || typeof body?.campaignId === 'string'
      ? snap.campaigns.get(Number(body.campaignId))
      : undefined;
  const secrets = [...(hinted ? [hinted.secretKey] : []), ...[...snap.campaigns.values()].map((c) => c.secretKey)];
  const check = verifySignature(header, raw, secrets, ctx.services.clock());
  if (!check.ok) throw new AppError('unauthorized', `Invalid X-Affix-Signature: ${check.reason}`);
}

const saleFilters = z.object({
  campaignId: optionalId,
  affiliateId: optionalId,
  status: z.enum(['approved', 'pending', 'declined']).optional(),
  kind: z.enum(['sale', 'action']).optional(),
  orderId: z.string().max(KEY_LENGTH).optional(),
  matchedBy: z.enum(['lifetime', 'coupon', 'banner', 'campaign', 'product', 'cookie', 'default']).optional(),
  from: isoTime,
  to: isoTime,
});

const clickFilters = z.object({
  campaignId: optionalId,
  affiliateId: optionalId,
  bannerId: optionalId,
  status: z.enum(['unique', 'raw', 'declined']).optional(),
  visitorId: z.string().max(64).optional(),
  from: isoTime,
  to: isoTime,
});

/** Sales, actions and clicks in the REST API (SPEC §4.2, §5.3, §9). */
export function trackingApiRoutes(router: Router<AppState, AppCustom>): void {
  for (const [path, kind] of [
    ['/sales', 'sale'],
    ['/actions', 'action'],
  ] as const) {
    router.post(path, async (ctx) => {
      await authenticateServer(ctx);
      const result = await ctx.services.sales.record({
        kind,
        body: jsonBody(ctx),
        signed: true,
        ip: ctx.ip,
        userAgent: ctx.get('User-Agent'),
        cookieVisitorId: null,
        source: 'api',
      });
      ctx.status = result.duplicate || result.saleId === null ? 200 : 201;
      ctx.body = saleResponse(result);
    });
  }

  router.post('/simulate/sale', requireRole(...MERCHANT), async (ctx) => {
    const body = jsonBody(ctx) as Record<string, unknown>;
    // A body naming an actionCode is an action (with or without orderId), as on POST /t/action.
    const kind = typeof body?.actionCode === 'string' ? 'action' : 'sale';
    const result = await ctx.services.sales.simulate({
      kind,
      body,
      signed: true,
      ip: typeof body?.ip === 'string' ? body.ip : ctx.ip,
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
    const page = parse(pageQuery, { page: ctx.query.page, perPage: ctx.query.perPage });
    ctx.body = await listSales(ctx.services.db, parse(saleFilters, ctx.query), page);
  });
  router.get('/sales/:id', requireRole(...MERCHANT), async (ctx) => {
    const { id } = parse(z.object({ id: idSchema }), ctx.params);
    const sale = await getSale(ctx.services.db, id);
    if (!sale) throw notFound('sale', id);
    ctx.body = sale;
  });
  router.get('/clicks', requireRole(...MERCHANT), async (ctx) => {
    const page = parse(pageQuery, { page: ctx.query.page, perPage: ctx.query.perPage });
    ctx.body = await listClicks(ctx.services.db, parse(clickFilters, ctx.query), page);
  });
}
