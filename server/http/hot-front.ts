import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Next } from 'koa';
import type { AppContext, HttpServices } from './context.js';
import type { ProxyTrust } from '../config.js';
import { resolveTrust } from './client-ip.js';
import { LeanExchange, type LeanTrust } from './lean.js';
import { readTrackingBody, trackClick, trackingCorsHeaders, trackSale } from './tracking.js';
import { followLink } from './redirect.js';
import { runCampaignUrl } from './campaign-url.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** A hot path's handler: true when it answered, false to leave the request to the Koa stack. */
type HotRoute = (ex: LeanExchange) => Promise<boolean>;

/** One path segment of an alias's characters (SPEC §7.1): anything else goes through Koa's router. */
const ALIAS_PATH = /^\/[A-Za-z0-9_-]+$/;

/** An error a hot path met, handed to the Koa stack to answer (errorHandler's words and logging). */
const HANDED_OVER = Symbol('affix.handedOverError');
type HandedRequest = IncomingMessage & { [HANDED_OVER]?: unknown };

/**
 * The hottest tracking paths answered in front of the Koa stack (SPEC §12, §16): `POST /t/click`,
 * `/t/sale`, `/t/action`, `GET /r` and `GET /<alias>` run the same handlers as their Koa routes,
 * on a `LeanExchange` instead of Koa's context, middleware chain and router. Every other request,
 * a campaign alias no campaign has, and every error (so errorHandler answers it as always) go
 * to Koa.
 */
export function hotFront(services: HttpServices, trust: ProxyTrust): (koa: NodeHandler) => NodeHandler {
  const leanTrust: LeanTrust = { resolved: resolveTrust(trust), proxy: trust.kind !== 'none' };
  const cors = trackingCorsHeaders();
  const tracking =
    (handle: (ex: LeanExchange) => Promise<void>): HotRoute =>
    async (ex) => {
      cors(ex);
      ex.request.body = await readTrackingBody(ex.req);
      await handle(ex);
      return true;
    };
  const click = tracking(trackClick);
  const sale = tracking((ex) => trackSale(ex, 'sale'));
  const action = tracking((ex) => trackSale(ex, 'action'));
  const link: HotRoute = async (ex) => {
    await followLink(ex);
    return true;
  };
  const campaignUrl: HotRoute = (ex) => runCampaignUrl(ex, ex.path.slice(1));

  const routeOf = (method: string | undefined, path: string): HotRoute | null => {
    if (method === 'POST') {
      // A plugin's own endpoint at the same path would come first in the Koa stack.
      if (!path.startsWith('/t/') || services.plugins.resolveRoute(method, path)) return null;
      return path === '/t/click' ? click : path === '/t/sale' ? sale : path === '/t/action' ? action : null;
    }
    if (method !== 'GET') return null;
    if (path === '/r') return link;
    return ALIAS_PATH.test(path) ? campaignUrl : null;
  };

  return (koa) => {
    const serve = async (ex: LeanExchange, route: HotRoute) => {
      try {
        if (await route(ex)) return ex.respond();
      } catch (err) {
        if (ex.res.headersSent) {
          services.log.error({ err, path: ex.path }, 'request failed after its answer began');
          ex.res.destroy();
          return;
        }
        (ex.req as HandedRequest)[HANDED_OVER] = err;
      }
      koa(ex.req, ex.res);
    };
    return (req, res) => {
      const url = req.url ?? '';
      if (url.charCodeAt(0) !== 47 /* "/" */) return koa(req, res);
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const route = routeOf(req.method, path);
      if (!route) return koa(req, res);
      void serve(new LeanExchange(services, req, res, path, q === -1 ? '' : url.slice(q + 1), leanTrust), route);
    };
  };
}

/**
 * Right after errorHandler in the Koa stack: a request a hot path handed over with its error is
 * answered as if its Koa route had thrown it.
 */
export function handedOverErrors() {
  return (ctx: AppContext, next: Next) => {
    const req = ctx.req as HandedRequest;
    if (!(HANDED_OVER in req)) return next();
    const err = req[HANDED_OVER];
    delete req[HANDED_OVER];
    throw err;
  };
}
