import Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import { programmeRoutes } from './programme.js';
import { systemRoutes } from './system.js';
import { trackingApiRoutes } from './tracking.js';
import { reportRoutes } from './reports.js';
import { conversionRoutes } from './conversions.js';
import { commissionApiRoutes } from './commissions.js';
import { portalApiRoutes } from './portal.js';
import { outboxRoutes } from './outbox.js';
import { trafficRoutes } from './traffic.js';
import { passwordResetRoutes } from './password-reset.js';
import { apiKeyRoutes } from './api-keys.js';

/** The REST API of SPEC §9 under /api/v1. */
export function apiRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>({ prefix: '/api/v1' });
  systemRoutes(router);
  programmeRoutes(router);
  trackingApiRoutes(router);
  reportRoutes(router);
  conversionRoutes(router);
  commissionApiRoutes(router);
  portalApiRoutes(router);
  outboxRoutes(router);
  trafficRoutes(router);
  passwordResetRoutes(router);
  apiKeyRoutes(router);
  return router;
}
