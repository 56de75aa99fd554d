import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import {
  crudRoutes,
  nothing,
  optionalBool,
  optionalId,
  parseBody,
  parseList,
  parseQuery,
  refuseInput,
  searchTerm,
} from './crud.js';
import { requireRole } from '../middleware.js';
import { forbidden } from '../../errors.js';
import { id as idSchema, parse } from '../../validation.js';
import type { Actor } from '../../services/actor.js';
import * as s from '../../schemas/programme.js';
import { payoutJson } from '../presenters/payouts.js';
import { campaignJson } from '../presenters/campaigns.js';
import { campaignFor } from '../../services/secrets.js';
import type { AppContext } from '../context.js';
import type { Campaign } from '../../store/campaigns.js';
import { sourceUrlTemplate } from '../../store/sources.js';
import { domainOrigin, trackerOrigin } from '../admin/traffic-form.js';

/** The campaign's full URL with its source's parameter template (SPEC §7.1, §15); null without an alias. */
async function campaignUrlOf(ctx: AppContext, campaign: Campaign): Promise<string | null> {
  if (!campaign.alias) return null;
  const snap = await ctx.services.cache.snapshot();
  const domain = campaign.domainId ? snap.domains.get(campaign.domainId) : undefined;
  const source = campaign.sourceId ? snap.sources.get(campaign.sourceId) : undefined;
  const origin = domain ? domainOrigin(ctx, domain.host) : trackerOrigin(ctx);
  return `${origin}/${campaign.alias}${source ? sourceUrlTemplate(source.params) : ''}`;
}

const MERCHANT = ['owner', 'manager'] as const;

/** REST routes for the affiliate programme objects of SPEC §3 and §6.1. */
export function programmeRoutes(router: Router<AppState, AppCustom>): void {
  affiliateRoutes(router);
  campaignRoutes(router);
  objectRoutes(router);
  payoutRoutes(router);
}

function affiliateRoutes(router: Router<AppState, AppCustom>): void {
  // An affiliate may read its own record; everything else here is the merchant's.
  router.get('/affiliates/:id', async (ctx, next) => {
    const user = ctx.state.user;
    if (user?.role !== 'affiliate') return next();
    const id = parse(z.object({ id: idSchema }), ctx.params).id;
    parseQuery(ctx, nothing);
    if (id !== user.affiliateId) throw forbidden('An affiliate can read only its own record');
    ctx.body = await ctx.services.affiliates.get(id);
  });

  crudRoutes(router, {
    path: '/affiliates',
    roles: [...MERCHANT],
    filters: z.strictObject({
      status: z.enum(s.AFFILIATE_STATUSES).optional(),
      q: searchTerm,
      archived: optionalBool,
      parentId: optionalId,
    }),
    create: s.affiliateCreate,
    patch: s.affiliatePatch,
    service: (sv) => sv.affiliates,
    csv: { name: 'affiliates', stream: (sv, f) => sv.affiliateOverview.csv(f) },
  });
  for (const [action, status] of [
    ['approve', 'approved'],
    ['decline', 'declined'],
  ] as const) {
    router.post(`/affiliates/:id/${action}`, requireRole(...MERCHANT), async (ctx) => {
      const id = parse(z.object({ id: idSchema }), ctx.params).id;
      parseBody(ctx, nothing);
      ctx.body = await ctx.services.affiliates.setStatus(id, status, ctx.state.user as Actor);
    });
  }
}

function campaignRoutes(router: Router<AppState, AppCustom>): void {
  crudRoutes(router, {
    path: '/campaigns',
    roles: [...MERCHANT],
    filters: z.strictObject({
      status: z.enum(s.CAMPAIGN_STATUSES).optional(),
      type: z.enum(s.CAMPAIGN_TYPES).optional(),
      groupId: optionalId,
      q: searchTerm,
      archived: optionalBool,
    }),
    create: s.campaignCreate,
    patch: s.campaignPatch,
    service: (sv) => sv.campaigns,
    toJson: async (campaign, actor, ctx) => ({
      ...campaignJson(campaignFor(actor, campaign)),
      campaignUrl: await campaignUrlOf(ctx, campaign),
    }),
  });
  // A copy with its flows and payouts (SPEC §15).
  router.post('/campaigns/:id/clone', requireRole(...MERCHANT), async (ctx) => {
    const id = parse(z.object({ id: idSchema }), ctx.params).id;
    parseBody(ctx, nothing);
    const campaign = await ctx.services.campaigns.clone(id, ctx.state.user as Actor);
    ctx.status = 201;
    ctx.body = {
      ...campaignJson(campaignFor(ctx.state.user as Actor, campaign)),
      campaignUrl: await campaignUrlOf(ctx, campaign),
    };
  });
  // Secrets are the owner's: managers see them masked and cannot regenerate them.
  router.post('/campaigns/:id/regenerate-secret-key', requireRole('owner'), async (ctx) => {
    const id = parse(z.object({ id: idSchema }), ctx.params).id;
    parseBody(ctx, nothing);
    ctx.body = campaignJson(await ctx.services.campaigns.regenerateSecretKey(id, ctx.state.user as Actor));
  });
}

function objectRoutes(router: Router<AppState, AppCustom>): void {
  crudRoutes(router, {
    path: '/commission-groups',
    roles: [...MERCHANT],
    filters: z.strictObject({ q: searchTerm, affiliateId: optionalId }),
    create: s.commissionGroupCreate,
    patch: s.commissionGroupPatch,
    service: (sv) => sv.commissionGroups,
  });

  crudRoutes(router, {
    path: '/banners',
    roles: [...MERCHANT],
    filters: z.strictObject({
      campaignId: optionalId,
      type: z.enum(s.BANNER_TYPES).optional(),
      q: searchTerm,
      archived: optionalBool,
    }),
    create: s.bannerCreate,
    patch: s.bannerPatch,
    service: (sv) => sv.banners,
  });

  crudRoutes(router, {
    path: '/coupons',
    roles: [...MERCHANT],
    filters: z.strictObject({ campaignId: optionalId, affiliateId: optionalId, q: searchTerm, archived: optionalBool }),
    create: s.couponCreate,
    patch: s.couponPatch,
    service: (sv) => sv.coupons,
  });
}

function payoutRoutes(router: Router<AppState, AppCustom>): void {
  // Payouts live under their campaign: /campaigns/:id/payouts[/:payoutId].
  const payoutFilters = z.strictObject({
    kind: z.enum(s.PAYOUT_KINDS).optional(),
    type: z.enum(s.PAYOUT_TYPES).optional(),
    affiliateId: optionalId,
    archived: optionalBool,
  });
  const campaignParam = z.object({ id: idSchema });
  const payoutParams = z.object({ id: idSchema, payoutId: idSchema });
  const merchant = requireRole(...MERCHANT);
  router.get('/campaigns/:id/payouts', merchant, async (ctx) => {
    const { id } = parse(campaignParam, ctx.params);
    const { page, filters } = parseList(ctx, payoutFilters);
    await ctx.services.campaigns.get(id);
    const result = await ctx.services.payouts.list({ ...filters, campaignId: id }, page);
    ctx.body = { ...result, data: result.data.map(payoutJson) };
  });
  router.post('/campaigns/:id/payouts', merchant, async (ctx) => {
    const { id } = parse(campaignParam, ctx.params);
    const input = parseBody(ctx, s.payoutCreate);
    ctx.status = 201;
    ctx.body = payoutJson(await ctx.services.payouts.create(id, input, ctx.state.user as Actor));
  });
  router.get('/campaigns/:id/payouts/:payoutId', merchant, async (ctx) => {
    const p = parse(payoutParams, ctx.params);
    parseQuery(ctx, nothing);
    ctx.body = payoutJson(await ctx.services.payouts.get(p.payoutId, p.id));
  });
  router.patch('/campaigns/:id/payouts/:payoutId', merchant, async (ctx) => {
    const p = parse(payoutParams, ctx.params);
    const patch = parseBody(ctx, s.payoutPatch);
    ctx.body = payoutJson(await ctx.services.payouts.update(p.id, p.payoutId, patch, ctx.state.user as Actor));
  });
  router.delete('/campaigns/:id/payouts/:payoutId', merchant, async (ctx) => {
    const p = parse(payoutParams, ctx.params);
    refuseInput(ctx);
    await ctx.services.payouts.remove(p.id, p.payoutId, ctx.state.user as Actor);
    ctx.status = 204;
  });
}
