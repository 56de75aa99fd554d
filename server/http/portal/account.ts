import type Router from '@koa/router';
import { z } from 'zod';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { SESSION_COOKIE } from '../middleware.js';
import { flash, form, handleForm } from '../admin/render.js';
import { bodyOf, valueAt } from '../admin/form-values.js';
import { renderPortal, safeNext, startSession } from './session.js';
import { parse, shortText } from '../../validation.js';
import { AppError } from '../../errors.js';
import { KEY_LENGTH } from '../../domain/limits.js';

const signupBody = z.object({
  name: shortText(),
  email: z.email('must be an email address').max(KEY_LENGTH),
  password: z.string().min(10, 'must be at least 10 characters').max(200, 'at most 200 characters'),
  referrer: z.string().trim().max(64, 'at most 64 characters').optional(),
  acceptTerms: z.boolean(),
});
const loginBody = z.object({
  email: z.string().trim().min(1, 'is required').max(KEY_LENGTH),
  password: z.string().min(1, 'is required').max(200),
});

const text = (body: Record<string, unknown>, field: string) => form.text(valueAt(body, field));
const signupMode = (ctx: AppContext) => ctx.services.settings.get().affiliateSignup;

/** Sign-up (per the `affiliateSignup` setting), sign-in and sign-out of the affiliate portal. */
export function accountPages(router: Router<AppState, AppCustom>, views: Views): void {
  signupPages(router, views);
  signInPages(router, views);
}

function signupPages(router: Router<AppState, AppCustom>, views: Views): void {
  const signupPage = (ctx: AppContext, data: Record<string, unknown>) =>
    renderPortal(ctx, views, 'portal/signup', {
      title: 'Become an affiliate',
      bare: true,
      mode: signupMode(ctx),
      closed: signupMode(ctx) === 'closed',
      terms: ctx.services.settings.get().termsText,
      ...data,
    });

  router.get('/portal/signup', (ctx) => {
    if (ctx.state.user?.role === 'affiliate') return ctx.redirect('/portal');
    const referrer = typeof ctx.query.referrer === 'string' ? ctx.query.referrer.trim().slice(0, 64) : '';
    signupPage(ctx, { values: { referrer } });
  });

  router.post('/portal/signup', async (ctx) => {
    const mode = signupMode(ctx);
    if (mode === 'closed') {
      ctx.status = 403;
      return signupPage(ctx, { values: {} });
    }
    const body = bodyOf(ctx);
    const values = {
      name: text(body, 'name'),
      email: text(body, 'email'),
      referrer: text(body, 'referrer'),
      acceptTerms: form.checkbox(valueAt(body, 'acceptTerms')),
    };
    await handleForm(
      ctx,
      async () => {
        const password = valueAt(body, 'password');
        const input = parse(signupBody, {
          ...values,
          referrer: values.referrer || undefined,
          password: typeof password === 'string' ? password : undefined,
        });
        const { user, verificationSent } = await ctx.services.portal.signUp(input, mode);
        if (verificationSent) {
          flash(
            ctx,
            'success',
            `Thank you for signing up. We sent a link to ${user.email}: follow it to confirm your address, then sign in.${mode === 'open' ? '' : ' The merchant reviews every new affiliate; you will hear from us when your account is approved.'}`,
          );
          return ctx.redirect('/portal/login');
        }
        if (mode === 'open') {
          startSession(ctx, user);
          flash(ctx, 'success', 'Welcome! Your affiliate account is ready: your links are under “Links & banners”.');
          return ctx.redirect('/portal');
        }
        flash(
          ctx,
          'success',
          'Thank you for signing up. Your application is waiting for the merchant’s approval. You can sign in meanwhile to see where it stands.',
        );
        ctx.redirect('/portal/login');
      },
      (errors) => signupPage(ctx, { errors, values }),
    );
  });
}

function signInPages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/portal/login', (ctx) => {
    const user = ctx.state.user;
    if (user?.role === 'affiliate') return ctx.redirect(safeNext(ctx.query.next));
    renderPortal(ctx, views, 'portal/login', {
      title: 'Affiliate sign-in',
      bare: true,
      next: safeNext(ctx.query.next),
      merchant: user ? user.email : null,
      signupOpen: signupMode(ctx) !== 'closed',
      values: {},
    });
  });

  router.post('/portal/login', async (ctx) => {
    const body = bodyOf(ctx);
    const next = safeNext(text(body, 'next'));
    const email = text(body, 'email');
    try {
      const password = valueAt(body, 'password');
      const input = parse(loginBody, { email, password: typeof password === 'string' ? password : undefined });
      const user = await ctx.services.auth.login(input.email, input.password, ctx.ip);
      if (user.role !== 'affiliate') {
        throw new AppError('forbidden', 'This is the affiliate sign-in; merchant accounts sign in at /admin/login');
      }
      startSession(ctx, user);
      ctx.redirect(next);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      ctx.status = err.status;
      if (err.code === 'too_many_requests' && err.details && 'retryAfterSeconds' in err.details) {
        ctx.set('Retry-After', String(err.details.retryAfterSeconds));
      }
      renderPortal(ctx, views, 'portal/login', {
        title: 'Affiliate sign-in',
        bare: true,
        next,
        signupOpen: signupMode(ctx) !== 'closed',
        errors: { _form: err.message },
        values: { email },
      });
    }
  });

  router.post('/portal/logout', (ctx) => {
    ctx.cookies.set(SESSION_COOKIE, null);
    flash(ctx, 'success', 'You have signed out.');
    ctx.redirect('/portal/login');
  });
}
