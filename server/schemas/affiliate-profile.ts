import { z } from 'zod';
import { electronicFormatIBAN, isValidBIC, isValidIBAN } from 'ibantools';
import { optionalText } from '../validation.js';
import { KEY_LENGTH, URL_LENGTH } from '../domain/limits.js';

/*
 * The affiliate's profile (SPEC §13): website, promotion method, payout method and details, tax
 * id, terms acceptance. The details are one strict object whose keys must be those of the payout
 * method (checked by `payoutDetailsProblem`, which also knows the stored method on a PATCH).
 */

export const PAYOUT_METHODS = ['paypal', 'bank', 'other'] as const;
export type PayoutMethod = (typeof PAYOUT_METHODS)[number];

/** The keys each payout method's details carry; the required ones first. */
export const PAYOUT_DETAIL_KEYS: Record<PayoutMethod, { required: string[]; optional: string[] }> = {
  paypal: { required: ['paypalEmail'], optional: [] },
  bank: { required: ['accountName', 'iban'], optional: ['bic'] },
  other: { required: ['text'], optional: [] },
};

export const PROMOTION_TEXT_LENGTH = 2000;
export const PAYOUT_TEXT_LENGTH = 1000;

const iban = z
  .string()
  .trim()
  .max(64, 'at most 64 characters')
  .transform((v) => electronicFormatIBAN(v) ?? '')
  .refine((v) => isValidIBAN(v), 'is not a valid IBAN (its country, length or check digits are wrong)');

const bic = z
  .string()
  .trim()
  .max(11, 'at most 11 characters')
  .transform((v) => v.replace(/\s+/g, '').toUpperCase())
  .refine((v) => v === '' || isValidBIC(v), 'is not a valid BIC (8 or 11 letters and digits)')
  .transform((v) => v || undefined);

export const payoutDetailsSchema = z.strictObject({
  paypalEmail: z.email('must be an email address').max(KEY_LENGTH).optional(),
  accountName: z.string().trim().min(1, 'must not be empty').max(KEY_LENGTH).optional(),
  iban: iban.optional(),
  bic: bic.optional(),
  text: z.string().trim().min(1, 'must not be empty').max(PAYOUT_TEXT_LENGTH).optional(),
});
export type PayoutDetails = z.infer<typeof payoutDetailsSchema>;

const website = z
  .union([
    z
      .string()
      .trim()
      .max(URL_LENGTH, `at most ${URL_LENGTH} characters`)
      .refine((v) => v === '' || (/^https?:\/\//i.test(v) && URL.canParse(v)), 'must be an http(s) URL'),
    z.null(),
  ])
  .transform((v) => v || null);

/** The profile fields an affiliate (PATCH /me/affiliate, portal) and staff may set. */
export const profileFields = {
  website,
  promotionMethod: optionalText(PROMOTION_TEXT_LENGTH),
  payoutMethod: z.enum(PAYOUT_METHODS).nullable(),
  payoutDetails: payoutDetailsSchema.nullable(),
  taxId: optionalText(64),
};

export interface ProfileInput {
  website?: string | null | undefined;
  promotionMethod?: string | null | undefined;
  payoutMethod?: PayoutMethod | null | undefined;
  payoutDetails?: PayoutDetails | null | undefined;
  taxId?: string | null | undefined;
}

/**
 * What is wrong with `details` for `method` (a key of another method, a required key missing), as
 * `[field, message]`, or null. Details without a method are refused: nobody could pay by them.
 */
export function payoutDetailsProblem(
  method: PayoutMethod | null,
  details: PayoutDetails | null,
): [string, string] | null {
  if (details === null) return null;
  if (method === null) return ['payoutMethod', 'is required when payoutDetails are given'];
  const keys = PAYOUT_DETAIL_KEYS[method];
  const allowed = [...keys.required, ...keys.optional];
  for (const key of Object.keys(details)) {
    if ((details as Record<string, unknown>)[key] === undefined) continue;
    if (!allowed.includes(key))
      return [`payoutDetails.${key}`, `is not a detail of payout method "${method}" (it takes ${allowed.join(', ')})`];
  }
  for (const key of keys.required) {
    if ((details as Record<string, unknown>)[key] === undefined)
      return [`payoutDetails.${key}`, `is required for payout method "${method}"`];
  }
  return null;
}

/** Which required details of `method` are missing (empty when it can be paid; no method: `payoutMethod`). */
export function missingPayoutDetails(method: PayoutMethod | null, details: PayoutDetails | null): string[] {
  if (method === null) return ['payoutMethod'];
  return PAYOUT_DETAIL_KEYS[method].required.filter(
    (key) => !details || (details as Record<string, unknown>)[key] === undefined,
  );
}

/** Terms texts are capped like other long settings. */
export const TERMS_TEXT_LENGTH = 20_000;
