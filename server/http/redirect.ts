import Router from '@koa/router';
import type { AppCustom, AppState } from './context.js';
import type { Exchange } from './lean.js';
import { cookieVisitor, deviceVisitorId, firstValues, setVisitorCookie } from './tracking.js';
import { answerNowhere } from './visitor-page.js';
import { URL_LENGTH, clip } from '../domain/limits.js';
import { linkDestination, withLinkParams } from '../domain/destinations.js';

/** GET /r — the affiliate redirect link (SPEC §4.2); where it leads is domain/destinations.ts. */
export function redirectRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();
  router.get('/r', followLink);
  return router;
}

/** GET /r: records the click and sends the visitor on to the banner's, campaign's or store's URL. */
export async function followLink(ctx: Exchange): Promise<void> {
  const params = firstValues(ctx.query);
  const gdpr = ctx.services.settings.get().gdprMode;
  const result = await ctx.services.tracking.click({
    params,
    url: clip(ctx.href, URL_LENGTH),
    visitorId: cookieVisitor(ctx),
    fallbackVisitorId: gdpr ? deviceVisitorId(ctx) : null,
    ip: ctx.ip,
    userAgent: ctx.get('User-Agent'),
    referrer: ctx.get('Referer') || null,
    source: 'redirect',
  });
  if (!gdpr) setVisitorCookie(ctx, result.visitorId);
  const snap = await ctx.services.cache.snapshot();
  const banner = result.bannerId ? snap.banners.get(result.bannerId) : undefined;
  const destination = linkDestination({
    banner: banner?.destinationUrl,
    campaign: snap.campaigns.get(result.campaignId)?.destinationUrl,
    siteUrl: snap.settings.siteUrl,
  });
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Referrer-Policy', 'no-referrer-when-downgrade');
  if (!destination) {
    answerNowhere(
      ctx,
      404,
      {
        code: 'no_destination',
        message:
          "This link has no destination: set the banner's or campaign's destination URL, or the site URL setting",
      },
      { heading: 'This link has nowhere to go yet', message: 'The shop has not set where this link leads.' },
    );
    return;
  }
  ctx.redirect(withLinkParams(destination, params, result.visitorId));
}
