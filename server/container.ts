import type { Knex } from 'knex';
import type { Logger as PinoLogger } from 'pino';
import type { Config } from './config.js';
import { AffiliateService } from './services/affiliates.js';
import { CampaignService } from './services/campaigns.js';
import { DomainService } from './services/domains.js';
import { SourceService } from './services/sources.js';
import { GroupService } from './services/groups.js';
import { CommissionGroupService } from './services/commission-groups.js';
import { FlowService } from './services/flows.js';
import { BannerService } from './services/banners.js';
import { CouponService } from './services/coupons.js';
import { PayoutService } from './services/payouts.js';
import { SettingsService } from './services/settings.js';
import { AuthService } from './services/auth.js';
import { ApiKeyService } from './services/api-keys.js';
import { SnippetSeen } from './services/snippet-seen.js';
import { Hooks } from './plugins/hooks.js';
import { PluginRegistry } from './plugins/registry.js';
import { changePlugin } from './services/plugins.js';
import { PluginStateTable } from './store/plugins.js';
import { builtinPlugins, type BuiltinDeps } from './plugins/builtins.js';
import { LifetimeCustomers } from './services/lifetime-customers.js';
import type { AffixPlugin } from './plugins/types.js';
import { getOrCreateSystemValue } from './store/system.js';
import { randomToken } from './services/random.js';
import { systemActor } from './services/actor.js';
import { ConfigCache } from './services/config-cache.js';
import { TrackingService } from './services/tracking.js';
import { FraudGate } from './services/fraud.js';
import { ClickPipeline } from './services/click-pipeline.js';
import { SaleService } from './services/sales.js';
import { CommissionService } from './services/commissions.js';
import { createTrafficCommissionWriter } from './ingest/traffic-commissions.js';
import { Outbox } from './services/outbox.js';
import { CommissionLifecycle } from './services/commission-lifecycle.js';
import { RefundService } from './services/refunds.js';
import { reverseRejectedSale } from './services/sale-reversal.js';
import { IdempotencyService } from './services/idempotency.js';
import { PayoutBatchService } from './services/payout-batches.js';
import { CampaignRunner } from './services/campaign-runner.js';
import { LandingOffers } from './services/landing-offers.js';
import { ConversionService } from './services/conversions.js';
import { ReportService } from './services/reports.js';
import { OutboxWorker, type OutboxWorkerTuning } from './services/outbox-worker.js';
import { OutgoingHttp } from './services/outgoing-http.js';
import { IntegrationService } from './services/integrations.js';
import { Pruner, type PruningTuning } from './services/pruning.js';
import { MailService } from './services/mail.js';
import { AccountService } from './services/accounts.js';
import { DailySummary } from './services/daily-summary.js';
import { TrackingLog } from './services/tracking-log.js';
import { CommissionQueue } from './services/commission-queue.js';
import { SaleRefunds } from './services/sale-money.js';
import { AdminDashboard } from './services/admin-dashboard.js';
import { AuditLog } from './services/audit-log.js';
import { StaffList } from './services/staff-list.js';
import { PluginSettings } from './services/plugin-settings.js';
import { HealthCheck } from './services/health.js';
import { AffiliateOverview } from './services/affiliate-overview.js';
import { MailRetry } from './services/mail-retry.js';
import { BypassCache } from './services/bypass-cache.js';
import { formatMoney } from './domain/money.js';
import { openSharedState, subscribeConfigChanges, type SharedState } from './services/shared-state.js';
import { createClickWriter } from './ingest/click-writer.js';
import { createImpressionWriter } from './ingest/impression-writer.js';
import { createSaleWriter, type OutboxEmit, type PendingSale, type SaleWrite } from './ingest/sale-writer.js';
import type { GroupWriter } from './ingest/group-writer.js';
import type { PendingClick } from './ingest/click-writer.js';
import type { PendingImpression } from './ingest/impression-writer.js';
import type { ClickStatus } from './store/clicks.js';

/** Every service, wired once, and the database handle that boot, shutdown and tests hold. */
export interface Services {
  config: Config;
  /** For boot, shutdown and tests only: routes see `HttpServices` (server/http/context.ts), without it. */
  db: Knex;
  log: PinoLogger;
  clock: () => number;
  settings: SettingsService;
  auth: AuthService;
  apiKeys: ApiKeyService;
  snippetSeen: SnippetSeen;
  affiliates: AffiliateService;
  campaigns: CampaignService;
  banners: BannerService;
  coupons: CouponService;
  payouts: PayoutService;
  domains: DomainService;
  sources: SourceService;
  groups: GroupService;
  commissionGroups: CommissionGroupService;
  flows: FlowService;
  hooks: Hooks;
  plugins: PluginRegistry;
  cache: ConfigCache;
  tracking: TrackingService;
  sales: SaleService;
  commissions: CommissionService;
  /** Approve / decline (SPEC §6.3), refunds and chargebacks (§6.4), payout batches (§6.6). */
  commissionLifecycle: CommissionLifecycle;
  refunds: RefundService;
  /** Signed and keyed server-to-server requests answered once (SPEC §10a). */
  idempotency: IdempotencyService;
  payoutBatches: PayoutBatchService;
  outbox: Outbox;
  runner: CampaignRunner;
  landingOffers: LandingOffers;
  conversions: ConversionService;
  reports: ReportService;
  /** Delivers the outbox; started by `startWorkers` (the server) or by tests themselves. */
  outboxWorker: OutboxWorker;
  /** Every HTTP request Affix sends, and the check of URLs it will call (SPEC §10a). */
  outgoing: OutgoingHttp;
  /** Store platform webhooks and their delivery log (SPEC §14). */
  integrations: IntegrationService;
  /** Prunes uniqueness marks and impression visitors by age; started by `startWorkers`. */
  pruner: Pruner;
  /** Mail through the outbox, its templates and the Mail page (SPEC §13). */
  mail: MailService;
  /** Password reset, e-mail verification, staff invitations and roles (SPEC §13). */
  accounts: AccountService;
  /** `merchant.daily_summary` once a day (when switched on); started by `startWorkers`. */
  dailySummary: DailySummary;
  /** The counters shared by every process: Redis when `REDIS_URL` is set and reachable, else the database. */
  shared: SharedState;
  writers: {
    clicks: GroupWriter<PendingClick, ClickStatus>;
    impressions: GroupWriter<PendingImpression, boolean>;
    sales: GroupWriter<PendingSale, SaleWrite>;
  };
  /** The Clicks, Sales and Conversions logs and their CSV exports (SPEC §9, §15). */
  trackingLog: TrackingLog;
  /** The commissions queue's CSV export and "select all matching" (SPEC §6.3). */
  commissionQueue: CommissionQueue;
  /** A sale's commissions, refunds and what is left to refund (SPEC §6.4). */
  saleRefunds: SaleRefunds;
  /** The admin dashboard's figures and getting-started list (SPEC §13). */
  dashboard: AdminDashboard;
  auditLog: AuditLog;
  staff: StaffList;
  /** Plugin activation and settings, saved and audited. */
  pluginSettings: PluginSettings;
  health: HealthCheck;
  /** An affiliate's 30-day figures and the affiliates CSV export. */
  affiliateOverview: AffiliateOverview;
  mailRetry: MailRetry;
  /** `GET /t/fresh-click` (SPEC §7.8). */
  bypassCache: BypassCache;
  /** Stops timers and waits for queued writes (before closing the database). */
  stop(): Promise<void>;
}

export interface BuildOptions {
  clock?: () => number;
  /**
   * Replaces the built-in plugin list (tests register their own); the function form receives what
   * built-ins are given (the app's database, configuration cache and clock).
   */
  builtins?: AffixPlugin[] | ((deps: BuiltinDeps) => AffixPlugin[]);
  /** The random source of matching tie-breaks (tests inject a fixed one). */
  random?: () => number;
  /** Starts background workers (outbox delivery); the server passes true, tests start them when needed. */
  startWorkers?: boolean;
  /** Outbox worker tuning (tests shorten the poll and the back-off). */
  outbox?: OutboxWorkerTuning;
  /** Replaces the password check (tests count how many passwords are really checked). */
  verifyPassword?: (password: string, hash: string) => Promise<boolean>;
  /** Pruning schedule (tests run it at once). */
  pruning?: PruningTuning;
  /** The least time a password-reset request takes (ms; SPEC §13: the same time for unknown addresses). */
  resetMinMs?: number;
}

/**
 * Wires the services and loads what they cache (settings, plugin state). Migrations must have run.
 * It is long on purpose: it is the one place that builds every service in dependency order, so
 * reading it top to bottom shows what each service is handed; split, that order would be scattered.
 */
export async function buildServices(
  config: Config,
  db: Knex,
  log: PinoLogger,
  opts: BuildOptions = {},
): Promise<Services> {
  const clock = opts.clock ?? Date.now;
  const secret = config.secret ?? (await getOrCreateSystemValue(db, 'secret', () => randomToken(48)));
  const hooks = new Hooks(log);
  // Every configuration change invalidates the hot-path cache (SPEC §12).
  let cache: ConfigCache | null = null;
  const onChange = () => cache?.invalidate();
  const settings = new SettingsService(db, onChange);
  await settings.load();
  cache = new ConfigCache(db, settings, log);
  // The counters every process must agree on, and configuration pushed at once (SPEC §16).
  const { shared, redis } = openSharedState({
    db,
    log,
    clock,
    redisUrl: config.redisUrl,
    redisPrefix: config.redisPrefix,
  });
  const configBus = redis ? subscribeConfigChanges(config, cache, log) : null;
  const builtinDeps: BuiltinDeps = { cache, clock, shared, lifetimeCustomers: new LifetimeCustomers(db) };
  const outgoing = new OutgoingHttp({ allowPrivate: config.allowPrivateTargets });
  const plugins = new PluginRegistry({
    hooks,
    log,
    builtins:
      typeof opts.builtins === 'function' ? opts.builtins(builtinDeps) : (opts.builtins ?? builtinPlugins(builtinDeps)),
    pluginsDir: config.pluginsDir,
    store: new PluginStateTable(db),
    checkUrl: (url) => outgoing.problem(url),
    onChange,
  });
  await plugins.init();
  // Plugin activation and settings are configuration: another process's change reaches this one.
  cache.onRemoteChange(() => plugins.reload());
  const outbox = new Outbox(hooks, clock);
  const outboxWorker = new OutboxWorker({ ...opts.outbox, db, hooks, log, clock, http: outgoing });
  outbox.onQueued = () => outboxWorker.notify();
  const mail = new MailService({ db, config, outbox, settings: () => settings.get(), log, clock });
  outboxWorker.setMailSender(mail);
  outbox.onEvent = (trx, event, payload) => mail.forEvent(trx, event, payload);
  const accounts = new AccountService(db, mail, clock, opts.resetMinMs);
  const commissions = new CommissionService(hooks);
  const emit: OutboxEmit = (trx, event, payload, messages) => outbox.emit(trx, event, payload, messages);
  const trafficCommissions = createTrafficCommissionWriter(() => settings.get().baseCurrency, emit, clock);
  const writers = {
    clicks: createClickWriter(db, trafficCommissions, (err, size) =>
      log.error({ err, size }, 'click batch failed; writing one by one'),
    ),
    impressions: createImpressionWriter(db, trafficCommissions),
    sales: createSaleWriter(db, emit, clock),
  };
  const commissionLifecycle = new CommissionLifecycle(db, hooks, outbox, () => settings.get(), clock);
  const fraud = new FraudGate(db, hooks, log);
  // The one click pipeline every click entry point goes through.
  const clickPipeline = new ClickPipeline(hooks, fraud, writers.clicks);
  const tracking = new TrackingService(cache, clickPipeline, writers.impressions, clock);
  const runner = new CampaignRunner(db, clickPipeline, secret, log, clock, opts.random, shared);
  const snippetSeen = new SnippetSeen(db, log, clock);
  const sales = new SaleService(db, cache, hooks, fraud, commissions, writers.sales, log, clock, opts.random);
  const refunds = new RefundService(db, hooks, outbox, commissionLifecycle, () => settings.get(), clock);
  // A rejected conversion reverses what its sale paid: a full refund of the sale's commissions.
  const reverseSale = (saleId: number, reason: string) => reverseRejectedSale(db, refunds, saleId, reason);
  const services: Services = {
    config,
    db,
    log,
    clock,
    settings,
    auth: new AuthService(db, secret, clock, opts.verifyPassword, shared),
    apiKeys: new ApiKeyService(db, clock),
    snippetSeen,
    affiliates: new AffiliateService(db, outgoing, onChange, clock, {
      statusChanged: (trx, id, from, to) => accounts.onAffiliateStatus(trx, id, from, to),
    }),
    campaigns: new CampaignService(db, onChange, clock),
    banners: new BannerService(db, onChange, clock),
    coupons: new CouponService(db, onChange, clock),
    payouts: new PayoutService(db, onChange, clock, {
      // A LIFETIME payout turns on the plugin it needs, as the admin would.
      async ensureActive(name, actor) {
        if (plugins.isActive(name)) return false;
        await changePlugin(db, plugins, name, { active: true }, actor);
        return true;
      },
    }),
    domains: new DomainService(db, onChange, clock),
    sources: new SourceService(db, outgoing, onChange, clock),
    groups: new GroupService(db, onChange, clock),
    commissionGroups: new CommissionGroupService(db, onChange, clock),
    flows: new FlowService(db, onChange, clock),
    hooks,
    plugins,
    cache,
    tracking,
    sales,
    commissions,
    commissionLifecycle,
    refunds,
    idempotency: new IdempotencyService(db, clock),
    payoutBatches: new PayoutBatchService(
      db,
      commissionLifecycle,
      () => settings.get(),
      clock,
      async (trx, id, lines, currency) => {
        for (const line of lines) {
          const affiliate = await mail.affiliateContact(trx, line.affiliateId);
          if (!affiliate || line.amount <= 0) continue;
          await mail.queue(trx, 'payout.paid', affiliate.email, {
            affiliate,
            payout: { batchId: id, amount: formatMoney(line.amount), currency, commissions: line.commissions },
            portalUrl: `${mail.origin()}/portal/commissions`,
          });
        }
      },
    ),
    outbox,
    runner,
    landingOffers: new LandingOffers(db, cache, clock, opts.random),
    conversions: new ConversionService(db, cache, outbox, sales, reverseSale, log, clock),
    reports: new ReportService(db, cache, clock),
    outboxWorker,
    outgoing,
    integrations: new IntegrationService(db, sales, refunds, commissionLifecycle, log, clock),
    pruner: new Pruner(db, cache, log, clock, opts.pruning),
    mail,
    accounts,
    dailySummary: new DailySummary(db, mail, () => settings.get(), log, clock),
    shared,
    writers,
    trackingLog: new TrackingLog(db),
    commissionQueue: new CommissionQueue(db),
    saleRefunds: new SaleRefunds(db),
    dashboard: new AdminDashboard(db, snippetSeen),
    auditLog: new AuditLog(db),
    staff: new StaffList(db),
    pluginSettings: new PluginSettings(db, plugins),
    health: new HealthCheck(db),
    affiliateOverview: new AffiliateOverview(db),
    mailRetry: new MailRetry(db, outboxWorker),
    bypassCache: new BypassCache(db, cache, runner, log, clock),
    async stop() {
      cache?.stop();
      await Promise.all([
        writers.clicks.drain(),
        writers.impressions.drain(),
        writers.sales.drain(),
        outboxWorker.stop(),
        services.pruner.stop(),
        services.dailySummary.stop(),
        services.snippetSeen.flush(),
      ]);
      configBus?.disconnect();
      redis?.disconnect();
    },
  };
  await services.campaigns.ensureDefault(systemActor);
  if (config.ownerEmail && config.ownerPassword && (await services.auth.needsSetup())) {
    try {
      await services.auth.createOwner(config.ownerEmail, config.ownerPassword, 'Owner');
      log.info({ email: config.ownerEmail }, 'owner account created from AFFIX_OWNER_EMAIL');
    } catch (err) {
      // Processes starting together (SPEC §16): the one that lost the race finds the owner made.
      if (await services.auth.needsSetup()) throw err;
    }
  }
  await cache.snapshot();
  cache.startPolling();
  if (opts.startWorkers) {
    outboxWorker.start();
    services.pruner.start();
    services.dailySummary.start();
  }
  return services;
}
