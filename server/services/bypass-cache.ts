import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ConfigCache, ConfigSnapshot } from './config-cache.js';
import { BYPASS_MAX_AGE_MS, appendQuery, type CampaignRunner, type RunResult } from './campaign-runner.js';
import { campaignClickOfSubid, type ReloadableClick } from '../store/clicks.js';
import { parseJson } from '../store/rows.js';
import { AppError } from '../errors.js';

/*
 * Bypass cache (SPEC §7.8). A campaign with `bypassCache` on sends visitors to its landing pages
 * with `_subid=<subid>&_ts=<issue time, tracker clock, unix ms>` appended (CampaignRunner). The
 * snippet on the landing page (storefront-snippet/src/bypass.ts) asks `GET /t/fresh-click`
 * (server/http/bypass-cache.ts), and the tracker decides by its own clock (the visitor's clock
 * plays no part):
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
 * flow that does not collect clicks), or the campaign is gone, paused or has bypass cache turned off.
 */

/** Marks a landing URL that is itself the reload of a cached page. */
export const BYPASS_RELOAD_PARAM = '_rl';

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

/** The visitor asking, as a fresh click needs them. */
export interface FreshClickVisitor {
  ip: string;
  userAgent: string;
  acceptLanguage: string;
  /** Read only when a fresh click is run. */
  uniquenessCookie: () => string | null;
}

/**
 * The campaign URL parameters of a stored click, rebuilt through the campaign's source template
 * and the configured parameter names: sub ids, external id, affiliate, channel, data1/data2.
 * The cost parameter is not repeated: the fresh click costs what the campaign's model says.
 */
export function paramsOfClick(
  click: ReloadableClick,
  snap: ConfigSnapshot,
  sourceId: number | null,
): Record<string, string> {
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

export class BypassCache {
  constructor(
    private readonly db: Knex,
    private readonly cache: ConfigCache,
    private readonly runner: CampaignRunner,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Whether the page of `subid` (issued at `ts` by the URL, when given) came from a cache, and
   * where to reload it. 404 (AppError) when no campaign-URL click has the subid.
   */
  async freshClick(subid: string, ts: number | null, visitor: FreshClickVisitor): Promise<FreshClickAnswer> {
    const now = this.clock();
    // Young by the issue time the tracker itself put on the URL: no database read needed.
    if (ts !== null && ts <= now && now - ts <= BYPASS_MAX_AGE_MS)
      return { cached: false, age: now - ts, subid, url: null };

    const click = await campaignClickOfSubid(this.db, subid);
    if (!click) throw new AppError('not_found', 'Unknown subid: no click of a campaign URL has it');
    const age = now - Number(click.at);
    if (age <= BYPASS_MAX_AGE_MS) return { cached: false, age, subid, url: null };

    const snap = await this.cache.snapshot();
    const campaign = snap.campaigns.get(click.campaign_id);
    if (!campaign || campaign.archived || !campaign.bypassCache)
      return { cached: true, age, subid, url: null, reason: 'bypass cache is off for this campaign' };
    if (campaign.status !== 'active') return { cached: true, age, subid, url: null, reason: 'the campaign is paused' };

    const result: RunResult = await this.runner.run(
      campaign,
      {
        ip: visitor.ip,
        userAgent: visitor.userAgent,
        acceptLanguage: visitor.acceptLanguage,
        referrer: click.referrer,
        params: paramsOfClick(click, snap, campaign.sourceId),
        uniquenessCookie: visitor.uniquenessCookie(),
      },
      snap,
      [`bypass cache: subid ${subid} is ${Math.round(age / 1000)} s old; fresh click`],
    );
    if (result.status !== 302 || !result.location || !result.subid)
      return { cached: true, age, subid, url: null, reason: `the campaign answers ${result.type}` };
    this.log.debug({ old: subid, subid: result.subid }, 'bypass cache: fresh click');
    const url =
      result.type === 'landing' ? appendQuery(result.location, [[BYPASS_RELOAD_PARAM, '1']]) : result.location;
    return { cached: true, age, subid: result.subid, url };
  }
}
