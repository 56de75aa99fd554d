import type { Knex } from 'knex';
import { toIso, paginate, whereContains, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';

export interface Banner {
  id: number;
  campaignId: number;
  name: string;
  type: 'link' | 'image' | 'html';
  destinationUrl: string | null;
  content: string | null;
  archived: boolean;
  createdAt: string | null;
  updatedAt: string | null;
}

interface BannerRow {
  id: number;
  campaign_id: number;
  name: string;
  type: Banner['type'];
  destination_url: string | null;
  content: string | null;
  archived_at: number | null;
  created_at: number;
  updated_at: number;
}

export type BannerColumns = Partial<Omit<BannerRow, 'id'>>;

const toBanner = (r: BannerRow): Banner => ({
  id: r.id,
  campaignId: r.campaign_id,
  name: r.name,
  type: r.type,
  destinationUrl: r.destination_url,
  content: r.content,
  archived: r.archived_at !== null,
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
});

export interface BannerFilters {
  campaignId?: number;
  type?: Banner['type'];
  q?: string;
  archived?: boolean;
}

export async function listBanners(db: Knex, f: BannerFilters, page: PageQuery): Promise<Page<Banner>> {
  const q = db('banners').select('*');
  if (f.campaignId) q.where('campaign_id', f.campaignId);
  if (f.type) q.where('type', f.type);
  if (f.archived !== undefined) q[f.archived ? 'whereNotNull' : 'whereNull']('archived_at');
  if (f.q) whereContains(q, ['name'], f.q);
  return paginate<BannerRow, Banner>(q, page, toBanner);
}

export async function getBanner(db: Knex, id: number): Promise<Banner | null> {
  const row = (await db('banners').where({ id }).first()) as BannerRow | undefined;
  return row ? toBanner(row) : null;
}

export async function insertBanner(db: Knex, cols: BannerColumns): Promise<number> {
  const [id] = await db('banners').insert(cols);
  return Number(id);
}

export async function updateBanner(db: Knex, id: number, cols: BannerColumns): Promise<void> {
  await db('banners').where({ id }).update(cols);
}

export async function deleteBanner(db: Knex, id: number): Promise<void> {
  await db('banners').where({ id }).delete();
}

export async function countBanners(db: Knex): Promise<number> {
  const row = (await db('banners').whereNull('archived_at').count({ n: '*' }).first()) as
    { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}
