import type Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { nothing, parseBody, parseQuery, refuseInput } from './crud.js';
import { idParam, parse } from '../../validation.js';
import { apiKeyCreate } from '../../services/api-keys.js';
import type { Actor } from '../../services/actor.js';

/** Named, revocable API keys (SPEC §13): the owner's to list, create and revoke. */
export function apiKeyRoutes(router: Router<AppState, AppCustom>): void {
  const owner = requireRole('owner');
  router.get('/api-keys', owner, async (ctx) => {
    parseQuery(ctx, nothing);
    const data = await ctx.services.apiKeys.list();
    ctx.body = { data, pagination: { page: 1, perPage: data.length, total: data.length, totalPages: 1 } };
  });
  // The secret is in this answer only; Affix keeps its hash.
  router.post('/api-keys', owner, async (ctx) => {
    const input = parseBody(ctx, apiKeyCreate);
    const { key, secret } = await ctx.services.apiKeys.create(input, ctx.state.user as Actor);
    ctx.status = 201;
    ctx.body = { ...key, secret };
  });
  router.get('/api-keys/:id', owner, async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    parseQuery(ctx, nothing);
    ctx.body = await ctx.services.apiKeys.get(id);
  });
  router.delete('/api-keys/:id', owner, async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    refuseInput(ctx);
    await ctx.services.apiKeys.revoke(id, ctx.state.user as Actor);
    ctx.status = 204;
  });
}
