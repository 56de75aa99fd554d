import type { Knex } from 'knex';
import { toBoolOrNull, toIso, parseJson, paginate, whereContains, type Page } from './rows.js';
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
});

export interface CampaignFilters {
  status?: Campaign['status'];
  type?: Campaign['type'];
  q?: string;
  archived?: boolean;
}

export async function listCampaigns(db: Knex, f: CampaignFilters, page: PageQuery): Promise<Page<Campaign>> {
  const q = db('campaigns').select('*');
  if (f.status) q.where('status', f.status);
  if (f.type) q.where('type', f.type);
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

export async function getDefaultCampaign(db: Knex): Promise<Campaign | null> {
  const row = (await db('campaigns').where({ default_key: 1 }).first()) as CampaignRow | undefined;
  return row ? toCampaign(row) : null;
}

export async function insertCampaign(db: Knex, cols: CampaignColumns, productIds: string[]): Promise<number> {
  const [id] = await db('campaigns').insert({ ...cols, product_ids: JSON.stringify(productIds) });
  await replaceCampaignProducts(db, Number(id), productIds);
  return Number(id);
}

export async function updateCampaign(db: Knex, id: number, cols: CampaignColumns, productIds?: string[]): Promise<void> {
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
  const rows = (await db('campaigns').whereNull('archived_at').select('status').count({ n: '*' }).groupBy('status')) as Array<{
    status: Campaign['status'];
    n: number | string;
  }>;
  const out = { active: 0, paused: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}
