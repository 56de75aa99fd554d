import type { Exchange } from './lean.js';

/*
 * A shopper who follows a tracking link that leads nowhere (SPEC §13: a visitor is never shown
 * JSON) gets a small page linking to the store (`siteUrl`), else to the tracker's own home page.
 * A client that asks for JSON (an integration, a test) still gets the JSON error.
 */

/** True when the client prefers JSON to a page (Accept: application/json). */
export const prefersJson = (ctx: Pick<Exchange, 'accepts'>) => ctx.accepts('html', 'json') === 'json';

/** Paths people reach through the admin or the portal: their errors have their own page. */
export const isStaffPath = (path: string) =>
  path === '/admin' || path.startsWith('/admin/') || path === '/portal' || path.startsWith('/portal/');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Where "continue" leads: the store, else the tracker's home page. */
function home(ctx: Pick<Exchange, 'services'>): { href: string; label: string } {
  const siteUrl = ctx.services.settings.get().siteUrl;
  if (!siteUrl) return { href: '/', label: 'Go to the home page' };
  let host = siteUrl;
  try {
    host = new URL(siteUrl).host;
  } catch {
    /* the setting is validated; keep the text */
  }
  return { href: siteUrl, label: `Continue to ${host}` };
}

export function visitorPageHtml(ctx: Pick<Exchange, 'services'>, heading: string, message: string): string {
  const link = home(ctx);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(heading)}</title><link rel="stylesheet" href="/static/admin.css"></head><body class="error-page"><main class="narrow"><h1>${escapeHtml(heading)}</h1><p>${escapeHtml(message)}</p><p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p></main></body></html>`;
}

/**
 * Answers a link that leads nowhere: the JSON error to a JSON client, else the visitor page with
 * words for a person (the JSON message speaks to the merchant's integration).
 */
export function answerNowhere(
  ctx: Exchange,
  status: number,
  error: { code: string; message: string },
  visitor: { heading: string; message: string },
): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  if (prefersJson(ctx)) {
    ctx.body = { error };
    return;
  }
  ctx.type = 'html';
  ctx.body = visitorPageHtml(ctx, visitor.heading, visitor.message);
}

/** The words a visitor reads for an error status on a tracking path. */
export function visitorWords(status: number): { heading: string; message: string } {
  if (status === 404) return { heading: 'Nothing here', message: 'This link does not lead anywhere (any more).' };
  if (status >= 500)
    return { heading: 'Something went wrong', message: 'This link could not be followed just now. Please try again.' };
  return { heading: 'This link cannot be followed', message: 'The link is not complete or not valid.' };
}
