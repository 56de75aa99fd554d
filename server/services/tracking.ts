import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ConfigCache, ConfigSnapshot } from './config-cache.js';
import type { Hooks } from '../plugins/hooks.js';
import { matchClick, cookieDaysFor, type MatchTrace } from '../domain/matching.js';
import type { GroupWriter } from '../ingest/group-writer.js';
import type { PendingClick } from '../ingest/click-writer.js';
import type { PendingImpression } from '../ingest/impression-writer.js';
import type { ClickStatus } from '../store/clicks.js';
import { dialectHelper } from '../db/index.js';
import { countryOf } from './geo.js';
import { newClickId, newVisitorId, validVisitorId } from './visitors.js';
import { dayIn } from '../domain/time.js';
import type { Settings } from '../domain/settings.js';
import { selectTrafficPayout } from '../domain/payouts.js';
import {
  CODE_LENGTH,
  IP_LENGTH,
  KEY_LENGTH,
  TEXT_LENGTH,
  URL_LENGTH,
  USER_AGENT_LENGTH,
  clip,
  cut,
} from '../domain/limits.js';

/** What the fraud check (plugin `fraud-protection`, filter `click.fraudCheck`) decides. */
export type FraudVerdict = { action: 'allow' } | { action: 'decline' | 'drop'; rule: string; reason: string };

/** What a fraud rule looks at besides the traffic: the event and the `fraud.*` settings. */
export interface FraudSubject {
  kind: 'click' | 'sale';
  campaignId: number;
  affiliateId: number | null;
  affiliateEmail?: string | null;
  bannerId?: number | null;
  visitorId: string | null;
  customerId?: string | null;
  orderId?: string | null;
  fraud: Settings['fraud'];
}

export interface TrafficContext {
  ip: string;
  userAgent: string;
  referrer: string | null;
  country: string | null;
  at: number;
}

export interface ClickRequest extends Omit<TrafficContext, 'country' | 'at'> {
  /** Query parameters of the landing URL (or of the redirect link), first value of each. */
  params: Record<string, string>;
  forcedCampaignId?: unknown;
  visitorId: unknown;
  /** The visitor id to use when `visitorId` is missing and no cookie may be set (GDPR mode, SPEC §2): derived from IP + user agent. */
  fallbackVisitorId?: string | null;
  url: string | null;
  source: 'snippet' | 'redirect';
}

export interface ClickResult {
  visitorId: string;
  clickId: string | null;
  status: ClickStatus;
  campaignId: number;
  affiliateId: number | null;
  bannerId: number | null;
  /** True when a fraud rule dropped the click (not stored, counted). */
  dropped: boolean;
  trace: MatchTrace;
}

/** Recording clicks and impressions (SPEC §4.2, §5.1). */
export class TrackingService {
  constructor(
    private readonly db: Knex,
    private readonly cache: ConfigCache,
    private readonly hooks: Hooks,
    private readonly clicks: GroupWriter<PendingClick, ClickStatus>,
    private readonly impressions: GroupWriter<PendingImpression, boolean>,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async click(req: ClickRequest): Promise<ClickResult> {
    const snap = await this.cache.snapshot();
    const names = snap.settings.urlParams;
    const p = req.params;
    const bannerParam = p[names.banner];
    const affiliateParam = p[names.affiliate];
    const banner = snap.banner(bannerParam);
    const affiliate = snap.affiliateByRef(affiliateParam);
    const trace = matchClick(
      {
        forcedCampaignId: req.forcedCampaignId,
        campaignParam: p[names.campaign],
        bannerParam,
        banner,
        affiliateParam,
        affiliate,
      },
      snap,
    );
    const at = this.clock();
    const existingVisitor = validVisitorId(req.visitorId);
    const visitorId = existingVisitor ?? validVisitorId(req.fallbackVisitorId) ?? newVisitorId(at);
    const country = countryOf(req.ip);
    const affiliateId = trace.affiliate?.affiliateId ?? null;
    const bannerId = banner ? banner.id : null;

    let declineReason = trace.declineReason;
    const verdict = await this.fraudCheck(
      { ip: req.ip, userAgent: req.userAgent, referrer: req.referrer, country, at },
      {
        kind: 'click',
        campaignId: trace.campaignId,
        affiliateId,
        bannerId,
        visitorId,
        fraud: snap.settings.fraud,
      },
    );
    if (verdict.action === 'drop') {
      await this.countDropped('click', verdict.rule, at, snap);
      return {
        visitorId,
        clickId: null,
        status: 'declined',
        campaignId: trace.campaignId,
        affiliateId,
        bannerId,
        dropped: true,
        trace,
      };
    }
    if (verdict.action === 'decline') declineReason ??= verdict.reason;

    const clickId = newClickId(at);
    const status = await this.clicks.write({
      row: {
        click_id: clickId,
        at,
        visitor_id: visitorId,
        campaign_id: trace.campaignId,
        affiliate_id: affiliateId,
        banner_id: bannerId,
        status: declineReason ? 'declined' : null,
        decline_reason: cut(declineReason, TEXT_LENGTH),
        matched_by: trace.matchedBy,
        channel: cut(p[names.channel], KEY_LENGTH),
        data1: cut(p[names.data1], TEXT_LENGTH),
        data2: cut(p[names.data2], TEXT_LENGTH),
        ip: cut(req.ip, IP_LENGTH),
        country,
        user_agent: cut(req.userAgent, USER_AGENT_LENGTH),
        referrer: cut(req.referrer, URL_LENGTH),
        url: cut(req.url, URL_LENGTH),
        source: req.source,
        trace: JSON.stringify(trace),
      },
      windowDays: cookieDaysFor(snap.campaign(trace.campaignId), snap.settings),
      newVisitor: existingVisitor === null,
      day: dayIn(at, snap.settings.timezone),
      ppc: declineReason ? null : this.trafficPayout(snap, 'PPC', trace.campaignId, affiliateId),
    });
    const result = {
      visitorId,
      clickId,
      status,
      campaignId: trace.campaignId,
      affiliateId,
      bannerId,
      dropped: false,
      trace,
    };
    await this.hooks.doAction('click.recorded', result);
    return result;
  }

  /**
   * Counts an impression of a banner (SPEC §4.2) through the impression writer. Unknown
   * banners are ignored: the pixel never fails the page. Resolves to whether it was unique.
   */
  async impression(input: { bannerParam: unknown; affiliateParam: unknown; visitorKey: string }): Promise<boolean> {
    const snap = await this.cache.snapshot();
    const banner = snap.banner(input.bannerParam);
    if (!banner) return false;
    const affiliate = snap.affiliateByRef(input.affiliateParam);
    return this.impressions.write({
      day: dayIn(this.clock(), snap.settings.timezone),
      campaignId: banner.campaignId,
      bannerId: banner.id,
      affiliateId: affiliate?.id ?? 0,
      visitorKey: clip(input.visitorKey, CODE_LENGTH),
      cpm: this.trafficPayout(snap, 'CPM', banner.campaignId, affiliate?.id ?? null),
    });
  }

  /** The PPC or CPM payout paying an approved affiliate in this campaign, with the commission status. */
  private trafficPayout(snap: ConfigSnapshot, type: 'PPC' | 'CPM', campaignId: number, affiliateId: number | null) {
    if (affiliateId === null || snap.affiliates.get(affiliateId)?.status !== 'approved') return null;
    const payout = selectTrafficPayout(type, affiliateId, snap.payoutsOf(campaignId));
    if (!payout) return null;
    const approval = snap.campaigns.get(campaignId)?.approval ?? snap.settings.defaultApproval;
    return { payout, status: approval === 'auto' ? ('approved' as const) : ('pending' as const) };
  }

  /** Runs the `click.fraudCheck` / `sale.fraudCheck` filter; a plugin error never blocks tracking. */
  fraudCheck(traffic: TrafficContext, subject: FraudSubject): Promise<FraudVerdict> {
    return this.hooks.applyFilters<FraudVerdict>(`${subject.kind}.fraudCheck`, { action: 'allow' }, traffic, subject);
  }

  async countDropped(kind: 'click' | 'sale', reason: string, at: number, snap: ConfigSnapshot): Promise<void> {
    await dialectHelper(this.db).upsertIncrement(
      this.db,
      'dropped_counts',
      ['day', 'kind', 'reason'],
      [{ day: dayIn(at, snap.settings.timezone), kind, reason: clip(reason, CODE_LENGTH), count: 1 }],
      ['count'],
    );
    this.log.info({ kind, reason }, 'event dropped by a fraud rule');
  }
}
