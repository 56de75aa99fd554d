import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { bodyOf } from './crud.js';
import { parse } from '../../validation.js';
import { settingsPatchSchema } from '../../domain/settings.js';
import { notFound } from '../../errors.js';
import type { Actor } from '../../services/actor.js';
import { listUsers } from '../../store/users.js';
import { listAudit } from '../../store/audit.js';
import { changePlugin } from '../../services/plugins.js';
import { pageQuery } from '../../validation.js';
import { KEY_LENGTH } from '../../domain/limits.js';

const tokenBody = z.object({
  email: z.string().trim().min(1, 'is required').max(KEY_LENGTH),
  password: z.string().min(1, 'is required').max(200),
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .optional(),
});

/** Tokens, settings, plugins, staff accounts and the audit log. */
export function systemRoutes(router: Router<AppState, AppCustom>): void {
  router.post('/auth/token', async (ctx) => {
    const body = parse(tokenBody, bodyOf(ctx));
    const user = await ctx.services.auth.login(body.email, body.password, ctx.ip);
    const ttl = body.expiresInHours ? body.expiresInHours * 3600 : undefined;
    const token = ctx.services.auth.sign(user, 'api', ttl);
    ctx.body = {
      token,
      tokenType: 'Bearer',
      expiresIn: ttl ?? 24 * 3600,
      role: user.role,
      affiliateId: user.affiliateId,
    };
  });

  router.get('/me', requireRole('owner', 'manager', 'affiliate'), (ctx) => {
    const u = ctx.state.user!;
    ctx.body = { id: u.userId, email: u.email, role: u.role, affiliateId: u.affiliateId };
  });

  router.get('/settings', requireRole('owner', 'manager'), (ctx) => {
    ctx.body = ctx.services.settings.get();
  });
  router.patch('/settings', requireRole('owner'), async (ctx) => {
    const patch = parse(settingsPatchSchema, bodyOf(ctx));
    ctx.body = await ctx.services.settings.update(patch, ctx.state.user as Actor);
  });
  router.post('/settings/regenerate-postback-key', requireRole('owner'), async (ctx) => {
    ctx.body = await ctx.services.settings.regeneratePostbackKey(ctx.state.user as Actor);
  });

  const pluginName = z.object({ name: z.string().max(100) });
  const pluginPatch = z.object({
    active: z.boolean().optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
  });
  router.get('/plugins', requireRole('owner', 'manager'), (ctx) => {
    const data = ctx.services.plugins.list();
    ctx.body = { data, pagination: { page: 1, perPage: data.length, total: data.length, totalPages: 1 } };
  });
  router.get('/plugins/:name', requireRole('owner', 'manager'), (ctx) => {
    const { name } = parse(pluginName, ctx.params);
    const plugin = ctx.services.plugins.get(name);
    if (!plugin) throw notFound('plugin', name);
    ctx.body = plugin;
  });
  router.patch('/plugins/:name', requireRole('owner'), async (ctx) => {
    const { name } = parse(pluginName, ctx.params);
    const patch = parse(pluginPatch, bodyOf(ctx));
    ctx.body = await changePlugin(ctx.services.db, ctx.services.plugins, name, patch, ctx.state.user as Actor);
  });

  const userBody = z.object({
    email: z.email('must be an email address').max(KEY_LENGTH),
    password: z.string().min(10, 'must be at least 10 characters').max(200),
    name: z.string().trim().max(KEY_LENGTH).optional(),
    role: z.literal('manager', { message: 'must be "manager" (the owner is created at setup)' }).optional(),
  });
  router.get('/users', requireRole('owner'), async (ctx) => {
    const data = await listUsers(ctx.services.db, ['owner', 'manager']);
    ctx.body = { data, pagination: { page: 1, perPage: data.length, total: data.length, totalPages: 1 } };
  });
  router.post('/users', requireRole('owner'), async (ctx) => {
    const body = parse(userBody, bodyOf(ctx));
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

  const auditFilters = z.object({ objectType: z.string().max(32).optional(), objectId: z.string().max(64).optional() });
  router.get('/audit-log', requireRole('owner', 'manager'), async (ctx) => {
    const page = parse(pageQuery, { page: ctx.query.page, perPage: ctx.query.perPage });
    ctx.body = await listAudit(ctx.services.db, parse(auditFilters, ctx.query), page);
  });
}
