/**
 * Campaign matching (SPEC §5, the Post Affiliate Pro algorithm), as pure functions over facts
 * the caller has already looked up. Every rule is evaluated and written into the trace, so the
 * merchant can see not only which rule decided but why each other candidate did not.
 */

import { isInvited, type Invitations } from './invitations.js';

export const DAY_MS = 86_400_000;

export interface CampaignFacts {
  id: number;
  name: string;
  type: 'public' | 'manual' | 'private';
  status: 'active' | 'paused';
  isDefault: boolean;
  cookieDays: number | null;
  overwriteCookie: boolean | null;
}

export interface AffiliateFacts {
  id: number;
  refId: string;
  name: string;
  status: 'pending' | 'approved' | 'declined';
  overwriteCookie: boolean | null;
}

export interface BannerFacts {
  id: number;
  campaignId: number;
  name: string;
}

export interface CouponFacts {
  code: string;
  affiliateId: number;
  campaignId: number | null;
  payoutId: number | null;
}

/** One visitor's referral in one campaign: its first and its last click (SPEC §4.3). */
export interface ReferralFacts {
  campaignId: number;
  firstAffiliateId: number;
  firstClickAt: number;
  lastAffiliateId: number;
  lastClickAt: number;
}

/** The lookups matching needs, answered from the in-memory configuration cache. */
export interface MatchLookups {
  campaign(id: number): CampaignFacts | undefined;
  affiliate(id: number): AffiliateFacts | undefined;
  defaultCampaign(): CampaignFacts;
  /** Who is invited to which private campaign (domain/invitations.ts). */
  readonly invitations: Invitations;
}

export interface GlobalCookieSettings {
  cookieDays: number;
  overwriteCookie: boolean;
}

export type CandidateOutcome = 'matched' | 'outranked' | 'not_applicable' | 'invalid';

export interface TraceCandidate {
  rule: number;
  name: string;
  outcome: CandidateOutcome;
  campaignId?: number;
  affiliateId?: number;
  detail: string;
}

export interface AffiliateDecision {
  affiliateId: number;
  source: 'subscription' | 'lifetime' | 'coupon' | 'explicit' | 'cookie' | 'link';
  detail: string;
}

export interface MatchTrace {
  matchedBy: string;
  rule: number;
  campaignId: number;
  candidates: TraceCandidate[];
  affiliate: AffiliateDecision | null;
  affiliateCandidates: TraceCandidate[];
  /** Set when the event must be stored as declined. */
  declineReason: string | null;
  notes: string[];
}

// ---- helpers -------------------------------------------------------------------------------

const describeCampaign = (c: CampaignFacts) => `campaign ${c.id} "${c.name}"`;

/** Parses a positive integer id from a URL or body value; anything else is null. */
export function parseId(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= 2_147_483_647) return value;
  if (typeof value === 'string' && /^\d{1,10}$/.test(value.trim())) {
    const n = Number(value.trim());
    return n > 0 && n <= 2_147_483_647 ? n : null;
  }
  return null;
}

/** Marks every candidate after the first match as outranked, naming the rule that won. */
function settle(candidates: TraceCandidate[]): TraceCandidate | undefined {
  const winner = candidates.find((c) => c.outcome === 'matched');
  if (!winner) return undefined;
  for (const c of candidates) {
    if (c !== winner && c.outcome === 'matched') {
      c.outcome = 'outranked';
      c.detail += `; ignored because rule ${winner.rule} (${winner.name}) ranks higher`;
    }
  }
  return winner;
}

// ---- clicks (SPEC §5.1) -------------------------------------------------------------------

export interface ClickFacts {
  /** `campaignId` given to the click call (rule 1). */
  forcedCampaignId: unknown;
  /** The campaign URL parameter, `a_cid` (rule 2). */
  campaignParam: unknown;
  /** The banner URL parameter, `a_bid` (rule 3); `banner` is its lookup. */
  bannerParam: unknown;
  banner: BannerFacts | undefined;
  /** The affiliate URL parameter, `a_aid`; `affiliate` is its lookup by refId or id. */
  affiliateParam: unknown;
  affiliate: AffiliateFacts | undefined;
}

export function matchClick(f: ClickFacts, lookups: MatchLookups): MatchTrace {
  const candidates: TraceCandidate[] = [];
  const notes: string[] = [];
  let declineReason: string | null = null;

  const byId = (rule: number, name: string, raw: unknown, label: string) => {
    if (raw === undefined || raw === null || raw === '') {
      candidates.push({ rule, name, outcome: 'not_applicable', detail: `no ${label}` });
      return;
    }
    const id = parseId(raw);
    const campaign = id === null ? undefined : lookups.campaign(id);
    if (!campaign) {
      candidates.push({
        rule,
        name,
        outcome: 'invalid',
        detail: `${label} ${JSON.stringify(String(raw)).slice(0, 80)} is not a known campaign`,
      });
      return;
    }
    candidates.push({
      rule,
      name,
      outcome: 'matched',
      campaignId: campaign.id,
      detail: `${label} → ${describeCampaign(campaign)}`,
    });
  };
  byId(1, 'forced', f.forcedCampaignId, 'forced campaignId');
  byId(2, 'campaign', f.campaignParam, 'campaign parameter');

  if (f.bannerParam === undefined || f.bannerParam === null || f.bannerParam === '') {
    candidates.push({ rule: 3, name: 'banner', outcome: 'not_applicable', detail: 'no banner parameter' });
  } else if (!f.banner) {
    const label = JSON.stringify(String(f.bannerParam)).slice(0, 80);
    candidates.push({ rule: 3, name: 'banner', outcome: 'invalid', detail: `banner ${label} does not exist` });
    declineReason = `unknown banner ${label}`;
  } else {
    const campaign = lookups.campaign(f.banner.campaignId);
    candidates.push({
      rule: 3,
      name: 'banner',
      outcome: 'matched',
      campaignId: f.banner.campaignId,
      detail: `banner ${f.banner.id} "${f.banner.name}" → ${campaign ? describeCampaign(campaign) : `campaign ${f.banner.campaignId}`}`,
    });
  }
  const fallback = lookups.defaultCampaign();
  candidates.push({
    rule: 4,
    name: 'default',
    outcome: 'matched',
    campaignId: fallback.id,
    detail: `default ${describeCampaign(fallback)}`,
  });
  const winner = settle(candidates) as TraceCandidate;
  const campaign = lookups.campaign(winner.campaignId as number) ?? fallback;
  const judged = judgeClick(campaign, f.affiliateParam, f.affiliate, lookups);
  declineReason ??= judged.declineReason;
  if (f.banner && winner.rule < 3 && f.banner.campaignId !== campaign.id) {
    notes.push(
      `banner ${f.banner.id} belongs to campaign ${f.banner.campaignId}, but rule ${winner.rule} chose ${campaign.id}`,
    );
  }
  return {
    matchedBy: winner.name,
    rule: winner.rule,
    campaignId: campaign.id,
    candidates,
    affiliate: judged.affiliate,
    affiliateCandidates: judged.affiliateCandidates,
    declineReason,
    notes,
  };
}

/**
 * The rules every click obeys, whichever way it arrived (affiliate link, snippet, campaign URL,
 * Click API): the affiliate comes from the affiliate parameter only (SPEC §5.1); a click into a
 * paused campaign, or with an unknown, non-approved or (private campaign) uninvited affiliate is
 * stored as declined with the reason, never dropped.
 */
export function judgeClick(
  campaign: CampaignFacts,
  affiliateParam: unknown,
  found: AffiliateFacts | undefined,
  lookups: MatchLookups,
): { affiliate: AffiliateDecision | null; affiliateCandidates: TraceCandidate[]; declineReason: string | null } {
  let declineReason: string | null = campaign.status === 'paused' ? `${describeCampaign(campaign)} is paused` : null;
  const affiliateCandidates: TraceCandidate[] = [];
  let affiliate: AffiliateDecision | null = null;
  if (affiliateParam === undefined || affiliateParam === null || affiliateParam === '') {
    affiliateCandidates.push({ rule: 1, name: 'link', outcome: 'not_applicable', detail: 'no affiliate parameter' });
  } else if (!found) {
    const label = JSON.stringify(String(affiliateParam)).slice(0, 80);
    affiliateCandidates.push({
      rule: 1,
      name: 'link',
      outcome: 'invalid',
      detail: `affiliate ${label} does not exist`,
    });
    declineReason ??= `unknown affiliate ${label}`;
  } else {
    affiliate = {
      affiliateId: found.id,
      source: 'link',
      detail: `affiliate ${found.id} (${found.refId}) from the link`,
    };
    affiliateCandidates.push({
      rule: 1,
      name: 'link',
      outcome: 'matched',
      affiliateId: found.id,
      detail: affiliate.detail,
    });
    if (found.status !== 'approved') declineReason ??= `affiliate ${found.id} is ${found.status}, not approved`;
    else if (!isInvited(campaign, found.id, lookups.invitations))
      declineReason ??= `affiliate ${found.id} is not invited to the private ${describeCampaign(campaign)}`;
  }
  return { affiliate, affiliateCandidates, declineReason };
}

/** The match of a campaign-URL or Click API click: the URL names the campaign; the rest is `judgeClick`. */
export function matchCampaignUrlClick(
  campaign: CampaignFacts,
  affiliateParam: unknown,
  found: AffiliateFacts | undefined,
  lookups: MatchLookups,
): MatchTrace {
  const judged = judgeClick(campaign, affiliateParam, found, lookups);
  return {
    matchedBy: 'campaign_url',
    rule: 0,
    campaignId: campaign.id,
    candidates: [
      {
        rule: 0,
        name: 'campaign_url',
        outcome: 'matched',
        campaignId: campaign.id,
        detail: `campaign URL → ${describeCampaign(campaign)}`,
      },
    ],
    affiliate: judged.affiliate,
    affiliateCandidates: judged.affiliateCandidates,
    declineReason: judged.declineReason,
    notes: [],
  };
}

// ---- the visitor's referral (SPEC §4.3, rule 6) ---------------------------------------------

/** Last click wins when true: affiliate setting, else campaign, else global (SPEC §2). */
export function overwriteCookieFor(
  campaign: CampaignFacts | undefined,
  affiliate: AffiliateFacts | undefined,
  global: GlobalCookieSettings,
): boolean {
  return affiliate?.overwriteCookie ?? campaign?.overwriteCookie ?? global.overwriteCookie;
}

export const cookieDaysFor = (campaign: CampaignFacts | undefined, global: GlobalCookieSettings) =>
  campaign?.cookieDays ?? global.cookieDays;

export interface ChosenReferral {
  campaignId: number;
  affiliateId: number;
  clickAt: number;
  lastClickWins: boolean;
  detail: string;
}

/**
 * The referral that counts for one campaign's row: the last click when last click wins,
 * else the first; null when outside the attribution window.
 */
export function referralInWindow(
  r: ReferralFacts,
  lookups: MatchLookups,
  global: GlobalCookieSettings,
  now: number,
): ChosenReferral | null {
  const campaign = lookups.campaign(r.campaignId);
  const lastClickWins = overwriteCookieFor(campaign, lookups.affiliate(r.lastAffiliateId), global);
  const affiliateId = lastClickWins ? r.lastAffiliateId : r.firstAffiliateId;
  const clickAt = lastClickWins ? r.lastClickAt : r.firstClickAt;
  const days = cookieDaysFor(campaign, global);
  if (now - clickAt > days * DAY_MS) return null;
  return {
    campaignId: r.campaignId,
    affiliateId,
    clickAt,
    lastClickWins,
    detail: `${lastClickWins ? 'last' : 'first'} click of affiliate ${affiliateId} in campaign ${r.campaignId} on ${new Date(clickAt).toISOString().slice(0, 10)}`,
  };
}

/**
 * Among the visitor's referrals in all campaigns, the one that counts: the most recent when
 * last click wins globally, else the earliest still within its window.
 */
export function chooseReferral(
  referrals: ReferralFacts[],
  lookups: MatchLookups,
  global: GlobalCookieSettings,
  now: number,
  preferCampaignId?: number,
): ChosenReferral | null {
  const valid = referrals
    .map((r) => referralInWindow(r, lookups, global, now))
    .filter((r): r is ChosenReferral => r !== null);
  if (!valid.length) return null;
  if (preferCampaignId !== undefined) {
    const same = valid.find((r) => r.campaignId === preferCampaignId);
    if (same) return same;
  }
  valid.sort((a, b) => (global.overwriteCookie ? b.clickAt - a.clickAt : a.clickAt - b.clickAt));
  return valid[0] ?? null;
}

// ---- sales and actions (SPEC §5.2) ----------------------------------------------------------

/**
 * A sale's subscription (SPEC §14, recurring commissions): where its first sale was attributed,
 * and whether renewals are still attributed there.
 */
export interface SubscriptionReferral {
  subscriptionId: string;
  /** The attribution of its first sale; null: no earlier sale of it was attributed to an affiliate. */
  first: { campaignId: number; affiliateId: number; at: number } | null;
  /** Why renewals are no longer attributed (past `recurringMonths`); null while they are. */
  closed: string | null;
}

export interface SaleFacts {
  /** Rule 0, ranked before every other: the subscription's first sale (SPEC §14). */
  subscription?: SubscriptionReferral | null;
  /** `couponCampaignRecognition` (default true): false = a coupon names the affiliate but not the campaign. */
  couponCampaignRecognition?: boolean;
  /** Rule 1: a lifetime binding offered by the `sale.matchCandidates` hook. */
  lifetime: { affiliateId: number; campaignId: number | null; detail: string } | null;
  couponCode: string | null;
  coupon: CouponFacts | undefined;
  bannerId: unknown;
  banner: BannerFacts | undefined;
  campaignId: unknown;
  productIds: string[];
  /** Campaigns listing any of `productIds`. */
  productCampaigns: CampaignFacts[];
  referrals: ReferralFacts[];
  /** Explicit `affiliateId`: honoured only on signed / token-authenticated requests. */
  explicitAffiliateId: unknown;
  explicitAffiliate: AffiliateFacts | undefined;
  signed: boolean;
  /**
   * The campaign whose secret key signed the request: its privileges hold only when the sale
   * lands in that campaign. Unset for a merchant token (trusted for every campaign).
   */
  signedCampaignId?: number;
  now: number;
}

const TYPE_RANK: Record<CampaignFacts['type'], number> = { private: 0, manual: 1, public: 2 };
const TYPE_LABEL: Record<CampaignFacts['type'], string> = {
  private: 'private',
  manual: 'public with manual approval',
  public: 'public',
};

/** Rule 5's choice among campaigns listing the product: private, then manual, then public; random among equals. */
export function pickProductCampaign(
  campaigns: CampaignFacts[],
  random: () => number,
): { chosen: CampaignFacts; detail: string } | null {
  if (!campaigns.length) return null;
  const best = Math.min(...campaigns.map((c) => TYPE_RANK[c.type]));
  const tied = campaigns.filter((c) => TYPE_RANK[c.type] === best).sort((a, b) => a.id - b.id);
  const index = Math.min(tied.length - 1, Math.floor(random() * tied.length));
  const chosen = tied[index] as CampaignFacts;
  const detail =
    campaigns.length === 1
      ? `the product is listed only in ${describeCampaign(chosen)}`
      : tied.length > 1
        ? `${tied.length} ${TYPE_LABEL[chosen.type]} campaigns list the product (${tied.map((c) => c.id).join(', ')}); ${describeCampaign(chosen)} chosen at random`
        : `${describeCampaign(chosen)} is the ${TYPE_LABEL[chosen.type]} campaign among ${campaigns.length} listing the product`;
  return { chosen, detail };
}

/** What the steps of `matchSale` share: the facts, the lookups, and the notes and decline reason found so far. */
interface SaleMatch {
  f: SaleFacts;
  lookups: MatchLookups;
  global: GlobalCookieSettings;
  random: () => number;
  notes: string[];
  declineReason: string | null;
  /** The campaign when it is paused, else undefined. */
  paused(id: number | null | undefined): CampaignFacts | undefined;
  /** Notes once that a paused campaign takes no part; returns the short form for a candidate's detail. */
  pausedNote(c: CampaignFacts): string;
}

function saleMatch(f: SaleFacts, lookups: MatchLookups, global: GlobalCookieSettings, random: () => number): SaleMatch {
  const notes: string[] = [];
  return {
    f,
    lookups,
    global,
    random,
    notes,
    declineReason: null,
    // A paused campaign takes no part in matching (SPEC §5.2): a rule that would pick
    // it does not apply, and the next rule decides. The affiliate it names still counts.
    paused: (id) => {
      const c = id === null || id === undefined ? undefined : lookups.campaign(id);
      return c?.status === 'paused' ? c : undefined;
    },
    pausedNote: (c) => {
      const text = `${describeCampaign(c)} is paused: it takes no part in matching`;
      if (!notes.includes(text)) notes.push(text);
      return `${describeCampaign(c)} is paused`;
    },
  };
}

/** Rule 0: the subscription's first sale (SPEC §14), ranked before every rule of §5.2. */
function subscriptionRule(m: SaleMatch): TraceCandidate {
  const { f, lookups } = m;
  const sub = f.subscription ?? null;
  if (!sub) {
    return { rule: 0, name: 'subscription', outcome: 'not_applicable', detail: 'no subscriptionId' };
  } else if (!sub.first) {
    return {
      rule: 0,
      name: 'subscription',
      outcome: 'not_applicable',
      detail: `subscription ${sub.subscriptionId} has no earlier sale attributed to an affiliate: this sale is matched as its first`,
    };
  } else if (sub.closed) {
    return {
      rule: 0,
      name: 'subscription',
      outcome: 'not_applicable',
      affiliateId: sub.first.affiliateId,
      detail: sub.closed,
    };
  } else if (!lookups.campaign(sub.first.campaignId)) {
    return {
      rule: 0,
      name: 'subscription',
      outcome: 'not_applicable',
      detail: `subscription ${sub.subscriptionId}: the campaign ${sub.first.campaignId} of its first sale no longer exists`,
    };
  } else if (m.paused(sub.first.campaignId)) {
    return {
      rule: 0,
      name: 'subscription',
      outcome: 'not_applicable',
      affiliateId: sub.first.affiliateId,
      detail: `subscription ${sub.subscriptionId} → ${m.pausedNote(m.paused(sub.first.campaignId)!)}`,
    };
  } else {
    return {
      rule: 0,
      name: 'subscription',
      outcome: 'matched',
      campaignId: sub.first.campaignId,
      affiliateId: sub.first.affiliateId,
      detail: `subscription ${sub.subscriptionId} first sold on ${new Date(sub.first.at).toISOString().slice(0, 10)} → ${describeCampaign(lookups.campaign(sub.first.campaignId)!)}, affiliate ${sub.first.affiliateId}`,
    };
  }
}

/** Rule 1: lifetime referral. */
function lifetimeRule(m: SaleMatch): TraceCandidate {
  const { f, lookups } = m;
  if (!f.lifetime) {
    return {
      rule: 1,
      name: 'lifetime',
      outcome: 'not_applicable',
      detail: 'no lifetime referral for this customer',
    };
  } else if (f.lifetime.campaignId === null || !lookups.campaign(f.lifetime.campaignId)) {
    return {
      rule: 1,
      name: 'lifetime',
      outcome: 'not_applicable',
      affiliateId: f.lifetime.affiliateId,
      detail: `${f.lifetime.detail} (campaign not recognised from it)`,
    };
  } else if (m.paused(f.lifetime.campaignId)) {
    return {
      rule: 1,
      name: 'lifetime',
      outcome: 'not_applicable',
      affiliateId: f.lifetime.affiliateId,
      detail: `${f.lifetime.detail} (${m.pausedNote(m.paused(f.lifetime.campaignId)!)})`,
    };
  } else {
    return {
      rule: 1,
      name: 'lifetime',
      outcome: 'matched',
      campaignId: f.lifetime.campaignId,
      affiliateId: f.lifetime.affiliateId,
      detail: f.lifetime.detail,
    };
  }
}

/** Rule 2: coupon code. */
function couponRule(m: SaleMatch): TraceCandidate {
  const { f, lookups } = m;
  if (!f.couponCode) {
    return { rule: 2, name: 'coupon', outcome: 'not_applicable', detail: 'no coupon' };
  } else if (!f.coupon) {
    return {
      rule: 2,
      name: 'coupon',
      outcome: 'invalid',
      detail: `coupon ${JSON.stringify(f.couponCode).slice(0, 70)} is not an affiliate coupon`,
    };
  } else if (f.coupon.campaignId === null || !lookups.campaign(f.coupon.campaignId)) {
    return {
      rule: 2,
      name: 'coupon',
      outcome: 'not_applicable',
      affiliateId: f.coupon.affiliateId,
      detail: `coupon ${f.coupon.code} names no campaign (it attributes affiliate ${f.coupon.affiliateId} only)`,
    };
  } else if (f.couponCampaignRecognition === false) {
    return {
      rule: 2,
      name: 'coupon',
      outcome: 'not_applicable',
      affiliateId: f.coupon.affiliateId,
      detail: `coupon ${f.coupon.code} does not pick the campaign: coupon recognition (couponCampaignRecognition) is off; it attributes affiliate ${f.coupon.affiliateId} only`,
    };
  } else if (m.paused(f.coupon.campaignId)) {
    return {
      rule: 2,
      name: 'coupon',
      outcome: 'not_applicable',
      affiliateId: f.coupon.affiliateId,
      detail: `coupon ${f.coupon.code} → ${m.pausedNote(m.paused(f.coupon.campaignId)!)} (it attributes affiliate ${f.coupon.affiliateId} only)`,
    };
  } else {
    const c = lookups.campaign(f.coupon.campaignId) as CampaignFacts;
    return {
      rule: 2,
      name: 'coupon',
      outcome: 'matched',
      campaignId: c.id,
      affiliateId: f.coupon.affiliateId,
      detail: `coupon ${f.coupon.code} → ${describeCampaign(c)}`,
    };
  }
}

/** Rule 3: banner id; an unknown banner declines the sale. */
function bannerRule(m: SaleMatch): TraceCandidate {
  const { f, lookups } = m;
  if (f.bannerId === undefined || f.bannerId === null || f.bannerId === '') {
    return { rule: 3, name: 'banner', outcome: 'not_applicable', detail: 'no bannerId' };
  } else if (!f.banner) {
    const label = JSON.stringify(String(f.bannerId)).slice(0, 80);
    m.declineReason = `unknown banner ${label}`;
    return { rule: 3, name: 'banner', outcome: 'invalid', detail: `banner ${label} does not exist` };
  } else if (m.paused(f.banner.campaignId)) {
    return {
      rule: 3,
      name: 'banner',
      outcome: 'not_applicable',
      detail: `banner ${f.banner.id} "${f.banner.name}" → ${m.pausedNote(m.paused(f.banner.campaignId)!)}`,
    };
  } else {
    const c = lookups.campaign(f.banner.campaignId);
    return {
      rule: 3,
      name: 'banner',
      outcome: 'matched',
      campaignId: f.banner.campaignId,
      detail: `banner ${f.banner.id} "${f.banner.name}" → ${c ? describeCampaign(c) : `campaign ${f.banner.campaignId}`}`,
    };
  }
}

/** Rule 4: campaign id; an unknown campaign declines the sale. */
function campaignRule(m: SaleMatch): TraceCandidate {
  const { f, lookups } = m;
  if (f.campaignId === undefined || f.campaignId === null || f.campaignId === '') {
    return { rule: 4, name: 'campaign', outcome: 'not_applicable', detail: 'no campaignId' };
  } else {
    const id = parseId(f.campaignId);
    const c = id === null ? undefined : lookups.campaign(id);
    if (!c) {
      const label = JSON.stringify(String(f.campaignId)).slice(0, 80);
      m.declineReason ??= `unknown campaign ${label}`;
      return {
        rule: 4,
        name: 'campaign',
        outcome: 'invalid',
        detail: `campaignId ${label} is not a known campaign`,
      };
    } else if (c.status === 'paused') {
      return {
        rule: 4,
        name: 'campaign',
        outcome: 'not_applicable',
        detail: `campaignId → ${m.pausedNote(c)}`,
      };
    } else {
      return {
        rule: 4,
        name: 'campaign',
        outcome: 'matched',
        campaignId: c.id,
        detail: `campaignId → ${describeCampaign(c)}`,
      };
    }
  }
}

/** Rule 5: product id. */
function productRule(m: SaleMatch): TraceCandidate {
  const { f, random } = m;
  if (!f.productIds.length) {
    return { rule: 5, name: 'product', outcome: 'not_applicable', detail: 'no productId' };
  } else {
    const live = f.productCampaigns.filter((c) => c.status !== 'paused');
    for (const c of f.productCampaigns) if (c.status === 'paused') m.pausedNote(c);
    const picked = pickProductCampaign(live, random);
    if (!picked) {
      return {
        rule: 5,
        name: 'product',
        outcome: 'not_applicable',
        detail: f.productCampaigns.length
          ? `every campaign listing product ${f.productIds.slice(0, 5).join(', ')} is paused`
          : `no campaign lists product ${f.productIds.slice(0, 5).join(', ')}`,
      };
    } else {
      return {
        rule: 5,
        name: 'product',
        outcome: 'matched',
        campaignId: picked.chosen.id,
        detail: picked.detail,
      };
    }
  }
}

/** Rule 6: the visitor's referral (in a campaign that is not paused). */
function cookieRule(m: SaleMatch): TraceCandidate {
  const { f, lookups, global } = m;
  const liveReferrals = f.referrals.filter((r) => !m.paused(r.campaignId));
  const referral = chooseReferral(liveReferrals, lookups, global, f.now);
  if (!referral) {
    const inPaused = f.referrals.filter((r) => m.paused(r.campaignId));
    const pausedOnly = chooseReferral(inPaused, lookups, global, f.now) !== null;
    if (pausedOnly) for (const r of inPaused) m.pausedNote(m.paused(r.campaignId)!);
    return {
      rule: 6,
      name: 'cookie',
      outcome: 'not_applicable',
      detail: pausedOnly
        ? "the visitor's referrals in the attribution window are in paused campaigns"
        : f.referrals.length
          ? "the visitor's referrals are outside the attribution window"
          : 'no referral for this visitor',
    };
  } else {
    return {
      rule: 6,
      name: 'cookie',
      outcome: 'matched',
      campaignId: referral.campaignId,
      affiliateId: referral.affiliateId,
      detail: `cookie referral: ${referral.detail}`,
    };
  }
}

/** Rule 3 of the affiliate: explicit affiliateId, honoured on signed requests for the matched campaign. */
function explicitAffiliateRule(m: SaleMatch, campaignId: number): TraceCandidate {
  const { f } = m;
  if (f.explicitAffiliateId === undefined || f.explicitAffiliateId === null || f.explicitAffiliateId === '') {
    return { rule: 3, name: 'explicit', outcome: 'not_applicable', detail: 'no affiliateId' };
  } else if (!f.signed) {
    return {
      rule: 3,
      name: 'explicit',
      outcome: 'invalid',
      detail: 'affiliateId is honoured only on signed server-to-server requests',
    };
  } else if (f.signedCampaignId !== undefined && f.signedCampaignId !== campaignId) {
    return {
      rule: 3,
      name: 'explicit',
      outcome: 'invalid',
      detail: `affiliateId is honoured only in campaign ${f.signedCampaignId}, whose key signed the request; the sale matched campaign ${campaignId}`,
    };
  } else if (!f.explicitAffiliate) {
    const label = JSON.stringify(String(f.explicitAffiliateId)).slice(0, 80);
    m.declineReason ??= `unknown affiliate ${label}`;
    return {
      rule: 3,
      name: 'explicit',
      outcome: 'invalid',
      detail: `affiliate ${label} does not exist`,
    };
  } else {
    return {
      rule: 3,
      name: 'explicit',
      outcome: 'matched',
      affiliateId: f.explicitAffiliate.id,
      detail: `affiliateId ${f.explicitAffiliate.id} sent by the store`,
    };
  }
}

/** The affiliate: subscription, lifetime binding, the coupon's affiliate, explicit affiliateId (signed), the visitor's referral. */
function affiliateCandidatesFor(m: SaleMatch, campaignId: number, subscriptionMatched: boolean): TraceCandidate[] {
  const { f, lookups, global } = m;
  const affiliateCandidates: TraceCandidate[] = [];
  const sub = f.subscription ?? null;
  if (subscriptionMatched && sub?.first) {
    affiliateCandidates.push({
      rule: 0,
      name: 'subscription',
      outcome: 'matched',
      affiliateId: sub.first.affiliateId,
      detail: `affiliate ${sub.first.affiliateId} of the first sale of subscription ${sub.subscriptionId}`,
    });
  } else {
    affiliateCandidates.push({
      rule: 0,
      name: 'subscription',
      outcome: 'not_applicable',
      detail: sub?.closed ?? 'no attributed subscription',
    });
  }
  if (f.lifetime) {
    affiliateCandidates.push({
      rule: 1,
      name: 'lifetime',
      outcome: 'matched',
      affiliateId: f.lifetime.affiliateId,
      detail: f.lifetime.detail,
    });
  } else {
    affiliateCandidates.push({ rule: 1, name: 'lifetime', outcome: 'not_applicable', detail: 'no lifetime referral' });
  }
  if (f.coupon) {
    affiliateCandidates.push({
      rule: 2,
      name: 'coupon',
      outcome: 'matched',
      affiliateId: f.coupon.affiliateId,
      detail: `coupon ${f.coupon.code} belongs to affiliate ${f.coupon.affiliateId}`,
    });
  } else {
    affiliateCandidates.push({ rule: 2, name: 'coupon', outcome: 'not_applicable', detail: 'no affiliate coupon' });
  }
  affiliateCandidates.push(explicitAffiliateRule(m, campaignId));
  // The referral of the matched campaign is preferred over one in another campaign.
  const sameCampaign = chooseReferral(f.referrals, lookups, global, f.now, campaignId);
  if (sameCampaign) {
    affiliateCandidates.push({
      rule: 4,
      name: 'cookie',
      outcome: 'matched',
      affiliateId: sameCampaign.affiliateId,
      detail: `cookie referral: ${sameCampaign.detail}`,
    });
  } else {
    affiliateCandidates.push({
      rule: 4,
      name: 'cookie',
      outcome: 'not_applicable',
      detail: 'no referral within the attribution window',
    });
  }
  return affiliateCandidates;
}

/** The affiliate decision, with a note when the affiliate cannot earn in the chosen campaign. */
function decideAffiliate(
  m: SaleMatch,
  affiliateCandidates: TraceCandidate[],
  chosen: CampaignFacts,
): AffiliateDecision | null {
  const { lookups, notes } = m;
  const affWinner = settle(affiliateCandidates);
  let affiliate: AffiliateDecision | null = null;
  if (affWinner?.affiliateId !== undefined) {
    affiliate = {
      affiliateId: affWinner.affiliateId,
      source: affWinner.name as AffiliateDecision['source'],
      detail: affWinner.detail,
    };
    const facts = lookups.affiliate(affWinner.affiliateId);
    if (!facts) notes.push(`affiliate ${affWinner.affiliateId} no longer exists: no commission`);
    else if (facts.status !== 'approved')
      notes.push(`affiliate ${facts.id} is ${facts.status}, not approved: no commission`);
    else if (!isInvited(chosen, facts.id, lookups.invitations))
      notes.push(`affiliate ${facts.id} is not invited to the private ${describeCampaign(chosen)}: no commission`);
  } else {
    notes.push('no affiliate: the sale is recorded for reports and earns no commission');
  }
  return affiliate;
}

export function matchSale(
  f: SaleFacts,
  lookups: MatchLookups,
  global: GlobalCookieSettings,
  random: () => number,
): MatchTrace {
  const m = saleMatch(f, lookups, global, random);
  const fallback = lookups.defaultCampaign();
  const candidates: TraceCandidate[] = [
    subscriptionRule(m),
    lifetimeRule(m),
    couponRule(m),
    bannerRule(m),
    campaignRule(m),
    productRule(m),
    cookieRule(m),
    // Rule 7: default campaign.
    {
      rule: 7,
      name: 'default',
      outcome: 'matched',
      campaignId: fallback.id,
      detail: `default ${describeCampaign(fallback)}`,
    },
  ];
  const subscriptionMatched = candidates[0]?.outcome === 'matched';

  const winner = settle(candidates) as TraceCandidate;
  const campaignId = winner.campaignId as number;
  const chosen = lookups.campaign(campaignId) ?? fallback;
  if (chosen.status === 'paused') m.notes.push(`${describeCampaign(chosen)} is paused: no commission`);

  const affiliateCandidates = affiliateCandidatesFor(m, campaignId, subscriptionMatched);
  const affiliate = decideAffiliate(m, affiliateCandidates, chosen);
  return {
    matchedBy: winner.name,
    rule: winner.rule,
    campaignId,
    candidates,
    affiliate,
    affiliateCandidates,
    declineReason: m.declineReason,
    notes: m.notes,
  };
}

/** The trace in a merchant's words: "matched by coupon SPRING → campaign 2 "Shoes"; …". */
export function explainTrace(t: MatchTrace): string[] {
  const winner = t.candidates.find((c) => c.outcome === 'matched');
  const lines = [`Matched by ${t.matchedBy} (rule ${t.rule}): ${winner?.detail ?? ''}`];
  for (const c of t.candidates) {
    // The default campaign always exists; it is worth a line only when it decided.
    // Rules that did not apply are left out, except the two whose reason a merchant asks about:
    // a subscription whose renewals are no longer attributed, a coupon that does not pick the campaign.
    const telling =
      (c.name === 'subscription' && c.detail !== 'no subscriptionId') ||
      (c.name === 'coupon' && c.detail.includes('couponCampaignRecognition'));
    if (
      c === winner ||
      (c.outcome === 'not_applicable' && !telling) ||
      (c.name === 'default' && c.outcome === 'outranked')
    )
      continue;
    lines.push(`Rule ${c.rule} (${c.name}): ${c.detail}`);
  }
  lines.push(t.affiliate ? `Affiliate: ${t.affiliate.detail}` : 'No affiliate');
  for (const c of t.affiliateCandidates) {
    if (c.outcome === 'outranked' || c.outcome === 'invalid') lines.push(`Affiliate ${c.name}: ${c.detail}`);
  }
  if (t.declineReason) lines.push(`Declined: ${t.declineReason}`);
  return [...lines, ...t.notes];
}
