import { z } from 'zod';
import { shortText, optionalText, optionalHttpUrl, amount, id } from '../validation.js';
import { toUnits } from '../domain/money.js';
import { CODE_LENGTH, KEY_LENGTH, TEXT_BYTES, fitsText } from '../domain/limits.js';

/*
 * Request bodies for the affiliate programme objects of SPEC §3 and §6.1. Fields carry no
 * defaults so the same shape serves create (required fields) and PATCH (.partial()); services
 * apply defaults on create.
 */

export const AFFILIATE_STATUSES = ['pending', 'approved', 'declined'] as const;
export const CAMPAIGN_TYPES = ['public', 'manual', 'private'] as const;
export const CAMPAIGN_STATUSES = ['active', 'paused'] as const;
export const APPROVALS = ['auto', 'manual'] as const;
export const BANNER_TYPES = ['link', 'image', 'html'] as const;
export const PAYOUT_KINDS = ['general', 'personal'] as const;
export const PAYOUT_TYPES = ['CPS', 'CPA', 'PPC', 'CPM', 'LIFETIME'] as const;
export const COMMISSION_UNITS = ['fixed', 'percent'] as const;
// Traffic campaign settings (SPEC §7.1).
export const FLOW_ROTATIONS = ['position', 'weight'] as const;
export const COST_MODELS = ['CPC', 'CPUC', 'CPM', 'CPA', 'CPS', 'REVSHARE'] as const;
export const BIND_VISITORS = ['none', 'flows', 'flows_landings', 'flows_landings_offers'] as const;
export const UNIQUENESS_MODES = ['ip_ua', 'ip', 'cookie'] as const;

const code = (label: string) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(CODE_LENGTH, `at most ${CODE_LENGTH} characters`)
    .regex(/^[A-Za-z0-9_.-]+$/, `${label} may contain only letters, digits, "_", "." and "-"`);

export const refId = code('refId');
export const couponCode = code('code');

// `.nullable()` rather than a union with z.null(): zod then reports the inner problem and its path
// ("goal.productIds: expected array") instead of a bare "Invalid input" on the outer field.
const nullableId = id.nullable();

export const affiliateFields = z.object({
  refId,
  name: shortText(),
  email: z.email('must be an email address').max(KEY_LENGTH),
  status: z.enum(AFFILIATE_STATUSES),
  parentId: nullableId,
  overwriteCookie: z.boolean().nullable(),
  postbackUrl: optionalHttpUrl,
  password: z.string().min(10, 'must be at least 10 characters').max(200),
  archived: z.boolean(),
});
export const affiliateCreate = affiliateFields.partial().required({ name: true, email: true });
export const affiliatePatch = affiliateFields.partial();
export type AffiliateCreate = z.infer<typeof affiliateCreate>;
export type AffiliatePatch = z.infer<typeof affiliatePatch>;

const productId = z.string().trim().min(1, 'must not be empty').max(KEY_LENGTH, `at most ${KEY_LENGTH} characters`);

/*
 * Lists and long texts are stored in TEXT columns, which hold 65,535 bytes on MySQL (SQLite has
 * no limit): refuse more here (fitsText) so both databases answer 422 instead of MySQL failing with a 500.
 */
const productIdList = z
  .array(productId)
  .max(1000, 'at most 1000 product IDs')
  .refine(fitsText, 'the list is too long to store (at most 64 KB in all)');

/** First path segments the tracker answers itself: a campaign alias cannot take them. */
/** Paths of the tracker itself: never campaign aliases. */
export const RESERVED_ALIASES = [
  'admin',
  'api',
  'portal',
  'r',
  't',
  'lp',
  'postback',
  'click_api',
  'static',
  'healthz',
  'snippet.js',
  'favicon.ico',
  'robots.txt',
];

/** A campaign URL's path (`https://<domain>/<alias>`); empty = not reachable by URL. */
export const campaignAlias = z
  .string()
  .trim()
  .max(KEY_LENGTH, `at most ${KEY_LENGTH} characters`)
  .regex(/^[A-Za-z0-9_-]*$/, 'alias may contain only letters, digits, "-" and "_"')
  .refine(
    (v) => !RESERVED_ALIASES.includes(v.toLowerCase()),
    'this alias is a path of the tracker itself; choose another',
  )
  .nullable()
  .transform((v) => (v ? v : null));

const currencyCode = z
  .string()
  .trim()
  .regex(/^([A-Za-z]{3})?$/, 'must be a 3-letter ISO 4217 currency code')
  .nullable()
  .transform((v) => (v ? v.toUpperCase() : null));

export const campaignFields = z.object({
  name: shortText(),
  type: z.enum(CAMPAIGN_TYPES),
  isDefault: z.boolean(),
  status: z.enum(CAMPAIGN_STATUSES),
  productIds: productIdList,
  cookieDays: z.number().int('must be a whole number of days').min(0).max(3650).nullable(),
  overwriteCookie: z.boolean().nullable(),
  approval: z.enum(APPROVALS).nullable(),
  destinationUrl: optionalHttpUrl,
  archived: z.boolean(),
  // Traffic (SPEC §7.1). Amounts become 1/10,000 units; references are checked by the service.
  domainId: nullableId,
  alias: campaignAlias,
  groupId: nullableId,
  sourceId: nullableId,
  flowRotation: z.enum(FLOW_ROTATIONS),
  costModel: z.enum(COST_MODELS),
  costValue: amount,
  costAuto: z.boolean(),
  costCurrency: currencyCode,
  trafficLoss: amount.refine((v) => v <= toUnits('99.99'), 'must be a percentage between 0 and 99.99'),
  bindVisitors: z.enum(BIND_VISITORS),
  uniqueness: z.enum(UNIQUENESS_MODES),
  uniquenessTtlHours: z.number().int('must be a whole number of hours').min(1).max(8760),
  bypassCache: z.boolean(),
});
export const campaignCreate = campaignFields.partial().required({ name: true });
export const campaignPatch = campaignFields.partial();
export type CampaignCreate = z.infer<typeof campaignCreate>;
export type CampaignPatch = z.infer<typeof campaignPatch>;

export const bannerFields = z.object({
  campaignId: id,
  name: shortText(),
  type: z.enum(BANNER_TYPES),
  destinationUrl: optionalHttpUrl,
  content: optionalText(TEXT_BYTES).refine(
    (v) => v === null || fitsText(v),
    `at most ${TEXT_BYTES.toLocaleString('en-US')} bytes`,
  ),
  archived: z.boolean(),
});
export const bannerCreate = bannerFields.partial().required({ campaignId: true, name: true });
export const bannerPatch = bannerFields.partial();
export type BannerCreate = z.infer<typeof bannerCreate>;
export type BannerPatch = z.infer<typeof bannerPatch>;

export const couponFields = z.object({
  code: couponCode,
  affiliateId: id,
  campaignId: nullableId,
  payoutId: nullableId,
  archived: z.boolean(),
});
export const couponCreate = couponFields.partial().required({ code: true, affiliateId: true });
export const couponPatch = couponFields.partial();
export type CouponCreate = z.infer<typeof couponCreate>;
export type CouponPatch = z.infer<typeof couponPatch>;

/** `{ value, unit }`; a percent must be within 0–100. Values become 1/10,000 units. */
export const commissionValue = z
  .object({ value: amount, unit: z.enum(COMMISSION_UNITS) })
  .refine((c) => c.unit !== 'percent' || c.value <= toUnits(100), {
    message: 'a percentage must be between 0 and 100',
    path: ['value'],
  });

export const payoutFields = z.object({
  kind: z.enum(PAYOUT_KINDS),
  title: shortText(),
  type: z.enum(PAYOUT_TYPES),
  actionCode: code('actionCode').nullable(),
  rawClicks: z.boolean(),
  affiliateCommission: commissionValue,
  merchantCommission: commissionValue,
  goal: z
    .object({
      productIds: productIdList.optional(),
      categories: productIdList.optional(),
    })
    .nullable(),
  couponCode: couponCode.nullable(),
  tiers: z.array(commissionValue).max(10, 'at most 10 tiers'),
  affiliateIds: z.array(id).max(10_000),
  archived: z.boolean(),
});
export const payoutCreate = payoutFields
  .partial()
  .required({ kind: true, title: true, type: true, affiliateCommission: true });
export const payoutPatch = payoutFields.partial();
export type PayoutCreate = z.infer<typeof payoutCreate>;
export type PayoutPatch = z.infer<typeof payoutPatch>;
