import Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from './context.js';
import { UNIQUENESS_COOKIE } from '../services/campaign-runner.js';
import type { FreshClickAnswer } from '../services/bypass-cache.js';
import { AppError, fieldError } from '../errors.js';

/*
 * GET /t/fresh-click?subid=<_subid>&ts=<_ts> (SPEC §7.8): the snippet of a bypass-cache landing
 * page asks whether the page came from a cache; the rule and the fresh click are BypassCache's
 * (server/services/bypass-cache.ts). A malformed subid is a 422; like every tracking endpoint,
 * it never answers 500 to a browser.
 */

const SUBID = /^[A-Za-z0-9_-]{8,32}$/;

async function freshClick(ctx: AppContext): Promise<FreshClickAnswer> {
  const subid = typeof ctx.query.subid === 'string' ? ctx.query.subid : '';
  if (!SUBID.test(subid)) throw fieldError('subid', 'must be the subid of a click');
  const ts = typeof ctx.query.ts === 'string' && /^\d{1,15}$/.test(ctx.query.ts) ? Number(ctx.query.ts) : null;
  return ctx.services.bypassCache.freshClick(subid, ts, {
    ip: ctx.ip,
    userAgent: ctx.get('User-Agent'),
    acceptLanguage: ctx.get('Accept-Language'),
    uniquenessCookie: () => ctx.cookies.get(UNIQUENESS_COOKIE) ?? null,
  });
}

/** GET /t/fresh-click (see above); CORS comes from `trackingCors` (every /t/ path). */
export function bypassCacheRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();
  router.get('/t/fresh-click', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    let answer: FreshClickAnswer;
    try {
      answer = await freshClick(ctx);
    } catch (err) {
      // A bad or unknown subid is a 4xx JSON error; anything else never becomes a 500 for a
      // browser: the page simply stays as it is.
      if (err instanceof AppError) throw err;
      ctx.services.log.error({ err }, 'bypass cache: fresh click failed');
      answer = { cached: null, age: null, subid: null, url: null, reason: 'internal error; it has been logged' };
    }
    ctx.body = answer;
  });
  return router;
}
