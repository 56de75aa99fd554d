import type { Knex } from 'knex';
import { parseJson, toBool, toIso, type Page } from './rows.js';
import type { FilterDef, FlowDef, WeightedUrl } from '../domain/flows.js';
import type { PageQuery } from '../validation.js';

/** A campaign's flow as the API shows it (SPEC §7.2): `url` and `text` are FlowDef's redirectUrl and actionText. */
export interface Flow {
  id: number;
  campaignId: number;
  name: string;
  type: FlowDef['type'];
  position: number;
  weight: number;
  status: FlowDef['status'];
  collectClicks: boolean;
  filters: FilterDef[];
  filtersMode: FlowDef['filtersMode'];
  schema: FlowDef['schema'];
  landings: WeightedUrl[];
  offers: WeightedUrl[];
  url: string | null;
  action: FlowDef['action'];
  text: string | null;
  archived: boolean;
  createdAt: string | null;
  updatedAt: string | null;
}

interface FlowRow {
  id: number;
  campaign_id: number;
  name: string;
  type: Flow['type'];
  position: number;
  weight: number;
  status: Flow['status'];
  collect_clicks: number | boolean;
  filters: string;
  filters_mode: Flow['filtersMode'];
  schema: Flow['schema'];
  landings: string;
  offers: string;
  redirect_url: string | null;
  action: Flow['action'];
  action_text: string | null;
  archived_at: number | null;
  created_at: number;
  updated_at: number;
}

export type FlowColumns = Partial<Omit<FlowRow, 'id'>>;

const toFlow = (r: FlowRow): Flow => ({
  id: r.id,
  campaignId: r.campaign_id,
  name: r.name,
  type: r.type,
  position: Number(r.position),
  weight: Number(r.weight),
  status: r.status,
  collectClicks: toBool(r.collect_clicks),
  filters: parseJson<FilterDef[]>(r.filters, []),
  filtersMode: r.filters_mode,
  schema: r.schema,
  landings: parseJson<WeightedUrl[]>(r.landings, []),
  offers: parseJson<WeightedUrl[]>(r.offers, []),
  url: r.redirect_url,
  action: r.action,
  text: r.action_text,
  archived: r.archived_at !== null,
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
});

/** The shape flow selection reads (server/domain/flows.ts). */
export function toFlowDef(f: Flow): FlowDef {
  return {
    id: f.id,
    campaignId: f.campaignId,
    name: f.name,
    type: f.type,
    position: f.position,
    weight: f.weight,
    status: f.status,
    collectClicks: f.collectClicks,
    filters: f.filters,
    filtersMode: f.filtersMode,
    schema: f.schema,
    landings: f.landings,
    offers: f.offers,
    redirectUrl: f.url,
    action: f.action,
    actionText: f.text,
  };
}

export interface FlowFilters {
  type?: Flow['type'];
  status?: Flow['status'];
  archived?: boolean;
}

/** Forced, then regular, then default; each by position (then id): the order selection reads them in. */
const TYPE_ORDER = "CASE type WHEN 'forced' THEN 0 WHEN 'regular' THEN 1 ELSE 2 END";

function flowQuery(db: Knex, campaignId: number, f: FlowFilters): Knex.QueryBuilder {
  const q = db('flows').where('campaign_id', campaignId);
  if (f.type) q.where('type', f.type);
  if (f.status) q.where('status', f.status);
  if (f.archived !== undefined) q[f.archived ? 'whereNotNull' : 'whereNull']('archived_at');
  return q;
}

export async function listFlows(db: Knex, campaignId: number, f: FlowFilters, page: PageQuery): Promise<Page<Flow>> {
  const countRow = (await flowQuery(db, campaignId, f).count({ n: '*' }).first()) as { n: number | string } | undefined;
  const total = Number(countRow?.n ?? 0);
  const rows = (await flowQuery(db, campaignId, f)
    .select('*')
    .orderByRaw(TYPE_ORDER)
    .orderBy([
      { column: 'position', order: 'asc' },
      { column: 'id', order: 'asc' },
    ])
    .limit(page.perPage)
    .offset((page.page - 1) * page.perPage)) as FlowRow[];
  return {
    data: rows.map(toFlow),
    pagination: {
      page: page.page,
      perPage: page.perPage,
      total,
      totalPages: Math.max(1, Math.ceil(total / page.perPage)),
    },
  };
}

export async function getFlow(db: Knex, id: number): Promise<Flow | null> {
  const row = (await db('flows').where({ id }).first()) as FlowRow | undefined;
  return row ? toFlow(row) : null;
}

/** The other non-archived default flow of a campaign, if any. */
export async function otherDefaultFlow(db: Knex, campaignId: number, exceptId?: number): Promise<Flow | null> {
  const q = db('flows').where({ campaign_id: campaignId, type: 'default' }).whereNull('archived_at');
  if (exceptId !== undefined) q.whereNot('id', exceptId);
  const row = (await q.first()) as FlowRow | undefined;
  return row ? toFlow(row) : null;
}

/** The position after the campaign's last flow (new flows go to the bottom). */
export async function nextPosition(db: Knex, campaignId: number): Promise<number> {
  const row = (await db('flows').where('campaign_id', campaignId).max({ p: 'position' }).first()) as
    { p: number | string | null } | undefined;
  return row?.p === null || row?.p === undefined ? 0 : Number(row.p) + 1;
}

export async function insertFlow(db: Knex, cols: FlowColumns): Promise<number> {
  const [id] = await db('flows').insert(cols);
  return Number(id);
}

export async function updateFlow(db: Knex, id: number, cols: FlowColumns): Promise<void> {
  await db('flows').where({ id }).update(cols);
}

export async function deleteFlow(db: Knex, campaignId: number, id: number): Promise<void> {
  // Visitors bound to it choose again (the campaign id keeps this on the bindings' primary key).
  await db('visitor_bindings').where({ campaign_id: campaignId, flow_id: id }).delete();
  await db('flows').where({ id }).delete();
}

/** Whether recorded clicks name the flow (then it is archived, not deleted). */
export async function flowHasHistory(db: Knex, id: number): Promise<boolean> {
  return Boolean(await db('clicks').where('flow_id', id).first(db.raw('1 as x')));
}

/** Every non-archived flow as FlowDefs, grouped by campaign in selection order (for the configuration cache). */
export async function activeFlowDefs(db: Knex): Promise<Map<number, FlowDef[]>> {
  const rows = (await db('flows').whereNull('archived_at').orderBy(['campaign_id', 'position', 'id'])) as FlowRow[];
  const out = new Map<number, FlowDef[]>();
  for (const r of rows) {
    const def = toFlowDef(toFlow(r));
    const list = out.get(def.campaignId);
    if (list) list.push(def);
    else out.set(def.campaignId, [def]);
  }
  return out;
}
