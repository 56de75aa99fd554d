import type { Knex } from 'knex';
import { rateText } from '../domain/payouts.js';
import type { Services } from '../container.js';
import type { Actor } from './actor.js';
import type { AuthUser } from './auth.js';
import type { ConfigSnapshot } from './config-cache.js';
import type { Settings } from '../domain/settings.js';
import type { PayoutDef } from '../domain/payouts.js';
import { dayIn } from '../domain/time.js';
import { isInvited } from '../domain/invitations.js';
import { ZERO, formatMoney } from '../domain/money.js';
import { AppError, fieldError, forbidden } from '../errors.js';
import type { Affiliate } from '../store/affiliates.js';
import type { Campaign } from '../store/campaigns.js';
import { listBanners, type Banner } from '../store/banners.js';
import { listCoupons, type Coupon } from '../store/coupons.js';
import { commissionTotals, listCommissions, type CommissionStatus } from '../store/commissions.js';
import { affiliateStatsTotals } from '../store/daily-stats.js';
import { findUserByEmail } from '../store/users.js';
import { affiliateEmailTaken, orderIdsOfSales } from '../store/portal.js';
import type { Page } from '../store/rows.js';
import type { PageQuery } from '../validation.js';
import { KEY_LENGTH, clip } from '../domain/limits.js';
import type { ProfileInput } from '../schemas/affiliate-profile.js';

/*
 * The affiliate portal's use cases (SPEC §9): sign-up, and every read of an affiliate's own
 * data. Every query here takes the affiliate id of the signed-in account and filters by it;
 * `own()` refuses anything that is not a real id, so a missing filter can never widen a query
 * to everybody's rows (the store's filters skip a falsy id).
 */

export type SignupMode = Settings['affiliateSignup'];

export interface SignupInput {
  name: string;
  email: string;
  password: string;
  /** The referring affiliate's refId (or numeric id), from the form or the sign-up link. */
  referrer?: string | undefined;
  /** Ticked "I accept the terms"; required when the settings carry a terms text. */
  acceptTerms?: boolean | undefined;
}

export type ProfilePatch = ProfileInput & {
  name?: string | undefined;
  postbackUrl?: string | null | undefined;
  acceptTerms?: true | undefined;
};

export interface CommissionListFilters {
  status?: CommissionStatus | undefined;
  /** Milliseconds, inclusive. */
  from?: number | undefined;
  /** Milliseconds, exclusive. */
  to?: number | undefined;
}

/** The macros an affiliate's postback URL may contain (filled by the outbox worker, SPEC §7.6). */
export const POSTBACK_MACROS = [
  'commission_id',
  'sale_id',
  'order_id',
  'amount',
  'commission',
  'currency',
  'status',
  'campaign_id',
  'affiliate_id',
  'channel',
  'kind',
] as const;

const DAY = 86_400_000;

const own = (affiliateId: number | null | undefined): number => {
  if (typeof affiliateId !== 'number' || !Number.isSafeInteger(affiliateId) || affiliateId < 1) {
    throw forbidden('This needs an affiliate account');
  }
  return affiliateId;
};

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeAttr = (s: string) => s.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

/** A payout as an affiliate may see it: no merchant commission, no list of other affiliates. */
export interface PayoutView {
  id: number;
  campaignId: number;
  campaignName: string;
  title: string;
  type: string;
  rate: string;
  goal: string;
  couponCode: string | null;
}

export interface CampaignLinks {
  id: number;
  name: string;
  type: Campaign['type'];
  isDefault: boolean;
  redirectLink: string;
  directLink: string | null;
  banners: Array<{
    id: number;
    name: string;
    type: Banner['type'];
    link: string;
    imageUrl: string | null;
    code: string;
  }>;
}

export class PortalService {
  constructor(
    private readonly db: Knex,
    private readonly s: Pick<Services, 'cache' | 'settings' | 'affiliates' | 'auth' | 'clock' | 'accounts'>,
  ) {}

  // ---- Accounts -----------------------------------------------------------------------------

  /**
   * Creates the affiliate and its login per the `affiliateSignup` setting: `open` approves at
   * once, `approval` leaves it pending, `closed` refuses (403). A referrer naming an approved
   * affiliate becomes the parent; any other referrer is ignored (links get shared and go stale).
   */
  async signUp(
    input: SignupInput,
    mode: SignupMode,
  ): Promise<{ affiliate: Affiliate; user: AuthUser; verificationSent: boolean }> {
    if (mode === 'closed') throw forbidden('Sign-up is closed: the merchant adds affiliates personally');
    const email = input.email.trim();
    if (this.s.settings.get().termsText && !input.acceptTerms)
      throw fieldError('acceptTerms', 'you must accept the programme’s terms to sign up');
    if (await this.emailTaken(email)) throw fieldError('email', 'an account with this email already exists');
    const parent = input.referrer ? await this.approvedByRef(input.referrer) : undefined;
    const actor: Actor = {
      userId: null,
      label: clip(`sign-up ${email.toLowerCase()}`, KEY_LENGTH),
      role: 'system',
      affiliateId: null,
    };
    const status = mode === 'open' ? 'approved' : 'pending';
    let verificationSent = false;
    const affiliate = await this.s.affiliates.create(
      {
        name: input.name,
        email,
        password: input.password,
        ...(parent ? { parentId: parent.id } : {}),
        ...(input.acceptTerms && this.s.settings.get().termsText ? { acceptTerms: true } : {}),
      },
      actor,
      status,
      // The verification link and the sign-up mails are written with the account.
      async (trx, id) => {
        ({ verificationSent } = await this.s.accounts.onSignup(trx, id, status));
      },
    );
    const row = await findUserByEmail(this.db, email);
    const user = row ? await this.s.auth.userById(row.id) : null;
    if (!user) throw new AppError('conflict', 'The account was created but could not be signed in; sign in instead');
    return { affiliate, user, verificationSent };
  }

  /** The signed-in account's affiliate (null when the record is gone). */
  async affiliateOf(affiliateId: number | null): Promise<Affiliate | null> {
    try {
      return await this.s.affiliates.get(own(affiliateId));
    } catch (err) {
      if (err instanceof AppError && err.status === 404) return null;
      throw err;
    }
  }

  async updateProfile(affiliateId: number | null, patch: ProfilePatch, actor: Actor): Promise<Affiliate> {
    if (patch.acceptTerms && !this.s.settings.get().termsText)
      throw fieldError('acceptTerms', 'there are no terms to accept');
    return this.s.affiliates.update(own(affiliateId), patch, actor);
  }

  /** Checks the current password (throttled like a sign-in) before setting the new one. */
  async changePassword(user: AuthUser, current: string, next: string, ip: string): Promise<void> {
    own(user.affiliateId);
    try {
      await this.s.auth.login(user.email, current, ip);
    } catch (err) {
      if (err instanceof AppError && err.status === 401)
        throw fieldError('currentPassword', 'is not your current password');
      throw err;
    }
    await this.s.auth.changePassword(user.userId, next);
  }

  private async emailTaken(email: string): Promise<boolean> {
    if (await findUserByEmail(this.db, email)) return true;
    return affiliateEmailTaken(this.db, email);
  }

  private async approvedByRef(ref: string): Promise<Affiliate | undefined> {
    const snap = await this.s.cache.snapshot();
    const text = ref.trim();
    let found = snap.affiliateByRef(text);
    if (!found) {
      const key = text.toLowerCase();
      for (const a of snap.affiliates.values()) if (a.refId.toLowerCase() === key) found = a;
    }
    return found && found.status === 'approved' && !found.archived ? found : undefined;
  }

  // ---- Dashboard ----------------------------------------------------------------------------

  /** Today / 7 / 30 days from the daily rollups, and commission totals per status. */
  async dashboard(affiliateId: number) {
    const id = own(affiliateId);
    const settings = this.s.settings.get();
    const now = this.s.clock();
    const today = dayIn(now, settings.timezone);
    const since = (days: number) => dayIn(now - (days - 1) * DAY, settings.timezone);
    const currency = settings.baseCurrency;
    const periods = await Promise.all(
      (
        [
          ['Today', today],
          ['Last 7 days', since(7)],
          ['Last 30 days', since(30)],
        ] as const
      ).map(async ([label, from]) => {
        const t = await affiliateStatsTotals(this.db, id, from, today);
        return {
          label,
          clicks: t.clicks,
          uniqueClicks: t.uniqueClicks,
          sales: t.sales,
          actions: t.actions,
          commissions: formatMoney(t.commissions, currency),
        };
      }),
    );
    const totals = await commissionTotals(this.db, { affiliateId: id });
    const byStatus = (['pending', 'approved', 'paid'] as const).map((status) => ({
      status,
      count: totals[status]?.count ?? 0,
      amount: formatMoney(totals[status]?.amount ?? ZERO, currency),
    }));
    return { periods, byStatus, currency };
  }

  // ---- Links, banners and rates -------------------------------------------------------------

  /**
   * The campaigns an affiliate may promote: active and not archived; public and manual ones,
   * and private ones it is invited to (the rule matching enforces, domain/invitations.ts).
   */
  async campaignsFor(
    affiliateId: number,
  ): Promise<{ snap: ConfigSnapshot; campaigns: Campaign[]; personal: PayoutDef[]; coupons: Coupon[] }> {
    const id = own(affiliateId);
    const snap = await this.s.cache.snapshot();
    const personal: PayoutDef[] = [];
    for (const list of snap.payouts.values())
      for (const p of list) if (p.kind === 'personal' && p.affiliateIds.includes(id)) personal.push(p);
    const coupons = await this.ownCoupons(id);
    const campaigns = [...snap.campaigns.values()]
      .filter((c) => !c.archived && c.status === 'active' && isInvited(c, id, snap.invitations))
      .sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
    return { snap, campaigns, personal, coupons };
  }

  /** Redirect and store links per campaign, and each banner's link and code. */
  async links(affiliate: Affiliate, trackerOrigin: string): Promise<CampaignLinks[]> {
    const { snap, campaigns } = await this.campaignsFor(affiliate.id);
    const params = snap.settings.urlParams;
    const origin = trackerOrigin.replace(/\/+$/, '');
    const query = (pairs: Array<[string, string | number | undefined]>) => {
      const q = new URLSearchParams();
      for (const [k, v] of pairs) if (v !== undefined) q.set(k, String(v));
      return q.toString();
    };
    const redirect = (extra: Array<[string, string | number | undefined]>) =>
      `${origin}/r?${query([[params.affiliate, affiliate.refId], ...extra])}`;
    const direct = (campaign: Campaign): string | null => {
      if (!snap.settings.siteUrl) return null;
      try {
        const u = new URL(snap.settings.siteUrl);
        u.searchParams.set(params.affiliate, affiliate.refId);
        if (!campaign.isDefault) u.searchParams.set(params.campaign, String(campaign.id));
        return u.toString();
      } catch {
        return null;
      }
    };
    const banners = await this.activeBanners(new Set(campaigns.map((c) => c.id)));
    return campaigns.map((c) => ({
      id: c.id,
      name: c.name,
      type: c.type,
      isDefault: c.isDefault,
      redirectLink: redirect(c.isDefault ? [] : [[params.campaign, c.id]]),
      directLink: direct(c),
      banners: banners
        .filter((b) => b.campaignId === c.id)
        .map((b) => {
          const link = redirect([[params.banner, b.id]]);
          const pixel = `${origin}/t/impression?${query([
            [params.affiliate, affiliate.refId],
            [params.banner, b.id],
          ])}`;
          return {
            id: b.id,
            name: b.name,
            type: b.type,
            link,
            imageUrl: b.type === 'image' ? imageUrl(b.content) : null,
            code: bannerCode(b, link, pixel),
          };
        }),
    }));
  }

  /** The affiliate's coupons, its personal payouts, and the general ("standard") rates it earns. */
  async rates(affiliateId: number) {
    const { snap, campaigns, personal, coupons } = await this.campaignsFor(affiliateId);
    const currency = snap.settings.baseCurrency;
    const campaignName = (id: number | null) => (id === null ? null : (snap.campaigns.get(id)?.name ?? `#${id}`));
    const view = (p: PayoutDef): PayoutView => ({
      id: p.id,
      campaignId: p.campaignId,
      campaignName: campaignName(p.campaignId) ?? '',
      title: p.title,
      type: p.type === 'CPA' && p.actionCode ? `CPA (${p.actionCode})` : p.type,
      rate: rateText(p.affiliateCommission, currency) + (p.type === 'CPM' ? ' per 1,000 impressions' : ''),
      goal: goalText(p),
      couponCode: p.couponCode,
    });
    const live = (campaignId: number) => {
      const c = snap.campaigns.get(campaignId);
      return c !== undefined && !c.archived;
    };
    return {
      coupons: coupons.map((c) => {
        const payout = c.payoutId === null ? undefined : snap.payoutById(c.payoutId);
        return {
          code: c.code,
          campaignName: campaignName(c.campaignId),
          payoutTitle: payout?.title ?? null,
          rate: payout ? rateText(payout.affiliateCommission, currency) : null,
        };
      }),
      personal: personal.filter((p) => live(p.campaignId)).map(view),
      standard: campaigns.flatMap((c) =>
        snap
          .payoutsOf(c.id)
          .filter((p) => p.kind === 'general')
          .map(view),
      ),
    };
  }

  private async ownCoupons(affiliateId: number): Promise<Coupon[]> {
    const out: Coupon[] = [];
    for (let page = 1; page <= 20; page++) {
      const result = await listCoupons(
        this.db,
        { affiliateId: own(affiliateId), archived: false },
        { page, perPage: 200 },
      );
      out.push(...result.data);
      if (page >= result.pagination.totalPages) break;
    }
    return out.sort((a, b) => a.code.localeCompare(b.code));
  }

  private async activeBanners(campaignIds: Set<number>): Promise<Banner[]> {
    if (!campaignIds.size) return [];
    const out: Banner[] = [];
    for (let page = 1; page <= 50; page++) {
      const result = await listBanners(this.db, { archived: false }, { page, perPage: 200 });
      out.push(...result.data.filter((b) => campaignIds.has(b.campaignId)));
      if (page >= result.pagination.totalPages) break;
    }
    return out.sort((a, b) => a.id - b.id);
  }

  // ---- Commissions --------------------------------------------------------------------------

  /** A page of the affiliate's own commissions with the order id and campaign of each. */
  async commissions(affiliateId: number, filters: CommissionListFilters, page: PageQuery) {
    const id = own(affiliateId);
    const f = { affiliateId: id, status: filters.status, from: filters.from, to: filters.to };
    const [result, totals, snap] = await Promise.all([
      listCommissions(this.db, f, page),
      commissionTotals(this.db, { ...f, status: undefined }),
      this.s.cache.snapshot(),
    ]);
    const saleIds = [...new Set(result.data.flatMap((c) => (c.saleId === null ? [] : [c.saleId])))];
    const orders = saleIds.length ? await orderIdsOfSales(this.db, saleIds) : new Map<number, string | null>();
    const currency = snap.settings.baseCurrency;
    const rows: Page<{
      id: number;
      createdAt: string | null;
      kind: string;
      tier: number;
      status: CommissionStatus;
      amount: string;
      campaignName: string;
      orderId: string | null;
    }> = {
      pagination: result.pagination,
      data: result.data.map((c) => ({
        id: c.id,
        createdAt: c.createdAt,
        kind: c.kind,
        tier: c.tier,
        status: c.status,
        amount: formatMoney(c.amount, c.currency),
        campaignName: snap.campaigns.get(c.campaignId)?.name ?? `#${c.campaignId}`,
        orderId: c.saleId === null ? null : (orders.get(c.saleId) ?? null),
      })),
    };
    const totalsView = (['pending', 'approved', 'paid', 'declined', 'reversed'] as const)
      .filter((st) => totals[st])
      .map((st) => ({
        status: st,
        count: totals[st]?.count ?? 0,
        amount: formatMoney(totals[st]?.amount ?? ZERO, currency),
      }));
    return { ...rows, totals: totalsView };
  }
}

function goalText(p: PayoutDef): string {
  if (!p.goal) return 'every sale';
  const parts: string[] = [];
  if (p.goal.productIds?.length) parts.push(`products ${p.goal.productIds.join(', ')}`);
  if (p.goal.categories?.length) parts.push(`categories ${p.goal.categories.join(', ')}`);
  if (p.goal.countries?.length) parts.push(`visitors from ${p.goal.countries.join(', ')}`);
  return parts.join('; ') || 'every sale';
}

const imageUrl = (content: string | null): string | null => {
  const url = content?.trim() ?? '';
  return /^https?:\/\//i.test(url) && URL.canParse(url) ? url : null;
};

/**
 * The HTML an affiliate pastes into its page: the banner's link around its text, image or
 * HTML (an HTML banner may place the link itself with `{link}`), plus the impression pixel
 * for image and HTML banners.
 */
function bannerCode(b: Banner, link: string, pixel: string): string {
  const href = escapeAttr(link);
  const img = `<img src="${escapeAttr(pixel)}" width="1" height="1" alt="" style="border:0">`;
  if (b.type === 'image') {
    const src = imageUrl(b.content);
    return src
      ? `<a href="${href}"><img src="${escapeAttr(src)}" alt="${escapeAttr(b.name)}"></a>${img}`
      : `<a href="${href}">${escapeAttr(b.name)}</a>`;
  }
  if (b.type === 'html') {
    const html = b.content ?? '';
    return (
      (html.includes('{link}')
        ? html.split('{link}').join(href)
        : `<a href="${href}">${html || escapeAttr(b.name)}</a>`) + img
    );
  }
  return `<a href="${href}">${escapeAttr(b.content?.trim() || b.name)}</a>`;
}

const services = new WeakMap<object, PortalService>();

/** The portal service of an app's wired services (made once per app). */
export function portalService(s: Services): PortalService {
  let service = services.get(s);
  if (!service) {
    service = new PortalService(s.db, s);
    services.set(s, service);
  }
  return service;
}
