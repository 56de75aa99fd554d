import type { Knex } from 'knex';
import { countAffiliates } from '../store/affiliates.js';
import { countCampaigns } from '../store/campaigns.js';
import { countBanners } from '../store/banners.js';
import { countCoupons } from '../store/coupons.js';
import { statsByDay, statsTotals } from '../store/daily-stats.js';
import { livePayoutCount } from '../store/dashboard.js';
import { dayIn } from '../domain/time.js';
import { formatMoney } from '../domain/money.js';

/** The counts the dashboard shows: only what exists, straight from the database. */
export async function dashboardCounts(db: Knex) {
  const [affiliates, campaigns, banners, coupons, payouts] = await Promise.all([
    countAffiliates(db),
    countCampaigns(db),
    countBanners(db),
    countCoupons(db),
    livePayoutCount(db),
  ]);
  return {
    affiliates,
    affiliatesTotal: affiliates.pending + affiliates.approved + affiliates.declined,
    campaigns,
    campaignsTotal: campaigns.active + campaigns.paused,
    banners,
    coupons,
    payouts,
  };
}

const DAY = 86_400_000;

/** Clicks, sales and revenue for today, 7 and 30 days (from the daily rollups), and the last 30 days day by day. */
export async function dashboardStats(db: Knex, now: number, timeZone: string, currency: string) {
  const today = dayIn(now, timeZone);
  const since = (days: number) => dayIn(now - (days - 1) * DAY, timeZone);
  const periods = await Promise.all(
    [
      ['Today', today],
      ['7 days', since(7)],
      ['30 days', since(30)],
    ].map(async ([label, from]) => {
      const t = await statsTotals(db, from as string, today);
      return { label, ...t, revenueText: formatMoney(t.revenue, currency) };
    }),
  );
  const rows = new Map((await statsByDay(db, since(30), today)).map((r) => [r.day, r]));
  const days = Array.from({ length: 30 }, (_, i) => dayIn(now - (29 - i) * DAY, timeZone));
  const series = days.map((day) => ({ day, clicks: rows.get(day)?.clicks ?? 0, sales: rows.get(day)?.sales ?? 0 }));
  return { periods, series };
}
