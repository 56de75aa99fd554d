import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { SESSION_COOKIE } from '../middleware.js';
import type { Views } from '../views.js';
import { flash, form, handleForm } from '../admin/render.js';
import { bodyOf, valueAt } from '../admin/form-values.js';
import { portalPage, renderPortal, startSession } from './session.js';
import { parse } from '../../validation.js';
import { fieldError } from '../../errors.js';
import { affiliateFields } from '../../schemas/programme.js';
import { POSTBACK_MACROS } from '../../services/portal.js';
import type { Affiliate } from '../../store/affiliates.js';

/**
 * What an affiliate may change about itself: its name, postback URL and profile (SPEC §9, §13);
 * `acceptTerms: true` accepts the programme's current terms.
 */
export const ownProfile = affiliateFields
  .pick({
    name: true,
    postbackUrl: true,
    website: true,
    promotionMethod: true,
    payoutMethod: true,
    payoutDetails: true,
    taxId: true,
  })
  .extend({ acceptTerms: z.literal(true, { message: 'must be true (to accept the terms)' }) })
  .partial()
  .strict();

const passwordBody = z.object({
  currentPassword: z.string().min(1, 'is required').max(200),
  password: z.string().min(10, 'must be at least 10 characters').max(200, 'at most 200 characters'),
  passwordConfirm: z.string().max(200),
});

const macros = POSTBACK_MACROS.map((m) => `{${m}}`);

/** The affiliate's own settings: name, postback URL and password. */
export function settingsPages(router: Router<AppState, AppCustom>, views: Views): void {
  const page = (ctx: Parameters<typeof renderPortal>[0], affiliate: Affiliate, data: Record<string, unknown> = {}) =>
    renderPortal(ctx, views, 'portal/settings', {
      title: 'Settings',
      nav: 'settings',
      affiliate,
      macros,
      values: { name: affiliate.name, postbackUrl: affiliate.postbackUrl ?? '' },
      ...data,
    });

  router.get(
    '/portal/settings',
    portalPage(views, (ctx, affiliate) => page(ctx, affiliate)),
  );

  router.post(
    '/portal/settings',
    portalPage(views, async (ctx, affiliate, user) => {
      const body = bodyOf(ctx);
      const values = {
        name: form.text(valueAt(body, 'name')) ?? '',
        postbackUrl: form.text(valueAt(body, 'postbackUrl')) ?? '',
      };
      await handleForm(
        ctx,
        async () => {
          const patch = parse(ownProfile, { name: values.name, postbackUrl: values.postbackUrl || null });
          await ctx.services.portal.updateProfile(affiliate.id, patch, user);
          flash(ctx, 'success', 'Your settings are saved.');
          ctx.redirect('/portal/settings');
        },
        (errors) => page(ctx, affiliate, { errors, values }),
      );
    }),
  );

  router.post(
    '/portal/settings/password',
    portalPage(views, async (ctx, affiliate, user) => {
      const body = bodyOf(ctx);
      const raw = (field: string) => {
        const v = valueAt(body, field);
        return typeof v === 'string' ? v : undefined;
      };
      await handleForm(
        ctx,
        async () => {
          const input = parse(passwordBody, {
            currentPassword: raw('currentPassword'),
            password: raw('password'),
            passwordConfirm: raw('passwordConfirm') ?? '',
          });
          if (input.password !== input.passwordConfirm)
            throw fieldError('passwordConfirm', 'does not match the new password');
          await ctx.services.portal.changePassword(user, input.currentPassword, input.password, ctx.ip);
          // Every other session and token ended with the change; this browser gets a new session.
          const fresh = await ctx.services.auth.userById(user.userId);
          if (fresh) startSession(ctx, fresh);
          flash(ctx, 'success', 'Your password is changed.');
          ctx.redirect('/portal/settings');
        },
        (errors) => page(ctx, affiliate, { passwordErrors: errors, errors }),
      );
    }),
  );

  router.post(
    '/portal/settings/sign-out-everywhere',
    portalPage(views, async (ctx, _affiliate, user) => {
      await ctx.services.auth.signOutEverywhere(user);
      ctx.cookies.set(SESSION_COOKIE, null);
      flash(ctx, 'success', 'You are signed out everywhere.');
      ctx.redirect('/portal/login');
    }),
  );
}
