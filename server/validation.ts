import { z } from 'zod';
import { AppError, type FieldError } from './errors.js';
import { toUnits, MoneyError, MoneyRangeError } from './domain/money.js';
import { macroInAuthority } from './domain/macros.js';
import { issueMessage } from './messages.js';
import { AMOUNT_LIMIT_MESSAGE, KEY_LENGTH, MAX_AMOUNT_UNITS, URL_LENGTH } from './domain/limits.js';

// Plain-language messages for every issue a schema gives no message of its own (the API and the admin).
z.config({ customError: issueMessage });

type Path = ReadonlyArray<PropertyKey>;
type Schema = z.core.$ZodType;
/** The parts of a zod 4 schema definition that lead to the schemas inside it. */
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  catchall?: Schema;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  element?: Schema;
  valueType?: Schema;
  keyType?: Schema;
  options?: Schema[];
  left?: Schema;
  right?: Schema;
  items?: Schema[];
  rest?: Schema | null;
  getter?: () => Schema;
}
const defOf = (s: Schema) => s._zod.def as unknown as Def;
const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'nonoptional',
  'readonly',
  'catch',
  'success',
]);

/** The schemas a value may meet at the top of `s`: wrappers, pipes and unions opened. */
function opened(s: Schema, seen = new Set<Schema>()): Schema[] {
  if (seen.has(s)) return [];
  seen.add(s);
  const d = defOf(s);
  if (WRAPPERS.has(d.type) && d.innerType) return opened(d.innerType, seen);
  if (d.type === 'pipe') return [...opened(d.in!, seen), ...opened(d.out!, seen)];
  if (d.type === 'lazy' && d.getter) return opened(d.getter(), seen);
  if (d.type === 'union') return (d.options ?? []).flatMap((o) => opened(o, seen));
  if (d.type === 'intersection') return [...opened(d.left!, seen), ...opened(d.right!, seen)];
  return [s];
}

/** The field names an object at `path` inside `schema` accepts (empty when unknown). */
export function knownKeysAt(schema: Schema, path: Path): string[] {
  let here = opened(schema);
  for (const segment of path) {
    here = here.flatMap((s) => {
      const d = defOf(s);
      if (d.type === 'object') {
        const inner = d.shape?.[String(segment)];
        return inner ? opened(inner) : [];
      }
      if (d.type === 'array' && typeof segment === 'number') return opened(d.element!);
      if (d.type === 'tuple' && typeof segment === 'number') {
        const item = d.items?.[segment] ?? d.rest;
        return item ? opened(item) : [];
      }
      if (d.type === 'record') return opened(d.valueType!);
      return [];
    });
  }
  return [...new Set(here.flatMap((s) => (defOf(s).type === 'object' ? Object.keys(defOf(s).shape ?? {}) : [])))];
}

/**
 * Where `schema` would accept keys nobody declared: objects that are not strict, and `unknown` /
 * `any` values (which let any nested object through). Empty for a strict schema (SPEC §10a).
 */
export function looseSpots(schema: Schema): string[] {
  const out: string[] = [];
  const seen = new Set<Schema>();
  const walk = (s: Schema, path: string) => {
    if (seen.has(s)) return;
    seen.add(s);
    const d = defOf(s);
    const at = path || '(root)';
    switch (d.type) {
      case 'object':
        if (!d.catchall || defOf(d.catchall).type !== 'never') out.push(at);
        for (const [k, v] of Object.entries(d.shape ?? {})) walk(v, path ? `${path}.${k}` : k);
        return;
      case 'unknown':
      case 'any':
        out.push(at);
        return;
      case 'array':
        return walk(d.element!, `${path}[]`);
      case 'record':
        walk(d.keyType!, `${path}{key}`);
        return walk(d.valueType!, `${path}{}`);
      case 'tuple':
        (d.items ?? []).forEach((item, i) => walk(item, `${path}[${i}]`));
        if (d.rest) walk(d.rest, `${path}[]`);
        return;
      case 'pipe':
        walk(d.in!, path);
        return walk(d.out!, path);
      case 'union':
        return (d.options ?? []).forEach((o) => walk(o, path));
      case 'intersection':
        walk(d.left!, path);
        return walk(d.right!, path);
      case 'lazy':
        return walk(d.getter!(), path);
      default:
        if (WRAPPERS.has(d.type) && d.innerType) walk(d.innerType, path);
    }
  };
  walk(schema, '');
  return out;
}

const checkedStrict = new WeakSet<Schema>();

/**
 * Throws (a programming error, not bad input) when an API schema would silently drop keys: every
 * API body and query is parsed with a strict schema (SPEC §10a). Checked once per schema.
 */
export function requireStrict<S extends Schema>(schema: S): S {
  if (checkedStrict.has(schema)) return schema;
  const loose = looseSpots(schema);
  if (loose.length) throw new Error(`API schema is not strict at ${loose.join(', ')}: use z.strictObject`);
  checkedStrict.add(schema);
  return schema;
}

/** Edit distance, for "did you mean" on a misspelled key. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The known key `key` most likely meant (same letters in another case, or one or two typos), or null. */
export function nearestKey(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === lower ? 0 : distance(lower, k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  const allowed = Math.min(2, Math.floor(key.length / 3));
  if (best !== null && bestDistance <= allowed) return best;
  // A shortened name: expiresIn for expiresInHours.
  return (lower.length >= 4 && known.find((k) => k.toLowerCase().startsWith(lower))) || null;
}

/** A key the schema does not know, by its path in the input. */
export interface UnknownKey {
  path: PropertyKey[];
  field: string;
  /** The key it was probably meant to be, or null. */
  suggestion: string | null;
}

const dotted = (path: Path) => (path.length ? path.map(String).join('.') : '(body)');

function unknownKeysOf(issues: readonly z.core.$ZodIssue[], schema?: Schema): UnknownKey[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => {
          const path = [...issue.path, key];
          return {
            path,
            field: dotted(path),
            suggestion: schema ? nearestKey(key, knownKeysAt(schema, issue.path)) : null,
          };
        })
      : [],
  );
}

/** The keys of `input` that `schema` does not declare, at any depth (other problems are not reported). */
export function unknownKeys(schema: Schema, input: unknown): UnknownKey[] {
  const result = z.safeParse(schema, input);
  return result.success ? [] : unknownKeysOf(result.error.issues, schema);
}

/**
 * A copy of `input` without the keys at `paths` (tracking bodies drop what they do not know).
 * Only the objects and arrays on a dropped key's path are copied: the rest is shared, so a body
 * of any depth costs as many copies as its dropped keys have segments (a recursive copy of the
 * whole body overflows the stack on a value nested thousands deep).
 */
export function withoutKeys<T>(input: T, paths: ReadonlyArray<ReadonlyArray<PropertyKey>>): T {
  if (!paths.length) return input;
  const copies = new Map<unknown, Record<PropertyKey, unknown>>();
  const own = (node: unknown): Record<PropertyKey, unknown> => {
    let copy = copies.get(node);
    if (!copy) {
      copy = (Array.isArray(node) ? [...node] : { ...(node as object) }) as Record<PropertyKey, unknown>;
      copies.set(node, copy);
      copies.set(copy, copy);
    }
    return copy;
  };
  if (!input || typeof input !== 'object') return input;
  const root = own(input);
  for (const path of paths) {
    let node = root;
    for (const segment of path.slice(0, -1)) {
      const next = node[segment];
      if (!next || typeof next !== 'object') break;
      node = node[segment] = own(next);
    }
    delete node[path[path.length - 1]!];
  }
  return root as T;
}

/**
 * "unknown field; did you mean productIds?" — `noun` is "field" for bodies, "parameter" for
 * queries; `ignored` for the lenient tracking endpoints, which drop the field and go on.
 */
export function unknownKeyMessage(k: UnknownKey, noun = 'field', ignored = false): string {
  return `unknown ${noun}${ignored ? ', ignored' : ''}${k.suggestion ? `; did you mean ${k.suggestion}?` : ''}`;
}

/** Turns zod issues into field errors whose `field` is the dotted path of the offending value. */
export function fieldErrors(error: z.ZodError, schema?: Schema, noun = 'field'): FieldError[] {
  // Unknown keys first: a misspelled key is usually why its right name is reported missing.
  const unknown = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? unknownKeysOf([issue], schema).map((k) => ({ field: k.field, message: unknownKeyMessage(k, noun) }))
      : [],
  );
  const others = error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') return [];
    let message = issue.message;
    // A record key that fails its key schema (an exchange rate keyed "EURO"): say what the key must be.
    if (issue.code === 'invalid_key' && issue.issues[0]) message = `the key ${issue.issues[0].message}`;
    // zod's wording for a required field left out.
    else if (issue.code === 'invalid_type' && /received undefined$/.test(message)) message = 'is required';
    return [{ field: dotted(issue.path), message }];
  });
  return [...unknown, ...others];
}

export function validationError(error: z.ZodError, schema?: Schema, noun?: string): AppError {
  return validationFailed(fieldErrors(error, schema, noun));
}

/** A 422 listing `details`, its message the first few of them. */
export function validationFailed(details: FieldError[]): AppError {
  const summary = details
    .slice(0, 3)
    .map((d) => `${d.field}: ${d.message}`)
    .join('; ');
  return new AppError('validation_failed', summary || 'Invalid input', details);
}

/** Parses `input` with `schema` or throws a 422 AppError naming each bad field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, noun?: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw validationError(result.error, schema, noun);
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

/**
 * An http(s) URL stored by the merchant; other schemes (javascript:, data:) are refused, and so
 * is a `{macro}` in its host: what a visitor sends must never choose where a redirect goes.
 */
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
  }, 'must be an http(s) URL')
  .refine((v) => !macroInAuthority(v), 'macros may be used in the path, query or fragment, not in the host');

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

/**
 * `from` / `to` of a list as ISO 8601 dates or date-times, in ms. A plain date is midnight UTC;
 * as `to` (`end`) it names the whole day, so it ends at the next midnight: `to` is exclusive.
 */
export const isoTimeParam = (end: boolean) =>
  z
    .string()
    .trim()
    .max(40)
    .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date such as 2026-11-01')
    .transform((v) => Date.parse(v) + (end && /^\d{4}-\d{2}-\d{2}$/.test(v) ? 86_400_000 : 0))
    .optional();

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
export const pageQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  perPage: z.coerce.number().int().min(1).max(200).default(50),
});
export type PageQuery = z.infer<typeof pageQuery>;

/** The `pagination` of a list's answer: `total` rows in pages of `perPage` (at least one page). */
export const pageInfo = (page: PageQuery, total: number) => ({
  page: page.page,
  perPage: page.perPage,
  total,
  totalPages: Math.max(1, Math.ceil(total / page.perPage)),
});
