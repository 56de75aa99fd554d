import type Router from '@koa/router';
import { originOf } from '../../services/snippet-seen.js';
import { csvLink } from './csv-link.js';
import { sendCsv } from '../csv-response.js';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render } from './render.js';
import { idParam, pageLinks, pageOf, queryEnum, queryText } from './form-values.js';
import { notFound } from '../../errors.js';
import { formatMoney } from '../../domain/money.js';
import type { TraceCandidate } from '../../domain/matching.js';
import { saleMoneyView } from './commissions.js';
import { SALE_STATUSES } from '../../domain/sale-status.js';
import { saleJson } from '../presenters/sales.js';
import { clickJson } from '../presenters/clicks.js';
import { storeSetup } from '../../plugins/integrations/platforms.js';

const CLICK_STATUSES = ['unique', 'raw', 'declined'] as const;
const KINDS = ['sale', 'action'] as const;
const MATCHED_BY = ['lifetime', 'coupon', 'banner', 'campaign', 'product', 'cookie', 'default'] as const;

const numberFilter = (raw: unknown) => (typeof raw === 'string' && /^\d{1,10}$/.test(raw) ? Number(raw) : undefined);
const dayFilter = (raw: unknown) =>
  typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(raw) && !Number.isNaN(Date.parse(raw)) ? raw : undefined;

/** Names for ids in the lists, from the configuration cache. */
async function namer(ctx: AppContext) {
  const snap = await ctx.services.cache.snapshot();
  return {
    campaigns: [...snap.campaigns.values()].sort((a, b) => a.name.localeCompare(b.name)),
    campaign: (id: number | null) => (id === null ? null : (snap.campaigns.get(id)?.name ?? `#${id}`)),
    affiliate: (id: number | null) => (id === null ? null : (snap.affiliates.get(id)?.name ?? `#${id}`)),
    banner: (id: number | null) => (id === null ? null : (snap.banners.get(id)?.name ?? `#${id}`)),
    flow: (id: number) => {
      for (const flows of snap.flows.values()) for (const f of flows) if (f.id === id) return f.name;
      return null;
    },
    currency: snap.settings.baseCurrency,
  };
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A line of the match trace with its ids as names and links: "first click of affiliate 5 in
 * campaign 3" reads "first click of <a>Ann Blogger</a> in <a>Shoes</a>". Returned as HTML, the
 * rest of the text escaped.
 */
export function traceHtml(
  text: string,
  names: Pick<Awaited<ReturnType<typeof namer>>, 'campaign' | 'affiliate'>,
): string {
  return escapeHtml(text).replace(
    /\b(affiliate|campaign) (\d{1,10})( \([^)\s]*\)| &quot;[^&]*&quot;)?/gi,
    (whole, word: string, digits: string) => {
      const what = word.toLowerCase() as 'affiliate' | 'campaign';
      const id = Number(digits);
      const name = names[what](id);
      if (!name || name.startsWith('#')) return whole;
      return `<a href="/admin/${what === 'affiliate' ? 'affiliates' : 'campaigns'}/${id}" title="${what} #${id}">${escapeHtml(name)}</a>`;
    },
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * How a click's campaign (or flow) was chosen, in words, from whichever trace it stored: the
 * matched rule of an affiliate link, the flow of a campaign-URL click, else nothing more than
 * its `matchedBy`.
 */
function howChosen(trace: unknown, flowName: (id: number) => string | null): string | null {
  if (!isObject(trace)) return null;
  // A campaign-URL click keeps its flow facts under `flow` (older rows: at the top level).
  const flow = isObject(trace.flow) ? trace.flow : trace;
  if (typeof flow.flowId === 'number') {
    const name = flowName(flow.flowId) ?? `#${flow.flowId}`;
    const how = [
      typeof flow.rotation === 'string' ? `${flow.rotation} rotation` : null,
      flow.bound === true ? 'a returning visitor kept on it' : null,
    ].filter(Boolean);
    return `flow “${name}”${how.length ? ` (${how.join(', ')})` : ''}`;
  }
  if (Array.isArray(trace.candidates)) {
    const matched = trace.candidates.find((c) => isObject(c) && c.outcome === 'matched') as
      Record<string, unknown> | undefined;
    if (typeof matched?.detail === 'string') return matched.detail;
  }
  return null;
}

const OUTCOME_WORDS: Record<TraceCandidate['outcome'], string> = {
  matched: 'decided',
  outranked: 'ignored',
  not_applicable: 'did not apply',
  invalid: 'invalid',
};

/** Clicks, sales with their match trace, and the integration page (SPEC §5.3, §9). */
export function trackingPages(router: Router<AppState, AppCustom>, views: Views): void {
  clicksPage(router, views);
  salesPages(router, views);
  integrationPage(router, views);
}

function clicksPage(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/clicks', async (ctx) => {
    const names = await namer(ctx);
    const filters = {
      status: queryEnum(CLICK_STATUSES, ctx.query.status),
      campaignId: numberFilter(ctx.query.campaignId),
      affiliateId: numberFilter(ctx.query.affiliateId),
      from: dayFilter(ctx.query.from),
      to: dayFilter(ctx.query.to),
    };
    const storeFilters = {
      status: filters.status,
      campaignId: filters.campaignId,
      affiliateId: filters.affiliateId,
      from: filters.from ? Date.parse(filters.from) : undefined,
      to: filters.to ? Date.parse(filters.to) + 86_400_000 : undefined,
    };
    if (ctx.query.format === 'csv') return sendCsv(ctx, 'clicks', ctx.services.trackingLog.clicksCsv(storeFilters));
    const result = await ctx.services.trackingLog.clicks(storeFilters, pageOf(ctx, 50));
    const linkFilters = Object.fromEntries(
      Object.entries(filters).map(([k, v]) => [k, v === undefined ? undefined : String(v)]),
    );
    render(ctx, views, 'admin/clicks', {
      csvUrl: csvLink(ctx),
      title: 'Clicks',
      nav: 'clicks',
      filters,
      statuses: CLICK_STATUSES,
      campaigns: names.campaigns,
      clicks: result.data.map((c) => ({
        ...clickJson(c),
        campaignName: names.campaign(c.campaignId),
        affiliateName: names.affiliate(c.affiliateId),
        bannerName: names.banner(c.bannerId),
        rule: howChosen(c.trace, names.flow) ?? c.matchedBy,
        // Campaign-URL clicks: flow, landing, offer, sub ids, cost and uniqueness (SPEC §15).
        traffic: c.traffic
          ? {
              ...clickJson(c).traffic,
              flowName: names.flow(c.traffic.flowId),
              subIdList: Object.entries(c.traffic.subIds).map(([name, value]) => ({ name, value })),
              costText: formatMoney(c.traffic.cost),
              unique: [
                ['campaign', c.traffic.uniqueCampaign],
                ['flow', c.traffic.uniqueFlow],
                ['global', c.traffic.uniqueGlobal],
              ].map(([scope, yes]) => ({ scope, yes })),
            }
          : null,
      })),
      pagination: result.pagination,
      ...pageLinks('/admin/clicks', linkFilters, result.pagination),
    });
  });
}

function salesPages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/sales', async (ctx) => {
    const names = await namer(ctx);
    const filters = {
      status: queryEnum(SALE_STATUSES, ctx.query.status),
      kind: queryEnum(KINDS, ctx.query.kind),
      matchedBy: queryEnum(MATCHED_BY, ctx.query.matchedBy),
      campaignId: numberFilter(ctx.query.campaignId),
      affiliateId: numberFilter(ctx.query.affiliateId),
      orderId: queryText(ctx.query.orderId),
      from: dayFilter(ctx.query.from),
      to: dayFilter(ctx.query.to),
    };
    const storeFilters = {
      ...filters,
      from: filters.from ? Date.parse(filters.from) : undefined,
      to: filters.to ? Date.parse(filters.to) + 86_400_000 : undefined,
    };
    if (ctx.query.format === 'csv') return sendCsv(ctx, 'sales', ctx.services.trackingLog.salesCsv(storeFilters));
    const result = await ctx.services.trackingLog.sales(storeFilters, pageOf(ctx, 50));
    const linkFilters = Object.fromEntries(
      Object.entries(filters).map(([k, v]) => [k, v === undefined ? undefined : String(v)]),
    );
    render(ctx, views, 'admin/sales', {
      csvUrl: csvLink(ctx),
      title: 'Sales and actions',
      nav: 'sales',
      filters,
      statuses: SALE_STATUSES,
      kinds: KINDS,
      matchedByValues: MATCHED_BY,
      campaigns: names.campaigns,
      sales: result.data.map((s) => ({
        ...saleJson(s),
        campaignName: names.campaign(s.campaignId),
        affiliateName: names.affiliate(s.affiliateId),
        amount: s.totalCost === null ? '' : formatMoney(s.totalCost, s.currency),
        summary: s.explanation[0] ?? '',
      })),
      pagination: result.pagination,
      ...pageLinks('/admin/sales', linkFilters, result.pagination),
    });
  });

  router.get('/admin/sales/:id', async (ctx) => {
    const sale = await ctx.services.trackingLog.sale(idParam(ctx));
    if (!sale) throw notFound('sale');
    const names = await namer(ctx);
    const describe = (c: TraceCandidate) => ({
      ...c,
      words: OUTCOME_WORDS[c.outcome],
      detailHtml: traceHtml(c.detail, names),
    });
    render(ctx, views, 'admin/sale', {
      title: `${sale.kind === 'sale' ? 'Sale' : 'Action'} ${sale.orderId ?? `#${sale.id}`}`,
      nav: 'sales',
      sale: saleJson(sale),
      campaignName: names.campaign(sale.campaignId),
      affiliateName: names.affiliate(sale.affiliateId),
      amount: sale.totalCost === null ? null : formatMoney(sale.totalCost, sale.currency),
      amountBase:
        sale.totalCostBase === null || sale.currency === names.currency
          ? null
          : formatMoney(sale.totalCostBase, names.currency),
      candidates: (sale.trace?.candidates ?? []).map(describe),
      affiliateCandidates: (sale.trace?.affiliateCandidates ?? []).map(describe),
      notes: sale.trace?.notes ?? [],
      explanationHtml: sale.explanation.map((line) => traceHtml(line, names)),
      ...(await saleMoneyView(ctx, sale.id)),
    });
  });
}

function integrationPage(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/integration', async (ctx) => {
    const snap = await ctx.services.cache.snapshot();
    const tracker = ctx.services.config.publicUrl ?? `${ctx.protocol}://${ctx.host}`;
    const campaigns = [...snap.campaigns.values()].filter((c) => !c.archived);
    const example = campaigns.find((c) => !c.isDefault) ?? campaigns[0];
    // The key that signs is the key of the campaign the body names (SPEC §10a).
    const body = JSON.stringify({
      ...(example ? { campaignId: example.id } : {}),
      orderId: 'A-1001',
      totalCost: 120.5,
      currency: snap.settings.baseCurrency,
      productId: 'sku-1',
      customerId: 'customer-42',
    });
    const unix = Math.floor(ctx.services.clock() / 1000);
    const seen = await ctx.services.snippetSeen.current();
    render(ctx, views, 'admin/integration', {
      seen,
      siteOrigin: originOf(snap.settings.siteUrl ?? undefined),
      title: 'Integration',
      nav: 'integration',
      tracker,
      siteUrl: snap.settings.siteUrl,
      params: snap.settings.urlParams,
      gdprMode: snap.settings.gdprMode,
      baseCurrency: snap.settings.baseCurrency,
      campaign: example,
      serverBody: body,
      unix,
      stores: storeSetup(ctx.services.plugins.get('integrations'), tracker),
    });
  });
}
