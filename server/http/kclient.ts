import type { AppContext } from './context.js';
import { AppError } from '../errors.js';
import { UNIQUENESS_COOKIE, type RunResult } from '../services/campaign-runner.js';
import { TEXT_LENGTH, clip } from '../domain/limits.js';

/*
 * Keitaro KClient compatibility (SPEC §14): a landing page that embeds KClient's PHP code posts
 * the visitor to `/click_api/v3` or `/api.php` as a form (`application/x-www-form-urlencoded`)
 * and acts on the JSON answer: it sends each line of `headers`, sets `status`, sets `cookies` for
 * `cookies_ttl` hours, prints `body`, and reads `info` (sub_id, uniqueness, is_bot, …).
 */

/** KClient's own fields; every other field is one of the visitor's URL parameters. */
const OWN = new Set([
  'token',
  'version',
  'kversion',
  'info',
  'ip',
  'ua',
  'user_agent',
  'language',
  'referrer',
  'se_referrer',
  'keyword',
  'original_headers',
  'original_host',
  'force_redirect_offer',
  'x_requested_with',
  'landing_url',
  'uniqueness_cookie',
  'log',
]);

/** How long the uniqueness cookie lives, in hours (KClient's `cookies_ttl`). */
const COOKIE_TTL_HOURS = 365 * 24;

export interface KClientRequest {
  token: string;
  ip: string | null;
  userAgent: string;
  language: string;
  referrer: string | null;
  originalHost: string | null;
  uniquenessCookie: string | null;
  forceRedirectOffer: boolean;
  params: Record<string, string>;
  log: boolean;
}

const first = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;

/** The Cookie header among KClient's `original_headers` (a JSON object or list, or "Name: value" lines). */
function cookieHeader(raw: string | undefined): string | null {
  if (!raw) return null;
  let lines: string[] = [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (Array.isArray(parsed)) lines = parsed.filter((x): x is string => typeof x === 'string');
    else if (parsed && typeof parsed === 'object')
      lines = Object.entries(parsed as Record<string, unknown>).map(([k, v]) => `${k}: ${String(v)}`);
  } catch {
    lines = raw.split(/\r?\n/);
  }
  const line = lines.find((l) => /^cookie\s*:/i.test(l));
  return line ? line.slice(line.indexOf(':') + 1).trim() : null;
}

function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** Reads KClient's form body. A body that is not a form of text fields is a 400 naming it. */
export function parseKClient(body: unknown): KClientRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new AppError('validation_failed', '(body): KClient posts a form (application/x-www-form-urlencoded)', [
      { field: '(body)', message: 'must be a form' },
    ]);
  const form = body as Record<string, unknown>;
  const text = (name: string) => first(form[name]);
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) {
    const value = first(v);
    if (!OWN.has(k) && value !== undefined) params[k] = clip(value, TEXT_LENGTH) as string;
  }
  const keyword = text('keyword');
  if (keyword && params.keyword === undefined) params.keyword = clip(keyword, TEXT_LENGTH) as string;
  const force = text('force_redirect_offer');
  return {
    token: text('token') ?? '',
    ip: text('ip') || null,
    userAgent: text('ua') ?? text('user_agent') ?? '',
    language: text('language') ?? '',
    referrer: text('referrer') || text('se_referrer') || null,
    originalHost: text('original_host') || null,
    uniquenessCookie:
      text('uniqueness_cookie') || cookieValue(cookieHeader(text('original_headers')), UNIQUENESS_COOKIE),
    forceRedirectOffer: force === '1' || force === 'true',
    params,
    log: text('log') === '1' || text('log') === 'true',
  };
}

const hostOf = (url: string | null) => {
  try {
    return url ? new URL(url).host.toLowerCase() : null;
  } catch {
    return null;
  }
};

/**
 * The answer KClient acts on. A landing on the very host that asked (KClient embedded in the
 * landing itself) is not redirected to: the page goes on, knowing its sub_id.
 */
export function kclientAnswer(req: KClientRequest, result: RunResult, token: string) {
  const local =
    result.type === 'landing' &&
    req.originalHost !== null &&
    hostOf(result.location) === req.originalHost.toLowerCase();
  const redirect = result.status === 302 && result.location !== null && !local;
  const headers: string[] = [];
  if (redirect) headers.push(`Location: ${result.location}`);
  const body = result.body ?? '';
  return {
    headers,
    status: redirect ? 302 : local ? 200 : result.status,
    body,
    contentType: body ? 'text/plain; charset=utf-8' : null,
    cookies: result.uniquenessCookie ? { [UNIQUENESS_COOKIE]: result.uniquenessCookie } : {},
    cookies_ttl: COOKIE_TTL_HOURS,
    info: {
      sub_id: result.subid,
      token: result.subid,
      type: result.type,
      url: result.location,
      campaign_id: result.campaignId,
      stream_id: result.flowId,
      is_bot: result.isBot ?? false,
      uniqueness: {
        campaign: result.unique?.campaign ?? false,
        stream: result.unique?.flow ?? false,
        global: result.unique?.global ?? false,
      },
      campaign_token: token,
    },
    ...(req.log ? { log: result.log } : {}),
  };
}

/** Runs the campaign of the form's token for KClient and answers as above. */
export async function answerKClient(ctx: AppContext): Promise<void> {
  const req = parseKClient(ctx.request.body);
  const snap = await ctx.services.cache.snapshot();
  const resolved = ctx.services.runner.resolveToken(snap, req.token);
  if (!resolved) throw new AppError('unauthorized', 'Unknown or missing campaign API token (token)');
  const result: RunResult = resolved.campaign
    ? await ctx.services.runner.run(
        resolved.campaign,
        {
          ip: req.ip || ctx.ip,
          userAgent: req.userAgent,
          acceptLanguage: req.language,
          referrer: req.referrer,
          params: req.params,
          uniquenessCookie: req.uniquenessCookie,
        },
        snap,
        resolved.log,
      )
    : {
        status: 404,
        location: null,
        body: null,
        type: 'not_found',
        subid: null,
        campaignId: resolved.named.id,
        flowId: null,
        uniquenessCookie: null,
        log: resolved.log,
      };
  if (req.forceRedirectOffer) result.log.push('force_redirect_offer: offers and redirects answer with Location');
  ctx.set('Cache-Control', 'no-store');
  ctx.body = kclientAnswer(req, result, req.token);
}
