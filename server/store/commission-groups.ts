import type { Knex } from 'knex';
import { toIso, paginate, whereContains, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';

/** Commission groups (SPEC §14): affiliates a personal payout can name together. */
export interface CommissionGroup {
  id: number;
  name: string;
  affiliateIds: number[];
  /** The payouts naming this group (read-only). */
  payoutIds: number[];
  createdAt: string | null;
  updatedAt: string | null;
}

interface GroupRow {
  id: number;
  name: string;
  created_at: number;
  updated_at: number;
}

export type CommissionGroupColumns = Partial<Omit<GroupRow, 'id'>>;

async function withLinks(db: Knex, rows: GroupRow[]): Promise<CommissionGroup[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const members = (await db('commission_group_members').whereIn('group_id', ids).orderBy('affiliate_id')) as Array<{
    group_id: number;
    affiliate_id: number;
  }>;
  const payouts = (await db('payout_commission_groups').whereIn('group_id', ids).orderBy('payout_id')) as Array<{
    group_id: number;
    payout_id: number;
  }>;
  const membersOf = new Map<number, number[]>();
  for (const m of members) membersOf.set(m.group_id, [...(membersOf.get(m.group_id) ?? []), Number(m.affiliate_id)]);
  const payoutsOf = new Map<number, number[]>();
  for (const p of payouts) payoutsOf.set(p.group_id, [...(payoutsOf.get(p.group_id) ?? []), Number(p.payout_id)]);
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    affiliateIds: membersOf.get(r.id) ?? [],
    payoutIds: payoutsOf.get(r.id) ?? [],
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  }));
}

export interface CommissionGroupFilters {
  q?: string;
  affiliateId?: number;
}

export async function listCommissionGroups(
  db: Knex,
  f: CommissionGroupFilters,
  page: PageQuery,
): Promise<Page<CommissionGroup>> {
  const q = db('commission_groups').select('*');
  if (f.q) whereContains(q, ['name'], f.q);
  if (f.affiliateId)
    q.whereIn('id', db('commission_group_members').select('group_id').where('affiliate_id', f.affiliateId));
  const result = await paginate<GroupRow, GroupRow>(q, page, (r) => r, [
    { column: 'name', order: 'asc' },
    { column: 'id', order: 'asc' },
  ]);
  return { ...result, data: await withLinks(db, result.data) };
}

export async function allCommissionGroups(db: Knex): Promise<CommissionGroup[]> {
  return withLinks(db, (await db('commission_groups').select('*').orderBy(['name', 'id'])) as GroupRow[]);
}

export async function getCommissionGroup(db: Knex, id: number): Promise<CommissionGroup | null> {
  const row = (await db('commission_groups').where({ id }).first()) as GroupRow | undefined;
  return row ? ((await withLinks(db, [row]))[0] ?? null) : null;
}

export async function insertCommissionGroup(db: Knex, cols: CommissionGroupColumns): Promise<number> {
  const [id] = await db('commission_groups').insert(cols);
  return Number(id);
}

export async function updateCommissionGroup(db: Knex, id: number, cols: CommissionGroupColumns): Promise<void> {
  await db('commission_groups').where({ id }).update(cols);
}

export async function replaceMembers(db: Knex, groupId: number, affiliateIds: number[]): Promise<void> {
  await db('commission_group_members').where({ group_id: groupId }).delete();
  const unique = [...new Set(affiliateIds)];
  for (let i = 0; i < unique.length; i += 200) {
    await db('commission_group_members').insert(
      unique.slice(i, i + 200).map((a) => ({ group_id: groupId, affiliate_id: a })),
    );
  }
}

export async function deleteCommissionGroup(db: Knex, id: number): Promise<void> {
  await db('commission_group_members').where({ group_id: id }).delete();
  await db('payout_commission_groups').where({ group_id: id }).delete();
  await db('commission_groups').where({ id }).delete();
}

/** Personal payouts that would name no affiliate and no group without this group. */
export async function payoutsOnlyNaming(db: Knex, groupId: number, payoutIds: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const payoutId of payoutIds) {
    const payout = (await db('payouts').where({ id: payoutId }).first('kind')) as { kind: string } | undefined;
    if (payout?.kind !== 'personal') continue;
    const [a] = (await db('payout_affiliates').where({ payout_id: payoutId }).count({ n: '*' })) as Array<{
      n: number | string;
    }>;
    const [g] = (await db('payout_commission_groups')
      .where({ payout_id: payoutId })
      .whereNot({ group_id: groupId })
      .count({ n: '*' })) as Array<{ n: number | string }>;
    if (Number(a?.n ?? 0) === 0 && Number(g?.n ?? 0) === 0) out.push(payoutId);
  }
  return out;
}

/** Which of these affiliate ids exist. */
export async function existingAffiliateIds(db: Knex, ids: number[]): Promise<Set<number>> {
  const rows = (await db('affiliates').whereIn('id', ids).select('id')) as Array<{ id: number }>;
  return new Set(rows.map((r) => Number(r.id)));
}

/** Which of these commission group ids exist. */
export async function existingCommissionGroupIds(db: Knex, ids: number[]): Promise<Set<number>> {
  const rows = (await db('commission_groups').whereIn('id', ids).select('id')) as Array<{ id: number }>;
  return new Set(rows.map((r) => Number(r.id)));
}
