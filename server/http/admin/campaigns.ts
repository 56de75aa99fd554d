import type Router from '@koa/router';
import { rateText } from '../../domain/payouts.js';
import { decimalText, type Units } from '../../domain/money.js';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render, flash, handleForm, form } from './render.js';
import { confirmFirst } from './confirm.js';
import {
  allAffiliates,
  attachListErrors,
  conflictMessage,
  bodyOf,
  idParam,
  lines,
  pageLinks,
  pageOf,
  queryEnum,
  queryText,
  summarise,
  valueAt,
  valuesAt,
} from './form-values.js';
import * as s from '../../schemas/programme.js';
import { TRAFFIC_FIELDS, trafficFormData, trafficInput, trafficValues, trafficValuesFromBody } from './traffic-form.js';
import { parse } from '../../validation.js';
import { AppError } from '../../errors.js';
import type { Actor } from '../../services/actor.js';
import { campaignFor } from '../../services/secrets.js';
import { requireRole } from '../middleware.js';
import type { Campaign } from '../../store/campaigns.js';
import type { Affiliate } from '../../store/affiliates.js';
import type { Banner } from '../../store/banners.js';
import type { PayoutRecord } from '../../store/payouts.js';

type Body = Record<string, unknown>;
type Errors = Record<string, string>;

export const CAMPAIGN_TYPE_LABELS: Record<Campaign['type'], string> = {
  public: 'Public',
  manual: 'Public, manual approval',
  private: 'Private',
};

const TABS = [
  { key: 'settings', label: 'Settings', suffix: '' },
  { key: 'flows', label: 'Flows', suffix: '/flows' },
  { key: 'payouts', label: 'Payout rules', suffix: '/payouts' },
  { key: 'banners', label: 'Banners', suffix: '/banners' },
  { key: 'coupons', label: 'Coupons', suffix: '/coupons' },
  { key: 'test', label: 'Test', suffix: '/test' },
] as const;
export type Tab = (typeof TABS)[number]['key'];

const CAMPAIGN_FIELDS = [
  'name',
  'type',
  'status',
  'isDefault',
  'productIds',
  'cookieDays',
  'overwriteCookie',
  'approval',
  'destinationUrl',
  'archived',
  ...TRAFFIC_FIELDS,
];
const PAYOUT_FIELDS = [
  'kind',
  'title',
  'type',
  'actionCode',
  'rawClicks',
  'affiliateCommission',
  'affiliateCommission.value',
  'affiliateCommission.unit',
  'merchantCommission',
  'merchantCommission.value',
  'merchantCommission.unit',
  'goal.productIds',
  'goal.categories',
  'goal.countries',
  'couponCode',
  'tiers',
  'affiliateIds',
  'commissionGroupIds',
  'recurringMonths',
];
const BANNER_FIELDS = ['name', 'type', 'destinationUrl', 'content'];
const COUPON_FIELDS = ['code', 'affiliateId', 'payoutId'];

const actor = (ctx: AppContext) => ctx.state.user as Actor;
const text = (body: Body, path: string) => form.text(valueAt(body, path));

// ---- campaign settings --------------------------------------------------------------------

function campaignValues(c: Campaign) {
  return {
    name: c.name,
    type: c.type,
    status: c.status,
    isDefault: c.isDefault ? 'on' : '',
    productIds: c.productIds.join('\n'),
    cookieDays: c.cookieDays === null ? '' : String(c.cookieDays),
    overwriteCookie: c.overwriteCookie === null ? '' : String(c.overwriteCookie),
    approval: c.approval ?? '',
    destinationUrl: c.destinationUrl ?? '',
    archived: c.archived ? 'on' : '',
    ...trafficValues(c),
  };
}

function campaignValuesFromBody(body: Body) {
  return {
    name: valueAt(body, 'name'),
    type: valueAt(body, 'type'),
    status: valueAt(body, 'status'),
    isDefault: valueAt(body, 'isDefault'),
    productIds: valueAt(body, 'productIds'),
    cookieDays: valueAt(body, 'cookieDays'),
    overwriteCookie: valueAt(body, 'overwriteCookie'),
    approval: valueAt(body, 'approval'),
    destinationUrl: valueAt(body, 'destinationUrl'),
    archived: valueAt(body, 'archived'),
    ...trafficValuesFromBody(body),
  };
}

/** The campaign form as the JSON body the API takes (same schema, same service). */
function campaignInput(body: Body) {
  return {
    name: text(body, 'name') ?? '',
    type: text(body, 'type') || undefined,
    status: text(body, 'status') || undefined,
    isDefault: form.checkbox(valueAt(body, 'isDefault')),
    productIds: lines(valueAt(body, 'productIds')),
    cookieDays: form.number(valueAt(body, 'cookieDays')),
    overwriteCookie: form.triState(valueAt(body, 'overwriteCookie')),
    approval: form.nullable(valueAt(body, 'approval')),
    destinationUrl: text(body, 'destinationUrl') ?? null,
    archived: form.checkbox(valueAt(body, 'archived')),
    ...trafficInput(body),
  };
}

/** What "inherit" means today, for the help text beside each overridable field. */
function globals(ctx: AppContext) {
  const g = ctx.services.settings.get();
  return {
    cookieDays: g.cookieDays,
    overwriteCookie: g.overwriteCookie ? 'last click wins' : 'first click wins',
    approval: g.defaultApproval,
    baseCurrency: g.baseCurrency,
  };
}

const options = {
  campaignTypes: s.CAMPAIGN_TYPES.map((value) => ({ value, label: CAMPAIGN_TYPE_LABELS[value] })),
  campaignStatuses: [...s.CAMPAIGN_STATUSES],
  bannerTypes: [
    { value: 'link', label: 'Text link' },
    { value: 'image', label: 'Image' },
    { value: 'html', label: 'HTML' },
  ],
  payoutKinds: [
    { value: 'general', label: 'General (every affiliate)' },
    { value: 'personal', label: 'Personal (only the affiliates chosen below)' },
  ],
  payoutTypes: [
    { value: 'CPS', label: 'CPS — per sale' },
    { value: 'CPA', label: 'CPA — per action' },
    { value: 'PPC', label: 'PPC — per click' },
    { value: 'CPM', label: 'CPM — per 1,000 impressions' },
    { value: 'LIFETIME', label: 'LIFETIME — per sale, customer bound for life' },
    { value: 'RECURRING', label: 'RECURRING — per subscription payment, renewals included' },
  ],
  units: [
    { value: 'percent', label: '% of the sale' },
    { value: 'fixed', label: 'fixed amount' },
  ],
};

function tabs(campaign: Campaign, active: Tab) {
  return TABS.map((t) => ({
    label: t.label,
    url: `/admin/campaigns/${campaign.id}${t.suffix}`,
    active: t.key === active,
  }));
}

export function campaignPage(
  ctx: AppContext,
  views: Views,
  campaign: Campaign,
  tab: Tab,
  page: string,
  data: Record<string, unknown>,
) {
  render(ctx, views, page, {
    title: `${campaign.name} · ${TABS.find((t) => t.key === tab)?.label ?? ''}`,
    nav: 'campaigns',
    campaign,
    typeLabel: CAMPAIGN_TYPE_LABELS[campaign.type],
    tabs: tabs(campaign, tab),
    options,
    globals: globals(ctx),
    ...data,
  });
}

// ---- payouts --------------------------------------------------------------------------------

const tierText = (t: { value: Units; unit: 'fixed' | 'percent' }) =>
  t.unit === 'percent' ? `${decimalText(t.value)}%` : decimalText(t.value);

function payoutValues(p: PayoutRecord) {
  return {
    kind: p.kind,
    title: p.title,
    type: p.type,
    actionCode: p.actionCode ?? '',
    rawClicks: p.rawClicks ? 'on' : '',
    affiliateCommission: { value: decimalText(p.affiliateCommission.value), unit: p.affiliateCommission.unit },
    merchantCommission: { value: decimalText(p.merchantCommission.value), unit: p.merchantCommission.unit },
    goal: {
      productIds: p.goal?.productIds.join('\n') ?? '',
      categories: p.goal?.categories.join('\n') ?? '',
      countries: p.goal?.countries?.join(' ') ?? '',
    },
    couponCode: p.couponCode ?? '',
    tiers: p.tiers.map(tierText).join('\n'),
    affiliateIds: p.affiliateIds.map(String),
    commissionGroupIds: p.commissionGroupIds.map(String),
    recurringMonths: p.recurringMonths === null ? '' : String(p.recurringMonths),
  };
}

const newPayoutValues = () => ({
  kind: 'general',
  type: 'CPS',
  affiliateCommission: { value: '', unit: 'percent' },
  merchantCommission: { value: '0', unit: 'fixed' },
  affiliateIds: [] as string[],
  commissionGroupIds: [] as string[],
});

function payoutValuesFromBody(body: Body) {
  return {
    kind: valueAt(body, 'kind'),
    title: valueAt(body, 'title'),
    type: valueAt(body, 'type'),
    actionCode: valueAt(body, 'actionCode'),
    rawClicks: valueAt(body, 'rawClicks'),
    affiliateCommission: {
      value: valueAt(body, 'affiliateCommission.value'),
      unit: valueAt(body, 'affiliateCommission.unit'),
    },
    merchantCommission: {
      value: valueAt(body, 'merchantCommission.value'),
      unit: valueAt(body, 'merchantCommission.unit'),
    },
    goal: {
      productIds: valueAt(body, 'goal.productIds'),
      categories: valueAt(body, 'goal.categories'),
      countries: valueAt(body, 'goal.countries'),
    },
    couponCode: valueAt(body, 'couponCode'),
    tiers: valueAt(body, 'tiers'),
    affiliateIds: valuesAt(body, 'affiliateIds'),
    commissionGroupIds: valuesAt(body, 'commissionGroupIds'),
    recurringMonths: valueAt(body, 'recurringMonths'),
  };
}

/** "5%" is a percentage, "2.50" a fixed amount; the schema checks the number. */
function parseTier(line: string): { value: string; unit: 'fixed' | 'percent' } {
  const m = /^(.*?)\s*%$/.exec(line);
  return m ? { value: m[1] ?? '', unit: 'percent' } : { value: line, unit: 'fixed' };
}

/** Every goal box left empty means "every product": no goal (the API refuses an empty one). */
const goalInput = (productIds: string[], categories: string[], countries: string[]) =>
  productIds.length || categories.length || countries.length ? { productIds, categories, countries } : null;

/** Country codes separated by spaces, commas or lines: "DE AT, CH". */
const countryList = (v: unknown) =>
  (typeof v === 'string' ? v : Array.isArray(v) ? v.join(' ') : '')
    .split(/[\s,;]+/)
    .map((c) => c.trim())
    .filter(Boolean);

function payoutInput(body: Body) {
  const rate = (prefix: string, emptyValue: string) => ({
    value: text(body, `${prefix}.value`) || emptyValue,
    unit: text(body, `${prefix}.unit`) || undefined,
  });
  return {
    kind: text(body, 'kind') || undefined,
    title: text(body, 'title') ?? '',
    type: text(body, 'type') || undefined,
    actionCode: form.nullable(valueAt(body, 'actionCode')),
    rawClicks: form.checkbox(valueAt(body, 'rawClicks')),
    affiliateCommission: rate('affiliateCommission', ''),
    // No merchant cut typed means none.
    merchantCommission: rate('merchantCommission', '0'),
    goal: goalInput(
      lines(valueAt(body, 'goal.productIds')),
      lines(valueAt(body, 'goal.categories')),
      countryList(valueAt(body, 'goal.countries')),
    ),
    couponCode: form.nullable(valueAt(body, 'couponCode')),
    tiers: lines(valueAt(body, 'tiers')).map(parseTier),
    affiliateIds: valuesAt(body, 'affiliateIds'),
    commissionGroupIds: valuesAt(body, 'commissionGroupIds').map((v) => (/^\d+$/.test(v) ? Number(v) : v)),
    // Empty = renewals pay while the subscription lasts.
    recurringMonths: text(body, 'recurringMonths') ? form.number(valueAt(body, 'recurringMonths')) : null,
  };
}

function payoutRow(p: PayoutRecord, byId: Map<number, Affiliate>, currency: string) {
  const goal = p.goal
    ? [
        ...p.goal.productIds.map((x) => `product ${x}`),
        ...p.goal.categories.map((x) => `category ${x}`),
        ...(p.goal.countries?.length ? [`visitors from ${p.goal.countries.join(', ')}`] : []),
      ].join(', ')
    : '';
  return {
    ...p,
    affiliateRate: rateText(p.affiliateCommission, currency),
    merchantRate: rateText(p.merchantCommission, currency),
    goalText: goal,
    tiersText: p.tiers.map((t) => rateText(t, currency)).join(' · '),
    affiliateNames: p.affiliateIds.map((id) => byId.get(id)?.name ?? `#${id}`).join(', '),
  };
}

/** Approved affiliates to choose from, plus any already chosen (so saving never drops them silently). */
/** Commission groups a personal payout may name (SPEC §14). */
async function groupChoices(ctx: AppContext) {
  return (await ctx.services.commissionGroups.all()).map((g) => ({
    id: g.id,
    label: `${g.name} (${g.affiliateIds.length} affiliates)`,
  }));
}

function affiliateChoices(all: Affiliate[], chosen: string[]) {
  return all
    .filter((a) => (a.status === 'approved' && !a.archived) || chosen.includes(String(a.id)))
    .map((a) => ({ id: a.id, label: `${a.name} (${a.refId})${a.status !== 'approved' ? ` — ${a.status}` : ''}` }));
}

// ---- banners and coupons --------------------------------------------------------------------

function bannerValues(b: Banner) {
  return { name: b.name, type: b.type, destinationUrl: b.destinationUrl ?? '', content: b.content ?? '' };
}

function bannerValuesFromBody(body: Body) {
  return {
    name: valueAt(body, 'name'),
    type: valueAt(body, 'type'),
    destinationUrl: valueAt(body, 'destinationUrl'),
    content: valueAt(body, 'content'),
  };
}

function bannerInput(body: Body, campaignId: number) {
  return {
    campaignId,
    name: text(body, 'name') ?? '',
    type: text(body, 'type') || undefined,
    destinationUrl: text(body, 'destinationUrl') ?? null,
    content: text(body, 'content') ?? null,
  };
}

/** A coupon made by a payout's `couponCode` is kept in step by that payout; it is edited there. */
function managedByPayout(coupon: { code: string }, payout: PayoutRecord | undefined): boolean {
  return Boolean(payout?.couponCode && payout.couponCode.toLowerCase() === coupon.code.toLowerCase());
}

/** The tracking link of a banner, with the configured parameter names and a placeholder affiliate. */
function bannerLink(ctx: AppContext, banner: Banner): string {
  const p = ctx.services.settings.get().urlParams;
  const origin = ctx.services.config.publicUrl ?? `${ctx.protocol}://${ctx.host}`;
  return `${origin}/r?${p.affiliate}=AFFILIATE_ID&${p.banner}=${banner.id}`;
}

/** The campaign in the path and its payout `:payoutId`. */
const loadPayout = async (ctx: AppContext & { params: Record<string, string> }) => {
  const campaign = await ctx.services.campaigns.get(idParam(ctx));
  const payout = await ctx.services.payouts.get(idParam(ctx, 'payoutId'), campaign.id);
  return { campaign, payout };
};

/** A banner of the campaign in the path (404 when it belongs to another). */
const loadBanner = async (ctx: AppContext & { params: Record<string, string> }) => {
  const campaign = await ctx.services.campaigns.get(idParam(ctx));
  const banner = await ctx.services.banners.get(idParam(ctx, 'bannerId'));
  if (banner.campaignId !== campaign.id)
    throw new AppError('not_found', `banner ${banner.id} not found in this campaign`);
  return { campaign, banner };
};

/** A campaign's pages, tab by tab: settings, payouts, banners, coupons (flows: traffic.ts). */
export function campaignPages(router: Router<AppState, AppCustom>, views: Views): void {
  registerCampaignList(router, views);
  registerCampaignCreate(router, views);
  registerCampaignSettings(router, views);
  registerCampaignSecretKey(router, views);
  registerCampaignDelete(router, views);
  registerPayoutList(router, views);
  registerPayoutEdit(router, views);
  registerPayoutDelete(router, views);
  registerBannerList(router, views);
  registerBannerEdit(router, views);
  registerBannerDelete(router, views);
  registerCouponList(router, views);
  registerCouponDelete(router, views);
}

/** The campaign list with its filters. */
function registerCampaignList(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/campaigns', async (ctx) => {
    const filters = {
      status: queryEnum(s.CAMPAIGN_STATUSES, ctx.query.status),
      type: queryEnum(s.CAMPAIGN_TYPES, ctx.query.type),
      q: queryText(ctx.query.q),
      archived: ctx.query.archived === '1' ? '1' : undefined,
    };
    const result = await ctx.services.campaigns.list(
      { status: filters.status, type: filters.type, q: filters.q, ...(filters.archived ? {} : { archived: false }) },
      pageOf(ctx),
    );
    render(ctx, views, 'admin/campaigns', {
      title: 'Campaigns',
      nav: 'campaigns',
      filters,
      filtered: Boolean(filters.status || filters.type || filters.q),
      options,
      campaigns: result.data.map((c) => ({
        ...c,
        typeLabel: CAMPAIGN_TYPE_LABELS[c.type],
        productCount: c.productIds.length,
      })),
      pagination: result.pagination,
      ...pageLinks('/admin/campaigns', filters, result.pagination),
    });
  });
}

/** A new campaign. */
function registerCampaignCreate(router: Router<AppState, AppCustom>, views: Views): void {
  const newPage = (ctx: AppContext, values: unknown, errors?: Errors) =>
    render(ctx, views, 'admin/campaign-new', {
      title: 'New campaign',
      nav: 'campaigns',
      options,
      globals: globals(ctx),
      values,
      errors,
    });

  router.get('/admin/campaigns/new', (ctx) => {
    newPage(ctx, { type: 'public', status: 'active', overwriteCookie: '', approval: '' });
  });
  router.post('/admin/campaigns/new', async (ctx) => {
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const input = parse(s.campaignCreate, campaignInput(body));
        const campaign = await ctx.services.campaigns.create(input, actor(ctx));
        flash(ctx, 'success', `Campaign “${campaign.name}” created. Add its payouts and banners next.`);
        ctx.redirect(`/admin/campaigns/${campaign.id}`);
      },
      (errors) =>
        newPage(
          ctx,
          campaignValuesFromBody(body),
          summarise(attachListErrors(errors, ['productIds']), CAMPAIGN_FIELDS),
        ),
    );
  });
}

/** The settings tab: the campaign's own fields and its traffic settings. */
function registerCampaignSettings(router: Router<AppState, AppCustom>, views: Views): void {
  // The secret key and API token shown here are masked for anyone but the owner.
  const settingsTab = async (ctx: AppContext, campaign: Campaign, values: unknown, errors?: Errors) =>
    campaignPage(ctx, views, campaignFor(ctx.state.user, campaign), 'settings', 'admin/campaign-settings', {
      values,
      errors,
      ...(await trafficFormData(ctx, campaign)),
    });

  router.get('/admin/campaigns/:id', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    await settingsTab(ctx, campaign, campaignValues(campaign));
  });
  router.post('/admin/campaigns/:id', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const patch = parse(s.campaignPatch, campaignInput(body));
        await ctx.services.campaigns.update(campaign.id, patch, actor(ctx));
        flash(ctx, 'success', 'Campaign saved.');
        ctx.redirect(`/admin/campaigns/${campaign.id}`);
      },
      (errors) =>
        settingsTab(
          ctx,
          campaign,
          campaignValuesFromBody(body),
          summarise(attachListErrors(errors, ['productIds']), CAMPAIGN_FIELDS),
        ),
    );
  });
}

/** A new secret key for signed server calls (the owner's, after a confirmation). */
function registerCampaignSecretKey(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/campaigns/:id/regenerate-secret-key',
    requireRole('owner'),
    confirmFirst(views, async (ctx) => {
      const campaign = await ctx.services.campaigns.get(idParam(ctx));
      return {
        question: `Generate a new secret key for “${campaign.name}”?`,
        consequences: [
          'The current secret key stops working at once: signed sales and refunds from your store’s server are refused until it uses the new key.',
          'This cannot be undone.',
        ],
        action: 'Generate a new secret key',
        back: `/admin/campaigns/${campaign.id}`,
        nav: 'campaigns',
      };
    }),
  );
  router.post('/admin/campaigns/:id/regenerate-secret-key', requireRole('owner'), async (ctx) => {
    const id = idParam(ctx);
    await ctx.services.campaigns.regenerateSecretKey(id, actor(ctx));
    flash(ctx, 'success', 'A new secret key was generated. Update the servers that sign sales for this campaign.');
    ctx.redirect(`/admin/campaigns/${id}`);
  });
}

/** Deleting a campaign, after a confirmation; one with history cannot be. */
function registerCampaignDelete(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/campaigns/:id/delete',
    confirmFirst(views, async (ctx) => {
      const campaign = await ctx.services.campaigns.get(idParam(ctx));
      return {
        question: `Delete the campaign “${campaign.name}”?`,
        consequences: [
          'Its flows, payouts, banners and coupons are deleted with it, and its links and campaign URL stop working. This cannot be undone.',
          'A campaign with clicks, sales or commissions cannot be deleted: archive or pause it instead.',
        ],
        action: 'Delete the campaign',
        back: `/admin/campaigns/${campaign.id}`,
        nav: 'campaigns',
      };
    }),
  );
  router.post('/admin/campaigns/:id/delete', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    try {
      await ctx.services.campaigns.remove(campaign.id, actor(ctx));
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(ctx, 'error', conflictMessage(err, 'campaign'));
      return ctx.redirect(`/admin/campaigns/${campaign.id}`);
    }
    flash(ctx, 'success', `Campaign “${campaign.name}” deleted.`);
    ctx.redirect('/admin/campaigns');
  });
}

/** The payouts tab: the campaign's payouts and a new one. */
function registerPayoutList(router: Router<AppState, AppCustom>, views: Views): void {
  const payoutsTab = async (
    ctx: AppContext,
    campaign: Campaign,
    values: ReturnType<typeof newPayoutValues> | ReturnType<typeof payoutValuesFromBody>,
    errors?: Errors,
  ) => {
    const [payouts, affiliates] = await Promise.all([
      ctx.services.payouts.list({ campaignId: campaign.id }, { page: 1, perPage: 200 }),
      allAffiliates(ctx),
    ]);
    const byId = new Map(affiliates.map((a) => [a.id, a]));
    const currency = ctx.services.settings.get().baseCurrency;
    campaignPage(ctx, views, campaign, 'payouts', 'admin/campaign-payouts', {
      payouts: payouts.data.map((p) => payoutRow(p, byId, currency)),
      affiliateChoices: affiliateChoices(affiliates, values.affiliateIds),
      groupChoices: await groupChoices(ctx),
      values,
      errors,
    });
  };

  router.get('/admin/campaigns/:id/payouts', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    await payoutsTab(ctx, campaign, newPayoutValues());
  });
  router.post('/admin/campaigns/:id/payouts', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const input = parse(s.payoutCreate, payoutInput(body));
        const payout = await ctx.services.payouts.create(campaign.id, input, actor(ctx));
        flash(
          ctx,
          'success',
          [
            `Payout “${payout.title}” created.`,
            ...(payout.couponCode ? [`Coupon ${payout.couponCode} now applies it.`] : []),
            ...(payout.notices ?? []),
          ].join(' '),
        );
        ctx.redirect(`/admin/campaigns/${campaign.id}/payouts`);
      },
      (errors) =>
        payoutsTab(
          ctx,
          campaign,
          payoutValuesFromBody(body),
          summarise(
            attachListErrors(errors, [
              'tiers',
              'affiliateIds',
              'commissionGroupIds',
              'goal.productIds',
              'goal.categories',
              'goal.countries',
            ]),
            PAYOUT_FIELDS,
          ),
        ),
    );
  });
}

/** One payout: its page and its changes. */
function registerPayoutEdit(router: Router<AppState, AppCustom>, views: Views): void {
  const payoutPage = async (
    ctx: AppContext,
    campaign: Campaign,
    payout: PayoutRecord,
    values: ReturnType<typeof payoutValues> | ReturnType<typeof payoutValuesFromBody>,
    errors?: Errors,
  ) => {
    const affiliates = await allAffiliates(ctx);
    campaignPage(ctx, views, campaign, 'payouts', 'admin/payout-edit', {
      title: `${payout.title} · ${campaign.name}`,
      payout,
      affiliateChoices: affiliateChoices(affiliates, values.affiliateIds),
      groupChoices: await groupChoices(ctx),
      values,
      errors,
    });
  };

  router.get('/admin/campaigns/:id/payouts/:payoutId', async (ctx) => {
    const { campaign, payout } = await loadPayout(ctx);
    await payoutPage(ctx, campaign, payout, payoutValues(payout));
  });
  router.post('/admin/campaigns/:id/payouts/:payoutId', async (ctx) => {
    const { campaign, payout } = await loadPayout(ctx);
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const patch = parse(s.payoutPatch, payoutInput(body));
        const saved = await ctx.services.payouts.update(campaign.id, payout.id, patch, actor(ctx));
        flash(ctx, 'success', ['Payout saved.', ...(saved.notices ?? [])].join(' '));
        ctx.redirect(`/admin/campaigns/${campaign.id}/payouts`);
      },
      (errors) =>
        payoutPage(
          ctx,
          campaign,
          payout,
          payoutValuesFromBody(body),
          summarise(
            attachListErrors(errors, [
              'tiers',
              'affiliateIds',
              'commissionGroupIds',
              'goal.productIds',
              'goal.categories',
              'goal.countries',
            ]),
            PAYOUT_FIELDS,
          ),
        ),
    );
  });
}

/** Deleting a payout, after a confirmation. */
function registerPayoutDelete(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/campaigns/:id/payouts/:payoutId/delete',
    confirmFirst(views, async (ctx) => {
      const { campaign, payout } = await loadPayout(ctx);
      return {
        question: `Delete the payout “${payout.title}”?`,
        consequences: [
          `Sales and actions in “${campaign.name}” no longer earn it. A payout that has already paid commissions is kept for their history: archive it instead.`,
          ...(payout.couponCode ? [`Its coupon code ${payout.couponCode} is deleted with it.`] : []),
          'This cannot be undone.',
        ],
        action: 'Delete the payout',
        back: `/admin/campaigns/${campaign.id}/payouts/${payout.id}`,
        nav: 'campaigns',
      };
    }),
  );
  router.post('/admin/campaigns/:id/payouts/:payoutId/delete', async (ctx) => {
    const { campaign, payout } = await loadPayout(ctx);
    try {
      await ctx.services.payouts.remove(campaign.id, payout.id, actor(ctx));
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(ctx, 'error', conflictMessage(err, 'payout'));
      return ctx.redirect(`/admin/campaigns/${campaign.id}/payouts/${payout.id}`);
    }
    flash(ctx, 'success', `Payout “${payout.title}” deleted.`);
    ctx.redirect(`/admin/campaigns/${campaign.id}/payouts`);
  });
}

/** The banners tab: the campaign's banners and a new one. */
function registerBannerList(router: Router<AppState, AppCustom>, views: Views): void {
  const bannersTab = async (ctx: AppContext, campaign: Campaign, values: unknown, errors?: Errors) => {
    const result = await ctx.services.banners.list({ campaignId: campaign.id }, pageOf(ctx, 50));
    campaignPage(ctx, views, campaign, 'banners', 'admin/campaign-banners', {
      banners: result.data.map((b) => ({ ...b, link: bannerLink(ctx, b) })),
      pagination: result.pagination.totalPages > 1 ? result.pagination : null,
      ...pageLinks(`/admin/campaigns/${campaign.id}/banners`, {}, result.pagination),
      values,
      errors,
    });
  };
  router.get('/admin/campaigns/:id/banners', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    await bannersTab(ctx, campaign, { type: 'link' });
  });
  router.post('/admin/campaigns/:id/banners', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const banner = await ctx.services.banners.create(
          parse(s.bannerCreate, bannerInput(body, campaign.id)),
          actor(ctx),
        );
        flash(ctx, 'success', `Banner “${banner.name}” created.`);
        ctx.redirect(`/admin/campaigns/${campaign.id}/banners`);
      },
      (errors) => bannersTab(ctx, campaign, bannerValuesFromBody(body), summarise(errors, BANNER_FIELDS)),
    );
  });
}

/** One banner: its page and its changes. */
function registerBannerEdit(router: Router<AppState, AppCustom>, views: Views): void {
  const bannerPage = (ctx: AppContext, campaign: Campaign, banner: Banner, values: unknown, errors?: Errors) =>
    campaignPage(ctx, views, campaign, 'banners', 'admin/banner-edit', {
      title: `${banner.name} · ${campaign.name}`,
      banner: { ...banner, link: bannerLink(ctx, banner) },
      values,
      errors,
    });

  router.get('/admin/campaigns/:id/banners/:bannerId', async (ctx) => {
    const { campaign, banner } = await loadBanner(ctx);
    bannerPage(ctx, campaign, banner, bannerValues(banner));
  });
  router.post('/admin/campaigns/:id/banners/:bannerId', async (ctx) => {
    const { campaign, banner } = await loadBanner(ctx);
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const { campaignId: _same, ...patch } = parse(s.bannerPatch, bannerInput(body, campaign.id));
        await ctx.services.banners.update(banner.id, patch, actor(ctx));
        flash(ctx, 'success', 'Banner saved.');
        ctx.redirect(`/admin/campaigns/${campaign.id}/banners`);
      },
      (errors) => bannerPage(ctx, campaign, banner, bannerValuesFromBody(body), summarise(errors, BANNER_FIELDS)),
    );
  });
}

/** Deleting a banner, after a confirmation; one with clicks or sales cannot be. */
function registerBannerDelete(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/campaigns/:id/banners/:bannerId/delete',
    confirmFirst(views, async (ctx) => {
      const { campaign, banner } = await loadBanner(ctx);
      return {
        question: `Delete the banner “${banner.name}”?`,
        consequences: [
          'Affiliate links and images that use this banner stop working. This cannot be undone.',
          'A banner with clicks or sales cannot be deleted: archive it instead.',
        ],
        action: 'Delete the banner',
        back: `/admin/campaigns/${campaign.id}/banners/${banner.id}`,
        nav: 'campaigns',
      };
    }),
  );
  router.post('/admin/campaigns/:id/banners/:bannerId/delete', async (ctx) => {
    const { campaign, banner } = await loadBanner(ctx);
    try {
      await ctx.services.banners.remove(banner.id, actor(ctx));
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(ctx, 'error', conflictMessage(err, 'banner'));
      return ctx.redirect(`/admin/campaigns/${campaign.id}/banners/${banner.id}`);
    }
    flash(ctx, 'success', `Banner “${banner.name}” deleted.`);
    ctx.redirect(`/admin/campaigns/${campaign.id}/banners`);
  });
}

/** The coupons tab: the campaign's coupons and a new one. */
function registerCouponList(router: Router<AppState, AppCustom>, views: Views): void {
  const couponsTab = async (ctx: AppContext, campaign: Campaign, values: Record<string, unknown>, errors?: Errors) => {
    const [result, affiliates, payouts] = await Promise.all([
      ctx.services.coupons.list({ campaignId: campaign.id }, pageOf(ctx, 50)),
      allAffiliates(ctx),
      ctx.services.payouts.list({ campaignId: campaign.id }, { page: 1, perPage: 200 }),
    ]);
    const byId = new Map(affiliates.map((a) => [a.id, a]));
    const payoutById = new Map(payouts.data.map((p) => [p.id, p]));
    const chosen = typeof values.affiliateId === 'string' ? [values.affiliateId] : [];
    campaignPage(ctx, views, campaign, 'coupons', 'admin/campaign-coupons', {
      coupons: result.data.map((c) => ({
        ...c,
        affiliateName: byId.get(c.affiliateId)?.name ?? `#${c.affiliateId}`,
        payoutTitle: c.payoutId === null ? null : (payoutById.get(c.payoutId)?.title ?? `#${c.payoutId}`),
        managed: c.payoutId !== null && managedByPayout(c, payoutById.get(c.payoutId)),
      })),
      pagination: result.pagination.totalPages > 1 ? result.pagination : null,
      ...pageLinks(`/admin/campaigns/${campaign.id}/coupons`, {}, result.pagination),
      affiliateChoices: affiliateChoices(affiliates, chosen),
      payoutChoices: payouts.data.map((p) => ({ id: p.id, label: p.title })),
      values,
      errors,
    });
  };
  router.get('/admin/campaigns/:id/coupons', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    await couponsTab(ctx, campaign, {});
  });
  router.post('/admin/campaigns/:id/coupons', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    const body = bodyOf(ctx);
    const affiliateId = text(body, 'affiliateId') ?? '';
    await handleForm(
      ctx,
      async () => {
        const input = parse(s.couponCreate, {
          code: text(body, 'code') ?? '',
          affiliateId,
          campaignId: campaign.id,
          payoutId: form.nullable(valueAt(body, 'payoutId')),
        });
        const coupon = await ctx.services.coupons.create(input, actor(ctx));
        flash(ctx, 'success', `Coupon ${coupon.code} created.`);
        ctx.redirect(`/admin/campaigns/${campaign.id}/coupons`);
      },
      (errors) => {
        if (!affiliateId && errors.affiliateId)
          errors.affiliateId = 'choose the affiliate this coupon attributes sales to';
        return couponsTab(
          ctx,
          campaign,
          {
            code: valueAt(body, 'code'),
            affiliateId: valueAt(body, 'affiliateId'),
            payoutId: valueAt(body, 'payoutId'),
          },
          summarise(errors, COUPON_FIELDS),
        );
      },
    );
  });
}

/** Deleting a coupon, after a confirmation; a payout's own coupon code is cleared on the payout instead. */
function registerCouponDelete(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/campaigns/:id/coupons/:couponId/delete',
    confirmFirst(views, async (ctx) => {
      const campaign = await ctx.services.campaigns.get(idParam(ctx));
      const coupon = await ctx.services.coupons.get(idParam(ctx, 'couponId'));
      return {
        question: `Delete the coupon ${coupon.code}?`,
        consequences: [`Orders with ${coupon.code} are no longer attributed to its affiliate. This cannot be undone.`],
        action: 'Delete the coupon',
        back: `/admin/campaigns/${campaign.id}/coupons`,
        nav: 'campaigns',
      };
    }),
  );
  router.post('/admin/campaigns/:id/coupons/:couponId/delete', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    const coupon = await ctx.services.coupons.get(idParam(ctx, 'couponId'));
    if (coupon.campaignId !== campaign.id)
      throw new AppError('not_found', `coupon ${coupon.id} not found in this campaign`);
    const payout =
      coupon.payoutId === null ? undefined : await ctx.services.payouts.get(coupon.payoutId).catch(() => undefined);
    if (managedByPayout(coupon, payout)) {
      flash(
        ctx,
        'error',
        `Coupon ${coupon.code} is the coupon code of payout “${payout?.title}”; clear the code on that payout to remove it.`,
      );
      return ctx.redirect(`/admin/campaigns/${campaign.id}/coupons`);
    }
    try {
      await ctx.services.coupons.remove(coupon.id, actor(ctx));
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(ctx, 'error', conflictMessage(err, 'coupon'));
      return ctx.redirect(`/admin/campaigns/${campaign.id}/coupons`);
    }
    flash(ctx, 'success', `Coupon ${coupon.code} deleted.`);
    ctx.redirect(`/admin/campaigns/${campaign.id}/coupons`);
  });
}
