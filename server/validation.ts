import { z } from 'zod';
import { AppError, type FieldError } from './errors.js';
import { toUnits, MoneyError, MoneyRangeError } from './domain/money.js';
import { AMOUNT_LIMIT_MESSAGE, KEY_LENGTH, MAX_AMOUNT_UNITS, URL_LENGTH } from './domain/limits.js';

/** Turns zod issues into field errors whose `field` is the dotted path of the offending value. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.map(String).join('.') : '(body)',
    message: issue.message,
  }));
}

export function validationError(error: z.ZodError): AppError {
  const details = fieldErrors(error);
  const summary = details
    .slice(0, 3)
    .map((d) => `${d.field}: ${d.message}`)
    .join('; ');
  return new AppError('validation_failed', summary || 'Invalid input', details);
}

/** Parses `input` with `schema` or throws a 422 AppError naming each bad field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw validationError(result.error);
  return result.data;
}

// ---- Reusable field schemas -------------------------------------------------------------

export const shortText = (max = KEY_LENGTH) =>
  z.string().trim().min(1, 'must not be empty').max(max, `at most ${max} characters`);

export const optionalText = (max = KEY_LENGTH) =>
  z
    .string()
    .trim()
    .max(max, `at most ${max} characters`)
    .nullish()
    .transform((v) => (v ? v : null));

/** An http(s) URL stored by the merchant; other schemes (javascript:, data:) are refused. */
export const httpUrl = z
  .string()
  .trim()
  .max(URL_LENGTH, `at most ${URL_LENGTH} characters`)
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

export const optionalHttpUrl = z
  .union([httpUrl, z.literal(''), z.null()])
  .optional()
  .transform((v) => (v ? v : v === undefined ? undefined : null));

/**
 * A decimal amount (number or numeric string) in [0, 1,000,000,000] (SPEC §10a), converted to
 * 1/10,000 units.
 */
export const amount = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    const units = toUnits(v);
    if (units < 0) {
      ctx.addIssue({ code: 'custom', message: 'must not be negative' });
      return z.NEVER;
    }
    if (units > MAX_AMOUNT_UNITS) {
      ctx.addIssue({ code: 'custom', message: AMOUNT_LIMIT_MESSAGE });
      return z.NEVER;
    }
    return units;
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message:
        err instanceof MoneyRangeError
          ? AMOUNT_LIMIT_MESSAGE
          : err instanceof MoneyError
            ? 'must be a decimal number'
            : String(err),
    });
    return z.NEVER;
  }
});

/** An id: a positive integer, or its digits as text (form fields and URL segments). */
export const id = z
  .union(
    [
      z.number(),
      z
        .string()
        .trim()
        .regex(/^\d{1,10}$/, 'must be a positive integer id'),
    ],
    {
      error: 'must be a positive integer id',
    },
  )
  .transform(Number)
  .pipe(z.number().int('must be an integer').positive('must be a positive id').max(2_147_483_647, 'is too large'));

export const idParam = z.object({ id });

/** Page pagination shared by every list: ?page=1&perPage=50 (perPage ≤ 200). */
export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  perPage: z.coerce.number().int().min(1).max(200).default(50),
});
export type PageQuery = z.infer<typeof pageQuery>;
