import Router from '@koa/router';
import { createHash } from 'node:crypto';
import type { AppCustom, AppState } from './context.js';
import { renderSnippet, snippetCode, snippetConfig } from '../services/snippet-build.js';
import { originOf } from '../services/snippet-seen.js';

/** The origin of the `siteUrl` setting, memoised: the snippet asks on every load. */
let lastSiteUrl: string | null = null;
let lastStoreOrigin: string | null = null;
function storeOrigin(siteUrl: string | null): string | null {
  if (siteUrl !== lastSiteUrl) {
    lastSiteUrl = siteUrl;
    lastStoreOrigin = originOf(siteUrl ?? undefined);
  }
  return lastStoreOrigin;
}

interface Rendered {
  body: string;
  etag: string;
}

/** Rendered snippets by configuration; a handful of hosts at most, so a small map suffices. */
const MAX_RENDERED = 16;

/**
 * GET /snippet.js (SPEC §4.1): the built snippet with the settings and the tracker origin baked
 * in. Cached by browsers for five minutes and revalidated by an ETag that changes with the text.
 */
export function snippetRouter(): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();
  const rendered = new Map<string, Rendered>();

  router.get('/snippet.js', async (ctx) => {
    const code = await snippetCode();
    // "Tracking installed" (SPEC §13): memory only here; written at most every few seconds.
    ctx.services.snippetSeen.seen(ctx.get('Referer') || undefined, storeOrigin(ctx.services.settings.get().siteUrl));
    // Koa 3's ctx.origin is the Origin request header, not this server's origin: build it here.
    const config = snippetConfig(
      ctx.services.settings.get(),
      ctx.services.config.publicUrl ?? `${ctx.protocol}://${ctx.host}`,
    );
    const key = JSON.stringify(config);
    let snippet = rendered.get(key);
    if (!snippet) {
      const body = renderSnippet(code, config);
      snippet = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
      if (rendered.size >= MAX_RENDERED) rendered.clear();
      rendered.set(key, snippet);
    }
    // Any storefront may load it; it carries no secrets.
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = 'text/javascript';
    ctx.etag = snippet.etag;
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = snippet.body;
  });
  return router;
}
