import type { Knex } from 'knex';
import { pageInfo, type PageQuery } from '../validation.js';

/** Row helpers shared by the store files: booleans, JSON text columns and pagination. */

export const toBool = (v: unknown): boolean => v === true || v === 1 || v === '1';

export const toBoolOrNull = (v: unknown): boolean | null => (v === null || v === undefined ? null : toBool(v));

export function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== 'string' || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export const toIso = (ms: unknown): string | null =>
  ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();

export interface Page<T> {
  data: T[];
  pagination: { page: number; perPage: number; total: number; totalPages: number };
}

/** Runs a filtered query twice: once for the total, once for the page (ordered by `orderBy`). */
export async function paginate<Row, T>(
  query: Knex.QueryBuilder,
  page: PageQuery,
  map: (row: Row) => T,
  orderBy: Array<{ column: string; order: 'asc' | 'desc' }> = [{ column: 'id', order: 'desc' }],
): Promise<Page<T>> {
  const countRow = (await query.clone().clearSelect().clearOrder().count({ n: '*' }).first()) as
    { n: number | string } | undefined;
  const total = Number(countRow?.n ?? 0);
  const rows = (await query
    .clone()
    .orderBy(orderBy)
    .limit(page.perPage)
    .offset((page.page - 1) * page.perPage)) as Row[];
  return {
    data: rows.map(map),
    pagination: pageInfo(page, total),
  };
}

/**
 * Every row of `query`, newest (highest id) first, read `batch` rows at a time by id (keyset,
 * not OFFSET): an export of millions of rows holds one batch in memory and no long-lived cursor.
 */
export async function* eachRow<Row extends { id: number | string }, T>(
  query: Knex.QueryBuilder,
  map: (row: Row) => T,
  batch = 500,
): AsyncGenerator<T> {
  let before: number | null = null;
  for (;;) {
    const q = query.clone().orderBy('id', 'desc').limit(batch);
    if (before !== null) q.where('id', '<', before);
    const rows = (await q) as Row[];
    for (const row of rows) yield map(row);
    if (rows.length < batch) return;
    before = Number(rows[rows.length - 1]!.id);
  }
}

/** Adds `(col1 LIKE %term% OR col2 ...)`, with wildcards in the term matched literally on every dialect. */
export function whereContains(query: Knex.QueryBuilder, columns: string[], term: string): Knex.QueryBuilder {
  const pattern = `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return query.where((q) => {
    for (const column of columns) q.orWhereRaw('?? LIKE ? ESCAPE ?', [column, pattern, '\\']);
  });
}

/** True when `table` has a row with this id (a reference check before a write). */
export async function rowExists(db: Knex, table: string, id: number): Promise<boolean> {
  return Boolean(await db(table).where({ id }).first('id'));
}
