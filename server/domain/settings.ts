import { z } from 'zod';
import { KEY_LENGTH, URL_LENGTH } from './limits.js';
import { CURRENCY_CODE_MESSAGE, isCurrencyCode } from './currency-codes.js';

/** The global settings of SPEC §2 with their defaults, and the schema every change passes. */

const paramName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(32, 'at most 32 characters')
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'must start with a letter and contain only letters, digits, "_" and "-"');

const currencyCode = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{3}$/, 'must be a 3-letter ISO 4217 currency code')
  .refine(isCurrencyCode, CURRENCY_CODE_MESSAGE)
  .transform((c) => c.toUpperCase());

const ipOrCidr = z
  .string()
  .trim()
  .max(64)
  .regex(/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/, 'must be an IP address or CIDR range such as 10.0.0.0/8');

export const FRAUD_ACTIONS = ['decline', 'drop'] as const;
const fraudAction = z.enum(FRAUD_ACTIONS);

const seconds = z.number().int('must be a whole number of seconds').min(0).max(31_536_000);

export const fraudSchema = z.object({
  duplicateClickSeconds: seconds,
  duplicateClickPerBanner: z.boolean(),
  duplicateClickAction: fraudAction,
  blockedIps: z.array(ipOrCidr).max(10_000),
  blockedIpsAction: fraudAction,
  blockedCountries: z
    .array(
      z
        .string()
        .trim()
        .regex(/^[A-Za-z]{2}$/, 'must be a 2-letter country code')
        .transform((c) => c.toUpperCase()),
    )
    .max(300),
  blockedCountriesAction: fraudAction,
  refererDeny: z.array(z.string().trim().min(1).max(KEY_LENGTH)).max(10_000),
  refererDenyAction: fraudAction,
  bots: z.boolean(),
  botsAction: fraudAction,
  selfReferral: z.boolean(),
  selfReferralAction: fraudAction,
  duplicateOrderSeconds: seconds,
  duplicateOrderAction: fraudAction,
});

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const settingsSchema = z.object({
  urlParams: z.object({
    affiliate: paramName,
    banner: paramName,
    campaign: paramName,
    channel: paramName,
    data1: paramName,
    data2: paramName,
  }),
  cookieDays: z.number().int('must be a whole number of days').min(0).max(3650),
  overwriteCookie: z.boolean(),
  gdprMode: z.boolean(),
  baseCurrency: currencyCode,
  exchangeRates: z.record(currencyCode, z.number().positive('must be a positive rate').max(1_000_000_000)),
  timezone: z.string().trim().max(64).refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
  defaultApproval: z.enum(['auto', 'manual']),
  siteUrl: z.union([
    z
      .string()
      .trim()
      .max(URL_LENGTH)
      .refine((v) => /^https?:\/\//i.test(v) && URL.canParse(v), 'must be an http(s) URL'),
    z.null(),
  ]),
  postbackKey: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{16,64}$/, 'must be 16–64 letters, digits, "_" or "-"'),
  affiliateSignup: z.enum(['open', 'approval', 'closed']),
  /** A repeated order: `ignore` answers with the original sale; `decline` also records a declined copy for audit (SPEC §5.4). */
  duplicateOrders: z.enum(['ignore', 'decline']),
  /** SPEC §14: false = a coupon names the affiliate but does not pick the campaign (rule 2 of §5.2). */
  couponCampaignRecognition: z.boolean(),
  /** The smallest per-affiliate total that goes into a payout batch (SPEC §6.6). */
  payoutMinimum: z.number().min(0).max(1_000_000_000),
  /** Raw clicks older than this many days are deleted (their rollups stay); 0 keeps them (SPEC §16). */
  clickRetentionDays: z.number().int('must be a whole number of days').min(0).max(36_500),
  fraud: fraudSchema,
  /** The programme's terms; when set, sign-up requires accepting them (SPEC §13). */
  termsText: z
    .string()
    .max(20_000, 'at most 20,000 characters')
    .nullable()
    .transform((v) => (v && v.trim() ? v : null)),
});

export type Settings = z.infer<typeof settingsSchema>;

export function defaultSettings(postbackKey: string): Settings {
  return {
    urlParams: {
      affiliate: 'a_aid',
      banner: 'a_bid',
      campaign: 'a_cid',
      channel: 'chan',
      data1: 'data1',
      data2: 'data2',
    },
    cookieDays: 60,
    overwriteCookie: false,
    gdprMode: false,
    baseCurrency: 'USD',
    exchangeRates: {},
    timezone: 'UTC',
    defaultApproval: 'manual',
    siteUrl: null,
    postbackKey,
    affiliateSignup: 'approval',
    duplicateOrders: 'ignore',
    couponCampaignRecognition: true,
    payoutMinimum: 0,
    termsText: null,
    clickRetentionDays: 0,
    fraud: {
      duplicateClickSeconds: 0,
      duplicateClickPerBanner: false,
      duplicateClickAction: 'decline',
      blockedIps: [],
      blockedIpsAction: 'drop',
      blockedCountries: [],
      blockedCountriesAction: 'decline',
      refererDeny: [],
      refererDenyAction: 'decline',
      bots: true,
      botsAction: 'decline',
      selfReferral: false,
      selfReferralAction: 'decline',
      duplicateOrderSeconds: 0,
      duplicateOrderAction: 'decline',
    },
  };
}

/**
 * A PATCH body: any subset, nested objects partial too (exchangeRates is replaced whole). Strict
 * at every depth, so a misspelled setting is a 422 naming it (SPEC §10a); `settingsSchema` itself
 * stays lenient because it also reads stored rows, where a setting an older version kept must not
 * throw the others away.
 */
export const settingsPatchSchema = z
  .strictObject({
    ...settingsSchema.shape,
    urlParams: z.strictObject(settingsSchema.shape.urlParams.shape).partial(),
    fraud: z.strictObject(fraudSchema.shape).partial(),
  })
  .partial();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

export function mergeSettings(current: Settings, patch: SettingsPatch): Settings {
  return {
    ...current,
    ...patch,
    urlParams: { ...current.urlParams, ...patch.urlParams },
    fraud: { ...current.fraud, ...patch.fraud },
  } as Settings;
}

/**
 * The affiliate-link parameter names must differ from each other (ignoring case). Returns the
 * field to blame: one of `changed` (the keys just edited) when it takes part in the clash,
 * otherwise the later of the two.
 */
export function duplicateUrlParam(urlParams: Settings['urlParams'], changed: readonly string[] = []): string | null {
  const byName = new Map<string, string[]>();
  for (const [key, name] of Object.entries(urlParams)) {
    const keys = byName.get(name.toLowerCase()) ?? [];
    keys.push(key);
    byName.set(name.toLowerCase(), keys);
  }
  const clashes = [...byName.values()].filter((keys) => keys.length > 1);
  for (const keys of clashes) {
    const edited = keys.find((k) => changed.includes(k));
    if (edited) return `urlParams.${edited}`;
  }
  const first = clashes[0];
  return first ? `urlParams.${first[1]}` : null;
}
