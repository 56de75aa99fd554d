import type { Knex } from 'knex';
import { dialectHelper } from '../db/index.js';

/** When a device was last seen in a uniqueness scope (campaign, flow or global, SPEC §7.3). */
export type UniquenessMark = {
  scope: string;
  device_key: string;
  seen_at: number;
};

/** Stores marks, moving a device's earlier time in the same scope. */
export async function saveUniquenessMarks(db: Knex.Transaction, marks: UniquenessMark[]): Promise<void> {
  await dialectHelper(db).insertRows(db, 'uniqueness_marks', marks, ['scope', 'device_key']);
}

/** When the device was last seen in each of these scopes that has a mark (a cached statement: the hot path). */
export async function lastSeenMarks(db: Knex, deviceKey: string, scopes: string[]): Promise<Map<string, number>> {
  const rows = await dialectHelper(db).select<{ scope: string; seen_at: number | string }>(
    db,
    `SELECT scope, seen_at FROM uniqueness_marks WHERE device_key = ? AND scope IN (${scopes.map(() => '?').join(', ')})`,
    [deviceKey, ...scopes],
  );
  return new Map(rows.map((r) => [r.scope, Number(r.seen_at)]));
}
