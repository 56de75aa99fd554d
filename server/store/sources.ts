import type { Knex } from 'knex';
import { parseJson, toIso, paginate, whereContains, type Page } from './rows.js';
import { SOURCE_PARAM_KEYS } from '../schemas/traffic.js';
import type { PageQuery } from '../validation.js';

/** A traffic source: its URL parameter template and its postback URL (SPEC §7.4). */
export interface Source {
  id: number;
  name: string;
  /** `{ sub_id_1: 'zoneid', cost: 'cost' }`: which URL parameter carries each value. */
  params: Record<string, string>;
  postbackUrl: string | null;
  /** The parameters to append to a campaign URL: "?zoneid={zoneid}&cost={cost}" ("" without any). */
  urlTemplate: string;
  archived: boolean;
  createdAt: string | null;
  updatedAt: string | null;
}

interface SourceRow {
  id: number;
  name: string;
  params: string;
  postback_url: string | null;
  archived_at: number | null;
  created_at: number;
  updated_at: number;
}

export type SourceColumns = Partial<Omit<SourceRow, 'id'>>;

/** "?zoneid={zoneid}&cost={cost}": each mapped parameter with its own name as the placeholder, in template order. */
export function sourceUrlTemplate(params: Record<string, string>): string {
  const pairs = SOURCE_PARAM_KEYS.filter((k) => params[k]).map((k) => `${params[k]}={${params[k]}}`);
  return pairs.length ? `?${pairs.join('&')}` : '';
}

export const toSource = (r: SourceRow): Source => {
  const params = parseJson<Record<string, string>>(r.params, {});
  return {
    id: r.id,
    name: r.name,
    params,
    postbackUrl: r.postback_url,
    urlTemplate: sourceUrlTemplate(params),
    archived: r.archived_at !== null,
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
};

export interface SourceFilters {
  q?: string;
  archived?: boolean;
}

export async function listSources(db: Knex, f: SourceFilters, page: PageQuery): Promise<Page<Source>> {
  const q = db('traffic_sources').select('*');
  if (f.archived !== undefined) q[f.archived ? 'whereNotNull' : 'whereNull']('archived_at');
  if (f.q) whereContains(q, ['name'], f.q);
  return paginate<SourceRow, Source>(q, page, toSource, [
    { column: 'name', order: 'asc' },
    { column: 'id', order: 'asc' },
  ]);
}

export async function allSources(db: Knex): Promise<Source[]> {
  return ((await db('traffic_sources').select('*').orderBy(['name', 'id'])) as SourceRow[]).map(toSource);
}

export async function getSource(db: Knex, id: number): Promise<Source | null> {
  const row = (await db('traffic_sources').where({ id }).first()) as SourceRow | undefined;
  return row ? toSource(row) : null;
}

export async function insertSource(db: Knex, cols: SourceColumns): Promise<number> {
  const [id] = await db('traffic_sources').insert(cols);
  return Number(id);
}

export async function updateSource(db: Knex, id: number, cols: SourceColumns): Promise<void> {
  await db('traffic_sources').where({ id }).update(cols);
}

export async function deleteSource(db: Knex, id: number): Promise<void> {
  await db('traffic_sources').where({ id }).delete();
}

/** Whether recorded clicks or conversions name the source (then it is archived, not deleted). */
export async function sourceHasHistory(db: Knex, id: number): Promise<boolean> {
  const click = await db('clicks').where('source_id', id).first(db.raw('1 as x'));
  if (click) return true;
  return Boolean(await db('conversions').where('source_id', id).first(db.raw('1 as x')));
}
