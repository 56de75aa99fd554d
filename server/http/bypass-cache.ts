import Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from './context.js';
import type { ConfigSnapshot } from '../services/config-cache.js';
import { UNIQUENESS_COOKIE, BYPASS_MAX_AGE_MS, appendQuery, type RunResult } from '../services/campaign-runner.js';
import { parseJson } from '../store/rows.js';
import { AppError, fieldError } from '../errors.js';

/*
 * Bypass cache (SPEC §7.8). A campaign with `bypassCache` on sends visitors to its landing pages
 * with `_subid=<subid>&_ts=<issue time, tracker clock, unix ms>` appended (CampaignRunner). The
 * snippet on the landing page (storefront-snippet/src/bypass.ts) asks
 *
 *   GET /t/fresh-click?subid=<_subid>&ts=<_ts>
 *
 * and the tracker decides by its own clock (the visitor's clock plays no part):
 * - the subid is at most three minutes old → `{ cached: false, age, subid, url: null }`;
 * - older → the page came from a cache (or a stale copy of the URL): the old click's campaign is
 *   run again server-side — the Click API without its token, with the old click's URL parameters
 *   rebuilt from what the click stored — and the answer is `{ cached: true, age, subid: <new>,
 *   url: <new landing URL> }`; the snippet reloads the page there with `location.replace`.
 * A landing URL answered here also carries `_rl=1`: the snippet never checks a page that already
 * is the result of a reload, so a page reloads at most once.
 *
 * `ts` only lets a young page be answered without a database read; whether a page is stale is
 * decided by the stored click's time. Nothing is reloaded when the subid is unknown (404; e.g. a
 * flow that does not collect clicks), malformed (422), or the campaign is gone, paused or has
 * bypass cache turned off. Like every tracking endpoint, it never answers 500 to a browser.
 */

/** Marks a landing URL that is itself the reload of a cached page. */
export const BYPASS_RELOAD_PARAM = '_rl';

const SUBID = /^[A-Za-z0-9_-]{8,32}$/;

interface ClickRow {
  at: number | string;
  campaign_id: number;
  affiliate_id: number | null;
  channel: string | null;
  data1: string | null;
  data2: string | null;
  referrer: string | null;
  sub_ids: string | null;
  external_id: string | null;
}

export interface FreshClickAnswer {
  /** Whether the subid was older than three minutes (null: it could not be checked). */
  cached: boolean | null;
  /** Age of the reported subid in ms by the tracker's clock (null when unknown). */
  age: number | null;
  /** The subid the page should carry: the new one after a fresh click, else the one reported. */
  subid: string | null;
  /** Where to reload: the fresh click's URL; null = keep the page. */
  url: string | null;
  reason?: string;
}

/**
 * The campaign URL parameters of a stored click, rebuilt through the campaign's source template
 * and the configured parameter names: sub ids, external id, affiliate, channel, data1/data2.
 * The cost parameter is not repeated: the fresh click costs what the campaign's model says.
 */
export function paramsOfClick(click: ClickRow, snap: ConfigSnapshot, sourceId: number | null): Record<string, string> {
  const params: Record<string, string> = {};
  const source = sourceId ? snap.sources.get(sourceId) : undefined;
  const names = snap.settings.urlParams;
  const subIds = parseJson<Record<string, string>>(click.sub_ids, {});
  for (let n = 1; n <= 15; n++) {
    const key = `sub_id_${n}`;
    const value = subIds[key];
    if (typeof value === 'string') params[source?.params[key] ?? key] = value;
  }
  if (click.external_id) params[source?.params.external_id ?? 'external_id'] = click.external_id;
  if (click.affiliate_id !== null) params[names.affiliate] = String(click.affiliate_id);
  if (click.channel) params[names.channel] = click.channel;
  if (click.data1) params[names.data1] = click.data1;
  if (click.data2) params[names.data2] = click.data2;
  return params;
}

async function freshClick(ctx: AppContext): Promise<FreshClickAnswer> {
  const services = ctx.services;
  const subid = typeof ctx.query.subid === 'string' ? ctx.query.subid : '';
  if (!SUBID.test(subid)) throw fieldError('subid', 'must be the subid of a click');
  const now = services.clock();
  const ts = typeof ctx.query.ts === 'string' && /^\d{1,15}$/.test(ctx.query.ts) ? Number(ctx.query.ts) : null;
  // Young by the issue time the tracker itself put on the URL: no database read needed.
  if (ts !== null && ts <= now && now - ts <= BYPASS_MAX_AGE_MS)
    return { cached: false, age: now - ts, subid, url: null };

  const click = (await services
    .db('clicks')
    .where({ click_id: subid, source: 'campaign' })
    .first('at', 'campaign_id', 'affiliate_id', 'channel', 'data1', 'data2', 'referrer', 'sub_ids', 'external_id')) as
    ClickRow | undefined;
  if (!click) throw new AppError('not_found', 'Unknown subid: no click of a campaign URL has it');
  const age = now - Number(click.at);
  if (age <= BYPASS_MAX_AGE_MS) return { cached: false, age, subid, url: null };

  const snap = await services.cache.snapshot();
  const campaign = snap.campaigns.get(click.campaign_id);
  if (!campaign || campaign.archived || !campaign.bypassCache)
    return { cached: true, age, subid, url: null, reason: 'bypass cache is off for this campaign' };
  if (campaign.status !== 'active') return { cached: true, age, subid, url: null, reason: 'the campaign is paused' };

  const result: RunResult = await services.runner.run(
    campaign,
    {
      ip: ctx.ip,
      userAgent: ctx.get('User-Agent'),
      acceptLanguage: ctx.get('Accept-Language'),
      referrer: click.referrer,
      params: paramsOfClick(click, snap, campaign.sourceId),
      uniquenessCookie: ctx.cookies.get(UNIQUENESS_COOKIE) ?? null,
    },
    snap,
    [`bypass cache: subid ${subid} is ${Math.round(age / 1000)} s old; fresh click`],
  );
  if (result.status !== 302 || !result.location || !result.subid)
    return { cached: true, age, subid, url: null, reason: `the campaign answers ${result.type}` };
  services.log.debug({ old: subid, subid: result.subid }, 'bypass cache: fresh click');
  const url = result.type === 'landing' ? appendQuery(result.location, [[BYPASS_RELOAD_PARAM, '1']]) : result.location;
  return { cached: true, age, subid: result.subid, url };
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
