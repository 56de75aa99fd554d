import type { Knex } from 'knex';

/**
 * The `shared_values` table: values several server processes agree on when no Redis is set
 * (SPEC §16). Every change is a guarded statement, so of racing processes one wins.
 */

/** The value of `key`, or null when it is absent or expired at `now`. */
export async function getSharedValue(db: Knex, key: string, now: number): Promise<string | null> {
  const row = (await db('shared_values').where({ key }).andWhere('expires_at', '>', now).first('value')) as
    { value: string } | undefined;
  return row?.value ?? null;
}

/** Takes over the row of `key` if it has expired; true when it did. */
export async function takeOverExpiredSharedValue(
  db: Knex,
  key: string,
  value: string,
  expiresAt: number,
  now: number,
): Promise<boolean> {
  const changed = await db('shared_values')
    .where({ key })
    .andWhere('expires_at', '<=', now)
    .update({ value, expires_at: expiresAt });
  return Number(changed) === 1;
}

/** Inserts the row of `key`; fails on the unique key when another process inserted it first. */
export async function insertSharedValue(db: Knex, key: string, value: string, expiresAt: number): Promise<void> {
  await db('shared_values').insert({ key, value, expires_at: expiresAt });
}

/** Replaces the value of `key` if it is still `expected` and unexpired; true when it did. */
export async function replaceSharedValue(
  db: Knex,
  key: string,
  expected: string,
  value: string,
  expiresAt: number,
  now: number,
): Promise<boolean> {
  const changed = await db('shared_values')
    .where({ key, value: expected })
    .andWhere('expires_at', '>', now)
    .update({ value, expires_at: expiresAt });
  return Number(changed) === 1;
}
