import type { Knex } from 'knex';
import { toIso, paginate, whereContains, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';

export interface Coupon {
  id: number;
  code: string;
  affiliateId: number;
  campaignId: number | null;
  payoutId: number | null;
  archived: boolean;
  createdAt: string | null;
  updatedAt: string | null;
}

interface CouponRow {
  id: number;
  code: string;
  code_key: string;
  affiliate_id: number;
  campaign_id: number | null;
  payout_id: number | null;
  archived_at: number | null;
  created_at: number;
  updated_at: number;
}

export type CouponColumns = Partial<Omit<CouponRow, 'id'>>;

const toCoupon = (r: CouponRow): Coupon => ({
  id: r.id,
  code: r.code,
  affiliateId: r.affiliate_id,
  campaignId: r.campaign_id,
  payoutId: r.payout_id,
  archived: r.archived_at !== null,
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
});

/** Coupon codes compare case-insensitively (SPEC §3). */
export const couponKey = (code: string) => code.trim().toLowerCase();

export interface CouponFilters {
  campaignId?: number;
  affiliateId?: number;
  q?: string;
  archived?: boolean;
}

export async function listCoupons(db: Knex, f: CouponFilters, page: PageQuery): Promise<Page<Coupon>> {
  const q = db('coupons').select('*');
  if (f.campaignId) q.where('campaign_id', f.campaignId);
  if (f.affiliateId) q.where('affiliate_id', f.affiliateId);
  if (f.archived !== undefined) q[f.archived ? 'whereNotNull' : 'whereNull']('archived_at');
  if (f.q) whereContains(q, ['code_key'], f.q.toLowerCase());
  return paginate<CouponRow, Coupon>(q, page, toCoupon);
}

export async function getCoupon(db: Knex, id: number): Promise<Coupon | null> {
  const row = (await db('coupons').where({ id }).first()) as CouponRow | undefined;
  return row ? toCoupon(row) : null;
}

export async function findCouponByCode(db: Knex, code: string): Promise<Coupon | null> {
  const row = (await db('coupons')
    .where({ code_key: couponKey(code) })
    .first()) as CouponRow | undefined;
  return row ? toCoupon(row) : null;
}

export async function findCouponByPayout(db: Knex, payoutId: number): Promise<Coupon | null> {
  const row = (await db('coupons').where({ payout_id: payoutId }).first()) as CouponRow | undefined;
  return row ? toCoupon(row) : null;
}

export async function insertCoupon(db: Knex, cols: CouponColumns): Promise<number> {
  const [id] = await db('coupons').insert(cols);
  return Number(id);
}

export async function updateCoupon(db: Knex, id: number, cols: CouponColumns): Promise<void> {
  await db('coupons').where({ id }).update(cols);
}

export async function deleteCoupon(db: Knex, id: number): Promise<void> {
  await db('coupons').where({ id }).delete();
}

export async function countCoupons(db: Knex): Promise<number> {
  const row = (await db('coupons').whereNull('archived_at').count({ n: '*' }).first()) as
    { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}
