import type { Knex } from 'knex';
import { countAffiliates } from '../store/affiliates.js';
import { countCampaigns } from '../store/campaigns.js';
import { countBanners } from '../store/banners.js';
import { countCoupons } from '../store/coupons.js';

/** The counts the dashboard shows: only what exists, straight from the database. */
export async function dashboardCounts(db: Knex) {
  const [affiliates, campaigns, banners, coupons, payoutsRow] = await Promise.all([
    countAffiliates(db),
    countCampaigns(db),
    countBanners(db),
    countCoupons(db),
    db('payouts').whereNull('archived_at').count({ n: '*' }).first() as Promise<{ n: number | string } | undefined>,
  ]);
  return {
    affiliates,
    affiliatesTotal: affiliates.pending + affiliates.approved + affiliates.declined,
    campaigns,
    campaignsTotal: campaigns.active + campaigns.paused,
    banners,
    coupons,
    payouts: Number(payoutsRow?.n ?? 0),
  };
}
