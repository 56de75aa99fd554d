import type { Knex } from 'knex';
import { toIso } from './rows.js';
import type { Role } from '../services/actor.js';

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
  affiliateId: number | null;
  lastLoginAt: string | null;
  createdAt: string | null;
}

export interface UserRow {
  id: number;
  email: string;
  name: string;
  password_hash: string;
  role: Role;
  affiliate_id: number | null;
  last_login_at: number | null;
  /** Raised to end every session and token of the account at once. */
  token_version: number;
  /** False for a portal sign-up until it follows its verification link (SPEC §13). */
  email_verified?: boolean | number;
  created_at: number;
  updated_at: number;
}

/** A user with what decides whether it may be signed in: its affiliate's status (affiliates only). */
export interface AccountRow extends UserRow {
  affiliate_status: string | null;
  affiliate_archived_at: number | null;
}

export const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role,
  affiliateId: r.affiliate_id,
  lastLoginAt: toIso(r.last_login_at),
  createdAt: toIso(r.created_at),
});

export const emailKey = (email: string) => email.trim().toLowerCase();

export async function findUserByEmail(db: Knex, email: string): Promise<UserRow | null> {
  return (
    ((await db('users')
      .where({ email: emailKey(email) })
      .first()) as UserRow | undefined) ?? null
  );
}

/** One primary-key read per authenticated request: the user and its affiliate's status. */
export async function getAccount(db: Knex, id: number): Promise<AccountRow | null> {
  const row = (await db('users')
    .leftJoin('affiliates', 'affiliates.id', 'users.affiliate_id')
    .where('users.id', id)
    .first('users.*', 'affiliates.status as affiliate_status', 'affiliates.archived_at as affiliate_archived_at')) as
    AccountRow | undefined;
  return row ? { ...row, token_version: Number(row.token_version) } : null;
}

/** Ends every session and token of the account (they carry the old version). */
export async function raiseTokenVersion(db: Knex, id: number, now: number): Promise<void> {
  await db('users')
    .where({ id })
    .update({ token_version: db.raw('token_version + 1'), updated_at: now });
}

export async function listUsers(db: Knex, roles: Role[]): Promise<User[]> {
  const rows = (await db('users').whereIn('role', roles).orderBy('id')) as UserRow[];
  return rows.map(toUser);
}

export async function countOwners(db: Knex): Promise<number> {
  const row = (await db('users').where({ role: 'owner' }).count({ n: '*' }).first()) as
    { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

export async function insertUser(
  db: Knex,
  cols: Omit<UserRow, 'id' | 'last_login_at' | 'token_version' | 'email_verified'>,
): Promise<number> {
  const [id] = await db('users').insert({ ...cols, email: emailKey(cols.email) });
  return Number(id);
}

export async function updateUser(db: Knex, id: number, cols: Partial<Omit<UserRow, 'id'>>): Promise<void> {
  await db('users').where({ id }).update(cols);
}

export async function findUserByAffiliate(db: Knex, affiliateId: number): Promise<UserRow | null> {
  return ((await db('users').where({ affiliate_id: affiliateId }).first()) as UserRow | undefined) ?? null;
}

export async function findUser(db: Knex, id: number): Promise<UserRow | null> {
  return ((await db('users').where({ id }).first()) as UserRow | undefined) ?? null;
}

/** The user, locked until the transaction ends (a role change or removal decides on it). */
export async function lockUser(db: Knex, id: number): Promise<UserRow | null> {
  return ((await db('users').where({ id }).forUpdate().first()) as UserRow | undefined) ?? null;
}

export async function findUserEmail(db: Knex, id: number): Promise<string | null> {
  const row = (await db('users').where({ id }).first('email')) as { email: string } | undefined;
  return row?.email ?? null;
}

/** The addresses of every owner (merchant alerts go to them). */
export async function ownerEmails(db: Knex): Promise<string[]> {
  const rows = (await db('users').where({ role: 'owner' }).select('email')) as Array<{ email: string }>;
  return rows.map((r) => r.email);
}

/** Ids of the accounts with these roles that have no password yet (invited, not accepted). */
export async function invitedUserIds(db: Knex, roles: Role[]): Promise<number[]> {
  const rows = (await db('users').whereIn('role', roles).where('password_hash', '').select('id')) as Array<{
    id: number;
  }>;
  return rows.map((r) => Number(r.id));
}

export async function deleteUser(db: Knex, id: number): Promise<void> {
  await db('users').where({ id }).delete();
}
