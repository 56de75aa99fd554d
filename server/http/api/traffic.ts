import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import {
  crudRoutes,
  nothing,
  optionalBool,
  parseBody,
  parseList,
  parseQuery,
  refuseInput,
  searchTerm,
} from './crud.js';
import { requireRole } from '../middleware.js';
import { id as idSchema, parse } from '../../validation.js';
import type { Actor } from '../../services/actor.js';
import { campaignJson } from '../presenters/campaigns.js';
import * as t from '../../schemas/traffic.js';

const MERCHANT = ['owner', 'manager'] as const;

/** REST routes for the traffic objects of SPEC §7: domains, sources, groups, flows, the Click API token. */
export function trafficRoutes(router: Router<AppState, AppCustom>): void {
  const merchant = requireRole(...MERCHANT);

  crudRoutes(router, {
    path: '/domains',
    roles: [...MERCHANT],
    filters: z.strictObject({ q: searchTerm }),
    create: t.domainCreate,
    patch: t.domainPatch,
    service: (sv) => sv.domains,
  });

  crudRoutes(router, {
    path: '/sources',
    roles: [...MERCHANT],
    filters: z.strictObject({ q: searchTerm, archived: optionalBool }),
    create: t.sourceCreate,
    patch: t.sourcePatch,
    service: (sv) => sv.sources,
  });

  crudRoutes(router, {
    path: '/groups',
    roles: [...MERCHANT],
    filters: z.strictObject({ q: searchTerm }),
    create: t.groupCreate,
    patch: t.groupPatch,
    service: (sv) => sv.groups,
  });

  router.post('/campaigns/:id/regenerate-api-token', requireRole('owner'), async (ctx) => {
    const { id } = parse(z.object({ id: idSchema }), ctx.params);
    parseBody(ctx, nothing);
    ctx.body = campaignJson(await ctx.services.campaigns.regenerateApiToken(id, ctx.state.user as Actor));
  });

  // Flows live under their campaign: /campaigns/:id/flows[/:flowId].
  const flowFilters = z.strictObject({
    type: z.enum(t.FLOW_TYPES).optional(),
    status: z.enum(t.FLOW_STATUSES).optional(),
    archived: optionalBool,
  });
  const campaignParam = z.object({ id: idSchema });
  const flowParams = z.object({ id: idSchema, flowId: idSchema });
  router.get('/campaigns/:id/flows', merchant, async (ctx) => {
    const { id } = parse(campaignParam, ctx.params);
    const { page, filters } = parseList(ctx, flowFilters);
    ctx.body = await ctx.services.flows.list(id, filters, page);
  });
  router.post('/campaigns/:id/flows', merchant, async (ctx) => {
    const { id } = parse(campaignParam, ctx.params);
    const input = parseBody(ctx, t.flowCreate);
    ctx.status = 201;
    ctx.body = await ctx.services.flows.create(id, input, ctx.state.user as Actor);
  });
  router.get('/campaigns/:id/flows/:flowId', merchant, async (ctx) => {
    const p = parse(flowParams, ctx.params);
    parseQuery(ctx, nothing);
    ctx.body = await ctx.services.flows.get(p.id, p.flowId);
  });
  router.patch('/campaigns/:id/flows/:flowId', merchant, async (ctx) => {
    const p = parse(flowParams, ctx.params);
    const patch = parseBody(ctx, t.flowPatch);
    ctx.body = await ctx.services.flows.update(p.id, p.flowId, patch, ctx.state.user as Actor);
  });
  router.delete('/campaigns/:id/flows/:flowId', merchant, async (ctx) => {
    const p = parse(flowParams, ctx.params);
    refuseInput(ctx);
    await ctx.services.flows.remove(p.id, p.flowId, ctx.state.user as Actor);
    ctx.status = 204;
  });
}
