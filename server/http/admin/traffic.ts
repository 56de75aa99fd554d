import { plural } from '../../messages.js';
import { formatMoney } from '../../domain/money.js';
import type Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render, flash, handleForm, form } from './render.js';
import { confirmFirst } from './confirm.js';
import {
  attachListErrors,
  bodyOf,
  conflictMessage,
  idParam,
  lines,
  pageLinks,
  pageOf,
  queryText,
  summarise,
  valueAt,
} from './form-values.js';
import { campaignPage } from './campaigns.js';
import { campaignUrl, domainOrigin } from './traffic-form.js';
import * as t from '../../schemas/traffic.js';
import { FILTER_NAMES, type FilterDef } from '../../domain/flows.js';
import { parse } from '../../validation.js';
import { AppError } from '../../errors.js';
import type { Actor } from '../../services/actor.js';
import { requireRole } from '../middleware.js';
import type { Campaign } from '../../store/campaigns.js';
import type { Domain } from '../../store/domains.js';
import type { Source } from '../../store/sources.js';
import type { Flow } from '../../store/flows.js';

/*
 * The admin pages of SPEC §7: domains, sources, groups, a campaign's Flows tab and the Click API
 * token. Forms post the same fields the REST API takes, parsed by the same schemas.
 */

type Body = Record<string, unknown>;
type Errors = Record<string, string>;

const actor = (ctx: AppContext) => ctx.state.user as Actor;
const text = (body: Body, path: string) => form.text(valueAt(body, path));

/** Every value of a repeated field in order, empty ones kept (rows of a table line up by index). */
function rowValues(body: Body, name: string): string[] {
  const v = valueAt(body, name);
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Turns a 409 into a flash and a redirect; other errors go on. */
async function removing(ctx: AppContext, what: string, back: string, action: () => Promise<void>): Promise<boolean> {
  try {
    await action();
    return true;
  } catch (err) {
    if (!(err instanceof AppError) || err.status !== 409) throw err;
    flash(ctx, 'error', conflictMessage(err, what));
    ctx.redirect(back);
    return false;
  }
}

// ---- domains --------------------------------------------------------------------------------

const DOMAIN_FIELDS = ['host', 'parkedCampaignId'];

const domainValues = (d: Domain) => ({
  host: d.host,
  parkedCampaignId: d.parkedCampaignId === null ? '' : String(d.parkedCampaignId),
});
const domainValuesFromBody = (body: Body) => ({
  host: valueAt(body, 'host'),
  parkedCampaignId: valueAt(body, 'parkedCampaignId'),
});
const domainInput = (body: Body) => ({
  host: text(body, 'host') ?? '',
  parkedCampaignId: form.nullable(valueAt(body, 'parkedCampaignId')),
});

/** Campaigns to park on a domain: the live ones, plus the one already chosen. */
async function campaignChoices(ctx: AppContext, chosen: unknown) {
  return (await ctx.services.campaigns.all())
    .filter((c) => !c.archived || String(c.id) === String(chosen))
    .map((c) => ({ id: c.id, label: `${c.name}${c.status === 'paused' ? ' (paused)' : ''}` }));
}

// ---- sources --------------------------------------------------------------------------------

const SOURCE_FIELDS = ['name', 'params', 'postbackUrl', 'archived', ...t.SOURCE_PARAM_KEYS.map((k) => `params.${k}`)];

const PARAM_LABELS: Record<string, string> = {
  cost: 'Cost',
  currency: 'Currency',
  external_id: 'External ID (the source’s click id)',
};

function paramRows(params: Record<string, unknown>) {
  return t.SOURCE_PARAM_KEYS.map((key) => ({
    key,
    label: PARAM_LABELS[key] ?? key.replace('sub_id_', 'Sub ID '),
    value: typeof params[key] === 'string' ? params[key] : '',
  }));
}

const sourceValues = (x: Source) => ({
  name: x.name,
  postbackUrl: x.postbackUrl ?? '',
  archived: x.archived ? 'on' : '',
  params: paramRows(x.params),
});

function sourceValuesFromBody(body: Body) {
  const params: Record<string, unknown> = {};
  for (const key of t.SOURCE_PARAM_KEYS) params[key] = valueAt(body, `params.${key}`);
  return {
    name: valueAt(body, 'name'),
    postbackUrl: valueAt(body, 'postbackUrl'),
    archived: valueAt(body, 'archived'),
    params: paramRows(params),
  };
}

function sourceInput(body: Body) {
  const params: Record<string, string> = {};
  for (const key of t.SOURCE_PARAM_KEYS) params[key] = text(body, `params.${key}`) ?? '';
  return {
    name: text(body, 'name') ?? '',
    params,
    postbackUrl: text(body, 'postbackUrl') ?? null,
    archived: form.checkbox(valueAt(body, 'archived')),
  };
}

// ---- flows ----------------------------------------------------------------------------------

const FLOW_FIELDS = [
  'name',
  'type',
  'position',
  'weight',
  'status',
  'collectClicks',
  'filters',
  'filtersMode',
  'schema',
  'landings',
  'offers',
  'url',
  'action',
  'text',
  'archived',
];

const FILTER_LABELS: Record<string, string> = {
  country: 'Country',
  ip: 'IP / CIDR',
  device: 'Device type',
  os: 'Operating system',
  browser: 'Browser',
  language: 'Language',
  bot: 'Bot',
  uniqueness: 'Uniqueness',
  param: 'URL parameter',
  schedule: 'Schedule',
  clickLimit: 'Click limit per day',
};

const flowOptions = {
  types: [
    { value: 'forced', label: 'Forced — checked first' },
    { value: 'regular', label: 'Regular' },
    { value: 'default', label: 'Default — when no other flow applies' },
  ],
  statuses: [...t.FLOW_STATUSES],
  filterNames: FILTER_NAMES.map((value) => ({ value, label: FILTER_LABELS[value] ?? value })),
  filterModes: [
    { value: 'is', label: 'is' },
    { value: 'is_not', label: 'is not' },
  ],
  filtersModes: [
    { value: 'and', label: 'All filters must pass (AND)' },
    { value: 'or', label: 'Any filter may pass (OR)' },
  ],
  schemas: [
    { value: 'landings_offers', label: 'Landings and offers' },
    { value: 'redirect', label: 'Redirect to a URL' },
    { value: 'action', label: 'Action' },
  ],
  actions: [
    { value: 'not_found', label: 'Answer 404 Not Found' },
    { value: 'do_nothing', label: 'Do nothing (an empty page)' },
    { value: 'show_text', label: 'Show text' },
  ],
};

const EMPTY_FILTER_ROWS = 3;

interface FilterRow {
  name: string;
  mode: string;
  values: string;
  param: string;
  error?: string;
}

const emptyRows = (n: number): FilterRow[] =>
  Array.from({ length: n }, () => ({ name: '', mode: 'is', values: '', param: '' }));

const urlLines = (list: Array<{ url: string; weight: number }>) => list.map((x) => `${x.url} ${x.weight}`).join('\n');

function flowValues(f: Flow) {
  return {
    name: f.name,
    type: f.type,
    position: String(f.position),
    weight: String(f.weight),
    status: f.status,
    collectClicks: f.collectClicks ? 'on' : '',
    filtersMode: f.filtersMode,
    filterRows: [
      ...f.filters.map((x) => ({ name: x.name, mode: x.mode, values: x.values.join('\n'), param: x.param ?? '' })),
      ...emptyRows(EMPTY_FILTER_ROWS),
    ],
    schema: f.schema,
    landings: urlLines(f.landings),
    offers: urlLines(f.offers),
    url: f.url ?? '',
    action: f.action ?? '',
    text: f.text ?? '',
    archived: f.archived ? 'on' : '',
  };
}

const newFlowValues = () => ({
  type: 'regular',
  status: 'active',
  weight: '100',
  collectClicks: 'on',
  filtersMode: 'and',
  schema: 'landings_offers',
  filterRows: emptyRows(EMPTY_FILTER_ROWS),
});

/** The posted filter rows, as typed. */
function filterRowsFromBody(body: Body): FilterRow[] {
  const names = rowValues(body, 'filterName');
  const modes = rowValues(body, 'filterMode');
  const values = rowValues(body, 'filterValues');
  const params = rowValues(body, 'filterParam');
  return names.map((name, i) => ({ name, mode: modes[i] ?? 'is', values: values[i] ?? '', param: params[i] ?? '' }));
}

function flowValuesFromBody(body: Body, rows: FilterRow[]) {
  const v = (name: string) => valueAt(body, name);
  return {
    name: v('name'),
    type: v('type'),
    position: v('position'),
    weight: v('weight'),
    status: v('status'),
    collectClicks: v('collectClicks'),
    filtersMode: v('filtersMode'),
    filterRows: rows.length ? rows : emptyRows(EMPTY_FILTER_ROWS),
    schema: v('schema'),
    landings: v('landings'),
    offers: v('offers'),
    url: v('url'),
    action: v('action'),
    text: v('text'),
    archived: v('archived'),
  };
}

/** "https://offer.example/?s={subid} 50": a URL, then its weight (100 when left out). */
function parseUrlLines(raw: ReturnType<typeof valueAt>) {
  return lines(raw).map((line) => {
    const m = /^(\S+)(?:\s+(\S+))?\s*$/.exec(line);
    const url = m?.[1] ?? line;
    const weight = m?.[2];
    if (weight === undefined) return { url };
    return { url, weight: /^-?\d+(\.\d+)?$/.test(weight) ? Number(weight) : weight };
  });
}

/** The flow form as the API's JSON body; `rowOf[i]` is the table row of filter i (empty rows are skipped). */
function flowInput(body: Body, rows: FilterRow[]) {
  const rowOf: number[] = [];
  const filters = rows.flatMap((row, i) => {
    if (!row.name.trim()) return [];
    rowOf.push(i);
    return [
      {
        name: row.name.trim(),
        mode: row.mode.trim() || 'is',
        values: lines(row.values),
        ...(row.param.trim() ? { param: row.param.trim() } : {}),
      },
    ];
  });
  const num = (name: string) => form.number(valueAt(body, name)) ?? undefined;
  return {
    rowOf,
    input: {
      name: text(body, 'name') ?? '',
      type: text(body, 'type') || undefined,
      position: num('position'),
      weight: num('weight'),
      status: text(body, 'status') || undefined,
      collectClicks: form.checkbox(valueAt(body, 'collectClicks')),
      filters,
      filtersMode: text(body, 'filtersMode') || undefined,
      schema: text(body, 'schema') || undefined,
      landings: parseUrlLines(valueAt(body, 'landings')),
      offers: parseUrlLines(valueAt(body, 'offers')),
      url: text(body, 'url') ?? null,
      action: form.nullable(valueAt(body, 'action')),
      text: text(body, 'text') ?? null,
      archived: form.checkbox(valueAt(body, 'archived')),
    },
  };
}

/** Errors on `filters.N…` are shown on the table row they came from. */
function attachFilterErrors(errors: Errors, rows: FilterRow[], rowOf: number[]): Errors {
  for (const [key, message] of Object.entries(errors)) {
    const m = /^filters\.(\d+)(?:\.(.*))?$/.exec(key);
    if (!m) continue;
    const row = rows[rowOf[Number(m[1])] ?? -1];
    if (row && !row.error) row.error = `${m[2] ? `${m[2].replace(/\.\d+$/, '')}: ` : ''}${message}`;
    delete errors[key];
    errors.filterRows ??= 'Some filters need attention: see the rows marked below.';
  }
  return errors;
}

function filterSummary(f: FilterDef): string {
  const label = f.name === 'param' ? `param ${f.param ?? ''}` : f.name;
  const values = f.values.length ? f.values.join(', ') : '';
  return `${label} ${f.mode === 'is' ? 'is' : 'is not'}${values ? ` ${values}` : ''}`;
}

function schemaSummary(f: Flow): string {
  if (f.schema === 'redirect') return `redirect to ${f.url ?? '?'}`;
  if (f.schema === 'action') return f.action === 'show_text' ? 'show text' : (f.action ?? 'action').replace('_', ' ');
  return `${plural(f.landings.length, 'landing')}, ${plural(f.offers.length, 'offer')}`;
}

const TYPE_TITLES = { forced: 'Forced flows', regular: 'Regular flows', default: 'Default flow' } as const;

/** A campaign's flows tab: its flows by type with their last 30 days' figures, and the new-flow form. */
async function flowsTab(ctx: AppContext, views: Views, campaign: Campaign, values: unknown, errors?: Errors) {
  const [result, domain, source] = await Promise.all([
    ctx.services.flows.list(campaign.id, {}, { page: 1, perPage: 200 }),
    campaign.domainId === null ? undefined : ctx.services.domains.get(campaign.domainId).catch(() => undefined),
    campaign.sourceId === null ? undefined : ctx.services.sources.get(campaign.sourceId).catch(() => undefined),
  ]);
  // Per-flow figures of the last 30 days (SPEC §15), from the report by flow.
  const range = ctx.services.reports.defaultRange(30);
  const figures = new Map(
    (await ctx.services.reports.run({ groupBy: ['flow'], ...range, filters: { campaign: String(campaign.id) } })).map(
      (r) => [Number(r.key), r],
    ),
  );
  const currency = ctx.services.settings.get().baseCurrency;
  const groups = (['forced', 'regular', 'default'] as const).map((type) => {
    const flows = result.data.filter((f) => f.type === type);
    const movable = flows.filter((f) => !f.archived);
    return {
      type,
      title: TYPE_TITLES[type],
      flows: flows.map((f) => {
        const m = figures.get(f.id);
        const at = movable.findIndex((x) => x.id === f.id);
        return {
          ...f,
          schemaText: schemaSummary(f),
          filterTexts: f.filters.map(filterSummary),
          canMoveUp: at > 0,
          canMoveDown: at >= 0 && at < movable.length - 1,
          figures: {
            clicks: m?.clicks ?? 0,
            conversions: m?.conversions ?? 0,
            revenue: formatMoney(m?.revenue.units ?? 0n, currency),
            cost: formatMoney(m?.cost.units ?? 0n, currency),
            profit: formatMoney(m?.profit.units ?? 0n, currency),
          },
        };
      }),
    };
  });
  campaignPage(ctx, views, campaign, 'flows', 'admin/campaign-flows', {
    flowGroups: groups,
    flowCount: result.data.length,
    moreFlows: result.pagination.total > result.data.length ? result.pagination.total : null,
    campaignUrl: campaignUrl(ctx, campaign, domain, source),
    flowOptions,
    values,
    errors,
  });
}

/** The campaign in the path and its flow `:flowId`. */
const loadFlow = async (ctx: AppContext & { params: Record<string, string> }) => {
  const campaign = await ctx.services.campaigns.get(idParam(ctx));
  const flow = await ctx.services.flows.get(campaign.id, idParam(ctx, 'flowId'));
  return { campaign, flow };
};

/** The traffic pages: domains, sources, groups, the Click API token and a campaign's flows tab. */
export function trafficPages(router: Router<AppState, AppCustom>, views: Views): void {
  registerDomainList(router, views);
  registerDomainEdit(router, views);
  registerSourceList(router, views);
  registerSourceEdit(router, views);
  registerSourceDelete(router, views);
  registerGroups(router, views);
  registerCampaignApiToken(router, views);
  registerFlowList(router, views);
  registerFlowEdit(router, views);
  registerFlowDelete(router, views);
}

/** Domains: the list and a new one. */
function registerDomainList(router: Router<AppState, AppCustom>, views: Views): void {
  const domainsPage = async (ctx: AppContext, values: Record<string, unknown>, errors?: Errors) => {
    const filters = { q: queryText(ctx.query.q) };
    const [result, campaigns] = await Promise.all([
      ctx.services.domains.list(filters, pageOf(ctx, 50)),
      ctx.services.campaigns.all(),
    ]);
    const byId = new Map(campaigns.map((c) => [c.id, c]));
    const users = new Map<number, string[]>();
    for (const c of campaigns)
      if (c.domainId !== null) users.set(c.domainId, [...(users.get(c.domainId) ?? []), c.name]);
    render(ctx, views, 'admin/domains', {
      title: 'Domains',
      nav: 'domains',
      filters,
      domains: result.data.map((d) => ({
        ...d,
        parkedName:
          d.parkedCampaignId === null ? null : (byId.get(d.parkedCampaignId)?.name ?? `#${d.parkedCampaignId}`),
        campaignNames: (users.get(d.id) ?? []).join(', '),
      })),
      pagination: result.pagination.totalPages > 1 ? result.pagination : null,
      ...pageLinks('/admin/domains', filters, result.pagination),
      campaignChoices: await campaignChoices(ctx, values.parkedCampaignId),
      values,
      errors,
    });
  };
  router.get('/admin/domains', async (ctx) => {
    await domainsPage(ctx, { parkedCampaignId: '' });
  });
  router.post('/admin/domains', async (ctx) => {
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const domain = await ctx.services.domains.create(parse(t.domainCreate, domainInput(body)), actor(ctx));
        flash(ctx, 'success', `Domain ${domain.host} added. Point its DNS at this tracker.`);
        ctx.redirect('/admin/domains');
      },
      (errors) => domainsPage(ctx, domainValuesFromBody(body), summarise(errors, DOMAIN_FIELDS)),
    );
  });
}

/** One domain: its page, its changes and its deletion. */
function registerDomainEdit(router: Router<AppState, AppCustom>, views: Views): void {
  const domainPage = async (ctx: AppContext, domain: Domain, values: Record<string, unknown>, errors?: Errors) => {
    const campaigns = (await ctx.services.campaigns.all()).filter((c) => c.domainId === domain.id);
    render(ctx, views, 'admin/domain-edit', {
      title: `${domain.host} · Domains`,
      nav: 'domains',
      domain,
      campaigns: campaigns.map((c) => ({ ...c, url: c.alias ? `${domainOrigin(ctx, domain.host)}/${c.alias}` : null })),
      campaignChoices: await campaignChoices(ctx, values.parkedCampaignId),
      values,
      errors,
    });
  };
  router.get('/admin/domains/:id', async (ctx) => {
    const domain = await ctx.services.domains.get(idParam(ctx));
    await domainPage(ctx, domain, domainValues(domain));
  });
  router.post('/admin/domains/:id', async (ctx) => {
    const domain = await ctx.services.domains.get(idParam(ctx));
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        await ctx.services.domains.update(domain.id, parse(t.domainPatch, domainInput(body)), actor(ctx));
        flash(ctx, 'success', 'Domain saved.');
        ctx.redirect('/admin/domains');
      },
      (errors) => domainPage(ctx, domain, domainValuesFromBody(body), summarise(errors, DOMAIN_FIELDS)),
    );
  });
  router.post(
    '/admin/domains/:id/delete',
    confirmFirst(views, async (ctx) => {
      const domain = await ctx.services.domains.get(idParam(ctx));
      return {
        question: `Delete the domain ${domain.host}?`,
        consequences: [
          `Campaign URLs on ${domain.host} stop working. This cannot be undone.`,
          'A domain that campaigns still use cannot be deleted: move them to another domain first.',
        ],
        action: 'Delete the domain',
        back: `/admin/domains/${domain.id}`,
        nav: 'domains',
      };
    }),
  );
  router.post('/admin/domains/:id/delete', async (ctx) => {
    const domain = await ctx.services.domains.get(idParam(ctx));
    if (
      !(await removing(ctx, 'domain', `/admin/domains/${domain.id}`, () =>
        ctx.services.domains.remove(domain.id, actor(ctx)),
      ))
    )
      return;
    flash(ctx, 'success', `Domain ${domain.host} deleted.`);
    ctx.redirect('/admin/domains');
  });
}

/** Sources: the list. */
function registerSourceList(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/sources', async (ctx) => {
    const filters = { q: queryText(ctx.query.q), archived: ctx.query.archived === '1' ? '1' : undefined };
    const result = await ctx.services.sources.list(
      { q: filters.q, ...(filters.archived ? {} : { archived: false }) },
      pageOf(ctx, 50),
    );
    render(ctx, views, 'admin/sources', {
      title: 'Sources',
      nav: 'sources',
      filters,
      sources: result.data,
      pagination: result.pagination.totalPages > 1 ? result.pagination : null,
      ...pageLinks('/admin/sources', filters, result.pagination),
    });
  });
}

/** A new source, or one source: its page and its changes. */
function registerSourceEdit(router: Router<AppState, AppCustom>, views: Views): void {
  const sourcePage = (
    ctx: AppContext,
    source: Source | null,
    values: { params: ReturnType<typeof paramRows> },
    errors?: Errors,
  ) =>
    render(ctx, views, 'admin/source-edit', {
      title: source ? `${source.name} · Sources` : 'New source',
      nav: 'sources',
      source,
      action: source ? `/admin/sources/${source.id}` : '/admin/sources/new',
      // Each parameter's error beside its own row.
      values: { ...values, params: values.params.map((row) => ({ ...row, error: errors?.[`params.${row.key}`] })) },
      errors,
    });
  router.get('/admin/sources/new', (ctx) => {
    sourcePage(ctx, null, { params: paramRows({}) });
  });
  router.post('/admin/sources/new', async (ctx) => {
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const source = await ctx.services.sources.create(parse(t.sourceCreate, sourceInput(body)), actor(ctx));
        flash(ctx, 'success', `Source “${source.name}” created.`);
        ctx.redirect(`/admin/sources/${source.id}`);
      },
      (errors) => sourcePage(ctx, null, sourceValuesFromBody(body), summarise(errors, SOURCE_FIELDS)),
    );
  });
  router.get('/admin/sources/:id', async (ctx) => {
    const source = await ctx.services.sources.get(idParam(ctx));
    sourcePage(ctx, source, sourceValues(source));
  });
  router.post('/admin/sources/:id', async (ctx) => {
    const source = await ctx.services.sources.get(idParam(ctx));
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        await ctx.services.sources.update(source.id, parse(t.sourcePatch, sourceInput(body)), actor(ctx));
        flash(ctx, 'success', 'Source saved.');
        ctx.redirect(`/admin/sources/${source.id}`);
      },
      (errors) => sourcePage(ctx, source, sourceValuesFromBody(body), summarise(errors, SOURCE_FIELDS)),
    );
  });
}

/** Deleting a source, after a confirmation; one that campaigns use cannot be. */
function registerSourceDelete(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/sources/:id/delete',
    confirmFirst(views, async (ctx) => {
      const source = await ctx.services.sources.get(idParam(ctx));
      return {
        question: `Delete the source “${source.name}”?`,
        consequences: [
          'Its parameter template and postback URL are deleted; reports keep its past traffic under its number. This cannot be undone.',
          'A source that campaigns still use cannot be deleted: choose another source on them first.',
        ],
        action: 'Delete the source',
        back: `/admin/sources/${source.id}`,
        nav: 'sources',
      };
    }),
  );
  router.post('/admin/sources/:id/delete', async (ctx) => {
    const source = await ctx.services.sources.get(idParam(ctx));
    if (
      !(await removing(ctx, 'source', `/admin/sources/${source.id}`, () =>
        ctx.services.sources.remove(source.id, actor(ctx)),
      ))
    )
      return;
    flash(ctx, 'success', `Source “${source.name}” deleted.`);
    ctx.redirect('/admin/sources');
  });
}

/** Campaign groups: the list, a new one, and deleting one. */
function registerGroups(router: Router<AppState, AppCustom>, views: Views): void {
  const groupsPage = async (ctx: AppContext, values: Record<string, unknown>, errors?: Errors) => {
    const [result, counts] = await Promise.all([
      ctx.services.groups.list({}, pageOf(ctx, 100)),
      ctx.services.groups.campaignCounts(),
    ]);
    render(ctx, views, 'admin/groups', {
      title: 'Campaign groups',
      nav: 'groups',
      groups: result.data.map((g) => ({ ...g, campaignCount: counts.get(g.id) ?? 0 })),
      pagination: result.pagination.totalPages > 1 ? result.pagination : null,
      ...pageLinks('/admin/groups', {}, result.pagination),
      values,
      errors,
    });
  };
  router.get('/admin/groups', async (ctx) => {
    await groupsPage(ctx, {});
  });
  router.post('/admin/groups', async (ctx) => {
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const group = await ctx.services.groups.create(
          parse(t.groupCreate, { name: text(body, 'name') ?? '' }),
          actor(ctx),
        );
        flash(ctx, 'success', `Group “${group.name}” created.`);
        ctx.redirect('/admin/groups');
      },
      (errors) => groupsPage(ctx, { name: valueAt(body, 'name') }, summarise(errors, ['name'])),
    );
  });
  router.post(
    '/admin/groups/:id/delete',
    confirmFirst(views, async (ctx) => {
      const group = await ctx.services.groups.get(idParam(ctx));
      return {
        question: `Delete the group “${group.name}”?`,
        consequences: ['Its campaigns keep running, without a group. This cannot be undone.'],
        action: 'Delete the group',
        back: '/admin/groups',
        nav: 'sources',
      };
    }),
  );
  router.post('/admin/groups/:id/delete', async (ctx) => {
    const group = await ctx.services.groups.get(idParam(ctx));
    await ctx.services.groups.remove(group.id, actor(ctx));
    flash(ctx, 'success', `Group “${group.name}” deleted; its campaigns now have no group.`);
    ctx.redirect('/admin/groups');
  });
}

/** A new Click API token for a campaign (the owner's, after a confirmation). */
function registerCampaignApiToken(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/campaigns/:id/regenerate-api-token',
    requireRole('owner'),
    confirmFirst(views, async (ctx) => {
      const campaign = await ctx.services.campaigns.get(idParam(ctx));
      return {
        question: `Generate a new Click API token for “${campaign.name}”?`,
        consequences: [
          'The current token stops working at once: Click API calls with it are refused (401) until they use the new one.',
          'This cannot be undone.',
        ],
        action: 'Generate a new token',
        back: `/admin/campaigns/${campaign.id}`,
        nav: 'campaigns',
      };
    }),
  );
  router.post('/admin/campaigns/:id/regenerate-api-token', requireRole('owner'), async (ctx) => {
    const id = idParam(ctx);
    await ctx.services.campaigns.regenerateApiToken(id, actor(ctx));
    flash(ctx, 'success', 'A new API token was generated. Update the Click API integrations of this campaign.');
    ctx.redirect(`/admin/campaigns/${id}`);
  });
}

/** A campaign's flows tab: its flows by type, moving one, and a new one. */
function registerFlowList(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/campaigns/:id/flows', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    await flowsTab(ctx, views, campaign, newFlowValues());
  });
  // Up and down buttons (a form each, no script): the flow changes place with its neighbour.
  router.post('/admin/campaigns/:id/flows/:flowId/move', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    const direction = bodyOf(ctx).direction === 'up' ? 'up' : 'down';
    await ctx.services.flows.move(campaign.id, idParam(ctx, 'flowId'), direction, actor(ctx));
    flash(ctx, 'success', `Flow moved ${direction}.`);
    ctx.redirect(`/admin/campaigns/${campaign.id}/flows`);
  });
  router.post('/admin/campaigns/:id/flows', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    const body = bodyOf(ctx);
    const rows = filterRowsFromBody(body);
    const { input, rowOf } = flowInput(body, rows);
    await handleForm(
      ctx,
      async () => {
        const { archived: _new, ...fields } = input;
        const flow = await ctx.services.flows.create(campaign.id, parse(t.flowCreate, fields), actor(ctx));
        flash(ctx, 'success', `Flow “${flow.name}” created.`);
        ctx.redirect(`/admin/campaigns/${campaign.id}/flows`);
      },
      (errors) =>
        flowsTab(
          ctx,
          views,
          campaign,
          flowValuesFromBody(body, rows),
          summarise(attachFilterErrors(attachListErrors(errors, ['landings', 'offers']), rows, rowOf), [
            ...FLOW_FIELDS,
            'filterRows',
          ]),
        ),
    );
  });
}

/** One flow: its page and its changes. */
function registerFlowEdit(router: Router<AppState, AppCustom>, views: Views): void {
  const flowPage = (ctx: AppContext, campaign: Campaign, flow: Flow, values: unknown, errors?: Errors) =>
    campaignPage(ctx, views, campaign, 'flows', 'admin/flow-edit', {
      title: `${flow.name} · ${campaign.name}`,
      flow,
      flowOptions,
      values,
      errors,
    });
  router.get('/admin/campaigns/:id/flows/:flowId', async (ctx) => {
    const { campaign, flow } = await loadFlow(ctx);
    flowPage(ctx, campaign, flow, flowValues(flow));
  });
  router.post('/admin/campaigns/:id/flows/:flowId', async (ctx) => {
    const { campaign, flow } = await loadFlow(ctx);
    const body = bodyOf(ctx);
    const rows = filterRowsFromBody(body);
    const { input, rowOf } = flowInput(body, rows);
    await handleForm(
      ctx,
      async () => {
        await ctx.services.flows.update(campaign.id, flow.id, parse(t.flowPatch, input), actor(ctx));
        flash(ctx, 'success', 'Flow saved.');
        ctx.redirect(`/admin/campaigns/${campaign.id}/flows`);
      },
      (errors) =>
        flowPage(
          ctx,
          campaign,
          flow,
          flowValuesFromBody(body, rows),
          summarise(attachFilterErrors(attachListErrors(errors, ['landings', 'offers']), rows, rowOf), [
            ...FLOW_FIELDS,
            'filterRows',
          ]),
        ),
    );
  });
}

/** Deleting a flow, after a confirmation. */
function registerFlowDelete(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/campaigns/:id/flows/:flowId/delete',
    confirmFirst(views, async (ctx) => {
      const { campaign, flow } = await loadFlow(ctx);
      return {
        question: `Delete the flow “${flow.name}”?`,
        consequences: [
          `Visitors of “${campaign.name}” go to the next flow whose filters pass (or get a 404 without one). This cannot be undone.`,
        ],
        action: 'Delete the flow',
        back: `/admin/campaigns/${campaign.id}/flows/${flow.id}`,
        nav: 'campaigns',
      };
    }),
  );
  router.post('/admin/campaigns/:id/flows/:flowId/delete', async (ctx) => {
    const { campaign, flow } = await loadFlow(ctx);
    const back = `/admin/campaigns/${campaign.id}/flows/${flow.id}`;
    if (!(await removing(ctx, 'flow', back, () => ctx.services.flows.remove(campaign.id, flow.id, actor(ctx))))) return;
    flash(ctx, 'success', `Flow “${flow.name}” deleted.`);
    ctx.redirect(`/admin/campaigns/${campaign.id}/flows`);
  });
}
