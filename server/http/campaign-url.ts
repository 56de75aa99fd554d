import Router from '@koa/router';
import type { AppCustom, AppState } from './context.js';
import type { Exchange } from './lean.js';
import { firstValues } from './tracking.js';
import { answerNowhere, visitorWords } from './visitor-page.js';
import { RESERVED_ALIASES } from '../schemas/programme.js';
import { UNIQUENESS_COOKIE, type RunResult } from '../services/campaign-runner.js';

const RESERVED = new Set(RESERVED_ALIASES);

/** Turns a campaign run into the HTTP answer (redirect, text, empty page or 404) and sets the device cookie. */
export function answerRun(ctx: Exchange, result: RunResult): void {
  ctx.set('Cache-Control', 'no-store');
  if (result.uniquenessCookie) {
    ctx.cookies.set(UNIQUENESS_COOKIE, result.uniquenessCookie, {
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: 365 * 86_400_000,
      overwrite: true,
    });
  }
  if (result.status === 302 && result.location) {
    ctx.status = 302;
    ctx.set('Location', result.location);
    ctx.body = '';
    return;
  }
  if (result.status === 200) {
    ctx.status = 200;
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = result.body ?? '';
    return;
  }
  ctx.status = 404;
  ctx.type = 'html';
  ctx.body = `<!doctype html><title>Not found</title><h1>Not found</h1><p>There is nothing at this address.</p>`;
}

/** GET /lp/offer?subid=… — a landing page sends its visitor on to the offer, keeping the click (SPEC §7.2). */
export function landingOfferRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();
  router.get('/lp/offer', async (ctx) => {
    const subid = typeof ctx.query.subid === 'string' ? ctx.query.subid : '';
    const result = await ctx.services.landingOffers.offerFor(subid);
    if (!result) {
      answerNowhere(
        ctx,
        404,
        { code: 'not_found', message: 'Unknown subid: no click to send on to an offer' },
        visitorWords(404),
      );
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(result);
  });
  return router;
}

/** GET /<alias> — a traffic campaign URL (SPEC §7.1), chosen by the request's Host. */
export function campaignUrlRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();
  router.get('/:alias', async (ctx, next) => {
    if (!(await runCampaignUrl(ctx, ctx.params.alias ?? ''))) return next();
  });
  return router;
}

/**
 * Runs the campaign whose alias this is on the request's host and answers the visitor; false
 * (nothing answered) when there is no such campaign.
 */
export async function runCampaignUrl(ctx: Exchange, alias: string): Promise<boolean> {
  if (RESERVED.has(alias.toLowerCase())) return false;
  const services = ctx.services;
  const snap = await services.cache.snapshot();
  const { campaign, log } = services.runner.resolve(snap, ctx.host, alias);
  if (!campaign) return false;
  const result = await services.runner.run(
    campaign,
    {
      ip: ctx.ip,
      userAgent: ctx.get('User-Agent'),
      acceptLanguage: ctx.get('Accept-Language'),
      referrer: ctx.get('Referer') || null,
      params: firstValues(ctx.query),
      uniquenessCookie: ctx.cookies.get(UNIQUENESS_COOKIE) ?? null,
    },
    snap,
    log,
  );
  answerRun(ctx, result);
  return true;
}
