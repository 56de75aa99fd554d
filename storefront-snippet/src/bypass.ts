/// <reference lib="dom" />
import { config } from './config.js';
import { urlParam } from './visitor.js';

/*
 * Bypass cache (SPEC §7.8; server/http/bypass-cache.ts). A campaign with bypass cache sends
 * visitors to its landing page with `_subid` (the click) and `_ts` (its issue time by the
 * tracker's clock). On load the snippet reports both to GET /t/fresh-click; the tracker answers
 * with a fresh click's URL when the subid is more than three minutes old (the page came from a
 * cache), and the page is reloaded there once. A page that is itself such a reload (`_rl`) is not
 * checked again, so it can never loop. Every failure leaves the page as it is.
 */

/** The subid of this landing page: the bypass-cache parameter, else a `subid` parameter. */
export const pageSubid = (): string | null => urlParam('_subid') || urlParam('subid');

export function bypassCache(): void {
  const subid = urlParam('_subid');
  if (!subid || urlParam('_rl')) return;
  fetch(
    config.endpoint +
      '/t/fresh-click?subid=' +
      encodeURIComponent(subid) +
      '&ts=' +
      encodeURIComponent(urlParam('_ts') || ''),
    {
      cache: 'no-store',
    },
  )
    .then((r) => (r.ok ? r.json() : null))
    .then((a) => {
      if (a && a.subid !== subid && typeof a.url === 'string' && /^https?:\/\//.test(a.url)) location.replace(a.url);
    })
    .catch(() => {});
}
