import type { Knex } from 'knex';
import { toBoolOrNull, toIso, paginate, eachRow, whereContains, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';
import type { PayoutDetails, PayoutMethod } from '../schemas/affiliate-profile.js';

export interface Affiliate {
  id: number;
  refId: string;
  name: string;
  email: string;
  status: 'pending' | 'approved' | 'declined';
  parentId: number | null;
  overwriteCookie: boolean | null;
  postbackUrl: string | null;
  archived: boolean;
  website: string | null;
  promotionMethod: string | null;
  payoutMethod: PayoutMethod | null;
  payoutDetails: PayoutDetails | null;
  taxId: string | null;
  acceptedTermsAt: string | null;
  createdAt: string | null;
  updatedAt: string | null;
}

export interface AffiliateRow {
  id: number;
  ref_id: string;
  name: string;
  email: string;
  status: Affiliate['status'];
  parent_id: number | null;
  overwrite_cookie: number | boolean | null;
  postback_url: string | null;
  archived_at: number | null;
  website: string | null;
  promotion_method: string | null;
  payout_method: PayoutMethod | null;
  /** JSON of the details, keys as the method takes them. */
  payout_details: string | null;
  tax_id: string | null;
  accepted_terms_at: number | string | null;
  created_at: number;
  updated_at: number;
}

export const toAffiliate = (r: AffiliateRow): Affiliate => ({
  id: r.id,
  refId: r.ref_id,
  name: r.name,
  email: r.email,
  status: r.status,
  parentId: r.parent_id,
  overwriteCookie: toBoolOrNull(r.overwrite_cookie),
  postbackUrl: r.postback_url,
  archived: r.archived_at !== null,
  website: r.website ?? null,
  promotionMethod: r.promotion_method ?? null,
  payoutMethod: r.payout_method ?? null,
  payoutDetails: r.payout_details ? (JSON.parse(r.payout_details) as PayoutDetails) : null,
  taxId: r.tax_id ?? null,
  acceptedTermsAt:
    r.accepted_terms_at === null || r.accepted_terms_at === undefined ? null : toIso(Number(r.accepted_terms_at)),
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
});

export type AffiliateColumns = Partial<Omit<AffiliateRow, 'id'>>;

export interface AffiliateFilters {
  status?: Affiliate['status'];
  q?: string;
  archived?: boolean;
  parentId?: number;
}

export async function listAffiliates(db: Knex, f: AffiliateFilters, page: PageQuery): Promise<Page<Affiliate>> {
  return paginate<AffiliateRow, Affiliate>(affiliatesQuery(db, f), page, toAffiliate);
}

/** Every affiliate matching the filters, newest first, read in batches (CSV export). */
export function eachAffiliate(db: Knex, f: AffiliateFilters): AsyncGenerator<Affiliate> {
  return eachRow<AffiliateRow, Affiliate>(affiliatesQuery(db, f), toAffiliate);
}

function affiliatesQuery(db: Knex, f: AffiliateFilters): Knex.QueryBuilder {
  const q = db('affiliates').select('*');
  if (f.status) q.where('status', f.status);
  if (f.parentId) q.where('parent_id', f.parentId);
  if (f.archived !== undefined) q[f.archived ? 'whereNotNull' : 'whereNull']('archived_at');
  if (f.q) whereContains(q, ['name', 'email', 'ref_id'], f.q);
  return q;
}

export async function getAffiliate(db: Knex, id: number): Promise<Affiliate | null> {
  const row = (await db('affiliates').where({ id }).first()) as AffiliateRow | undefined;
  return row ? toAffiliate(row) : null;
}

/** `a_aid` values: the refId first, then the numeric id (SPEC §3). */
export async function findAffiliateByRef(db: Knex, ref: string): Promise<Affiliate | null> {
  const byRef = (await db('affiliates').where({ ref_id: ref }).first()) as AffiliateRow | undefined;
  if (byRef) return toAffiliate(byRef);
  return /^\d{1,10}$/.test(ref) ? getAffiliate(db, Number(ref)) : null;
}

export async function insertAffiliate(db: Knex, cols: AffiliateColumns): Promise<number> {
  const [id] = await db('affiliates').insert(cols);
  return Number(id);
}

export async function updateAffiliate(db: Knex, id: number, cols: AffiliateColumns): Promise<void> {
  await db('affiliates').where({ id }).update(cols);
}

export async function deleteAffiliate(db: Knex, id: number): Promise<void> {
  await db('affiliates').where({ id }).delete();
}

/** Parent chain ids from the nearest parent up (stops at a loop). */
export async function parentChain(db: Knex, id: number, limit = 50): Promise<number[]> {
  const chain: number[] = [];
  let current: number | null = id;
  while (current !== null && chain.length < limit) {
    const row = (await db('affiliates').select('parent_id').where({ id: current }).first()) as
      { parent_id: number | null } | undefined;
    const parent = row?.parent_id ?? null;
    if (parent === null || parent === id || chain.includes(parent)) break;
    chain.push(parent);
    current = parent;
  }
  return chain;
}

export async function countAffiliates(db: Knex): Promise<Record<Affiliate['status'], number>> {
  const rows = (await db('affiliates')
    .whereNull('archived_at')
    .select('status')
    .count({ n: '*' })
    .groupBy('status')) as Array<{
    status: Affiliate['status'];
    n: number | string;
  }>;
  const out = { pending: 0, approved: 0, declined: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/**
 * Is `refId` used by another affiliate, ignoring case? MySQL's collation already equates "ANN"
 * and "ann"; SQLite must refuse the same pairs for both to behave alike.
 */
export async function refIdTaken(db: Knex, refId: string, selfId: number | null): Promise<boolean> {
  const q = db('affiliates').whereRaw('LOWER(ref_id) = ?', [refId.toLowerCase()]).first('id');
  if (selfId !== null) q.whereNot('id', selfId);
  return Boolean(await q);
}

/** An affiliate's name, address, refId and status (what the mails show). */
export async function affiliateContactRow(
  db: Knex,
  id: number,
): Promise<{ id: number; name: string; email: string; ref_id: string; status: string } | null> {
  return (
    ((await db('affiliates').where({ id }).first('id', 'name', 'email', 'ref_id', 'status')) as
      { id: number; name: string; email: string; ref_id: string; status: string } | undefined) ?? null
  );
}

/** When each affiliate created at or after `since` signed up (ms). */
export async function affiliateCreationTimes(db: Knex, since: number): Promise<number[]> {
  const rows = (await db('affiliates').where('created_at', '>=', since).select('created_at')) as Array<{
    created_at: number | string;
  }>;
  return rows.map((r) => Number(r.created_at));
}
