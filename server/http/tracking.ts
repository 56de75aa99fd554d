import Router from '@koa/router';
import type { Next } from 'koa';
import type { IncomingMessage } from 'node:http';
import type { AppContext, AppCustom, AppState } from './context.js';
import type { Exchange } from './lean.js';
import { AppError } from '../errors.js';
import { validVisitorId } from '../services/visitors.js';
import type { SaleResult } from '../services/sales.js';
import { clickBodyFields } from '../schemas/tracking.js';
import { unknownKeyMessage, unknownKeys } from '../validation.js';
import { URL_LENGTH, clip } from '../domain/limits.js';
import { VISITOR_HASH_LENGTH, visitorHash } from '../domain/uniqueness.js';

export const VISITOR_COOKIE = 'affix_vid';
const COOKIE_MAX_AGE_MS = 365 * 86_400_000;

/** 1×1 transparent GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * CORS for the storefront (SPEC §4.2). Any origin may call the tracking endpoints; credentials
 * (the tracker's visitor cookie) are allowed for the store's own origin (the `siteUrl` setting),
 * or for every origin while no site URL is set. Preflights are answered here. Mounted before
 * the body parser, so its errors (400, 413) reach the storefront with CORS headers too.
 */
export function trackingCorsHeaders(): (ctx: Pick<Exchange, 'get' | 'set' | 'vary' | 'services'>) => void {
  // The site URL's origin, parsed once per settings value (this runs on every tracking request).
  let cachedSiteUrl: string | null = null;
  let cachedOrigin: string | null = null;
  const storeOrigin = (siteUrl: string | null) => {
    if (siteUrl !== cachedSiteUrl) {
      cachedSiteUrl = siteUrl;
      cachedOrigin = siteUrl ? new URL(siteUrl).origin : null;
    }
    return cachedOrigin;
  };
  return (ctx) => {
    const origin = ctx.get('Origin');
    const siteOrigin = storeOrigin(ctx.services.settings.get().siteUrl);
    const trusted = origin && (!siteOrigin || siteOrigin === origin);
    if (origin && trusted) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Credentials', 'true');
      ctx.vary('Origin');
    } else {
      ctx.set('Access-Control-Allow-Origin', '*');
    }
  };
}

/** The CORS headers of every tracking path, and the answer to its preflight. */
export function trackingCors() {
  const corsHeaders = trackingCorsHeaders();
  return async (ctx: AppContext, next: Next) => {
    if (!ctx.path.startsWith('/t/')) return next();
    corsHeaders(ctx);
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      ctx.set('Access-Control-Allow-Headers', 'Content-Type');
      ctx.set('Access-Control-Max-Age', '86400');
      ctx.status = 204;
      return;
    }
    await next();
  };
}

export const TRACKING_BODY_LIMIT = 100 * 1024;

/**
 * Reads the raw body of tracking POSTs as text (JSON is parsed by the handler), instead of the
 * general body parser: beacons come as text/plain, and this is the hottest path there is. A body
 * over the limit is drained and answered 413.
 */
export function trackingBody() {
  return async (ctx: AppContext & { disableBodyParser?: boolean }, next: Next) => {
    if (ctx.method !== 'POST' || !ctx.path.startsWith('/t/')) return next();
    ctx.request.body = await readTrackingBody(ctx.req);
    ctx.disableBodyParser = true;
    await next();
  };
}

/** The body of a tracking POST as text, up to the limit (a larger one is drained and refused). */
export async function readTrackingBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] || 0);
  if (declared > TRACKING_BODY_LIMIT) {
    req.resume();
    throw new AppError('payload_too_large', 'The request body is too large');
  }
  const text = await new Promise<string | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= TRACKING_BODY_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > TRACKING_BODY_LIMIT ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    // A client that goes away mid-body: no 'end' will come.
    req.on('close', () => {
      if (!req.complete)
        reject(Object.assign(new Error('request aborted'), { code: 'ECONNABORTED', type: 'request.aborted' }));
    });
  });
  if (text === null) throw new AppError('payload_too_large', 'The request body is too large');
  return text;
}

/** A JSON body, also from `text/plain` beacons (no CORS preflight). */
export function jsonBody(ctx: Pick<Exchange, 'request'>): unknown {
  const body = ctx.request.body;
  if (typeof body === 'string') {
    if (!body.trim()) return {};
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new AppError('invalid_json', 'The request body is not valid JSON');
    }
  }
  return body ?? {};
}

/** The visitor cookie (SPEC §4.2): HttpOnly; SameSite=None + Secure over https, Lax over plain http. */
export function setVisitorCookie(ctx: Pick<Exchange, 'cookies' | 'secure'>, visitorId: string): void {
  // A browser that already holds this id keeps its cookie (a year long): no header to write.
  if (ctx.cookies.get(VISITOR_COOKIE) === visitorId) return;
  ctx.cookies.set(VISITOR_COOKIE, visitorId, {
    httpOnly: true,
    secure: ctx.secure,
    sameSite: ctx.secure ? 'none' : 'lax',
    maxAge: COOKIE_MAX_AGE_MS,
    overwrite: true,
  });
}

export const cookieVisitor = (ctx: Pick<Exchange, 'cookies'>) => validVisitorId(ctx.cookies.get(VISITOR_COOKIE));

/** Without a cookie (GDPR mode before consent) a visitor is recognised by IP + user agent (SPEC §2). */
export const deviceVisitorId = (ctx: Pick<Exchange, 'ip' | 'get'>) =>
  visitorHash([ctx.ip, ctx.get('User-Agent')], VISITOR_HASH_LENGTH.visitorId);

/** First value of each query parameter, as text (arrays and nested objects are never code). */
export function firstValues(query: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value === 'string') out[k] = clip(value, URL_LENGTH);
  }
  return out;
}

/** Query parameters of a URL given in a body; an unparsable URL gives none. */
function paramsOfUrl(url: unknown): { params: Record<string, string>; url: string | null } {
  if (typeof url !== 'string' || !url) return { params: {}, url: null };
  try {
    const parsed = new URL(url.slice(0, 4096));
    const params: Record<string, string> = {};
    for (const [k, v] of parsed.searchParams) if (!(k in params)) params[k] = clip(v, URL_LENGTH);
    return { params, url: clip(parsed.href, URL_LENGTH) };
  } catch {
    return { params: {}, url: null };
  }
}

const text = (v: unknown, max: number) => (typeof v === 'string' ? clip(v, max) : null);

/** A sale answered to a client: the public fields of SPEC §4.2. */
export const saleResponse = (r: SaleResult) => ({
  saleId: r.saleId,
  matchedBy: r.matchedBy,
  campaignId: r.campaignId,
  affiliateId: r.affiliateId,
  status: r.status,
  ...(r.declineReason ? { declineReason: r.declineReason } : {}),
  commissions: r.commissions,
  ...(r.duplicate ? { duplicate: true } : {}),
  ...(r.warnings.length ? { warnings: r.warnings } : {}),
});

const CLICK_FIELDS = new Set(Object.keys(clickBodyFields.shape));
/**
 * A click body with only known fields: every field of the click schema is a top-level value
 * of any type, so its keys alone say there is nothing to warn about (the schema check builds a
 * zod error for every field left out, which costs more than the rest of the handler).
 */
const onlyClickFields = (b: Record<string, unknown>) => {
  for (const k of Object.keys(b)) if (!CLICK_FIELDS.has(k)) return false;
  return true;
};

/** POST /t/click: a visit from the storefront snippet (SPEC §4.2). */
export async function trackClick(ctx: Exchange): Promise<void> {
  const body = jsonBody(ctx);
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  // Lenient (SPEC §10a): unknown fields do not stop the click; they are answered in `warnings`.
  const warnings = onlyClickFields(b)
    ? []
    : unknownKeys(clickBodyFields, b).map((k) => ({
        field: k.field,
        message: unknownKeyMessage(k, 'field', true),
      }));
  if (warnings.length) ctx.services.log.warn({ warnings, kind: 'click' }, 'click stored without its unknown fields');
  const { params, url } = paramsOfUrl(b.url);
  const gdpr = ctx.services.settings.get().gdprMode;
  // In GDPR mode the snippet calls only after consent; without it, no cookie is set.
  const cookieAllowed = !gdpr || b.consent === true;
  const result = await ctx.services.tracking.click({
    params,
    url,
    forcedCampaignId: b.campaignId,
    visitorId: validVisitorId(b.visitorId) ?? cookieVisitor(ctx),
    fallbackVisitorId: cookieAllowed ? null : deviceVisitorId(ctx),
    ip: ctx.ip,
    userAgent: ctx.get('User-Agent'),
    referrer: text(b.referrer, URL_LENGTH),
    source: 'snippet',
  });
  if (cookieAllowed) setVisitorCookie(ctx, result.visitorId);
  ctx.body = {
    visitorId: result.visitorId,
    clickId: result.clickId,
    status: result.status,
    campaignId: result.campaignId,
    affiliateId: result.affiliateId,
    bannerId: result.bannerId,
    ...(warnings.length ? { warnings } : {}),
  };
}

/** POST /t/sale and /t/action from the storefront snippet (SPEC §4.2). */
export async function trackSale(ctx: Exchange, kind: 'sale' | 'action'): Promise<void> {
  const result = await ctx.services.sales.record({
    kind,
    body: jsonBody(ctx),
    signed: false,
    ip: ctx.ip,
    userAgent: ctx.get('User-Agent'),
    cookieVisitorId: cookieVisitor(ctx),
    source: 'snippet',
  });
  ctx.status = result.duplicate || result.saleId === null ? 200 : 201;
  ctx.body = saleResponse(result);
}

/** The public tracking endpoints called by the storefront snippet (SPEC §4.2). */
export function trackingRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();

  router.post('/t/click', trackClick);

  router.get('/t/impression', async (ctx) => {
    const q = firstValues(ctx.query);
    const names = ctx.services.settings.get().urlParams;
    const visitor = cookieVisitor(ctx) ?? validVisitorId(q.vid);
    const visitorKey = visitor ?? visitorHash([ctx.ip, ctx.get('User-Agent')], VISITOR_HASH_LENGTH.impressionKey);
    try {
      await ctx.services.tracking.impression({
        bannerParam: q[names.banner] ?? q.bannerId,
        affiliateParam: q[names.affiliate],
        visitorKey,
      });
    } catch (err) {
      // The pixel never fails the page; the problem is logged.
      ctx.services.log.error({ err }, 'impression not counted');
    }
    ctx.set('Cache-Control', 'no-store, max-age=0');
    ctx.type = 'image/gif';
    ctx.body = PIXEL;
  });

  for (const kind of ['sale', 'action'] as const) router.post(`/t/${kind}`, (ctx) => trackSale(ctx, kind));
  return router;
}
