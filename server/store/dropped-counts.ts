import type { Knex } from 'knex';
import { dialectHelper } from '../db/index.js';

/** One more event of `kind` dropped by the fraud rule `reason` on `day` (the dashboard's dropped counts). */
export async function countDroppedEvent(db: Knex, day: string, kind: 'click' | 'sale', reason: string): Promise<void> {
  await dialectHelper(db).upsertIncrement(
    db,
    'dropped_counts',
    ['day', 'kind', 'reason'],
    [{ day, kind, reason, count: 1 }],
    ['count'],
  );
}
