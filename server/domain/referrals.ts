/**
 * What a stored click means for the visitor (SPEC §4.3, §12): unique or raw, and the visitor's
 * referral in the campaign after it, which keeps the first click (until the campaign's
 * attribution window has passed since it) and the last click.
 */
import { DAY_MS, type ReferralFacts } from './matching.js';

export type ClickStatus = 'unique' | 'raw' | 'declined';

/** A click is unique when the visitor has not clicked the same affiliate's link in this campaign within a day. */
export const UNIQUE_WINDOW_MS = DAY_MS;

/** One visitor's stored referral in one campaign. */
export type ClickReferral = ReferralFacts & { visitorId: string; lastBannerId: number | null; clicks: number };

/** A click that names an affiliate, as the referral sees it. */
export interface ReferredClick {
  visitorId: string;
  campaignId: number;
  affiliateId: number;
  bannerId: number | null;
  at: number;
}

/**
 * A referred click: `raw` when the visitor's last click in the campaign was the same affiliate's
 * less than a day ago, else `unique`; the first click is replaced when there was none or it is
 * older than `windowDays`, the last click always.
 */
export function referClick(
  prev: ClickReferral | undefined,
  click: ReferredClick,
  windowDays: number,
): { status: 'unique' | 'raw'; referral: ClickReferral } {
  const repeat = prev && prev.lastAffiliateId === click.affiliateId && click.at - prev.lastClickAt < UNIQUE_WINDOW_MS;
  const firstExpired = !prev || click.at - prev.firstClickAt > windowDays * DAY_MS;
  return {
    status: repeat ? 'raw' : 'unique',
    referral: {
      visitorId: click.visitorId,
      campaignId: click.campaignId,
      firstAffiliateId: firstExpired ? click.affiliateId : prev.firstAffiliateId,
      firstClickAt: firstExpired ? click.at : prev.firstClickAt,
      lastAffiliateId: click.affiliateId,
      lastClickAt: click.at,
      lastBannerId: click.bannerId,
      clicks: (prev?.clicks ?? 0) + 1,
    },
  };
}

/** A click without an affiliate has no referral: it is unique only for a visitor without history. */
export const unreferredClickStatus = (newVisitor: boolean): 'unique' | 'raw' => (newVisitor ? 'unique' : 'raw');

/** Campaign-URL clicks decide unique / raw by the campaign's uniqueness rule; a declined click stays declined. */
export const withStatusOverride = (status: ClickStatus, override: 'unique' | 'raw' | undefined): ClickStatus =>
  override && status !== 'declined' ? override : status;

/** A PPC payout pays unique clicks, and raw ones too when it says `rawClicks`; never declined ones. */
export const paysClick = (status: ClickStatus, rawClicks: boolean | undefined): boolean =>
  status === 'unique' || (status === 'raw' && !!rawClicks);
