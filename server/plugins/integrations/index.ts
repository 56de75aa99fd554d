import type { AffixPlugin, PluginRoute, PluginSettingDef } from '../types.js';
import { PLATFORM_GUIDES } from './platforms.js';

/**
 * Store integrations (SPEC §14): Stripe, Shopify and WooCommerce webhooks at
 * `/integrations/<platform>/webhook`, each with its own signing secret and on/off switch. The
 * endpoints hand the raw delivery to the integrations service, which verifies, deduplicates,
 * records and logs it.
 */
export function createIntegrations(): AffixPlugin {
  const settings: PluginSettingDef[] = PLATFORM_GUIDES.flatMap((g): PluginSettingDef[] => [
    {
      key: g.enabledKey,
      label: `Receive ${g.title} webhooks`,
      type: 'boolean',
      default: false,
      section: g.title,
    },
    {
      key: g.secretKey,
      label: g.secretLabel,
      type: 'string',
      default: '',
      secret: true,
      section: g.title,
      help: `From ${g.secretSource}. Every delivery is checked against it; a wrong signature is refused with 401.`,
    },
  ]);
  const routes: PluginRoute[] = PLATFORM_GUIDES.map((g) => ({
    method: 'POST',
    path: `${g.key}/webhook`,
    async handle(req, ctx) {
      const s = ctx.settings();
      if (s[g.enabledKey] !== true)
        return {
          status: 404,
          body: {
            error: {
              code: 'not_found',
              message: `${g.title} webhooks are switched off: turn them on in the settings of the integrations plugin`,
            },
          },
        };
      return ctx.services.integrations.receive({
        platform: g.key,
        rawBody: req.rawBody,
        header: req.header,
        secret: typeof s[g.secretKey] === 'string' ? (s[g.secretKey] as string).trim() : '',
      });
    },
  }));
  return {
    name: 'integrations',
    title: 'Store integrations',
    description:
      'Records sales, refunds and chargebacks from Stripe, Shopify and WooCommerce webhooks. The webhook URLs and the setup steps are on the Integration page; every delivery is listed in the delivery log.',
    settings,
    routes,
    register() {},
  };
}
