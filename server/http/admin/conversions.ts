import type Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render } from './render.js';
import { pageLinks, pageOf } from './form-values.js';
import { CONVERSION_STATUSES, conversionFilters, conversionQuery } from '../api/conversions.js';
import { formatMoney } from '../../domain/money.js';

/** The Conversions log (SPEC §15): postback conversions with their click, flow, status and amounts. */
export function conversionPages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/conversions', async (ctx) => {
    // A form sends every field: an empty one means no filter; a bad one is named and left out.
    const sent = Object.fromEntries(
      Object.entries(ctx.query).filter(
        ([k, v]) => typeof v === 'string' && v !== '' && k !== 'page' && k !== 'perPage',
      ),
    );
    const parsed = conversionFilters.safeParse(sent);
    const bad = new Set(parsed.success ? [] : parsed.error.issues.map((i) => String(i.path[0])));
    const filters = parsed.success
      ? parsed.data
      : (conversionFilters.safeParse(Object.fromEntries(Object.entries(sent).filter(([k]) => !bad.has(k)))).data ??
        conversionFilters.parse({}));
    const snap = await ctx.services.cache.snapshot();
    const result = await ctx.services.trackingLog.conversions(
      conversionQuery(filters, snap.settings.timezone),
      pageOf(ctx, 50),
    );
    const flowName = (id: number | null) => {
      if (id === null) return null;
      for (const flows of snap.flows.values()) for (const f of flows) if (f.id === id) return f.name;
      return `#${id}`;
    };
    const csv = new URLSearchParams(
      Object.entries({ ...filters, format: 'csv' })
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    render(ctx, views, 'admin/conversions', {
      title: 'Conversions',
      nav: 'conversions',
      error: parsed.success ? null : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      filters,
      statuses: CONVERSION_STATUSES,
      campaigns: [...snap.campaigns.values()].sort((a, b) => a.name.localeCompare(b.name)),
      conversions: result.data.map((c) => ({
        ...c,
        campaignName: snap.campaigns.get(c.campaignId)?.name ?? `#${c.campaignId}`,
        affiliateName: c.affiliateId ? (snap.affiliates.get(c.affiliateId)?.name ?? `#${c.affiliateId}`) : null,
        flowName: flowName(c.flowId),
        revenueText: formatMoney(c.revenue, c.currency),
        revenueBaseText: formatMoney(c.revenueBase, snap.settings.baseCurrency),
        costText: formatMoney(c.cost, snap.settings.baseCurrency),
      })),
      pagination: result.pagination,
      csvUrl: `/api/v1/conversions?${csv.toString()}`,
      ...pageLinks(
        '/admin/conversions',
        Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, v === undefined ? undefined : String(v)])),
        result.pagination,
      ),
    });
  });
}
