import type { Knex } from 'knex';
import { dialectHelper } from '../db/index.js';

/** Where a subscription's first sale was attributed (SPEC §14, recurring commissions). */
export interface SubscriptionRecord {
  subscriptionId: string;
  campaignId: number;
  affiliateId: number;
  firstSaleId: number;
  firstSaleAt: number;
}

interface SubscriptionRow {
  subscription_id: string;
  campaign_id: number;
  affiliate_id: number;
  first_sale_id: number;
  first_sale_at: number | string;
}

export async function findSubscription(db: Knex, subscriptionId: string): Promise<SubscriptionRecord | null> {
  const [row] = await dialectHelper(db).select<SubscriptionRow>(
    db,
    'SELECT * FROM subscriptions WHERE subscription_id = ?',
    [subscriptionId],
  );
  return row
    ? {
        subscriptionId: row.subscription_id,
        campaignId: Number(row.campaign_id),
        affiliateId: Number(row.affiliate_id),
        firstSaleId: Number(row.first_sale_id),
        firstSaleAt: Number(row.first_sale_at),
      }
    : null;
}

/** Records the first attributed sale of a subscription; a later (or concurrent) one leaves it as it is. */
export async function rememberSubscription(db: Knex, s: SubscriptionRecord): Promise<void> {
  await db('subscriptions')
    .insert({
      subscription_id: s.subscriptionId,
      campaign_id: s.campaignId,
      affiliate_id: s.affiliateId,
      first_sale_id: s.firstSaleId,
      first_sale_at: s.firstSaleAt,
    })
    .onConflict('subscription_id')
    .ignore();
}

/** The country of the visitor's latest click (GeoIP), for payout goals naming countries. */
export async function lastClickCountry(db: Knex, visitorId: string): Promise<string | null> {
  const row = (await db('clicks')
    .where({ visitor_id: visitorId })
    .whereNotNull('country')
    .orderBy('id', 'desc')
    .first('country')) as { country: string | null } | undefined;
  return row?.country ?? null;
}
