import type { Knex } from 'knex';

/*
 * Deletes by age in batches: each call selects at most `batch` keys and deletes just those rows
 * (re-checking the age, so a row refreshed meanwhile stays), a short statement that never holds
 * a long lock. The same SQL runs on both databases (no DELETE … LIMIT on SQLite).
 */

/** Uniqueness marks last seen before `cutoff` (ms); returns how many were deleted. */
export async function deleteUniquenessMarksBefore(db: Knex, cutoff: number, batch: number): Promise<number> {
  const keys = (await db('uniqueness_marks')
    .where('seen_at', '<', cutoff)
    .select('scope', 'device_key')
    .limit(batch)) as Array<{ scope: string; device_key: string }>;
  if (!keys.length) return 0;
  return db('uniqueness_marks')
    .where('seen_at', '<', cutoff)
    .whereIn(
      ['scope', 'device_key'],
      keys.map((k) => [k.scope, k.device_key]),
    )
    .del();
}

/** Impression visitors of report days before `day` ("YYYY-MM-DD"); returns how many were deleted. */
export async function deleteImpressionVisitorsBefore(db: Knex, day: string, batch: number): Promise<number> {
  const keys = (await db('impression_visitors')
    .where('day', '<', day)
    .select('day', 'banner_id', 'visitor_key')
    .limit(batch)) as Array<{ day: string; banner_id: number; visitor_key: string }>;
  if (!keys.length) return 0;
  return db('impression_visitors')
    .whereIn(
      ['day', 'banner_id', 'visitor_key'],
      keys.map((k) => [k.day, k.banner_id, k.visitor_key]),
    )
    .del();
}

/** Shared values (SPEC §16) expired before `now`; returns how many were deleted. */
export async function deleteExpiredSharedValues(db: Knex, now: number, batch: number): Promise<number> {
  const keys = (await db('shared_values').where('expires_at', '<', now).select('key').limit(batch)) as Array<{
    key: string;
  }>;
  if (!keys.length) return 0;
  return db('shared_values')
    .where('expires_at', '<', now)
    .whereIn(
      'key',
      keys.map((k) => k.key),
    )
    .del();
}

/** Raw clicks made before `cutoff` (ms), oldest first; their rollups stay. Returns how many went. */
export async function deleteClicksBefore(db: Knex, cutoff: number, batch: number): Promise<number> {
  const ids = (await db('clicks').where('at', '<', cutoff).orderBy('at').limit(batch).select('id')) as Array<{
    id: number;
  }>;
  if (!ids.length) return 0;
  return db('clicks')
    .whereIn(
      'id',
      ids.map((r) => r.id),
    )
    .del();
}
