import type { Knex } from 'knex';
import { toIso, paginate, whereContains, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';

/** Campaign groups: a label to sort campaigns by (SPEC §7.1). */
export interface Group {
  id: number;
  name: string;
  createdAt: string | null;
  updatedAt: string | null;
}

interface GroupRow {
  id: number;
  name: string;
  created_at: number;
  updated_at: number;
}

export type GroupColumns = Partial<Omit<GroupRow, 'id'>>;

const toGroup = (r: GroupRow): Group => ({
  id: r.id,
  name: r.name,
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
});

export interface GroupFilters {
  q?: string;
}

export async function listGroups(db: Knex, f: GroupFilters, page: PageQuery): Promise<Page<Group>> {
  const q = db('traffic_groups').select('*');
  if (f.q) whereContains(q, ['name'], f.q);
  return paginate<GroupRow, Group>(q, page, toGroup, [
    { column: 'name', order: 'asc' },
    { column: 'id', order: 'asc' },
  ]);
}

export async function allGroups(db: Knex): Promise<Group[]> {
  return ((await db('traffic_groups').select('*').orderBy(['name', 'id'])) as GroupRow[]).map(toGroup);
}

export async function getGroup(db: Knex, id: number): Promise<Group | null> {
  const row = (await db('traffic_groups').where({ id }).first()) as GroupRow | undefined;
  return row ? toGroup(row) : null;
}

export async function insertGroup(db: Knex, cols: GroupColumns): Promise<number> {
  const [id] = await db('traffic_groups').insert(cols);
  return Number(id);
}

export async function updateGroup(db: Knex, id: number, cols: GroupColumns): Promise<void> {
  await db('traffic_groups').where({ id }).update(cols);
}

export async function deleteGroup(db: Knex, id: number): Promise<void> {
  await db('traffic_groups').where({ id }).delete();
}

/** How many campaigns carry each group, for the list page. */
export async function campaignCountsByGroup(db: Knex): Promise<Map<number, number>> {
  const rows = (await db('campaigns')
    .whereNotNull('group_id')
    .select('group_id')
    .count({ n: '*' })
    .groupBy('group_id')) as Array<{
    group_id: number;
    n: number | string;
  }>;
  return new Map(rows.map((r) => [Number(r.group_id), Number(r.n)]));
}
