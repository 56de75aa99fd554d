import type { ConfigCache } from './config-cache.js';
import { matchClick, type MatchTrace } from '../domain/matching.js';
import type { GroupWriter } from '../ingest/group-writer.js';
import type { PendingImpression } from '../ingest/impression-writer.js';
import type { ClickStatus } from '../store/clicks.js';
import { countryOf } from './geo.js';
import { newVisitorId, validVisitorId } from './visitors.js';
import { dayIn } from '../domain/time.js';
import { trafficPayout, type ClickPipeline } from './click-pipeline.js';
import { CODE_LENGTH, clip } from '../domain/limits.js';

export type { FraudSubject, FraudVerdict, TrafficContext } from './fraud.js';

export interface ClickRequest {
  ip: string;
  userAgent: string;
  referrer: string | null;
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

/** Recording affiliate clicks (SPEC §4.2, §5.1) through the click pipeline, and impressions. */
export class TrackingService {
  constructor(
    private readonly cache: ConfigCache,
    private readonly pipeline: ClickPipeline,
    private readonly impressions: GroupWriter<PendingImpression, boolean>,
    private readonly clock: () => number = Date.now,
  ) {}

  async click(req: ClickRequest): Promise<ClickResult> {
    const snap = await this.cache.snapshot();
    const names = snap.settings.urlParams;
    const p = req.params;
    const bannerParam = p[names.banner];
    const affiliateParam = p[names.affiliate];
    const banner = snap.banner(bannerParam);
    const trace = matchClick(
      {
        forcedCampaignId: req.forcedCampaignId,
        campaignParam: p[names.campaign],
        bannerParam,
        banner,
        affiliateParam,
        affiliate: snap.affiliateByRef(affiliateParam),
      },
      snap,
    );
    const at = this.clock();
    const existingVisitor = validVisitorId(req.visitorId);
    const screened = await this.pipeline.screen({
      source: req.source,
      snap,
      at,
      ip: req.ip,
      userAgent: req.userAgent,
      referrer: req.referrer,
      country: countryOf(req.ip),
      visitorId: existingVisitor ?? validVisitorId(req.fallbackVisitorId) ?? newVisitorId(at),
      newVisitor: existingVisitor === null,
      trace,
      bannerId: banner ? banner.id : null,
      params: p,
      url: req.url,
    });
    const r = await this.pipeline.record(screened);
    return {
      visitorId: r.visitorId,
      clickId: r.clickId,
      status: r.status,
      campaignId: r.campaignId,
      affiliateId: r.affiliateId,
      bannerId: r.bannerId,
      dropped: r.dropped,
      trace,
    };
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
      cpm: trafficPayout(snap, 'CPM', banner.campaignId, affiliate?.id ?? null),
    });
  }
}
