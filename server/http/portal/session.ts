import type { AppContext, AppRouterContext } from '../context.js';
import type { Views } from '../views.js';
import { SESSION_COOKIE } from '../middleware.js';
import { flash, render } from '../admin/render.js';
import { forbidden, unauthorized } from '../../errors.js';
import { SESSION_TTL_SECONDS, type AuthUser } from '../../services/auth.js';
import type { Affiliate } from '../../store/affiliates.js';

/** Signs the account in: the same session cookie as the admin (one account per browser). */
export function startSession(ctx: AppContext, user: AuthUser): void {
  ctx.cookies.set(SESSION_COOKIE, ctx.services.auth.sign(user, 'session'), {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    maxAge: SESSION_TTL_SECONDS * 1000,
    overwrite: true,
  });
}

/** Only portal paths are followed after sign-in (no open redirect, no bounce into the admin). */
export const safeNext = (next: unknown) =>
  typeof next === 'string' && /^\/portal(?:[/?#]|$)/.test(next) ? next : '/portal';

/** Renders a portal page in the portal layout (`bare`: the narrow sign-in layout). */
export function renderPortal(ctx: AppContext, views: Views, page: string, data: Record<string, unknown> = {}): void {
  render(ctx, views, page, data, 'portal');
}

/** Where links point: PUBLIC_URL when configured, else the origin this request came to. */
export const trackerOrigin = (ctx: AppContext) => ctx.services.config.publicUrl ?? `${ctx.protocol}://${ctx.host}`;

export type PortalHandler = (ctx: AppRouterContext, affiliate: Affiliate, user: AuthUser) => Promise<void> | void;

/**
 * A page of the signed-in affiliate. Anyone else (nobody, or a merchant account) is sent to
 * the portal sign-in; an affiliate that is not approved sees only where its application stands.
 * Handlers receive the affiliate loaded from the session's account, never from the request.
 */
export function portalPage(views: Views, handler: PortalHandler) {
  return async (ctx: AppRouterContext): Promise<void> => {
    const user = ctx.state.user;
    if (!user || user.role !== 'affiliate' || user.affiliateId === null) {
      if (ctx.method === 'GET' || ctx.method === 'HEAD')
        return ctx.redirect(`/portal/login?next=${encodeURIComponent(ctx.originalUrl)}`);
      throw user
        ? forbidden('The affiliate portal needs an affiliate account')
        : unauthorized('Sign in to the affiliate portal first');
    }
    const affiliate = await ctx.services.portal.affiliateOf(user.affiliateId);
    if (!affiliate) {
      ctx.cookies.set(SESSION_COOKIE, null);
      flash(ctx, 'error', 'Your affiliate account no longer exists.');
      return ctx.redirect('/portal/login');
    }
    if (affiliate.status !== 'approved' || affiliate.archived) {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') ctx.status = 403;
      return renderPortal(ctx, views, 'portal/waiting', {
        title: affiliate.status === 'pending' ? 'Waiting for approval' : 'Account not active',
        affiliate,
        pending: affiliate.status === 'pending' && !affiliate.archived,
        // Only promise a mail that will be sent.
        mailOn: await ctx.services.mail.willSend('affiliate.approved'),
      });
    }
    await handler(ctx, affiliate, user);
  };
}
