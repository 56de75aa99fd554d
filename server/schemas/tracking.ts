import { CURRENCY_CODE_MESSAGE, isCurrencyCode } from '../domain/currency-codes.js';
import { z } from 'zod';
import { amount } from '../validation.js';
import { toUnits } from '../domain/money.js';
import { CODE_LENGTH, KEY_LENGTH, MAX_QUANTITY, TEXT_LENGTH } from '../domain/limits.js';

/*
 * Tracking bodies (SPEC §4.2). Fields the money depends on are essential: a bad one rejects the
 * event with 422 naming it. Every other field is optional: a bad one is dropped, the event is
 * stored with what was valid, and the problem is returned in `warnings` and logged (SPEC §10).
 */

const scalarText = (max: number) =>
  z
    .union([z.string(), z.number().finite()], { error: 'must be text or a number' })
    .transform((v) => String(v).trim())
    .pipe(z.string().min(1, 'must not be empty').max(max, `at most ${max} characters`));

/** `fixedCost`: an amount, or a percentage of totalCost written "N%". */
export const fixedCostSchema = z.union([
  amount.transform((units) => ({ kind: 'amount' as const, units })),
  z
    .string()
    .trim()
    .regex(/^\d{1,3}(\.\d{1,4})?%$/, 'must be an amount or a percentage such as "5%"')
    .transform((v, ctx) => {
      const units = toUnits(v.slice(0, -1));
      if (units > toUnits(100)) {
        ctx.addIssue({ code: 'custom', message: 'a percentage must be at most 100%' });
        return z.NEVER;
      }
      return { kind: 'percent' as const, units };
    }),
]);
export type FixedCost = z.infer<typeof fixedCostSchema>;

export const itemSchema = z.strictObject({
  productId: scalarText(KEY_LENGTH),
  category: scalarText(KEY_LENGTH).optional(),
  totalCost: amount,
  quantity: z.number().int('must be a whole number').min(1).max(MAX_QUANTITY).optional(),
});
export type SaleItem = z.infer<typeof itemSchema>;

export const essentialSaleFields = z.object({
  orderId: scalarText(KEY_LENGTH).optional(),
  totalCost: amount.optional(),
  fixedCost: fixedCostSchema.optional(),
  currency: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{3}$/, 'must be a 3-letter ISO 4217 currency code')
    .refine(isCurrencyCode, CURRENCY_CODE_MESSAGE)
    .transform((c) => c.toUpperCase())
    .optional(),
  items: z.array(itemSchema).max(500, 'at most 500 items').optional(),
  actionCode: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 letters, digits, "_", "." or "-"')
    .optional(),
  status: z.enum(['approved', 'pending', 'declined']).optional(),
});

const idValue = z
  .union([
    z.number().int().positive().max(2_147_483_647),
    z
      .string()
      .trim()
      .regex(/^\d{1,10}$/, 'must be a numeric id'),
  ])
  .transform(Number);

/** The optional fields, each validated alone. */
export const optionalSaleFields = {
  productId: scalarText(KEY_LENGTH),
  coupon: scalarText(CODE_LENGTH),
  bannerId: idValue,
  campaignId: idValue,
  affiliateId: scalarText(CODE_LENGTH),
  channel: scalarText(KEY_LENGTH),
  customerId: scalarText(KEY_LENGTH),
  visitorId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'is not a visitor id issued by Affix'),
  /** The store's subscription: renewals are attributed as its first sale was (SPEC §14). */
  subscriptionId: scalarText(KEY_LENGTH),
  /** The buyer's country (ISO 3166-1 alpha-2), for payout goals by country when no click names one. */
  country: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code such as DE')
    .transform((c) => c.toUpperCase()),
  data1: scalarText(TEXT_LENGTH),
  data2: scalarText(TEXT_LENGTH),
  data3: scalarText(TEXT_LENGTH),
  data4: scalarText(TEXT_LENGTH),
  data5: scalarText(TEXT_LENGTH),
} as const;

/**
 * Every field a sale or action body may carry: what it does not name is an unknown field (SPEC
 * §10a), a 422 on the API and a warning on /t/sale and /t/action. Values are judged above.
 */
export const saleBodyFields = z.strictObject({ ...essentialSaleFields.shape, ...optionalSaleFields }).partial();

/** The fields of POST /t/click (SPEC §4.2); the handler reads their values leniently. */
export const clickBodyFields = z.strictObject({
  url: z.unknown(),
  referrer: z.unknown(),
  visitorId: z.unknown(),
  campaignId: z.unknown(),
  consent: z.unknown(),
});

export type OptionalSaleFields = { [K in keyof typeof optionalSaleFields]?: z.output<(typeof optionalSaleFields)[K]> };
export type SaleInput = z.output<typeof essentialSaleFields> & OptionalSaleFields;
