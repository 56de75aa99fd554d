import type { ConfigSnapshot } from './config-cache.js';
import type { Hooks } from '../plugins/hooks.js';
import type { GroupWriter } from '../ingest/group-writer.js';
import type { ClickBinding, PendingClick } from '../ingest/click-writer.js';
import type { ClickStatus, TrafficClickColumns } from '../store/clicks.js';
import type { FraudGate, FraudVerdict } from './fraud.js';
import { cookieDaysFor, type MatchTrace } from '../domain/matching.js';
import { isInvited } from '../domain/invitations.js';
import { selectTrafficPayout } from '../domain/payouts.js';
import { commissionStatusFor } from '../domain/sale-status.js';
import { dayIn } from '../domain/time.js';
import { hourIn } from '../domain/report-dimensions.js';
import { IP_LENGTH, KEY_LENGTH, TEXT_LENGTH, URL_LENGTH, USER_AGENT_LENGTH, cut } from '../domain/limits.js';
import { newClickId } from './visitors.js';

/** Where a click came in: the snippet (`POST /t/click`), a redirect link (`GET /r`), or a campaign URL / the Click API. */
export type ClickSource = 'snippet' | 'redirect' | 'campaign';

/** One click as its entry point saw it, with the campaign and affiliate already matched. */
export interface ClickInput {
  source: ClickSource;
  snap: ConfigSnapshot;
  at: number;
  ip: string;
  userAgent: string;
  referrer: string | null;
  country: string | null;
  visitorId: string;
  /** The visitor id was created by this request (a visitor without history). */
  newVisitor: boolean;
  /** The campaign and affiliate decision, with the decline reason of the matching rules. */
  trace: MatchTrace;
  bannerId: number | null;
  /** The click's URL parameters (channel, data1, data2 by the configured names). */
  params: Record<string, string>;
  url: string | null;
}

/** A click that went through the rules: only these can be recorded (see `record`). */
export interface ScreenedClick {
  readonly input: ClickInput;
  /** The click's id (a campaign URL's subid), chosen before it is routed so macros can carry it. */
  readonly clickId: string;
  /** Set when the click is stored as declined: the first reason of the matching rules, else the fraud rule's. */
  readonly declineReason: string | null;
  /** Set when a fraud rule dropped the click: nothing is stored (the drop is already counted). */
  readonly dropped: { rule: string; reason: string } | null;
}

/** What only a campaign-URL click adds: the traffic columns, uniqueness and bind-visitors state. */
export interface CampaignClickParts {
  columns: TrafficClickColumns;
  /** Flow selection facts kept beside the match trace. */
  flow: Record<string, unknown>;
  statusOverride: 'unique' | 'raw';
  marks: Array<{ scope: string; device_key: string; seen_at: number }>;
  binding: ClickBinding[] | null;
}

/** A click as stored and as `click.recorded` announces it. */
export interface RecordedClick {
  clickId: string | null;
  visitorId: string;
  status: ClickStatus;
  declineReason: string | null;
  /** True when a fraud rule dropped it (not stored, counted). */
  dropped: boolean;
  source: ClickSource;
  campaignId: number;
  affiliateId: number | null;
  bannerId: number | null;
  flowId: number | null;
  trace: MatchTrace;
}

/**
 * The PPC or CPM payout paying this affiliate in this campaign, with the commission status; null
 * when the affiliate may not earn there (not approved, campaign paused, private without invitation).
 */
export function trafficPayout(
  snap: ConfigSnapshot,
  type: 'PPC' | 'CPM',
  campaignId: number,
  affiliateId: number | null,
) {
  if (affiliateId === null || snap.affiliates.get(affiliateId)?.status !== 'approved') return null;
  const campaign = snap.campaigns.get(campaignId);
  if (!campaign || campaign.status !== 'active' || !isInvited(campaign, affiliateId, snap.invitations)) return null;
  const payout = selectTrafficPayout(type, affiliateId, snap.payoutsOf(campaignId));
  if (!payout) return null;
  return { payout, status: commissionStatusFor(campaign.approval, snap.settings.defaultApproval) };
}

/**
 * The one way a click is stored (umami's `saveEvent`): the snippet, redirect links,
 * campaign URLs, the Click API and bypass-cache fresh clicks all `screen` their click (the
 * `click.fraudCheck` filter: decline or drop) and `record` it (one row builder, PPC payout,
 * the group-commit click writer, `click.recorded`). A campaign URL screens before it routes,
 * so the visitor can be routed whatever the rules decide; the others screen and record at once.
 */
export class ClickPipeline {
  constructor(
    private readonly hooks: Hooks,
    private readonly fraud: FraudGate,
    private readonly writer: GroupWriter<PendingClick, ClickStatus>,
  ) {}

  async screen(input: ClickInput): Promise<ScreenedClick> {
    const { trace, snap } = input;
    const verdict: FraudVerdict = await this.fraud.check(
      { ip: input.ip, userAgent: input.userAgent, referrer: input.referrer, country: input.country, at: input.at },
      {
        kind: 'click',
        source: input.source,
        campaignId: trace.campaignId,
        affiliateId: trace.affiliate?.affiliateId ?? null,
        bannerId: input.bannerId,
        visitorId: input.visitorId,
        fraud: snap.settings.fraud,
      },
    );
    const clickId = newClickId(input.at);
    if (verdict.action === 'drop') {
      await this.fraud.countDropped('click', verdict.rule, input.at, snap.settings.timezone);
      return { input, clickId, declineReason: verdict.reason, dropped: { rule: verdict.rule, reason: verdict.reason } };
    }
    const declineReason = trace.declineReason ?? (verdict.action === 'decline' ? verdict.reason : null);
    return { input, clickId, declineReason, dropped: null };
  }

  /** Stores a screened click (a dropped one stores nothing) and announces it; answers once it is committed. */
  async record(click: ScreenedClick, campaign?: CampaignClickParts): Promise<RecordedClick> {
    const { input, declineReason } = click;
    const { snap, trace } = input;
    const names = snap.settings.urlParams;
    const affiliateId = trace.affiliate?.affiliateId ?? null;
    const base = {
      clickId: null,
      visitorId: input.visitorId,
      status: 'declined' as ClickStatus,
      declineReason,
      dropped: true,
      source: input.source,
      campaignId: trace.campaignId,
      affiliateId,
      bannerId: input.bannerId,
      flowId: campaign?.columns.flow_id ?? null,
      trace,
    };
    if (click.dropped) return base;
    const status = await this.writer.write({
      row: {
        click_id: click.clickId,
        at: input.at,
        visitor_id: input.visitorId,
        campaign_id: trace.campaignId,
        affiliate_id: affiliateId,
        banner_id: input.bannerId,
        status: declineReason ? 'declined' : null,
        decline_reason: cut(declineReason, TEXT_LENGTH),
        matched_by: trace.matchedBy,
        channel: cut(input.params[names.channel], KEY_LENGTH),
        data1: cut(input.params[names.data1], TEXT_LENGTH),
        data2: cut(input.params[names.data2], TEXT_LENGTH),
        ip: cut(input.ip, IP_LENGTH),
        country: input.country,
        user_agent: cut(input.userAgent, USER_AGENT_LENGTH),
        referrer: cut(input.referrer, URL_LENGTH),
        url: cut(input.url, URL_LENGTH),
        source: input.source,
        trace: JSON.stringify(campaign ? { ...trace, flow: campaign.flow } : trace),
        ...campaign?.columns,
      },
      windowDays: cookieDaysFor(snap.campaign(trace.campaignId), snap.settings),
      newVisitor: input.newVisitor,
      day: dayIn(input.at, snap.settings.timezone),
      hour: hourIn(input.at, snap.settings.timezone),
      ppc: declineReason ? null : trafficPayout(snap, 'PPC', trace.campaignId, affiliateId),
      ...(campaign && { statusOverride: campaign.statusOverride, marks: campaign.marks, binding: campaign.binding }),
    });
    const recorded: RecordedClick = { ...base, clickId: click.clickId, status, dropped: false };
    await this.hooks.doAction('click.recorded', recorded);
    return recorded;
  }
}

declare module '../plugins/contract.js' {
  interface HookActions {
    'click.recorded': [click: RecordedClick];
  }
}
