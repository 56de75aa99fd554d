import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Next } from 'koa';
import type { AppContext } from './context.js';
import { AppError, forbidden, unauthorized } from '../errors.js';
import type { Role } from '../services/actor.js';
import { API_KEY_PREFIX } from '../services/api-keys.js';
import { isStaffPath, prefersJson, visitorPageHtml, visitorWords } from './visitor-page.js';

export const SESSION_COOKIE = 'affix_session';
export const CSRF_COOKIE = 'affix_csrf';
export const FLASH_COOKIE = 'affix_flash';

/** The core's machine-facing paths: REST API, tracking, postbacks, the Click API and KClient, health. */
const machinePath = (path: string) =>
  path.startsWith('/api/') ||
  path.startsWith('/t/') ||
  path.startsWith('/postback/') ||
  path.startsWith('/click_api/') ||
  path === '/api.php' ||
  path === '/healthz';

/**
 * Is this request for a JSON client (SPEC §9 errors) rather than a person's browser page? Servers
 * and scripts (store webhooks, networks' postbacks) accept anything or send no Accept header, so
 * the request decides, not Accept:
 * - the core's machine paths (above) and every path a plugin owns (`/<plugin>/<path>`, answered
 *   as JSON, e.g. the store webhooks of SPEC §14, also while the plugin is inactive);
 * - any method but GET and HEAD outside the admin and the portal: following a link or a campaign
 *   URL is a GET, so nobody who would read the visitor page sends it (a POST to `/r`).
 * Everything else (links, campaign URLs, `/lp/offer`, admin and portal pages) is a page unless
 * the client asks for JSON (`prefersJson`).
 */
export const wantsJson = (ctx: AppContext) =>
  machinePath(ctx.path) ||
  ctx.services.plugins.resolveRoute(ctx.method, ctx.path) !== null ||
  (ctx.method !== 'GET' && ctx.method !== 'HEAD' && !isStaffPath(ctx.path));

/**
 * Turns every error into the SPEC §9 shape for JSON clients and a readable page for people.
 * Unexpected errors are logged and answered 500 without internals.
 */
export function errorHandler() {
  return async (ctx: AppContext, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined)
        throw new AppError('not_found', `No route for ${ctx.method} ${ctx.path}`);
      // The routers answer a method they do not know with 501: a client's mistake, not a server error.
      if (ctx.status === 501 && ctx.body === undefined)
        throw new AppError('method_not_allowed', `${ctx.method.slice(0, 20)} is not a method Affix answers`);
      // A known path asked with a method it does not take: allowedMethods() set 405 and `Allow`
      // (kept on the answer) but no body.
      if (ctx.status === 405 && ctx.body === undefined) throw methodNotAllowed(ctx, ctx.response.get('Allow'));
    } catch (raw) {
      if (clientWentAway(ctx, raw)) {
        // Nobody is left to answer, and nothing is wrong with the server: a debug line, no stack.
        const e = raw as { code?: unknown; message?: unknown };
        ctx.services.log.debug(
          { path: ctx.path, method: ctx.method, code: e?.code, reason: String(e?.message ?? '') },
          'client went away before the request was read',
        );
        return;
      }
      const err = normaliseError(raw);
      if (err.status >= 500) ctx.services.log.error({ err: raw, path: ctx.path, method: ctx.method }, 'request failed');
      ctx.status = err.status;
      if (err.code === 'too_many_requests' && err.details && 'retryAfterSeconds' in err.details) {
        ctx.set('Retry-After', String(err.details.retryAfterSeconds));
      }
      const body = {
        error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
      };
      if (wantsJson(ctx) || prefersJson(ctx)) {
        ctx.body = body;
      } else if (isStaffPath(ctx.path)) {
        ctx.type = 'html';
        ctx.body = errorPage(err.status, err.message);
      } else {
        // Everything else is what shoppers reach (links, campaign URLs, landing → offer): no
        // internals, a way on to the store (SPEC §13).
        const words = visitorWords(err.status);
        ctx.type = 'html';
        ctx.body = visitorPageHtml(ctx, words.heading, words.message);
      }
    }
  };
}

/** 405 naming the methods the path takes (`allow`, as in the `Allow` header the caller sets). */
export const methodNotAllowed = (ctx: { method: string }, allow: string) =>
  new AppError(
    'method_not_allowed',
    allow
      ? `${ctx.method.slice(0, 20)} is not allowed here: use ${allow}`
      : `${ctx.method.slice(0, 20)} is not allowed here`,
  );

/**
 * A client that aborted or reset its request before sending all of it: not a server error. Only
 * while the request is incomplete, so a database ECONNRESET during a whole request still counts.
 */
function clientWentAway(ctx: AppContext, raw: unknown): boolean {
  if ((raw as { type?: unknown } | null)?.type === 'request.aborted') return true;
  return !(raw instanceof AppError) && !ctx.req.complete && (ctx.req.destroyed || ctx.req.socket.destroyed);
}

function normaliseError(raw: unknown): AppError & { status: number } {
  if (raw instanceof AppError) return raw;
  const e = raw as { status?: number; type?: string; message?: string; expose?: boolean };
  if (e?.type === 'entity.too.large' || e?.status === 413)
    return new AppError('payload_too_large', 'The request body is too large');
  if (e?.type === 'entity.parse.failed' || (e?.status === 400 && /JSON|parse/i.test(String(e.message)))) {
    return new AppError('invalid_json', 'The request body is not valid JSON');
  }
  if (e?.status === 415) return new AppError('unsupported_media_type', 'Unsupported content type');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    const err = new AppError('bad_request', e.expose && e.message ? e.message : 'Bad request');
    return Object.assign(err, { status: e.status });
  }
  const err = new AppError('bad_request', 'Internal error; it has been logged');
  return Object.assign(err, { status: 500, code: 'internal_error' as never });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function errorPage(status: number, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} · Affix</title><link rel="stylesheet" href="/static/admin.css"></head><body class="error-page"><main class="narrow"><h1>${status}</h1><p>${escapeHtml(message)}</p><p><a href="/admin">Back to Affix</a></p></main></body></html>`;
}

/** Reads a bearer token or the session cookie and puts the user (or null) on ctx.state. */
export function authenticate() {
  return async (ctx: AppContext, next: Next) => {
    ctx.state.user = null;
    ctx.state.authVia = null;
    ctx.state.sessionId = null;
    const header = ctx.get('Authorization');
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw unauthorized('Authorization header must be "Bearer <token>"');
      const verified = match[1].startsWith(API_KEY_PREFIX)
        ? await ctx.services.apiKeys.verify(match[1])
        : await ctx.services.auth.verify(match[1], 'api');
      if (!verified) throw unauthorized('Invalid or expired token');
      ctx.state.user = verified.user;
      ctx.state.authVia = 'bearer';
    } else {
      const cookie = ctx.cookies.get(SESSION_COOKIE);
      if (cookie) {
        const verified = await ctx.services.auth.verify(cookie, 'session');
        if (verified) {
          ctx.state.user = verified.user;
          ctx.state.authVia = 'session';
          ctx.state.sessionId = verified.sessionId;
        } else {
          ctx.cookies.set(SESSION_COOKIE, null);
        }
      }
    }
    await next();
  };
}

/** Requires a signed-in user with one of `roles`: 401 without one, 403 with another role. */
export function requireRole(...roles: Role[]) {
  return async (ctx: AppContext, next: Next) => {
    const user = ctx.state.user;
    if (!user) {
      if (!wantsJson(ctx) && ctx.method === 'GET') {
        const area = roles.includes('affiliate') && !roles.includes('owner') ? '/portal/login' : '/admin/login';
        return ctx.redirect(`${area}?next=${encodeURIComponent(ctx.originalUrl)}`);
      }
      throw unauthorized();
    }
    if (!roles.includes(user.role)) throw forbidden(`This needs the role ${roles.join(' or ')}`);
    await next();
  };
}

const sameToken = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The pre-session cookie's name: `__Host-` under https, so no sibling subdomain can set it. */
export const csrfCookieName = (ctx: AppContext) => (ctx.secure ? `__Host-${CSRF_COOKIE}` : CSRF_COOKIE);

const csrfFailed = () =>
  new AppError('csrf_failed', 'The form has expired or did not come from Affix; reload the page and try again');

/**
 * The CSRF token this request's forms must repeat in `_csrf` (cookie-authenticated API writes in
 * `X-CSRF-Token`). Signed in, it is an HMAC of the session's id; signed out (sign-in, setup,
 * sign-up) an HMAC of a random HttpOnly pre-session cookie. Either way the token is not a value a
 * cookie carries, so a cookie planted from a sibling subdomain or over plain http forges nothing.
 */
function expectedCsrfToken(ctx: AppContext): string {
  if (ctx.state.sessionId) return ctx.services.auth.csrfToken(`session:${ctx.state.sessionId}`);
  const name = csrfCookieName(ctx);
  let id = ctx.cookies.get(name);
  if (!id || !/^[A-Za-z0-9_-]{32,64}$/.test(id)) {
    id = randomBytes(24).toString('base64url');
    ctx.cookies.set(name, id, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', overwrite: true });
  }
  return ctx.services.auth.csrfToken(`visitor:${id}`);
}

/**
 * CSRF protection for cookie-authenticated writes: the token bound to the session (above), and a
 * browser's `Sec-Fetch-Site: cross-site` is refused outright. Bearer-token API calls carry no
 * ambient credentials and are exempt.
 */
export function csrf() {
  return async (ctx: AppContext, next: Next) => {
    if (ctx.state.authVia === 'bearer') {
      ctx.state.csrfToken = '';
      return next();
    }
    const token = expectedCsrfToken(ctx);
    ctx.state.csrfToken = token;
    const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(ctx.method);
    if (unsafe && needsCsrf(ctx)) {
      if (ctx.get('Sec-Fetch-Site') === 'cross-site') throw csrfFailed();
      const body = ctx.request.body as Record<string, unknown> | undefined;
      const sent = (typeof body?._csrf === 'string' ? body._csrf : '') || ctx.get('X-CSRF-Token');
      if (!sent || !sameToken(sent, token)) throw csrfFailed();
    }
    await next();
  };
}

/** Strict-Transport-Security on answers served over https (directly or via a trusted proxy), never over http. */
export function hsts() {
  return (ctx: AppContext, next: Next) => {
    if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000');
    return next();
  };
}

/** Admin and portal pages always; API calls only when they ride on the session cookie. */
function needsCsrf(ctx: AppContext): boolean {
  if (ctx.path.startsWith('/admin') || ctx.path.startsWith('/portal')) return true;
  return ctx.path.startsWith('/api/') && ctx.state.authVia === 'session';
}
