import type { Knex } from 'knex';

/** One-time account tokens (SPEC §13): only their SHA-256 hash is stored. */

export const TOKEN_PURPOSES = ['reset', 'verify', 'invite'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

export interface AccountToken {
  id: number;
  userId: number;
  purpose: TokenPurpose;
  expiresAt: number;
  usedAt: number | null;
  createdAt: number;
}

interface Row {
  id: number | string;
  user_id: number | string;
  purpose: TokenPurpose;
  expires_at: number | string;
  used_at: number | string | null;
  created_at: number | string;
}

const toToken = (r: Row): AccountToken => ({
  id: Number(r.id),
  userId: Number(r.user_id),
  purpose: r.purpose,
  expiresAt: Number(r.expires_at),
  usedAt: r.used_at === null ? null : Number(r.used_at),
  createdAt: Number(r.created_at),
});

export async function insertAccountToken(
  db: Knex,
  t: { userId: number; purpose: TokenPurpose; tokenHash: string; expiresAt: number; now: number },
): Promise<void> {
  await db('account_tokens').insert({
    user_id: t.userId,
    purpose: t.purpose,
    token_hash: t.tokenHash,
    expires_at: t.expiresAt,
    used_at: null,
    created_at: t.now,
  });
}

export async function findAccountToken(db: Knex, tokenHash: string): Promise<AccountToken | null> {
  const row = (await db('account_tokens').where({ token_hash: tokenHash }).first()) as Row | undefined;
  return row ? toToken(row) : null;
}

/** Uses a token once: true only for the one caller that changed it while unused and unexpired. */
export async function useAccountToken(db: Knex, id: number, now: number): Promise<boolean> {
  const changed = await db('account_tokens')
    .where({ id })
    .whereNull('used_at')
    .andWhere('expires_at', '>', now)
    .update({ used_at: now });
  return Number(changed) === 1;
}

/** Ends every other unused token of the account for these purposes. */
export async function useAllAccountTokens(
  db: Knex,
  userId: number,
  purposes: TokenPurpose[],
  now: number,
): Promise<void> {
  await db('account_tokens')
    .where({ user_id: userId })
    .whereIn('purpose', purposes)
    .whereNull('used_at')
    .update({ used_at: now });
}

/** When the newest unused token of a purpose was made (to send one reset mail a minute at most). */
export async function newestUnusedToken(db: Knex, userId: number, purpose: TokenPurpose): Promise<number | null> {
  const row = (await db('account_tokens')
    .where({ user_id: userId, purpose })
    .whereNull('used_at')
    .max({ at: 'created_at' })
    .first()) as { at: number | string | null } | undefined;
  return row?.at === null || row?.at === undefined ? null : Number(row.at);
}
