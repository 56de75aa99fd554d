import type Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { pageLinks, pageOf, queryEnum } from '../admin/form-values.js';
import { portalPage, renderPortal, trackerOrigin } from './session.js';

const COMMISSION_STATUSES = ['pending', 'approved', 'declined', 'paid', 'reversed'] as const;

const dayFilter = (raw: unknown) =>
  typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(raw) && !Number.isNaN(Date.parse(raw)) ? raw : undefined;

/** The affiliate's dashboard, links and banners, coupons and rates, and commissions. */
export function programmePages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get(
    '/portal',
    portalPage(views, async (ctx, affiliate) => {
      const stats = await ctx.services.portal.dashboard(affiliate.id);
      renderPortal(ctx, views, 'portal/dashboard', { title: 'Dashboard', nav: 'dashboard', affiliate, stats });
    }),
  );

  router.get(
    '/portal/links',
    portalPage(views, async (ctx, affiliate) => {
      const origin = trackerOrigin(ctx);
      const settings = ctx.services.settings.get();
      const campaigns = await ctx.services.portal.links(affiliate, origin);
      renderPortal(ctx, views, 'portal/links', {
        title: 'Links & banners',
        nav: 'links',
        affiliate,
        campaigns,
        params: settings.urlParams,
        siteUrl: settings.siteUrl,
        inviteLink:
          settings.affiliateSignup === 'closed'
            ? null
            : `${origin.replace(/\/+$/, '')}/portal/signup?${new URLSearchParams({ referrer: affiliate.refId }).toString()}`,
      });
    }),
  );

  router.get(
    '/portal/coupons',
    portalPage(views, async (ctx, affiliate) => {
      const rates = await ctx.services.portal.rates(affiliate.id);
      renderPortal(ctx, views, 'portal/coupons', { title: 'Coupons & rates', nav: 'coupons', affiliate, ...rates });
    }),
  );

  router.get(
    '/portal/commissions',
    portalPage(views, async (ctx, affiliate) => {
      const filters = {
        status: queryEnum(COMMISSION_STATUSES, ctx.query.status),
        from: dayFilter(ctx.query.from),
        to: dayFilter(ctx.query.to),
      };
      const result = await ctx.services.portal.commissions(
        affiliate.id,
        {
          status: filters.status,
          from: filters.from ? Date.parse(filters.from) : undefined,
          to: filters.to ? Date.parse(filters.to) + 86_400_000 : undefined,
        },
        pageOf(ctx, 25),
      );
      renderPortal(ctx, views, 'portal/commissions', {
        title: 'Commissions',
        nav: 'commissions',
        affiliate,
        filters,
        filtered: Boolean(filters.status || filters.from || filters.to),
        statuses: COMMISSION_STATUSES,
        commissions: result.data,
        totals: result.totals,
        pagination: result.pagination,
        ...pageLinks('/portal/commissions', filters, result.pagination),
      });
    }),
  );
}
