import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { idParam, pageQuery, parse } from '../../validation.js';
import { OUTBOX_STATUSES } from '../../store/outbox.js';
import type { Actor } from '../../services/actor.js';

const MERCHANT = ['owner', 'manager'] as const;

const listQuery = pageQuery.extend({
  status: z.enum(OUTBOX_STATUSES).optional(),
  channel: z.enum(['webhook', 'affiliate_postback', 'source_postback']).optional(),
  event: z.string().trim().min(1).max(64).optional(),
});

/** The outbox of outgoing postbacks and webhooks (SPEC §7.6): what was sent, what waits, what failed. */
export function outboxRoutes(router: Router<AppState, AppCustom>): void {
  router.get('/outbox', requireRole(...MERCHANT), async (ctx) => {
    const { page, perPage, ...filters } = parse(listQuery, ctx.query);
    ctx.body = await ctx.services.outboxWorker.list(filters, { page, perPage });
  });
  router.get('/outbox/:id', requireRole(...MERCHANT), async (ctx) => {
    ctx.body = await ctx.services.outboxWorker.get(parse(idParam, ctx.params).id);
  });
  router.post('/outbox/:id/retry', requireRole(...MERCHANT), async (ctx) => {
    ctx.body = await ctx.services.outboxWorker.retry(parse(idParam, ctx.params).id, ctx.state.user as Actor);
  });
}
