import type { Knex } from 'knex';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Actor } from './actor.js';
import type { AuthUser, Verified } from './auth.js';
import { audited } from './audit.js';
import { fieldError, forbidden, notFound } from '../errors.js';
import * as store from '../store/api-keys.js';
import { KEY_LENGTH } from '../domain/limits.js';

/** Every API key starts with this, so the bearer check knows it is not a JWT. */
export const API_KEY_PREFIX = 'affix_';

export const apiKeyCreate = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(KEY_LENGTH, `at most ${KEY_LENGTH} characters`),
  role: z.enum(['manager', 'owner'], { message: 'must be "manager" or "owner"' }),
  expiresAt: z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2027-01-31T00:00:00Z' })
    .nullable()
    .optional(),
});
export type ApiKeyCreate = z.infer<typeof apiKeyCreate>;

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** How often a key's "last used" time is written: at most once a minute per key, not per request. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Named, revocable API keys for staff (SPEC §13): created and revoked by the owner, the secret
 * shown once and stored as its SHA-256. A key acts with its role, never above its account's:
 * an owner key of an account that is no longer the owner acts as a manager.
 */
export class ApiKeyService {
  private readonly touched = new Map<number, number>();

  constructor(
    private readonly db: Knex,
    private readonly clock: () => number = Date.now,
  ) {}

  async list(): Promise<store.ApiKey[]> {
    const now = this.clock();
    return (await store.listApiKeys(this.db)).map((r) => store.toApiKey(r, now));
  }

  async create(input: ApiKeyCreate, actor: Actor): Promise<{ key: store.ApiKey; secret: string }> {
    if (actor.role !== 'owner' || actor.userId === null) throw forbidden('Only the owner manages API keys');
    const now = this.clock();
    const expiresAt = input.expiresAt ? Date.parse(input.expiresAt) : null;
    if (expiresAt !== null && expiresAt <= now) throw fieldError('expiresAt', 'must be in the future');
    const secret = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const id = await audited(this.db, actor, 'apiKey.created', 'apiKey', async (trx) => {
      const newId = await store.insertApiKey(trx, {
        name: input.name,
        role: input.role,
        key_hash: hashOf(secret),
        prefix: secret.slice(0, 12),
        created_by: actor.userId as number,
        created_at: now,
        expires_at: expiresAt,
      });
      return { result: newId, objectId: newId, details: { name: input.name, role: input.role, expiresAt } };
    });
    const row = await store.getApiKey(this.db, id);
    return { key: store.toApiKey(row as store.ApiKeyRow, now), secret };
  }

  async get(id: number): Promise<store.ApiKey> {
    const row = await store.getApiKey(this.db, id);
    if (!row) throw notFound('API key', id);
    return store.toApiKey(row, this.clock());
  }

  /** Revokes the key at once; revoking it again changes nothing. */
  async revoke(id: number, actor: Actor): Promise<void> {
    if (actor.role !== 'owner') throw forbidden('Only the owner manages API keys');
    const now = this.clock();
    await audited(this.db, actor, 'apiKey.revoked', 'apiKey', async (trx) => {
      const row = await store.getApiKey(trx, id);
      if (!row) throw notFound('API key', id);
      await store.revokeApiKey(trx, id, now);
      return { result: null, objectId: id, details: { name: row.name } };
    });
  }

  /** The staff account a bearer secret stands for, or null (unknown, revoked or expired). */
  async verify(secret: string): Promise<Verified | null> {
    if (!secret.startsWith(API_KEY_PREFIX) || secret.length > 100) return null;
    const row = await store.findApiKeyByHash(this.db, hashOf(secret));
    const now = this.clock();
    if (!row || row.revoked_at !== null) return null;
    if (row.expires_at !== null && Number(row.expires_at) <= now) return null;
    if (row.owner_role !== 'owner' && row.owner_role !== 'manager') return null;
    const role = row.role === 'owner' && row.owner_role === 'owner' ? 'owner' : 'manager';
    if ((this.touched.get(row.id) ?? 0) + TOUCH_EVERY_MS <= now) {
      this.touched.set(row.id, now);
      await store.touchApiKey(this.db, row.id, now);
    }
    const user: AuthUser = {
      userId: row.created_by,
      label: `API key “${row.name}” (${row.owner_email})`,
      email: row.owner_email,
      role,
      affiliateId: null,
      tokenVersion: 0,
      apiKeyId: row.id,
    };
    return { user, sessionId: null };
  }
}
