import type { AppContext } from '../context.js';
import { form } from './render.js';
import { valueAt } from './form-values.js';
import { decimalText } from '../../domain/money.js';
import type { Campaign } from '../../store/campaigns.js';
import type { Domain } from '../../store/domains.js';
import type { Source } from '../../store/sources.js';

/*
 * The "Traffic" fieldset of the campaign Settings tab (SPEC §7.1): its values, how the posted
 * form becomes the campaign API's fields, and what the fieldset shows (domains, sources, groups,
 * the campaign URL and the Click API token). The fieldset carries a hidden `traffic` marker so
 * forms without it (the new-campaign page) leave these fields as they are.
 */

type Body = Record<string, unknown>;

export const TRAFFIC_FIELDS = [
  'domainId',
  'alias',
  'groupId',
  'sourceId',
  'flowRotation',
  'costModel',
  'costValue',
  'costAuto',
  'costCurrency',
  'trafficLoss',
  'bindVisitors',
  'uniqueness',
  'uniquenessTtlHours',
  'bypassCache',
];

export function trafficValues(c: Campaign) {
  return {
    domainId: c.domainId === null ? '' : String(c.domainId),
    alias: c.alias ?? '',
    groupId: c.groupId === null ? '' : String(c.groupId),
    sourceId: c.sourceId === null ? '' : String(c.sourceId),
    flowRotation: c.flowRotation,
    costModel: c.costModel,
    costValue: decimalText(c.costValue),
    costAuto: c.costAuto ? 'on' : '',
    costCurrency: c.costCurrency ?? '',
    trafficLoss: decimalText(c.trafficLoss),
    bindVisitors: c.bindVisitors,
    uniqueness: c.uniqueness,
    uniquenessTtlHours: String(c.uniquenessTtlHours),
    bypassCache: c.bypassCache ? 'on' : '',
  };
}

export function trafficValuesFromBody(body: Body) {
  return Object.fromEntries(TRAFFIC_FIELDS.map((f) => [f, valueAt(body, f)]));
}

/** The fieldset as campaign API fields; nothing when the form had no Traffic fieldset. */
export function trafficInput(body: Body): Record<string, unknown> {
  if (!form.checkbox(valueAt(body, 'traffic'))) return {};
  const text = (path: string) => form.text(valueAt(body, path));
  return {
    domainId: form.nullable(valueAt(body, 'domainId')),
    alias: text('alias') ?? null,
    groupId: form.nullable(valueAt(body, 'groupId')),
    sourceId: form.nullable(valueAt(body, 'sourceId')),
    flowRotation: text('flowRotation') || undefined,
    costModel: text('costModel') || undefined,
    costValue: text('costValue') || '0',
    costAuto: form.checkbox(valueAt(body, 'costAuto')),
    costCurrency: form.nullable(valueAt(body, 'costCurrency')),
    trafficLoss: text('trafficLoss') || '0',
    bindVisitors: text('bindVisitors') || undefined,
    uniqueness: text('uniqueness') || undefined,
    uniquenessTtlHours: form.number(valueAt(body, 'uniquenessTtlHours')) ?? undefined,
    bypassCache: form.checkbox(valueAt(body, 'bypassCache')),
  };
}

export const trafficOptions = {
  flowRotations: [
    { value: 'position', label: 'By position — the first flow whose filters pass' },
    { value: 'weight', label: 'By weight — a weighted random choice among the flows whose filters pass' },
  ],
  costModels: [
    { value: 'CPC', label: 'CPC — per click' },
    { value: 'CPUC', label: 'CPUC — per unique click' },
    { value: 'CPM', label: 'CPM — per 1,000 clicks' },
    { value: 'CPA', label: 'CPA — per conversion' },
    { value: 'CPS', label: 'CPS — per sale' },
    { value: 'REVSHARE', label: 'RevShare — % of the revenue' },
  ],
  bindVisitors: [
    { value: 'none', label: 'Do not bind' },
    { value: 'flows', label: 'Same flow' },
    { value: 'flows_landings', label: 'Same flow and landing' },
    { value: 'flows_landings_offers', label: 'Same flow, landing and offer' },
  ],
  uniqueness: [
    { value: 'ip_ua', label: 'IP and user agent' },
    { value: 'ip', label: 'IP only' },
    { value: 'cookie', label: 'Cookie (IP and user agent when there is none)' },
  ],
} satisfies Record<string, Array<{ value: string; label: string }>>;

/** The tracker's own origin: PUBLIC_URL, else the origin this page was asked on. */
export function trackerOrigin(ctx: AppContext): string {
  return (ctx.services.config.publicUrl ?? `${ctx.protocol}://${ctx.host}`).replace(/\/+$/, '');
}

/**
 * The origin of a domain's campaign URLs. Domains are served by this tracker, so they share its
 * scheme: PUBLIC_URL's, else the one this page was asked over (X-Forwarded-Proto behind a trusted
 * proxy). A domain on plain http is not shown as https://.
 */
export function domainOrigin(ctx: AppContext, host: string): string {
  const scheme = ctx.services.config.publicUrl ? new URL(ctx.services.config.publicUrl).protocol : `${ctx.protocol}:`;
  return `${scheme}//${host}`;
}

/** `<scheme>://<domain host or tracker host>/<alias>` followed by the source's parameters, or null without an alias. */
export function campaignUrl(
  ctx: AppContext,
  campaign: Campaign,
  domain: Domain | undefined,
  source: Source | undefined,
): string | null {
  if (!campaign.alias) return null;
  const origin = domain ? domainOrigin(ctx, domain.host) : trackerOrigin(ctx);
  return `${origin}/${campaign.alias}${source?.urlTemplate ?? ''}`;
}

/** What the Traffic fieldset and the campaign URL panel show. */
export async function trafficFormData(ctx: AppContext, campaign: Campaign) {
  const [domains, sources, groups] = await Promise.all([
    ctx.services.domains.all(),
    ctx.services.sources.all(),
    ctx.services.groups.all(),
  ]);
  const domain = domains.find((d) => d.id === campaign.domainId);
  const source = sources.find((x) => x.id === campaign.sourceId);
  return {
    traffic: {
      domains: domains.map((d) => ({ id: d.id, label: d.host })),
      sources: sources
        .filter((x) => !x.archived || x.id === campaign.sourceId)
        .map((x) => ({ id: x.id, label: x.archived ? `${x.name} (archived)` : x.name })),
      groups: groups.map((g) => ({ id: g.id, label: g.name })),
      trackerHost: trackerOrigin(ctx).replace(/^https?:\/\//, ''),
      campaignUrl: campaignUrl(ctx, campaign, domain, source),
      sourceName: source?.name ?? null,
      ...trafficOptions,
    },
  };
}
