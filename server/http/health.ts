import Router from '@koa/router';
import type { AppCustom, AppState } from './context.js';

/** GET /healthz: 200 when the database answers, 503 when it does not (SPEC §11). */
export function healthRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();
  router.get('/healthz', async (ctx) => {
    try {
      await ctx.services.health.database();
      ctx.body = { status: 'ok' };
    } catch (err) {
      ctx.services.log.error({ err }, 'health check: database unreachable');
      ctx.status = 503;
      ctx.body = {
        status: 'unavailable',
        error: { code: 'database_unavailable', message: 'The database does not answer' },
      };
    }
  });
  return router;
}
