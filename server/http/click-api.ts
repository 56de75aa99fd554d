import net from 'node:net';
import Router from '@koa/router';
import type { AppCustom, AppState } from './context.js';
import { firstValues } from './tracking.js';
import { AppError, fieldError } from '../errors.js';
import type { RunResult } from '../services/campaign-runner.js';
import { answerKClient } from './kclient.js';

/** Parameters of the Click API itself; everything else is passed to the campaign as its URL parameters. */
const OWN = new Set(['token', 'ip', 'user_agent', 'language', 'referrer', 'uniqueness_cookie', 'log']);

/**
 * GET /click_api/v3 (SPEC §7.7): runs a campaign for a visitor who reached the merchant's own
 * server and answers what to do with them as JSON, instead of redirecting.
 */
export function clickApiRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();
  router.get('/click_api/v3', async (ctx) => {
    const q = firstValues(ctx.query);
    const token = q.token ?? '';
    const snap = await ctx.services.cache.snapshot();
    // Resolved as its campaign URL is: a paused campaign runs the one parked on its domain (SPEC §7.1).
    const resolved = ctx.services.runner.resolveToken(snap, token);
    if (!resolved) throw new AppError('unauthorized', 'Unknown or missing campaign API token');
    // The visitor's address decides country, filters and uniqueness: a value that is not one is refused.
    if (q.ip && !net.isIP(q.ip)) throw fieldError('ip', 'must be the visitor’s IPv4 or IPv6 address');
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(q)) if (!OWN.has(k)) params[k] = v;
    const result: RunResult = resolved.campaign
      ? await ctx.services.runner.run(
          resolved.campaign,
          {
            ip: q.ip || ctx.ip,
            userAgent: q.user_agent ?? '',
            acceptLanguage: q.language ?? '',
            referrer: q.referrer ?? null,
            params,
            uniquenessCookie: q.uniqueness_cookie ?? null,
          },
          snap,
          resolved.log,
        )
      : {
          status: 404,
          location: null,
          body: null,
          type: 'not_found',
          subid: null,
          campaignId: resolved.named.id,
          flowId: null,
          uniquenessCookie: null,
          log: resolved.log,
        };
    const headers: string[] = [];
    if (result.status === 302 && result.location) headers.push(`Location: ${result.location}`);
    if (result.status === 404) headers.push('Status: 404 Not Found');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      info: {
        campaign_id: result.campaignId,
        flow_id: result.flowId,
        sub_id: result.subid,
        type: result.type,
        url: result.location,
        uniqueness_cookie: result.uniquenessCookie,
      },
      headers,
      ...(result.body !== null ? { body: result.body } : {}),
      ...(q.log === '1' || q.log === 'true' ? { log: result.log } : {}),
    };
  });
  // KClient's form POST (SPEC §14), at both paths its configurations use.
  router.post('/click_api/v3', answerKClient);
  router.post('/api.php', answerKClient);
  return router;
}
