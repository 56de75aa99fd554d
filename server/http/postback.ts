import Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from './context.js';
import { firstValues } from './tracking.js';
import { URL_LENGTH, clip } from '../domain/limits.js';

/** Query parameters plus a form or JSON body (POST), as plain strings. */
function postbackParams(ctx: AppContext): Record<string, string> {
  const params = firstValues(ctx.query);
  const body = ctx.request.body;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v === 'string' || typeof v === 'number') params[k] ??= clip(String(v), URL_LENGTH);
    }
  }
  return params;
}

/** GET|POST /postback/<postbackKey> — conversions from networks (SPEC §7.5). */
export function postbackRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();
  const handle = async (ctx: AppContext) => {
    const services = ctx.services;
    services.conversions.checkKey(
      String((ctx as AppContext & { params: Record<string, string> }).params.key ?? ''),
      services.settings.get().postbackKey,
    );
    const result = await services.conversions.record(postbackParams(ctx));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = result;
  };
  router.get('/postback/:key', handle);
  router.post('/postback/:key', handle);
  return router;
}
