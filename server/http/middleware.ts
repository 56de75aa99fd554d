import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Next } from 'koa';
import type { AppContext } from './context.js';
import { AppError, forbidden, unauthorized } from '../errors.js';
import type { Role } from '../services/actor.js';

export const SESSION_COOKIE = 'affix_session';
export const CSRF_COOKIE = 'affix_csrf';
export const FLASH_COOKIE = 'affix_flash';

/** Is this request for a JSON client (API, tracking) rather than a person's browser page? */
export const wantsJson = (ctx: AppContext) =>
  ctx.path.startsWith('/api/') ||
  ctx.path.startsWith('/t/') ||
  ctx.path.startsWith('/postback/') ||
  ctx.path.startsWith('/click_api/') ||
  ctx.path === '/lp/offer' ||
  ctx.path === '/healthz';

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
    } catch (raw) {
      const err = normaliseError(raw);
      if (err.status >= 500) ctx.services.log.error({ err: raw, path: ctx.path, method: ctx.method }, 'request failed');
      ctx.status = err.status;
      if (err.code === 'too_many_requests' && err.details && 'retryAfterSeconds' in err.details) {
        ctx.set('Retry-After', String(err.details.retryAfterSeconds));
      }
      const body = {
        error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
      };
      if (wantsJson(ctx) || ctx.accepts('html', 'json') === 'json') {
        ctx.body = body;
      } else {
        ctx.type = 'html';
        ctx.body = errorPage(err.status, err.message);
      }
    }
  };
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
    const header = ctx.get('Authorization');
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw unauthorized('Authorization header must be "Bearer <token>"');
      const user = await ctx.services.auth.verify(match[1], 'api');
      if (!user) throw unauthorized('Invalid or expired token');
      ctx.state.user = user;
      ctx.state.authVia = 'bearer';
    } else {
      const cookie = ctx.cookies.get(SESSION_COOKIE);
      if (cookie) {
        const user = await ctx.services.auth.verify(cookie, 'session');
        if (user) {
          ctx.state.user = user;
          ctx.state.authVia = 'session';
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

/**
 * CSRF protection by double submit: a random token in an HttpOnly SameSite=Lax cookie that
 * every form repeats in `_csrf` (and cookie-authenticated API writes in `X-CSRF-Token`).
 * A cross-site page can neither read the cookie nor set it, so it cannot forge the pair.
 * Bearer-token API calls carry no ambient credentials and are exempt.
 */
export function csrf() {
  return async (ctx: AppContext, next: Next) => {
    let token = ctx.cookies.get(CSRF_COOKIE);
    if (!token || !/^[A-Za-z0-9_-]{32,64}$/.test(token)) {
      token = randomBytes(24).toString('base64url');
      ctx.cookies.set(CSRF_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, overwrite: true });
    }
    ctx.state.csrfToken = token;
    const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(ctx.method);
    if (unsafe && ctx.state.authVia !== 'bearer' && needsCsrf(ctx)) {
      const body = ctx.request.body as Record<string, unknown> | undefined;
      const sent = (typeof body?._csrf === 'string' ? body._csrf : '') || ctx.get('X-CSRF-Token');
      if (!sent || !sameToken(sent, token))
        throw new AppError(
          'csrf_failed',
          'The form has expired or did not come from Affix; reload the page and try again',
        );
    }
    await next();
  };
}

/** Admin and portal pages always; API calls only when they ride on the session cookie. */
function needsCsrf(ctx: AppContext): boolean {
  if (ctx.path.startsWith('/admin') || ctx.path.startsWith('/portal')) return true;
  return ctx.path.startsWith('/api/') && ctx.state.authVia === 'session';
}
