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
