import type { Knex } from 'knex';
import { toIso, paginate, whereContains, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';

/** The hosts campaign URLs are served on (SPEC §7.1). */
export interface Domain {
  id: number;
  host: string;
  /** Runs when a campaign on this domain is paused (null: 404). */
  parkedCampaignId: number | null;
  createdAt: string | null;
  updatedAt: string | null;
}

interface DomainRow {
  id: number;
  host: string;
  parked_campaign_id: number | null;
  created_at: number;
  updated_at: number;
}

export type DomainColumns = Partial<Omit<DomainRow, 'id'>>;

const toDomain = (r: DomainRow): Domain => ({
  id: r.id,
  host: r.host,
  parkedCampaignId: r.parked_campaign_id,
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
});

export interface DomainFilters {
  q?: string;
}

export async function listDomains(db: Knex, f: DomainFilters, page: PageQuery): Promise<Page<Domain>> {
  const q = db('domains').select('*');
  if (f.q) whereContains(q, ['host'], f.q);
  return paginate<DomainRow, Domain>(q, page, toDomain, [{ column: 'host', order: 'asc' }]);
}

export async function allDomains(db: Knex): Promise<Domain[]> {
  return ((await db('domains').select('*').orderBy('host')) as DomainRow[]).map(toDomain);
}

export async function getDomain(db: Knex, id: number): Promise<Domain | null> {
  const row = (await db('domains').where({ id }).first()) as DomainRow | undefined;
  return row ? toDomain(row) : null;
}

export async function getDomainByHost(db: Knex, host: string): Promise<Domain | null> {
  const row = (await db('domains').where({ host }).first()) as DomainRow | undefined;
  return row ? toDomain(row) : null;
}

export async function insertDomain(db: Knex, cols: DomainColumns): Promise<number> {
  const [id] = await db('domains').insert(cols);
  return Number(id);
}

export async function updateDomain(db: Knex, id: number, cols: DomainColumns): Promise<void> {
  await db('domains').where({ id }).update(cols);
}

export async function deleteDomain(db: Knex, id: number): Promise<void> {
  await db('domains').where({ id }).delete();
}
