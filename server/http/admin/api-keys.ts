import type Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { SESSION_COOKIE, requireRole } from '../middleware.js';
import { render, flash, handleForm, form } from './render.js';
import { confirmFirst } from './confirm.js';
import { bodyOf, idParam, valueAt } from './form-values.js';
import { parse } from '../../validation.js';
import { apiKeyCreate } from '../../services/api-keys.js';
import type { Actor } from '../../services/actor.js';
import type { AuthUser } from '../../services/auth.js';

/** A date input (YYYY-MM-DD) as the end of that day in UTC; empty: no expiry. */
const expiryOf = (v: string | undefined) => (v ? (/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T23:59:59Z` : v) : null);

/** The owner's API keys page (SPEC §13) and "sign out everywhere" for the signed-in staff account. */
export function apiKeyPages(router: Router<AppState, AppCustom>, views: Views): void {
  const owner = requireRole('owner');
  const page = async (ctx: AppContext, data: Record<string, unknown> = {}) =>
    render(ctx, views, 'admin/api-keys', {
      title: 'API keys',
      nav: 'api-keys',
      keys: await ctx.services.apiKeys.list(),
      values: { role: 'manager' },
      ...data,
    });

  router.get('/admin/api-keys', owner, async (ctx) => page(ctx));

  router.post('/admin/api-keys', owner, async (ctx) => {
    const body = bodyOf(ctx);
    const values = {
      name: form.text(valueAt(body, 'name')) ?? '',
      role: form.text(valueAt(body, 'role')) ?? '',
      expiresAt: form.text(valueAt(body, 'expiresAt')) ?? '',
    };
    await handleForm(
      ctx,
      async () => {
        const input = parse(apiKeyCreate, {
          name: values.name,
          role: values.role,
          expiresAt: expiryOf(values.expiresAt),
        });
        const { key, secret } = await ctx.services.apiKeys.create(input, ctx.state.user as Actor);
        // Shown on this answer only (never stored, never in a redirect or a cookie).
        ctx.status = 201;
        await page(ctx, { created: { ...key, secret } });
      },
      (errors) => page(ctx, { errors, values }),
    );
  });

  router.post(
    '/admin/api-keys/:id/revoke',
    owner,
    confirmFirst(views, async (ctx) => {
      const key = await ctx.services.apiKeys.get(idParam(ctx));
      return {
        question: `Revoke the API key “${key.name}”?`,
        consequences: [
          `Every program using the key ${key.prefix}… gets 401 from its next request.`,
          'This cannot be undone: create a new key to give access again.',
        ],
        action: 'Revoke the key',
        back: '/admin/api-keys',
        nav: 'api-keys',
      };
    }),
  );
  router.post('/admin/api-keys/:id/revoke', owner, async (ctx) => {
    const key = await ctx.services.apiKeys.get(idParam(ctx));
    await ctx.services.apiKeys.revoke(key.id, ctx.state.user as Actor);
    flash(ctx, 'success', `API key “${key.name}” revoked.`);
    ctx.redirect('/admin/api-keys');
  });

  router.post(
    '/admin/sign-out-everywhere',
    confirmFirst(views, () => ({
      question: 'Sign out everywhere?',
      consequences: [
        'Every session and API token of your account ends now, on every device, this browser included.',
        'Named API keys keep working; revoke them on the API keys page.',
      ],
      action: 'Sign out everywhere',
      back: '/admin',
    })),
  );
  router.post('/admin/sign-out-everywhere', async (ctx) => {
    await ctx.services.auth.signOutEverywhere(ctx.state.user as AuthUser);
    ctx.cookies.set(SESSION_COOKIE, null);
    flash(ctx, 'success', 'You are signed out everywhere.');
    ctx.redirect('/admin/login');
  });
}
