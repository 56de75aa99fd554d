import { fieldSentence } from '../../messages.js';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { notFound, type AppError } from '../../errors.js';
import type { Affiliate } from '../../store/affiliates.js';
import { pageQuery, type PageQuery } from '../../validation.js';
import { KEY_LENGTH, clip } from '../../domain/limits.js';

/*
 * Helpers the admin pages share to read posted forms and shape list pages. The body parser
 * reads `a.b=1` as `{ a: { b: '1' } }` (qs allowDots), so fields are read by dotted path.
 */

type FormValue = string | string[] | undefined;
type Body = Record<string, unknown>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The posted body as a plain object (never null). */
export function bodyOf(ctx: AppContext): Body {
  const body = ctx.request.body;
  return isRecord(body) ? body : {};
}

/**
 * The form value at a dotted path, as text or a list of texts. Anything else a client might
 * send (a nested object where text belongs) reads as missing, so the schema names the field.
 */
export function valueAt(body: Body, path: string): FormValue {
  let current: unknown = Object.hasOwn(body, path) ? body[path] : undefined;
  if (current === undefined) {
    current = body;
    for (const part of path.split('.')) {
      if (!isRecord(current)) return undefined;
      current = Object.hasOwn(current, part) ? current[part] : undefined;
    }
  }
  if (typeof current === 'string') return current;
  // Many repeated fields (multi-selects) arrive as an array, or as `{0: .., 1: ..}` past qs's array limit.
  const items = Array.isArray(current)
    ? current
    : isRecord(current) && Object.keys(current).every((k) => /^\d+$/.test(k))
      ? Object.values(current)
      : null;
  return items ? items.filter((x): x is string => typeof x === 'string') : undefined;
}

/** Every value of a repeated field (e.g. a multi-select), trimmed, empty ones dropped. */
export function valuesAt(body: Body, path: string): string[] {
  const v = valueAt(body, path);
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((s) => s.trim()).filter(Boolean);
}

/** A textarea holding one entry per line. */
export function lines(v: FormValue): string[] {
  const text = Array.isArray(v) ? v.join('\n') : (v ?? '');
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Schema errors on list entries (`tiers.1.value`, `exchangeRates.EUR`) are also shown beside
 * the textarea that holds the list, saying which line is wrong.
 */
export function attachListErrors(errors: Record<string, string>, listFields: string[]): Record<string, string> {
  for (const [key, message] of Object.entries(errors)) {
    for (const field of listFields) {
      if (!key.startsWith(field + '.') || errors[field]) continue;
      const rest = key.slice(field.length + 1);
      const [first = ''] = rest.split('.');
      errors[field] = /^\d+$/.test(first) ? `line ${Number(first) + 1}: ${message}` : `${first}: ${message}`;
    }
  }
  return errors;
}

/**
 * A form summary for the top of the page: the field errors shown beside their fields, and any
 * error for a field the form does not show spelled out so nothing is lost.
 */
export function summarise(errors: Record<string, string>, shown: string[]): Record<string, string> {
  if (errors._form) return errors;
  const hidden = Object.entries(errors).filter(([k]) => !shown.includes(k));
  errors._form = hidden.length
    ? `Could not save: ${hidden.map(([k, m]) => fieldSentence(k, m)).join('; ')}`
    : 'Could not save: please correct the fields marked below.';
  return errors;
}

/** A route's numeric `:param`; anything else is a 404 page, not a validation error. */
export function idParam(ctx: { params?: Record<string, string | undefined> }, name = 'id'): number {
  const raw = ctx.params?.[name] ?? '';
  const n = Number(raw);
  if (!/^\d{1,10}$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > 2_147_483_647) throw notFound('page');
  return n;
}

/** The page of a list from the query string; nonsense falls back to the first page. */
export function pageOf(ctx: AppContext, perPage = 25): PageQuery {
  const parsed = pageQuery.safeParse({ page: ctx.query.page, perPage: ctx.query.perPage ?? String(perPage) });
  return parsed.success ? parsed.data : { page: 1, perPage };
}

/** A query filter that ignores values it does not know instead of failing the page. */
export function queryEnum<T extends readonly [string, ...string[]]>(values: T, raw: unknown): T[number] | undefined {
  const parsed = z.enum(values).safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

export function queryText(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const s = clip(raw.trim(), KEY_LENGTH);
  return s || undefined;
}

/** Previous/next links for the `admin/pagination` partial that keep the list's filters. */
export function pageLinks(
  path: string,
  filters: Record<string, string | undefined>,
  pagination: { page: number; totalPages: number },
): { prevUrl: string | null; nextUrl: string | null } {
  const link = (page: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
    if (page > 1) params.set('page', String(page));
    const qs = params.toString();
    return qs ? `${path}?${qs}` : path;
  };
  return {
    prevUrl: pagination.page > 1 ? link(pagination.page - 1) : null,
    nextUrl: pagination.page < pagination.totalPages ? link(pagination.page + 1) : null,
  };
}

/** Only same-site paths are followed after a form (no open redirect). */
export function safeBack(raw: FormValue, fallback: string): string {
  const s = Array.isArray(raw) ? raw[0] : raw;
  return typeof s === 'string' && /^\/(?![/\\])/.test(s) ? s : fallback;
}

/** A 409 in people's words: history that depends on an object means archive, not delete. */
export function conflictMessage(err: AppError, what: string): string {
  return /archive it instead/i.test(err.message)
    ? `This ${what} is still referenced by recorded history, so it cannot be deleted. Archive it instead: tick “Archived” and save.`
    : err.message;
}

/** Every affiliate (for names and selects); admin lists stay small enough to read in pages of 200. */
export async function allAffiliates(ctx: AppContext): Promise<Affiliate[]> {
  const out: Affiliate[] = [];
  for (let page = 1; page <= 50; page++) {
    const result = await ctx.services.affiliates.list({}, { page, perPage: 200 });
    out.push(...result.data);
    if (page >= result.pagination.totalPages) break;
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
