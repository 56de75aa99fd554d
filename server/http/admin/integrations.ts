import type Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render } from './render.js';
import { pageLinks, pageOf, queryEnum } from './form-values.js';
import { PLATFORMS, type Platform } from '../../domain/integrations/types.js';
import type { Delivery, DeliveryOutcome } from '../../store/integration-deliveries.js';

const PLATFORM_TITLES: Record<Platform, string> = { stripe: 'Stripe', shopify: 'Shopify', woocommerce: 'WooCommerce' };

const OUTCOME_WORDS: Record<DeliveryOutcome, string> = {
  processing: 'being handled',
  sale: 'sale stored',
  refund: 'refund stored',
  chargeback: 'chargeback stored',
  declined: 'commissions declined',
  duplicate: 'duplicate',
  ignored: 'ignored',
  unknown_order: 'unknown order',
  bad_signature: 'bad signature',
  invalid: 'invalid',
  failed: 'failed',
};
/** The badge colour of an outcome: stored (approved), nothing done (pending), refused (declined). */
const OUTCOME_BADGE: Record<DeliveryOutcome, string> = {
  processing: 'pending',
  sale: 'approved',
  refund: 'approved',
  chargeback: 'approved',
  declined: 'approved',
  duplicate: 'pending',
  ignored: 'pending',
  unknown_order: 'pending',
  bad_signature: 'declined',
  invalid: 'declined',
  failed: 'declined',
};

const deliveryView = (d: Delivery) => ({
  ...d,
  platformTitle: PLATFORM_TITLES[d.platform] ?? d.platform,
  outcomeText: OUTCOME_WORDS[d.outcome] ?? d.outcome,
  badge: OUTCOME_BADGE[d.outcome] ?? 'default',
});

/** The delivery log of the store integrations (SPEC §14). */
export function integrationPages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/integrations/deliveries', async (ctx) => {
    const platform = queryEnum(PLATFORMS, ctx.query.platform);
    const page = pageOf(ctx, 50);
    const result = await ctx.services.integrations.deliveries({ platform }, page);
    render(ctx, views, 'admin/integration-deliveries', {
      title: 'Store webhook deliveries',
      nav: 'integration',
      platform,
      platforms: PLATFORMS.map((p) => ({ value: p, title: PLATFORM_TITLES[p] })),
      deliveries: result.data.map(deliveryView),
      pagination: result.pagination,
      ...pageLinks(
        '/admin/integrations/deliveries',
        { platform, perPage: ctx.query.perPage ? String(page.perPage) : undefined },
        result.pagination,
      ),
    });
  });
}
