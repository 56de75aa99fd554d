import Router from '@koa/router';
import { parse as parseQueryString } from 'node:querystring';
import type { AppContext, AppCustom, AppState } from './context.js';
import { firstValues } from './tracking.js';
import { URL_LENGTH, clip } from '../domain/limits.js';
import { fieldError } from '../errors.js';
import { POSTBACK_FIELDS } from '../services/conversions.js';

const notOneValue = (field: string, kind: string) =>
  fieldError(field, `must be one value (text or a number), not ${kind}`);

const kindOf = (v: unknown) =>
  Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v).slice(0, 20);

/** A parameter the postback reads written as a list or an object (`payout[]=1`, `payout[a]=1`): refused by name. */
function refuseBracketed(key: string): void {
  const base = /^([^[\]]+)\[/.exec(key)?.[1];
  if (base !== undefined && POSTBACK_FIELDS.has(base)) throw notOneValue(base, 'a list or an object');
}

/** A query string's parameters; a repeated one counts by its first value, as on every tracking URL. */
function queryParams(query: Record<string, string | string[] | undefined>): Record<string, string> {
  for (const key of Object.keys(query)) refuseBracketed(key);
  return firstValues(query);
}

/**
 * Query parameters plus a form or JSON body (POST), as plain strings; the query wins. A parameter
 * the postback reads (`subid`, `payout`, `tid`, …) that is not one plain value is a 422 naming it,
 * never dropped: the conversion would be recorded without it (revenue 0, the default status, no
 * tid). Other parameters (sub ids, macros) that are not plain values are dropped.
 */
function postbackParams(ctx: AppContext): Record<string, string> {
  const params = queryParams(ctx.query);
  const rawBody = (ctx.request as { rawBody?: unknown }).rawBody;
  if (typeof rawBody === 'string' && ctx.request.is('urlencoded')) {
    // Read as the query is: the body parser's form reader makes `payout=1&payout=2` and
    // `payout[]=1` alike into a list.
    for (const [k, v] of Object.entries(queryParams(parseQueryString(rawBody)))) params[k] ??= v;
    return params;
  }
  const body = ctx.request.body;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      refuseBracketed(k);
      if (typeof v === 'string' || typeof v === 'number') params[k] ??= clip(String(v), URL_LENGTH);
      else if (POSTBACK_FIELDS.has(k)) throw notOneValue(k, kindOf(v));
    }
  }
  return params;
}

/** GET|POST /postback/<postbackKey> — conversions from networks (SPEC §7.5). */
export function postbackRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();
  const handle = async (ctx: AppContext) => {
    const services = ctx.services;
    services.conversions.checkKey(
      String((ctx as AppContext & { params: Record<string, string> }).params.key ?? ''),
      services.settings.get().postbackKey,
    );
    const result = await services.conversions.record(postbackParams(ctx));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = result;
  };
  router.get('/postback/:key', handle);
  router.post('/postback/:key', handle);
  return router;
}
