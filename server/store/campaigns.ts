import type { Knex } from 'knex';
import { toBool, toBoolOrNull, toIso, parseJson, paginate, whereContains, type Page } from './rows.js';
import { asUnits, type Units } from '../domain/money.js';
import type { PageQuery } from '../validation.js';

export interface Campaign {
  id: number;
  name: string;
  type: 'public' | 'manual' | 'private';
  isDefault: boolean;
  status: 'active' | 'paused';
  productIds: string[];
  cookieDays: number | null;
  overwriteCookie: boolean | null;
  approval: 'auto' | 'manual' | null;
  secretKey: string;
  destinationUrl: string | null;
  archived: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  // Traffic (SPEC §7.1). costValue and trafficLoss are units (1/10,000), as stored.
  /** null = the tracker's own host. */
  domainId: number | null;
  /** null = not reachable by a campaign URL. */
  alias: string | null;
  groupId: number | null;
  sourceId: number | null;
  flowRotation: 'position' | 'weight';
  costModel: 'CPC' | 'CPUC' | 'CPM' | 'CPA' | 'CPS' | 'REVSHARE';
  /** Per click (CPC, CPUC), per 1,000 clicks (CPM), per conversion (CPA, CPS) or a percent (REVSHARE). */
  costValue: Units;
  costAuto: boolean;
  /** null = the base currency. */
  costCurrency: string | null;
  /** Percent, 0–99.99. */
  trafficLoss: Units;
  bindVisitors: 'none' | 'flows' | 'flows_landings' | 'flows_landings_offers';
  uniqueness: 'ip_ua' | 'ip' | 'cookie';
  uniquenessTtlHours: number;
  bypassCache: boolean;
  /** The Click API token (read-only; regenerable). */
  apiToken: string | null;
}

export interface CampaignRow {
  id: number;
  name: string;
  type: Campaign['type'];
  default_key: number | null;
  status: Campaign['status'];
  product_ids: string;
  cookie_days: number | null;
  overwrite_cookie: number | boolean | null;
  approval: Campaign['approval'];
  secret_key: string;
  destination_url: string | null;
  archived_at: number | null;
  created_at: number;
  updated_at: number;
  domain_id: number | null;
  alias: string | null;
  group_id: number | null;
  source_id: number | null;
  flow_rotation: Campaign['flowRotation'];
  cost_model: Campaign['costModel'];
  /** Units (1/10,000). */
  cost_value: number | string;
  cost_auto: number | boolean;
  cost_currency: string | null;
  /** Percent in units. */
  traffic_loss: number | string;
  bind_visitors: Campaign['bindVisitors'];
  uniqueness: Campaign['uniqueness'];
  uniqueness_ttl_hours: number;
  bypass_cache: number | boolean;
  api_token: string | null;
}

export type CampaignColumns = Partial<Omit<CampaignRow, 'id'>>;

export const toCampaign = (r: CampaignRow): Campaign => ({
  id: r.id,
  name: r.name,
  type: r.type,
  isDefault: r.default_key !== null,
  status: r.status,
  productIds: parseJson<string[]>(r.product_ids, []),
  cookieDays: r.cookie_days,
  overwriteCookie: toBoolOrNull(r.overwrite_cookie),
  approval: r.approval,
  secretKey: r.secret_key,
  destinationUrl: r.destination_url,
  archived: r.archived_at !== null,
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
  domainId: r.domain_id ?? null,
  alias: r.alias ?? null,
  groupId: r.group_id ?? null,
  sourceId: r.source_id ?? null,
  flowRotation: r.flow_rotation ?? 'position',
  costModel: r.cost_model ?? 'CPC',
  costValue: asUnits(Number(r.cost_value ?? 0)),
  costAuto: r.cost_auto === undefined ? true : toBool(r.cost_auto),
  costCurrency: r.cost_currency ?? null,
  trafficLoss: asUnits(Number(r.traffic_loss ?? 0)),
  bindVisitors: r.bind_visitors ?? 'none',
  uniqueness: r.uniqueness ?? 'ip_ua',
  uniquenessTtlHours: r.uniqueness_ttl_hours ?? 24,
  bypassCache: toBool(r.bypass_cache),
  apiToken: r.api_token ?? null,
});

export interface CampaignFilters {
  status?: Campaign['status'];
  type?: Campaign['type'];
  groupId?: number;
  q?: string;
  archived?: boolean;
}

export async function listCampaigns(db: Knex, f: CampaignFilters, page: PageQuery): Promise<Page<Campaign>> {
  const q = db('campaigns').select('*');
  if (f.status) q.where('status', f.status);
  if (f.type) q.where('type', f.type);
  if (f.groupId !== undefined) q.where('group_id', f.groupId);
  if (f.archived !== undefined) q[f.archived ? 'whereNotNull' : 'whereNull']('archived_at');
  if (f.q) whereContains(q, ['name'], f.q);
  return paginate<CampaignRow, Campaign>(q, page, toCampaign);
}

export async function allCampaigns(db: Knex): Promise<Campaign[]> {
  const rows = (await db('campaigns').select('*').orderBy('name')) as CampaignRow[];
  return rows.map(toCampaign);
}

export async function getCampaign(db: Knex, id: number): Promise<Campaign | null> {
  const row = (await db('campaigns').where({ id }).first()) as CampaignRow | undefined;
  return row ? toCampaign(row) : null;
}

/**
 * The campaign holding `alias` on a domain (null = the tracker's own host), compared without
 * case so SQLite and MySQL (case-insensitive collation) agree; `exceptId` skips the campaign itself.
 */
export async function findCampaignByAlias(
  db: Knex,
  domainId: number | null,
  alias: string,
  exceptId?: number,
): Promise<Campaign | null> {
  const q = db('campaigns').whereRaw('LOWER(alias) = ?', [alias.toLowerCase()]);
  if (domainId === null) q.whereNull('domain_id');
  else q.where('domain_id', domainId);
  if (exceptId !== undefined) q.whereNot('id', exceptId);
  const row = (await q.first()) as CampaignRow | undefined;
  return row ? toCampaign(row) : null;
}

/** Names of the campaigns that use a domain or a source (the delete of either is refused while any do). */
export async function campaignsUsing(
  db: Knex,
  column: 'domain_id' | 'source_id',
  id: number,
): Promise<Array<{ id: number; name: string }>> {
  return (await db('campaigns').where(column, id).orderBy('id').limit(5).select('id', 'name')) as Array<{
    id: number;
    name: string;
  }>;
}

export async function getDefaultCampaign(db: Knex): Promise<Campaign | null> {
  const row = (await db('campaigns').where({ default_key: 1 }).first()) as CampaignRow | undefined;
  return row ? toCampaign(row) : null;
}

/** The oldest campaign that is not archived (the one made default when none is). */
export async function oldestLiveCampaignId(db: Knex): Promise<number | null> {
  const row = (await db('campaigns').whereNull('archived_at').orderBy('id').first('id')) as { id: number } | undefined;
  return row ? Number(row.id) : null;
}

export async function insertCampaign(db: Knex, cols: CampaignColumns, productIds: string[]): Promise<number> {
  const [id] = await db('campaigns').insert({ ...cols, product_ids: JSON.stringify(productIds) });
  await replaceCampaignProducts(db, Number(id), productIds);
  return Number(id);
}

export async function updateCampaign(
  db: Knex,
  id: number,
  cols: CampaignColumns,
  productIds?: string[],
): Promise<void> {
  await db('campaigns')
    .where({ id })
    .update(productIds ? { ...cols, product_ids: JSON.stringify(productIds) } : cols);
  if (productIds) await replaceCampaignProducts(db, id, productIds);
}

async function replaceCampaignProducts(db: Knex, campaignId: number, productIds: string[]): Promise<void> {
  await db('campaign_products').where({ campaign_id: campaignId }).delete();
  const unique = [...new Set(productIds)];
  for (let i = 0; i < unique.length; i += 200) {
    // Ignore rows the database itself counts as duplicates: MySQL's collation equates "SKU-1" and "sku-1".
    await db('campaign_products')
      .insert(unique.slice(i, i + 200).map((p) => ({ campaign_id: campaignId, product_id: p })))
      .onConflict(['campaign_id', 'product_id'])
      .ignore();
  }
}

/** Makes `id` the one default campaign (clears the previous one first: default_key is unique). */
export async function setDefaultCampaign(db: Knex, id: number): Promise<void> {
  await db('campaigns').whereNot({ id }).where({ default_key: 1 }).update({ default_key: null });
  await db('campaigns').where({ id }).update({ default_key: 1 });
}

export async function deleteCampaign(db: Knex, id: number): Promise<void> {
  await db('campaigns').where({ id }).delete();
}

export async function countCampaigns(db: Knex): Promise<{ active: number; paused: number }> {
  const rows = (await db('campaigns')
    .whereNull('archived_at')
    .select('status')
    .count({ n: '*' })
    .groupBy('status')) as Array<{
    status: Campaign['status'];
    n: number | string;
  }>;
  const out = { active: 0, paused: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/**
 * Copies a campaign row and its flows that are not archived (SPEC §15): `changes` makes the
 * copy's own columns from the original. Answers the copy's id, or null when `id` does not exist.
 */
export async function copyCampaignWithFlows(
  db: Knex,
  id: number,
  changes: (row: CampaignRow) => CampaignColumns,
  now: number,
): Promise<number | null> {
  const row = (await db('campaigns').where({ id }).first()) as CampaignRow | undefined;
  if (!row) return null;
  const { id: _id, ...cols } = row;
  const [inserted] = await db('campaigns').insert({ ...cols, ...changes(row) });
  const copyId = Number(inserted);
  const flows = (await db('flows').where({ campaign_id: id }).whereNull('archived_at')) as Array<
    Record<string, unknown>
  >;
  for (const { id: _flowId, ...flow } of flows)
    await db('flows').insert({ ...flow, campaign_id: copyId, created_at: now, updated_at: now });
  return copyId;
}
