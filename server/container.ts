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
import { ConfigCache } from './services/config-cache.js';
import { TrackingService } from './services/tracking.js';
import { SaleService } from './services/sales.js';
import { CommissionService, type TrafficCommissionDelta } from './services/commissions.js';
import { Outbox } from './services/outbox.js';
import { createClickWriter } from './ingest/click-writer.js';
import { createImpressionWriter } from './ingest/impression-writer.js';
import type { GroupWriter } from './ingest/group-writer.js';
import type { PendingClick } from './ingest/click-writer.js';
import type { PendingImpression } from './ingest/impression-writer.js';
import type { ClickStatus } from './store/clicks.js';

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
  cache: ConfigCache;
  tracking: TrackingService;
  sales: SaleService;
  commissions: CommissionService;
  outbox: Outbox;
  writers: { clicks: GroupWriter<PendingClick, ClickStatus>; impressions: GroupWriter<PendingImpression, boolean> };
  /** Stops timers and waits for queued writes (before closing the database). */
  stop(): Promise<void>;
}

export interface BuildOptions {
  clock?: () => number;
  /** Replaces the built-in plugin list (tests register their own). */
  builtins?: AffixPlugin[];
  /** The random source of matching tie-breaks (tests inject a fixed one). */
  random?: () => number;
}

/** Wires the services and loads what they cache (settings, plugin state). Migrations must have run. */
export async function buildServices(config: Config, db: Knex, log: PinoLogger, opts: BuildOptions = {}): Promise<Services> {
  const clock = opts.clock ?? Date.now;
  const secret = config.secret ?? (await getOrCreateSystemValue(db, 'secret', () => randomToken(48)));
  const hooks = new Hooks(log);
  // Every configuration change invalidates the hot-path cache (SPEC §12).
  let cache: ConfigCache | null = null;
  const onChange = () => cache?.invalidate();
  const settings = new SettingsService(db, onChange);
  await settings.load();
  cache = new ConfigCache(db, settings, log);
  const plugins = new PluginRegistry({
    hooks,
    log,
    builtins: opts.builtins ?? builtinPlugins({ db, cache, clock }),
    pluginsDir: config.pluginsDir,
    store: new PluginStateTable(db),
  });
  await plugins.init();
  const outbox = new Outbox(hooks, clock);
  const commissions = new CommissionService(hooks, outbox, clock);
  const trafficCommissions = (trx: Knex, deltas: TrafficCommissionDelta[]) => commissions.addTraffic(trx, deltas, settings.get().baseCurrency);
  const writers = {
    clicks: createClickWriter(db, trafficCommissions, (err, size) => log.error({ err, size }, 'click batch failed; writing one by one')),
    impressions: createImpressionWriter(db, trafficCommissions),
  };
  const tracking = new TrackingService(db, cache, hooks, writers.clicks, writers.impressions, log, clock);
  const services: Services = {
    config,
    db,
    log,
    clock,
    settings,
    auth: new AuthService(db, secret, clock),
    affiliates: new AffiliateService(db, onChange, clock),
    campaigns: new CampaignService(db, onChange, clock),
    banners: new BannerService(db, onChange, clock),
    coupons: new CouponService(db, onChange, clock),
    payouts: new PayoutService(db, onChange, clock),
    hooks,
    plugins,
    cache,
    tracking,
    sales: new SaleService(db, cache, hooks, tracking, commissions, log, clock, opts.random),
    commissions,
    outbox,
    writers,
    async stop() {
      cache?.stop();
      await Promise.all([writers.clicks.drain(), writers.impressions.drain()]);
    },
  };
  await services.campaigns.ensureDefault(systemActor);
  if (config.ownerEmail && config.ownerPassword && (await services.auth.needsSetup())) {
    await services.auth.createOwner(config.ownerEmail, config.ownerPassword, 'Owner');
    log.info({ email: config.ownerEmail }, 'owner account created from AFFIX_OWNER_EMAIL');
  }
  await cache.snapshot();
  cache.startPolling();
  return services;
}
