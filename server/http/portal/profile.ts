import type Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { flash, handleForm } from '../admin/render.js';
import { bodyOf } from '../admin/form-values.js';
import { profileInputFromForm, profileValues, profileValuesFromBody } from '../admin/profile-form.js';
import { portalPage, renderPortal } from './session.js';
import { parse } from '../../validation.js';
import { ownProfile } from './settings.js';
import { missingPayoutDetails } from '../../schemas/affiliate-profile.js';
import type { Affiliate } from '../../store/affiliates.js';

/** The affiliate's profile and payout details (SPEC §13), and accepting the programme's terms. */
export function profilePages(router: Router<AppState, AppCustom>, views: Views): void {
  const page = (ctx: Parameters<typeof renderPortal>[0], affiliate: Affiliate, data: Record<string, unknown> = {}) => {
    const terms = ctx.services.settings.get().termsText;
    renderPortal(ctx, views, 'portal/profile', {
      title: 'Profile & payout details',
      nav: 'profile',
      affiliate,
      values: profileValues(affiliate),
      missing: missingPayoutDetails(affiliate.payoutMethod, affiliate.payoutDetails),
      terms,
      termsPending: Boolean(terms) && !affiliate.acceptedTermsAt,
      ...data,
    });
  };

  router.get(
    '/portal/profile',
    portalPage(views, (ctx, affiliate) => page(ctx, affiliate)),
  );

  router.post(
    '/portal/profile',
    portalPage(views, async (ctx, affiliate, user) => {
      const values = profileValuesFromBody(bodyOf(ctx));
      await handleForm(
        ctx,
        async () => {
          const patch = parse(ownProfile, profileInputFromForm(values));
          await ctx.services.portal.updateProfile(affiliate.id, patch, user);
          flash(ctx, 'success', 'Your profile and payout details are saved.');
          ctx.redirect('/portal/profile');
        },
        (errors) => page(ctx, affiliate, { errors, values }),
      );
    }),
  );

  router.post(
    '/portal/profile/accept-terms',
    portalPage(views, async (ctx, affiliate, user) => {
      await handleForm(
        ctx,
        async () => {
          await ctx.services.portal.updateProfile(affiliate.id, { acceptTerms: true }, user);
          flash(ctx, 'success', 'You have accepted the programme’s terms.');
          ctx.redirect('/portal/profile');
        },
        (errors) => page(ctx, affiliate, { errors }),
      );
    }),
  );
}
