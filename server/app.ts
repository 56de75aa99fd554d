import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import helmet from 'koa-helmet';
import type { Services } from './container.js';
import type { AppCustom, AppState } from './http/context.js';
import { authenticate, csrf, errorHandler } from './http/middleware.js';
import { healthRouter } from './http/health.js';
import { apiRouter } from './http/api/index.js';
import { adminRouter } from './http/admin/index.js';
import { portalRouter } from './http/portal/index.js';
import { staticRouter } from './http/static.js';
import { trackingRouter, trackingCors } from './http/tracking.js';
import { redirectRouter } from './http/redirect.js';
import { snippetRouter } from './http/snippet.js';
import { campaignUrlRouter } from './http/campaign-url.js';
import { postbackRouter } from './http/postback.js';
import { clickApiRouter } from './http/click-api.js';
import { bypassCacheRouter } from './http/bypass-cache.js';
import { Views } from './http/views.js';

export interface AppOptions {
  views?: Views;
}

/** Builds the Koa app around wired services; no listen, so tests drive it in-process. */
export function createApp(services: Services, opts: AppOptions = {}): Koa<AppState, AppCustom> {
  const app = new Koa<AppState, AppCustom>({ proxy: services.config.trustProxy });
  app.context.services = services;
  const views = opts.views ?? new Views();
  app.silent = true;

  app.use(errorHandler());
  app.use(trackingCors());
  app.use(
    bodyParser({
      enableTypes: ['json', 'form', 'text'],
      jsonLimit: '100kb',
      formLimit: '100kb',
      textLimit: '100kb',
      jsonStrict: true,
    }),
  );
  // The hot tracking paths come first: no sessions, CSRF or page headers on them.
  for (const router of [trackingRouter(), redirectRouter(), postbackRouter(), clickApiRouter(), bypassCacheRouter()]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  app.use(snippetRouter().routes());
  // Campaign URLs are a hot path too; reserved paths (admin, api, …) fall through.
  app.use(campaignUrlRouter().routes());
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
      hsts: false,
    }),
  );
  app.use(authenticate());
  app.use(csrf());

  for (const router of [healthRouter(), staticRouter(), apiRouter(), adminRouter(views), portalRouter(views)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
