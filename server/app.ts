import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import helmet from 'koa-helmet';
import type { Services } from './container.js';
import type { Next } from 'koa';
import type { AppContext, AppCustom, AppState, HttpServices } from './http/context.js';
import { portalService } from './services/portal.js';
import { authenticate, csrf, errorHandler, hsts } from './http/middleware.js';
import { healthRouter } from './http/health.js';
import { apiRouter } from './http/api/index.js';
import { adminRouter } from './http/admin/index.js';
import { portalRouter } from './http/portal/index.js';
import { staticRouter } from './http/static.js';
import { trackingRouter, trackingCors, trackingBody } from './http/tracking.js';
import { redirectRouter } from './http/redirect.js';
import { snippetRouter } from './http/snippet.js';
import { campaignUrlRouter, landingOfferRouter } from './http/campaign-url.js';
import { postbackRouter } from './http/postback.js';
import { clickApiRouter } from './http/click-api.js';
import { bypassCacheRouter } from './http/bypass-cache.js';
import { Views } from './http/views.js';
import { clientIp } from './http/client-ip.js';
import { pluginRoutes } from './http/plugin-routes.js';
import { handedOverErrors, hotFront, type NodeHandler } from './http/hot-front.js';

export interface AppOptions {
  views?: Views;
}

/**
 * The services routes see: the wired ones (read through, never copied), with the database handle
 * hidden by the type, and the affiliate portal's service made from them once per app.
 */
export function routeServices(services: Services): HttpServices {
  return Object.create(services, {
    portal: { get: () => portalService(services), enumerable: true },
  }) as HttpServices;
}

/**
 * The Koa app behind the hot front: every server made of it (`listen`, `app.callback()` in the
 * tests) answers the hottest tracking paths without the Koa stack (hot-front.ts).
 */
class AffixApp extends Koa<AppState, AppCustom> {
  constructor(
    options: { proxy: boolean },
    private readonly front: (koa: NodeHandler) => NodeHandler,
  ) {
    super(options);
  }

  override callback(): ReturnType<Koa['callback']> {
    return this.front(super.callback() as NodeHandler) as ReturnType<Koa['callback']>;
  }
}

/** Builds the Koa app around wired services; no listen, so tests drive it in-process. */
export function createApp(services: Services, opts: AppOptions = {}): Koa<AppState, AppCustom> {
  const httpServices = routeServices(services);
  // Koa reads X-Forwarded-Proto/Host only when a proxy is trusted; clientIp() drops them from other peers.
  const app = new AffixApp(
    { proxy: services.config.trustProxy.kind !== 'none' },
    hotFront(httpServices, services.config.trustProxy),
  );
  app.context.services = httpServices;
  const views = opts.views ?? new Views();
  app.silent = true;

  app.use(clientIp(services.config.trustProxy));
  app.use(errorHandler());
  // An error a hot path met in front of this stack is answered here as any other.
  app.use(handedOverErrors());
  // Before any body parser: plugin endpoints (store webhooks) verify signatures on the raw body.
  app.use(pluginRoutes());
  app.use(trackingCors());
  app.use(trackingBody());
  app.use(
    bodyParser({
      // DELETE too, so a body sent with one is read and refused by name (SPEC §10a), not ignored.
      parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
      enableTypes: ['json', 'form', 'text'],
      jsonLimit: '100kb',
      formLimit: '100kb',
      textLimit: '100kb',
      jsonStrict: true,
    }),
  );
  // The hot tracking paths come first: no sessions, CSRF or page headers on them.
  // The hottest paths go straight to their router instead of being matched against every router
  // in turn; whatever a router does not answer falls through to the rest of the chain.
  type Handler = (ctx: AppContext, next: Next) => unknown;
  const tracking = trackingRouter().routes() as unknown as Handler;
  const redirect = redirectRouter().routes() as unknown as Handler;
  const campaignUrls = campaignUrlRouter().routes() as unknown as Handler;
  app.use((ctx, next) => {
    const path = ctx.path;
    if (path.startsWith('/t/')) return tracking(ctx, next);
    if (path === '/r') return redirect(ctx, next);
    // One path segment: a campaign alias (reserved paths such as /admin fall through).
    if (path.length > 1 && path.indexOf('/', 1) === -1) return campaignUrls(ctx, next);
    return next();
  });
  for (const router of [postbackRouter(), clickApiRouter(), bypassCacheRouter(), landingOfferRouter()]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  app.use(snippetRouter().routes());
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', 'https:'],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: null,
        },
      },
      // Tracking endpoints are called from the merchant's storefront on another origin.
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      // Sent by hsts() below, and only over https: helmet would send it over plain http too.
      hsts: false,
    }),
  );
  app.use(hsts());
  app.use(authenticate());
  app.use(csrf());

  for (const router of [healthRouter(), staticRouter(), apiRouter(), adminRouter(views), portalRouter(views)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
