import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { idParam, parse } from '../../validation.js';
import { nothing, parseBody, parseList, parseQuery } from './crud.js';
import { OUTBOX_STATUSES } from '../../store/outbox.js';
import type { Actor } from '../../services/actor.js';

const MERCHANT = ['owner', 'manager'] as const;

const outboxFilters = z.strictObject({
  status: z.enum(OUTBOX_STATUSES).optional(),
  channel: z.enum(['webhook', 'affiliate_postback', 'source_postback', 'mail']).optional(),
  event: z.string().trim().min(1).max(64).optional(),
});

/** The outbox of outgoing postbacks and webhooks (SPEC §7.6): what was sent, what waits, what failed. */
export function outboxRoutes(router: Router<AppState, AppCustom>): void {
  router.get('/outbox', requireRole(...MERCHANT), async (ctx) => {
    const { page, filters } = parseList(ctx, outboxFilters);
    ctx.body = await ctx.services.outboxWorker.list(filters, page);
  });
  router.get('/outbox/:id', requireRole(...MERCHANT), async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    parseQuery(ctx, nothing);
    ctx.body = await ctx.services.outboxWorker.get(id);
  });
  router.post('/outbox/:id/retry', requireRole(...MERCHANT), async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    parseBody(ctx, nothing);
    ctx.body = await ctx.services.outboxWorker.retry(id, ctx.state.user as Actor);
  });
}
