import type { Knex } from 'knex';
import { toIso } from './rows.js';

export type ApiKeyRole = 'owner' | 'manager';

/** An API key as the API shows it: never its secret (only shown once, at creation). */
export interface ApiKey {
  id: number;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  createdBy: number;
  createdAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** `active`, `expired` or `revoked`, at the time of reading. */
  status: 'active' | 'expired' | 'revoked';
}

export interface ApiKeyRow {
  id: number;
  name: string;
  role: ApiKeyRole;
  key_hash: string;
  prefix: string;
  created_by: number;
  created_at: number | string;
  expires_at: number | string | null;
  revoked_at: number | string | null;
  last_used_at: number | string | null;
}

const ms = (v: number | string | null): number | null => (v === null || v === undefined ? null : Number(v));

export const toApiKey = (r: ApiKeyRow, now: number): ApiKey => {
  const expires = ms(r.expires_at);
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    prefix: r.prefix,
    createdBy: r.created_by,
    createdAt: toIso(ms(r.created_at)),
    expiresAt: toIso(expires),
    revokedAt: toIso(ms(r.revoked_at)),
    lastUsedAt: toIso(ms(r.last_used_at)),
    status: r.revoked_at !== null ? 'revoked' : expires !== null && expires <= now ? 'expired' : 'active',
  };
};

export async function insertApiKey(db: Knex, row: Omit<ApiKeyRow, 'id' | 'revoked_at' | 'last_used_at'>) {
  const [id] = await db('api_keys').insert(row);
  return Number(id);
}

export async function listApiKeys(db: Knex): Promise<ApiKeyRow[]> {
  return (await db('api_keys').orderBy('id', 'desc')) as ApiKeyRow[];
}

export async function getApiKey(db: Knex, id: number): Promise<ApiKeyRow | null> {
  return ((await db('api_keys').where({ id }).first()) as ApiKeyRow | undefined) ?? null;
}

/** The key with this secret's hash and the e-mail of the account it belongs to. */
export async function findApiKeyByHash(
  db: Knex,
  hash: string,
): Promise<(ApiKeyRow & { owner_email: string; owner_role: string }) | null> {
  return (
    ((await db('api_keys')
      .join('users', 'users.id', 'api_keys.created_by')
      .where('api_keys.key_hash', hash)
      .first('api_keys.*', 'users.email as owner_email', 'users.role as owner_role')) as
      (ApiKeyRow & { owner_email: string; owner_role: string }) | undefined) ?? null
  );
}

export async function revokeApiKey(db: Knex, id: number, now: number): Promise<void> {
  await db('api_keys').where({ id }).whereNull('revoked_at').update({ revoked_at: now });
}

export async function touchApiKey(db: Knex, id: number, now: number): Promise<void> {
  await db('api_keys').where({ id }).update({ last_used_at: now });
}
