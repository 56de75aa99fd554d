import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { nothing, parseBody, parseList, parseQuery } from './crud.js';
import { parse } from '../../validation.js';
import { settingsPatchSchema } from '../../domain/settings.js';
import { notFound } from '../../errors.js';
import type { Actor } from '../../services/actor.js';
import { pluginPatchSchema } from '../../services/plugins.js';
import { MAX_API_TOKEN_HOURS, type AuthUser } from '../../services/auth.js';
import { pluginFor, settingsFor } from '../../services/secrets.js';

import { KEY_LENGTH } from '../../domain/limits.js';

const tokenBody = z.strictObject({
  email: z.string().trim().min(1, 'is required').max(KEY_LENGTH),
  password: z.string().min(1, 'is required').max(200),
  expiresInHours: z.number().int().min(1).max(MAX_API_TOKEN_HOURS.staff).optional(),
});

/** Tokens, settings, plugins, staff accounts and the audit log. */
export function systemRoutes(router: Router<AppState, AppCustom>): void {
  tokenRoutes(router);
  settingsRoutes(router);
  pluginRoutes(router);
  userRoutes(router);
  auditRoutes(router);
}

function tokenRoutes(router: Router<AppState, AppCustom>): void {
  router.post('/auth/token', async (ctx) => {
    const body = parseBody(ctx, tokenBody);
    const user = await ctx.services.auth.login(body.email, body.password, ctx.ip);
    const ttl = ctx.services.auth.apiTokenTtlSeconds(user, body.expiresInHours);
    const token = ctx.services.auth.sign(user, 'api', ttl);
    ctx.body = {
      token,
      tokenType: 'Bearer',
      expiresIn: ttl,
      role: user.role,
      affiliateId: user.affiliateId,
    };
  });

  router.get('/me', requireRole('owner', 'manager', 'affiliate'), (ctx) => {
    parseQuery(ctx, nothing);
    const u = ctx.state.user!;
    ctx.body = { id: u.userId, email: u.email, role: u.role, affiliateId: u.affiliateId };
  });
  // Ends every session and token of the calling account, this one included (SPEC §13).
  router.post('/me/sign-out-everywhere', requireRole('owner', 'manager', 'affiliate'), async (ctx) => {
    parseBody(ctx, nothing);
    await ctx.services.auth.signOutEverywhere(ctx.state.user as AuthUser);
    ctx.status = 204;
  });
}

function settingsRoutes(router: Router<AppState, AppCustom>): void {
  router.get('/settings', requireRole('owner', 'manager'), (ctx) => {
    parseQuery(ctx, nothing);
    ctx.body = settingsFor(ctx.state.user, ctx.services.settings.get());
  });
  router.patch('/settings', requireRole('owner'), async (ctx) => {
    const patch = parseBody(ctx, settingsPatchSchema);
    ctx.body = await ctx.services.settings.update(patch, ctx.state.user as Actor);
  });
  router.post('/settings/regenerate-postback-key', requireRole('owner'), async (ctx) => {
    parseBody(ctx, nothing);
    ctx.body = await ctx.services.settings.regeneratePostbackKey(ctx.state.user as Actor);
  });
}

function pluginRoutes(router: Router<AppState, AppCustom>): void {
  const pluginName = z.object({ name: z.string().max(100) });
  // A short, complete list: no pagination to ask for.
  router.get('/plugins', requireRole('owner', 'manager'), (ctx) => {
    parseQuery(ctx, nothing);
    const data = ctx.services.plugins.list().map((p) => pluginFor(ctx.state.user, p));
    ctx.body = { data, pagination: { page: 1, perPage: data.length, total: data.length, totalPages: 1 } };
  });
  router.get('/plugins/:name', requireRole('owner', 'manager'), (ctx) => {
    const { name } = parse(pluginName, ctx.params);
    parseQuery(ctx, nothing);
    const plugin = ctx.services.plugins.get(name);
    if (!plugin) throw notFound('plugin', name);
    ctx.body = pluginFor(ctx.state.user, plugin);
  });
  router.patch('/plugins/:name', requireRole('owner'), async (ctx) => {
    const { name } = parse(pluginName, ctx.params);
    const plugin = ctx.services.plugins.get(name);
    if (!plugin) throw notFound('plugin', name);
    // The body is checked against the settings this plugin declares.
    const patch = parseBody(ctx, pluginPatchSchema(plugin.settingDefs));
    ctx.body = await ctx.services.pluginSettings.change(name, patch, ctx.state.user as Actor);
  });
}

function userRoutes(router: Router<AppState, AppCustom>): void {
  const userBody = z.strictObject({
    email: z.email('must be an email address').max(KEY_LENGTH),
    password: z.string().min(10, 'must be at least 10 characters').max(200),
    name: z.string().trim().max(KEY_LENGTH).optional(),
    role: z.literal('manager', { message: 'must be "manager" (the owner is created at setup)' }).optional(),
  });
  router.get('/users', requireRole('owner'), async (ctx) => {
    parseQuery(ctx, nothing);
    const data = await ctx.services.staff.list(['owner', 'manager']);
    ctx.body = { data, pagination: { page: 1, perPage: data.length, total: data.length, totalPages: 1 } };
  });
  router.post('/users', requireRole('owner'), async (ctx) => {
    const body = parseBody(ctx, userBody);
    const user = await ctx.services.auth.createUser(
      body.email,
      body.password,
      'manager',
      ctx.state.user as Actor,
      body.name,
    );
    ctx.status = 201;
    ctx.body = { id: user.userId, email: user.email, role: user.role };
  });
}

function auditRoutes(router: Router<AppState, AppCustom>): void {
  const auditFilters = z.strictObject({
    objectType: z.string().max(32).optional(),
    objectId: z.string().max(64).optional(),
  });
  router.get('/audit-log', requireRole('owner', 'manager'), async (ctx) => {
    const { page, filters } = parseList(ctx, auditFilters);
    ctx.body = await ctx.services.auditLog.list(filters, page);
  });
}
