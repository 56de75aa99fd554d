import type { Knex } from 'knex';
import type { Logger as PinoLogger } from 'pino';
import type { Config } from './config.js';
import { AffiliateService } from './services/affiliates.js';
import { CampaignService } from './services/campaigns.js';
import { BannerService } from './services/banners.js';
import { CouponService } from './services/coupons.js';
import { PayoutService } from './services/payouts.js';
import { SettingsService } from './services/settings.js';
import { AuthService } from './services/auth.js';
import { Hooks } from './plugins/hooks.js';
import { PluginRegistry } from './plugins/registry.js';
import { PluginStateTable } from './store/plugins.js';
import { builtinPlugins } from './plugins/builtins.js';
import type { AffixPlugin } from './plugins/types.js';
import { getOrCreateSystemValue } from './store/system.js';
import { randomToken } from './services/random.js';
import { systemActor } from './services/actor.js';

/** Every service, wired once: routes receive this and nothing else. */
export interface Services {
  config: Config;
  db: Knex;
  log: PinoLogger;
  clock: () => number;
  settings: SettingsService;
  auth: AuthService;
  affiliates: AffiliateService;
  campaigns: CampaignService;
  banners: BannerService;
  coupons: CouponService;
  payouts: PayoutService;
  hooks: Hooks;
  plugins: PluginRegistry;
}

export interface BuildOptions {
  clock?: () => number;
  /** Replaces the built-in plugin list (tests register their own). */
  builtins?: AffixPlugin[];
}

/** Wires the services and loads what they cache (settings, plugin state). Migrations must have run. */
export async function buildServices(config: Config, db: Knex, log: PinoLogger, opts: BuildOptions = {}): Promise<Services> {
  const clock = opts.clock ?? Date.now;
  const secret = config.secret ?? (await getOrCreateSystemValue(db, 'secret', () => randomToken(48)));
  const hooks = new Hooks(log);
  const settings = new SettingsService(db);
  await settings.load();
  const plugins = new PluginRegistry({
    hooks,
    log,
    builtins: opts.builtins ?? builtinPlugins,
    pluginsDir: config.pluginsDir,
    store: new PluginStateTable(db),
  });
  await plugins.init();
  const services: Services = {
    config,
    db,
    log,
    clock,
    settings,
    auth: new AuthService(db, secret, clock),
    affiliates: new AffiliateService(db, clock),
    campaigns: new CampaignService(db, undefined, clock),
    banners: new BannerService(db, undefined, clock),
    coupons: new CouponService(db, undefined, clock),
    payouts: new PayoutService(db, undefined, clock),
    hooks,
    plugins,
  };
  await services.campaigns.ensureDefault(systemActor);
  if (config.ownerEmail && config.ownerPassword && (await services.auth.needsSetup())) {
    await services.auth.createOwner(config.ownerEmail, config.ownerPassword, 'Owner');
    log.info({ email: config.ownerEmail }, 'owner account created from AFFIX_OWNER_EMAIL');
  }
  return services;
}
