import Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import { programmeRoutes } from './programme.js';
import { systemRoutes } from './system.js';
import { trackingApiRoutes } from './tracking.js';

/** The REST API of SPEC §9 under /api/v1. */
export function apiRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>({ prefix: '/api/v1' });
  systemRoutes(router);
  programmeRoutes(router);
  trackingApiRoutes(router);
  return router;
}
