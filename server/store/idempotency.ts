import type { Knex } from 'knex';
import { dialectHelper } from '../db/index.js';

export interface IdempotencyRow {
  id: number;
  key_hash: string;
  request_hash: string;
  status: number | null;
  body: string | null;
  created_at: number;
  expires_at: number | null;
}

/** Claims a key for a first request; false when the key is already taken. */
export async function claimKey(
  db: Knex,
  row: Pick<IdempotencyRow, 'key_hash' | 'request_hash' | 'created_at' | 'expires_at'>,
): Promise<boolean> {
  try {
    await db('idempotency_keys').insert({ ...row, status: null, body: null });
    return true;
  } catch (err) {
    if (dialectHelper(db).isUniqueViolation(err)) return false;
    throw err;
  }
}

export async function findKey(db: Knex, keyHash: string): Promise<IdempotencyRow | null> {
  const row = (await db('idempotency_keys').where({ key_hash: keyHash }).first()) as IdempotencyRow | undefined;
  return row ? { ...row, status: row.status === null ? null : Number(row.status) } : null;
}

/** Stores the first request's answer under its key. */
export async function saveAnswer(db: Knex, keyHash: string, status: number, body: string): Promise<void> {
  await db('idempotency_keys').where({ key_hash: keyHash }).update({ status, body });
}

/** Frees a key whose first request failed without an answer worth repeating (or that expired). */
export async function releaseKey(db: Knex, keyHash: string): Promise<void> {
  await db('idempotency_keys').where({ key_hash: keyHash }).delete();
}

export async function deleteExpiredKeys(db: Knex, now: number): Promise<number> {
  return db('idempotency_keys').where('expires_at', '<', now).delete();
}
