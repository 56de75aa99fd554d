import type { Knex } from 'knex';

/** Internal key/value state that is not a merchant setting (generated secret, cache version). */
export async function getSystemValue(db: Knex, key: string): Promise<string | null> {
  const row = (await db('system_kv').where({ key }).first()) as { value: string } | undefined;
  return row?.value ?? null;
}

export async function setSystemValue(db: Knex, key: string, value: string): Promise<void> {
  await db('system_kv').insert({ key, value }).onConflict('key').merge();
}

/** Inserts the value only if the key is absent; returns the value that won (safe when several processes start). */
export async function getOrCreateSystemValue(db: Knex, key: string, make: () => string): Promise<string> {
  await db('system_kv').insert({ key, value: make() }).onConflict('key').ignore();
  return (await getSystemValue(db, key)) as string;
}

/** Replaces the value of `key` only if it is still `expected`; true for the one caller that did. */
export async function compareAndSetSystemValue(
  db: Knex,
  key: string,
  expected: string,
  next: string,
): Promise<boolean> {
  const changed = await db('system_kv').where({ key, value: expected }).update({ value: next });
  return Number(changed) === 1;
}
