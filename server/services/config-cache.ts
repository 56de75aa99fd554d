import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { allCampaigns, type Campaign } from '../store/campaigns.js';
import type { Affiliate } from '../store/affiliates.js';
import {
  commissionGroupMembers,
  payoutAffiliateLinks,
  payoutCommissionGroups,
  snapshotAffiliates,
  snapshotBanners,
  snapshotCoupons,
  snapshotPayouts,
} from '../store/config-snapshot.js';
import { couponKey } from '../store/coupons.js';
import { getSystemValue, setSystemValue } from '../store/system.js';
import type { MatchLookups, CampaignFacts, AffiliateFacts, BannerFacts, CouponFacts } from '../domain/matching.js';
import type { SettingsService } from './settings.js';
import type { Settings } from '../domain/settings.js';
import type { PayoutDef } from '../domain/payouts.js';
import { payoutDefOf } from '../store/payouts.js';
import { allDomains } from '../store/domains.js';
import { allSources } from '../store/sources.js';
import { activeFlowDefs } from '../store/flows.js';
import type { FlowDef } from '../domain/flows.js';
import { invitationsOf, type Invitations } from '../domain/invitations.js';

/** A campaign-URL domain as the hot path reads it (SPEC §7.1). */
export interface DomainFacts {
  id: number;
  host: string;
  parkedCampaignId: number | null;
}

/** A traffic source as the hot path reads it (SPEC §7.4). */
export interface SourceFacts {
  id: number;
  name: string;
  params: Record<string, string>;
  postbackUrl: string | null;
}

/** The key of the alias index: aliases compare without case, per domain (null = the tracker's own host). */
const aliasKey = (domainId: number | null, alias: string) => `${domainId ?? ''}/${alias.toLowerCase()}`;

/** Everything the hot paths read, loaded at once from the database. */
export class ConfigSnapshot implements MatchLookups {
  readonly campaigns = new Map<number, Campaign>();
  readonly affiliates = new Map<number, Affiliate>();
  readonly affiliatesByRef = new Map<string, Affiliate>();
  readonly banners = new Map<number, BannerFacts & { destinationUrl: string | null; type: string }>();
  readonly coupons = new Map<string, CouponFacts>();
  /** productId → ids of the (non-archived) campaigns listing it. */
  readonly productIndex = new Map<string, number[]>();
  /** The active (non-archived) payouts of each campaign. */
  readonly payouts = new Map<number, PayoutDef[]>();
  /** Campaign-URL domains by lower-case host (with its port, when it has one). */
  readonly domainsByHost = new Map<string, DomainFacts>();
  readonly domains = new Map<number, DomainFacts>();
  /** Every traffic source (archived ones too: campaigns may still name them). */
  readonly sources = new Map<number, SourceFacts>();
  /** The non-archived flows of each campaign, by position then id. */
  readonly flows = new Map<number, FlowDef[]>();
  /** Who is invited to which private campaign (SPEC §3, domain/invitations.ts). */
  invitations: Invitations = new Map();
  private readonly campaignsByAlias = new Map<string, number>();
  private readonly campaignsByToken = new Map<string, number>();
  private defaultId = 0;

  constructor(readonly settings: Settings) {}

  campaign(id: number): CampaignFacts | undefined {
    return this.campaigns.get(id);
  }
  affiliate(id: number): AffiliateFacts | undefined {
    return this.affiliates.get(id);
  }
  defaultCampaign(): CampaignFacts {
    return this.campaigns.get(this.defaultId) as CampaignFacts;
  }
  /** An `a_aid` value: refId first, then the numeric id (SPEC §3). */
  affiliateByRef(ref: unknown): Affiliate | undefined {
    if (typeof ref !== 'string' && typeof ref !== 'number') return undefined;
    const text = String(ref).trim();
    return this.affiliatesByRef.get(text) ?? (/^\d{1,10}$/.test(text) ? this.affiliates.get(Number(text)) : undefined);
  }
  banner(ref: unknown) {
    const text = typeof ref === 'number' || typeof ref === 'string' ? String(ref).trim() : '';
    return /^\d{1,10}$/.test(text) ? this.banners.get(Number(text)) : undefined;
  }
  coupon(code: unknown): CouponFacts | undefined {
    return typeof code === 'string' && code.trim() ? this.coupons.get(couponKey(code)) : undefined;
  }
  payoutsOf(campaignId: number): PayoutDef[] {
    return this.payouts.get(campaignId) ?? [];
  }
  payoutById(id: number): PayoutDef | undefined {
    for (const list of this.payouts.values()) for (const p of list) if (p.id === id) return p;
    return undefined;
  }
  /** The campaign whose URL is `/<alias>` on a domain (null = the tracker's own host); archived ones included. */
  campaignByAlias(domainId: number | null, alias: string): Campaign | undefined {
    const id = this.campaignsByAlias.get(aliasKey(domainId, alias));
    return id === undefined ? undefined : this.campaigns.get(id);
  }
  /** The campaign whose Click API token this is (archived ones included). */
  campaignByToken(token: string): Campaign | undefined {
    const id = this.campaignsByToken.get(token);
    return id === undefined ? undefined : this.campaigns.get(id);
  }
  productCampaigns(productIds: string[]): CampaignFacts[] {
    const ids = new Set<number>();
    for (const p of productIds) for (const id of this.productIndex.get(p) ?? []) ids.add(id);
    return [...ids].map((id) => this.campaigns.get(id)).filter((c): c is Campaign => c !== undefined);
  }

  static async load(db: Knex, settings: Settings): Promise<ConfigSnapshot> {
    const snap = new ConfigSnapshot(settings);
    for (const c of await allCampaigns(db)) {
      snap.campaigns.set(c.id, c);
      if (c.isDefault) snap.defaultId = c.id;
      if (c.apiToken) snap.campaignsByToken.set(c.apiToken, c.id);
      // An archived campaign never shadows a live one with the same alias.
      if (c.alias && !(c.archived && snap.campaignsByAlias.has(aliasKey(c.domainId, c.alias)))) {
        snap.campaignsByAlias.set(aliasKey(c.domainId, c.alias), c.id);
      }
      if (c.archived) continue;
      for (const p of c.productIds) snap.productIndex.set(p, [...(snap.productIndex.get(p) ?? []), c.id]);
    }
    for (const a of await snapshotAffiliates(db)) {
      snap.affiliates.set(a.id, a);
      snap.affiliatesByRef.set(a.refId, a);
    }
    const banners = await snapshotBanners(db);
    for (const b of banners) {
      snap.banners.set(b.id, {
        id: b.id,
        campaignId: b.campaign_id,
        name: b.name,
        destinationUrl: b.destination_url,
        type: b.type,
      });
    }
    const coupons = await snapshotCoupons(db);
    for (const c of coupons) {
      snap.coupons.set(couponKey(c.code), {
        code: c.code,
        affiliateId: c.affiliate_id,
        campaignId: c.campaign_id,
        payoutId: c.payout_id,
      });
    }
    for (const [campaignId, list] of await loadPayouts(db)) snap.payouts.set(campaignId, list);
    snap.invitations = invitationsOf([...snap.payouts.values()].flat(), snap.coupons.values());
    for (const d of await allDomains(db)) {
      const facts = { id: d.id, host: d.host, parkedCampaignId: d.parkedCampaignId };
      snap.domainsByHost.set(d.host.toLowerCase(), facts);
      snap.domains.set(d.id, facts);
    }
    for (const src of await allSources(db)) {
      snap.sources.set(src.id, { id: src.id, name: src.name, params: src.params, postbackUrl: src.postbackUrl });
    }
    for (const [campaignId, list] of await activeFlowDefs(db)) snap.flows.set(campaignId, list);
    return snap;
  }
}

/**
 * The payouts not archived, per campaign, as the rules read them: a personal payout's affiliates
 * include the members of the commission groups it names (SPEC §14).
 */
async function loadPayouts(db: Knex): Promise<Map<number, PayoutDef[]>> {
  const affiliatesOf = new Map<number, number[]>();
  for (const l of await payoutAffiliateLinks(db))
    affiliatesOf.set(l.payout_id, [...(affiliatesOf.get(l.payout_id) ?? []), l.affiliate_id]);
  const members = new Map<number, number[]>();
  for (const m of await commissionGroupMembers(db))
    members.set(m.group_id, [...(members.get(m.group_id) ?? []), m.affiliate_id]);
  const groupsOf = new Map<number, number[]>();
  for (const l of await payoutCommissionGroups(db))
    groupsOf.set(l.payout_id, [...(groupsOf.get(l.payout_id) ?? []), l.group_id]);
  const out = new Map<number, PayoutDef[]>();
  for (const r of await snapshotPayouts(db)) {
    const groups = groupsOf.get(r.id) ?? [];
    const affiliateIds = [
      ...new Set([...(affiliatesOf.get(r.id) ?? []), ...groups.flatMap((g) => members.get(g) ?? [])]),
    ];
    out.set(r.campaign_id, [...(out.get(r.campaign_id) ?? []), payoutDefOf(r, affiliateIds, groups)]);
  }
  return out;
}

const VERSION_KEY = 'config_version';

/**
 * The in-memory configuration of SPEC §12. `invalidate()` (called by every service after a
 * change commits) makes the next `snapshot()` reload; a version number in the database tells
 * other processes sharing it to reload too (checked every `pollMs`): the settings, the snapshot,
 * and whatever else registered with `onRemoteChange` (the plugins' activation and settings).
 */
export class ConfigCache {
  private current: ConfigSnapshot | null = null;
  /** Bumped by every change; a snapshot is fresh when it was loaded at the current generation. */
  private generation = 0;
  private loadedGeneration = -1;
  private loading: { generation: number; promise: Promise<ConfigSnapshot> } | null = null;
  private version = '0';
  private timer: NodeJS.Timeout | null = null;
  private readonly reloaders: Array<() => Promise<void>> = [];

  constructor(
    private readonly db: Knex,
    private readonly settings: SettingsService,
    private readonly log?: Logger,
  ) {}

  snapshot(): Promise<ConfigSnapshot> {
    if (this.current && this.loadedGeneration === this.generation) return Promise.resolve(this.current);
    return this.reload();
  }

  /** The last loaded snapshot without waiting (null before the first load). */
  peek(): ConfigSnapshot | null {
    return this.current;
  }

  /** Called after a change commits: the next snapshot() reloads, here and (via the version) elsewhere. */
  invalidate(): void {
    this.generation++;
    const version = (this.version = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
    void setSystemValue(this.db, VERSION_KEY, version)
      .then(() => this.publish?.(version))
      .catch((err: unknown) => this.log?.warn({ err }, 'could not publish the configuration version'));
  }

  /**
   * Pushes each new configuration version to the other processes at once (Redis pub/sub, SPEC
   * §16); they then check the database's version as their poll would.
   */
  publish: ((version: string) => Promise<unknown>) | null = null;

  private reload(): Promise<ConfigSnapshot> {
    const generation = this.generation;
    if (this.loading && this.loading.generation === generation) return this.loading.promise;
    const promise = ConfigSnapshot.load(this.db, this.settings.get()).then((snap) => {
      if (generation >= this.loadedGeneration) {
        this.current = snap;
        this.loadedGeneration = generation;
      }
      return snap;
    });
    this.loading = { generation, promise };
    void promise.then(
      () => this.clearLoading(promise),
      () => this.clearLoading(promise),
    );
    return promise;
  }

  private clearLoading(promise: Promise<ConfigSnapshot>): void {
    if (this.loading?.promise === promise) this.loading = null;
  }

  /** Also reload this when another process changed the configuration. */
  onRemoteChange(reload: () => Promise<void>): void {
    this.reloaders.push(reload);
  }

  /** Watches the shared version so a change made by another process reaches this one. */
  startPolling(pollMs = 1000): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.checkRemote(), pollMs);
    this.timer.unref();
  }

  private checking: Promise<void> | null = null;
  private checkAgain = false;

  /** Reloads when the shared version differs from this process's (the poll, and a pushed change). */
  checkRemote(): Promise<void> {
    if (this.checking) {
      // A push during a check: look once more after it, the version may have moved on.
      this.checkAgain = true;
      return this.checking;
    }
    this.checking = getSystemValue(this.db, VERSION_KEY)
      .then(async (v) => {
        if (v === null || v === this.version) return;
        await this.settings.load();
        this.generation++;
        for (const reload of this.reloaders) await reload();
        // Only once everything is loaded: after a failure the next check tries again.
        this.version = v;
      })
      .catch((err: unknown) => this.log?.warn({ err }, 'configuration version check failed'))
      .finally(() => {
        this.checking = null;
        if (this.checkAgain) {
          this.checkAgain = false;
          void this.checkRemote();
        }
      });
    return this.checking;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
