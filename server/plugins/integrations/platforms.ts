import type { Platform } from '../../domain/integrations/types.js';
import type { PluginInfo } from '../registry.js';

/** What a merchant sets up on each store platform (SPEC §14): shown on the Integration page. */
export interface PlatformGuide {
  key: Platform;
  title: string;
  /** The setting keys of the `integrations` plugin for this platform. */
  enabledKey: string;
  secretKey: string;
  secretLabel: string;
  /** Where the platform shows the secret to paste into the plugin. */
  secretSource: string;
  /** Where the webhook is created, and the events to choose. */
  where: string;
  events: string[];
  /** Where the visitor id comes from. */
  visitor: string;
}

export const PLATFORM_GUIDES: PlatformGuide[] = [
  {
    key: 'stripe',
    title: 'Stripe',
    enabledKey: 'stripeEnabled',
    secretKey: 'stripeSecret',
    secretLabel: 'Signing secret (whsec_…)',
    secretSource: 'the endpoint’s “Signing secret” in Stripe (Developers → Webhooks → your endpoint)',
    where: 'Stripe Dashboard → Developers → Webhooks → Add endpoint',
    events: [
      'checkout.session.completed',
      'checkout.session.async_payment_succeeded',
      'invoice.paid',
      'charge.refunded',
      'charge.dispute.created',
    ],
    visitor:
      'Create the Checkout Session with client_reference_id set to the visitor id (await affix("visitorId") in the page), or metadata.affix_vid. Subscription renewals (invoice.paid) need none: they go to the affiliate of the subscription’s first sale and pay the campaign’s RECURRING payout.',
  },
  {
    key: 'shopify',
    title: 'Shopify',
    enabledKey: 'shopifyEnabled',
    secretKey: 'shopifySecret',
    secretLabel: 'Webhook signing secret',
    secretSource:
      'the key shown under Settings → Notifications → Webhooks (“Your webhooks will be signed with …”), or your app’s client secret',
    where: 'Shopify admin → Settings → Notifications → Webhooks → Create webhook (format JSON)',
    events: ['Order payment (orders/paid)', 'Refund create (refunds/create)'],
    visitor:
      'Automatic: on a Shopify store the snippet writes the cart attribute affix_vid, which Shopify copies into the order’s note_attributes.',
  },
  {
    key: 'woocommerce',
    title: 'WooCommerce',
    enabledKey: 'woocommerceEnabled',
    secretKey: 'woocommerceSecret',
    secretLabel: 'Webhook secret',
    secretSource: 'the “Secret” you enter when you create the webhook in WooCommerce',
    where: 'WooCommerce → Settings → Advanced → Webhooks → Add webhook (API version WP REST API Integration v3)',
    events: ['Order created (order.created)', 'Order updated (order.updated)'],
    visitor:
      'Save the visitor id as the order meta affix_vid at checkout (for example from the affix_vid cookie, with update_meta_data on the order).',
  },
];

/** The Integration page's store section: the webhook URL to paste, and whether each platform is ready. */
export function storeSetup(plugin: PluginInfo | undefined, tracker: string) {
  const settings = plugin?.settings ?? {};
  return {
    pluginActive: plugin?.active === true && plugin.error === undefined,
    platforms: PLATFORM_GUIDES.map((g) => ({
      ...g,
      webhookUrl: `${tracker}/integrations/${g.key}/webhook`,
      enabled: settings[g.enabledKey] === true,
      hasSecret: typeof settings[g.secretKey] === 'string' && settings[g.secretKey] !== '',
    })),
  };
}
