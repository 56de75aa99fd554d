import type Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render, flash, handleForm, form } from './render.js';
import { allAffiliates, bodyOf, valueAt } from './form-values.js';

const FIELDS = ['campaignId', 'affiliateId', 'orderId', 'totalCost', 'currency', 'productId', 'coupon', 'customerId'];

/**
 * A sale entered by hand (a phone order, a missed conversion) through the same sale service as
 * POST /api/v1/sales, so matching, payouts, approval and fraud rules apply as to any sale.
 */
export function manualSalePages(router: Router<AppState, AppCustom>, views: Views): void {
  const page = async (ctx: AppContext, data: Record<string, unknown> = {}) => {
    const snap = await ctx.services.cache.snapshot();
    render(ctx, views, 'admin/sale-new', {
      title: 'Add a sale by hand',
      nav: 'sales',
      campaigns: [...snap.campaigns.values()].filter((c) => !c.archived),
      affiliates: (await allAffiliates(ctx)).filter((a) => !a.archived),
      baseCurrency: snap.settings.baseCurrency,
      values: { currency: snap.settings.baseCurrency },
      ...data,
    });
  };
  router.get('/admin/sales/new', async (ctx) => page(ctx));
  router.post('/admin/sales/new', async (ctx) => {
    const body = bodyOf(ctx);
    const values = Object.fromEntries(FIELDS.map((f) => [f, form.text(valueAt(body, f)) ?? '']));
    await handleForm(
      ctx,
      async () => {
        // The form as the API's JSON body: empty fields are left out, the total is a decimal string.
        const sale = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
        const result = await ctx.services.sales.record({
          kind: 'sale',
          body: sale,
          signed: true,
          ip: ctx.ip,
          userAgent: ctx.get('User-Agent'),
          cookieVisitorId: null,
          source: 'api',
        });
        if (result.saleId === null) {
          flash(ctx, 'error', `The sale was not recorded: ${result.declineReason ?? 'a fraud rule dropped it'}.`);
          return ctx.redirect('/admin/sales');
        }
        const earned = result.commissions.length;
        flash(
          ctx,
          'success',
          result.duplicate
            ? `Order ${values.orderId} was already recorded: this is its sale.`
            : `Sale recorded (${result.matchedBy}); ${earned} commission${earned === 1 ? '' : 's'}.`,
        );
        ctx.redirect(`/admin/sales/${result.saleId}`);
      },
      (errors) => page(ctx, { errors, values }),
    );
  });
}
