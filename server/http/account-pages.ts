import type Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from './context.js';
import type { Views } from './views.js';
import { flash, form, handleForm, render } from './admin/render.js';
import { parse } from '../validation.js';
import { AppError } from '../errors.js';
import { TokenRefused } from '../services/accounts.js';
import { RESET_REQUESTED, resetConfirmBody, resetRequestBody } from './api/password-reset.js';

/*
 * The forgot-password and reset-password pages of SPEC §13, for staff (`/admin/forgot-password`,
 * links to `/reset-password`) and affiliates (`/portal/forgot-password`, `/portal/reset-password`),
 * and the portal's e-mail verification link (`/portal/verify`). They work without JavaScript.
 */

interface Area {
  layout: 'plain' | 'portal';
  page: 'admin' | 'portal';
  forgot: string;
  reset: string;
  login: string;
}

const AREAS: Record<'staff' | 'affiliate', Area> = {
  staff: {
    layout: 'plain',
    page: 'admin',
    forgot: '/admin/forgot-password',
    reset: '/admin/reset-password',
    login: '/admin/login',
  },
  affiliate: {
    layout: 'portal',
    page: 'portal',
    forgot: '/portal/forgot-password',
    reset: '/portal/reset-password',
    login: '/portal/login',
  },
};

const tokenOf = (v: unknown) => (typeof v === 'string' ? v.trim().slice(0, 200) : '');

type Show = (ctx: AppContext, page: string, data: Record<string, unknown>) => void;

/** Forgot password, reset password (and accept an invitation) for staff and affiliates; e-mail verification. */
export function accountEmailPages(router: Router<AppState, AppCustom>, views: Views): void {
  for (const area of Object.values(AREAS)) {
    const show: Show = (ctx, page, data) =>
      render(
        ctx,
        views,
        `${area.page}/${page}`,
        { bare: true, loginUrl: area.login, forgotUrl: area.forgot, ...data },
        area.layout,
      );
    forgotPasswordPages(router, area, show);
    resetPasswordPages(router, area, show);
  }
  verifyEmailPage(router, views);
}

function forgotPasswordPages(router: Router<AppState, AppCustom>, area: Area, show: Show): void {
  router.get(area.forgot, (ctx) =>
    show(ctx, 'forgot-password', { title: 'Forgot password', action: area.forgot, values: {} }),
  );
  router.post(area.forgot, async (ctx) => {
    const body = form.body(ctx);
    const email = form.text(body.email);
    await handleForm(
      ctx,
      async () => {
        const input = parse(resetRequestBody, { email });
        await ctx.services.accounts.requestPasswordReset(input.email);
        ctx.status = 202;
        show(ctx, 'forgot-password', { title: 'Forgot password', sent: RESET_REQUESTED.message });
      },
      (errors) =>
        show(ctx, 'forgot-password', { title: 'Forgot password', action: area.forgot, errors, values: { email } }),
    );
  });
}

function resetPasswordPages(router: Router<AppState, AppCustom>, area: Area, show: Show): void {
  const resetPage = async (ctx: AppContext) => {
    const token = tokenOf(ctx.query.token);
    const invite = ctx.query.invite === '1';
    const title = invite ? 'Accept the invitation' : 'Choose a new password';
    try {
      const found = await ctx.services.accounts.checkResetToken(token);
      show(ctx, 'reset-password', {
        title,
        token,
        invite: found.purpose === 'invite',
        email: found.email,
        action: area.reset,
      });
    } catch (err) {
      if (!(err instanceof TokenRefused)) throw err;
      ctx.status = 400;
      show(ctx, 'reset-password', { title, refused: err.message });
    }
  };
  router.get(area.reset, resetPage);
  // The staff link of SPEC §13 is /reset-password; its form posts to /admin/reset-password.
  if (area.page === 'admin') router.get('/reset-password', resetPage);

  router.post(area.reset, async (ctx) => {
    const body = form.body(ctx);
    const token = tokenOf(form.text(body.token));
    const password = typeof body.password === 'string' ? body.password : undefined;
    const again = (data: Record<string, unknown>) =>
      show(ctx, 'reset-password', { title: 'Choose a new password', token, action: area.reset, ...data });
    try {
      const input = parse(resetConfirmBody, { token, password });
      const done = await ctx.services.accounts.confirmPasswordReset(input.token, input.password);
      flash(ctx, 'success', 'Your password has been changed. Sign in with the new password.');
      ctx.redirect(done.role === 'affiliate' ? AREAS.affiliate.login : AREAS.staff.login);
    } catch (err) {
      if (err instanceof TokenRefused) {
        ctx.status = 400;
        return again({ refused: err.message });
      }
      if (err instanceof AppError && err.status === 422) {
        ctx.status = 422;
        const errors: Record<string, string> = {};
        for (const d of (Array.isArray(err.details) ? err.details : []) as Array<{ field: string; message: string }>)
          errors[d.field] ??= d.message;
        return again({ errors: Object.keys(errors).length ? errors : { _form: err.message } });
      }
      throw err;
    }
  });
}

function verifyEmailPage(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/portal/verify', async (ctx) => {
    const show = (data: Record<string, unknown>) =>
      render(ctx, views, 'portal/verify', { title: 'Confirm your e-mail address', bare: true, ...data }, 'portal');
    try {
      const { email } = await ctx.services.accounts.verifyEmail(tokenOf(ctx.query.token));
      show({ email });
    } catch (err) {
      if (!(err instanceof TokenRefused)) throw err;
      ctx.status = 400;
      show({ refused: err.message });
    }
  });
}
