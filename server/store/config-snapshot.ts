import type { PayoutRow } from './payouts.js';
import type { Knex } from 'knex';
import { toAffiliate, type Affiliate, type AffiliateRow } from './affiliates.js';

/*
 * The reads that load the in-memory configuration (SPEC §12, services/config-cache.ts): whole
 * tables or their live rows, each in one query.
 */

/** Every affiliate, archived ones too. */
export async function snapshotAffiliates(db: Knex): Promise<Affiliate[]> {
  return ((await db('affiliates').select('*')) as AffiliateRow[]).map(toAffiliate);
}

/** Every banner's columns the hot path reads. */
export async function snapshotBanners(
  db: Knex,
): Promise<Array<{ id: number; campaign_id: number; name: string; destination_url: string | null; type: string }>> {
  return (await db('banners').select('id', 'campaign_id', 'name', 'destination_url', 'type')) as Array<{
    id: number;
    campaign_id: number;
    name: string;
    destination_url: string | null;
    type: string;
  }>;
}

/** The coupons not archived. */
export async function snapshotCoupons(
  db: Knex,
): Promise<Array<{ code: string; affiliate_id: number; campaign_id: number | null; payout_id: number | null }>> {
  return (await db('coupons')
    .whereNull('archived_at')
    .select('code', 'affiliate_id', 'campaign_id', 'payout_id')) as Array<{
    code: string;
    affiliate_id: number;
    campaign_id: number | null;
    payout_id: number | null;
  }>;
}

/** The payouts not archived, oldest first. */
export async function snapshotPayouts(db: Knex): Promise<PayoutRow[]> {
  return (await db('payouts').whereNull('archived_at').orderBy('id')) as PayoutRow[];
}

/** Which affiliates each personal payout names. */
export async function payoutAffiliateLinks(db: Knex): Promise<Array<{ payout_id: number; affiliate_id: number }>> {
  return (await db('payout_affiliates').select('payout_id', 'affiliate_id')) as Array<{
    payout_id: number;
    affiliate_id: number;
  }>;
}

/** The members of every commission group. */
export async function commissionGroupMembers(db: Knex): Promise<Array<{ group_id: number; affiliate_id: number }>> {
  return (await db('commission_group_members').select('group_id', 'affiliate_id')) as Array<{
    group_id: number;
    affiliate_id: number;
  }>;
}

/** Which commission groups each personal payout names. */
export async function payoutCommissionGroups(db: Knex): Promise<Array<{ payout_id: number; group_id: number }>> {
  return (await db('payout_commission_groups').select('payout_id', 'group_id')) as Array<{
    payout_id: number;
    group_id: number;
  }>;
}
