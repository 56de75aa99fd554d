import Router from '@koa/router';
import { z } from 'zod';
import type { AppContext, AppCustom, AppState } from '../context.js';
import { requireRole, SESSION_COOKIE } from '../middleware.js';
import { render, flash, handleForm, form } from './render.js';
import type { Views } from '../views.js';
import { parse } from '../../validation.js';
import { settingsSchema } from '../../domain/settings.js';
import { AppError } from '../../errors.js';
import { SESSION_TTL_SECONDS } from '../../services/auth.js';
import type { AuthUser } from '../../services/auth.js';
import { dashboardChart } from './reports.js';
import { conversionPages } from './conversions.js';
import { campaignPages } from './campaigns.js';
import { affiliatePages } from './affiliates.js';
import { settingsPages } from './settings.js';
import { pluginPages } from './plugins.js';
import { trackingPages } from './tracking.js';
import { reportPages } from './reports.js';
import { trafficPages } from './traffic.js';
import { commissionPages } from './commissions.js';
import { campaignTestPages } from './campaign-test.js';
import { integrationPages } from './integrations.js';
import { commissionGroupPages } from './commission-groups.js';
import { apiKeyPages } from './api-keys.js';
import { manualSalePages } from './manual-sale.js';
import { KEY_LENGTH } from '../../domain/limits.js';
import { accountEmailPages } from '../account-pages.js';
import { mailPages } from './mail.js';
import { staffPages } from './staff.js';

const setupBody = z.object({
  name: z.string().trim().max(KEY_LENGTH).optional(),
  email: z.email('must be an email address').max(KEY_LENGTH),
  password: z.string().min(10, 'must be at least 10 characters').max(200),
});
/** The store's URL (where links with nowhere else to go lead) and the base currency (SPEC §13 onboarding). */
const setupStore = settingsSchema.pick({ siteUrl: true, baseCurrency: true }).partial();
const loginBody = z.object({
  email: z.string().trim().min(1, 'is required').max(KEY_LENGTH),
  password: z.string().min(1, 'is required').max(200),
});

/** Only same-site paths are accepted as "next" after sign-in (no open redirect). */
const safeNext = (next: unknown) => (typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/admin');

function startSession(ctx: AppContext, user: AuthUser): void {
  ctx.cookies.set(SESSION_COOKIE, ctx.services.auth.sign(user, 'session'), {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    maxAge: SESSION_TTL_SECONDS * 1000,
    overwrite: true,
  });
}

/** The merchant's admin: setup, sign-in and the pages of each area. */
export function adminRouter(views: Views): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();

  router.get('/', (ctx) => ctx.redirect('/admin'));

  setupAndSignInPages(router, views);

  // Forgot / reset password (staff and affiliates) and the portal's verification link.
  accountEmailPages(router, views);

  // Everything below needs a merchant account; before setup, go to setup.
  router.use('/admin', async (ctx, next) => {
    if (
      ['/admin/setup', '/admin/login', '/admin/logout', '/admin/forgot-password', '/admin/reset-password'].includes(
        ctx.path,
      )
    )
      return next();
    if (!ctx.state.user && (await ctx.services.auth.needsSetup())) return ctx.redirect('/admin/setup');
    return requireRole('owner', 'manager')(ctx, next);
  });

  dashboardPage(router, views);

  campaignPages(router, views);
  conversionPages(router, views);
  affiliatePages(router, views);
  settingsPages(router, views);
  pluginPages(router, views);
  // Before the sales pages: /admin/sales/new is not a sale id.
  manualSalePages(router, views);
  trackingPages(router, views);
  reportPages(router, views);
  trafficPages(router, views);
  commissionPages(router, views);
  campaignTestPages(router, views);
  integrationPages(router, views);
  commissionGroupPages(router, views);
  mailPages(router, views);
  staffPages(router, views);
  apiKeyPages(router, views);
  return router;
}

/** Setup (creating the owner), sign-in and sign-out of staff. */
function setupAndSignInPages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/setup', async (ctx) => {
    if (!(await ctx.services.auth.needsSetup())) return ctx.redirect('/admin/login');
    render(ctx, views, 'admin/setup', { title: 'Set up Affix', values: { baseCurrency: 'USD' } }, 'plain');
  });
  router.post('/admin/setup', async (ctx) => {
    if (!(await ctx.services.auth.needsSetup()))
      throw new AppError('conflict', 'Affix is already set up; sign in instead');
    const body = form.body(ctx);
    await handleForm(
      ctx,
      async () => {
        const input = parse(setupBody, {
          name: form.text(body.name),
          email: form.text(body.email),
          password: body.password,
        });
        // Checked before the owner is created, so a typo leaves nothing half set up.
        const store = Object.fromEntries(
          Object.entries(
            parse(setupStore, {
              siteUrl: form.text(body.siteUrl) || undefined,
              baseCurrency: form.text(body.baseCurrency) || undefined,
            }),
          ).filter(([, v]) => v !== undefined),
        );
        const user = await ctx.services.auth.createOwner(input.email, input.password, input.name ?? '');
        if (Object.keys(store).length) await ctx.services.settings.update(store, user);
        startSession(ctx, user);
        flash(ctx, 'success', 'Welcome to Affix. Your owner account is ready.');
        ctx.redirect('/admin');
      },
      (errors) =>
        render(
          ctx,
          views,
          'admin/setup',
          {
            title: 'Set up Affix',
            errors,
            values: { name: body.name, email: body.email, siteUrl: body.siteUrl, baseCurrency: body.baseCurrency },
          },
          'plain',
        ),
    );
  });

  router.get('/admin/login', async (ctx) => {
    if (await ctx.services.auth.needsSetup()) return ctx.redirect('/admin/setup');
    if (ctx.state.user && ctx.state.user.role !== 'affiliate') return ctx.redirect('/admin');
    render(ctx, views, 'admin/login', { title: 'Sign in', next: safeNext(ctx.query.next), values: {} }, 'plain');
  });
  router.post('/admin/login', async (ctx) => {
    const body = form.body(ctx);
    const next = safeNext(form.text(body.next));
    const again = (message: string) =>
      render(
        ctx,
        views,
        'admin/login',
        { title: 'Sign in', next, errors: { _form: message }, values: { email: body.email } },
        'plain',
      );
    try {
      const input = parse(loginBody, { email: form.text(body.email), password: body.password });
      const user = await ctx.services.auth.login(input.email, input.password, ctx.ip);
      if (user.role === 'affiliate')
        throw new AppError('forbidden', 'This is the merchant sign-in; affiliates sign in to the affiliate portal');
      startSession(ctx, user);
      ctx.redirect(next);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      ctx.status = err.status;
      if (err.code === 'too_many_requests' && err.details && 'retryAfterSeconds' in err.details) {
        ctx.set('Retry-After', String(err.details.retryAfterSeconds));
      }
      again(err.message);
    }
  });
  router.post('/admin/logout', (ctx) => {
    ctx.cookies.set(SESSION_COOKIE, null);
    flash(ctx, 'success', 'You have signed out.');
    ctx.redirect('/admin/login');
  });
}

/** The dashboard: counts, the getting-started checklist, the last 30 days and their chart. */
function dashboardPage(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin', async (ctx) => {
    const settings = ctx.services.settings.get();
    const stats = await ctx.services.dashboard.stats(ctx.services.clock(), settings.timezone, settings.baseCurrency);
    render(ctx, views, 'admin/dashboard', {
      title: 'Dashboard',
      nav: 'dashboard',
      counts: await ctx.services.dashboard.counts(),
      checklist: await ctx.services.dashboard.checklist(settings.siteUrl),
      stats,
      chart: await dashboardChart(ctx),
      chartRange: { first: stats.series[0]?.day, last: stats.series.at(-1)?.day },
    });
  });
}
