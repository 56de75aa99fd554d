import type { AppContext } from '../context.js';

/** This list page's own URL with `format=csv`: the export keeps the page's filters, not its page number. */
export function csvLink(ctx: AppContext): string {
  const params = new URLSearchParams(ctx.querystring);
  params.delete('page');
  params.delete('perPage');
  params.set('format', 'csv');
  return `${ctx.path}?${params.toString()}`;
}
