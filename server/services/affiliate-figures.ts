import type { Knex } from 'knex';
import { dayIn } from '../domain/time.js';
import { ZERO, formatMoney } from '../domain/money.js';
import { COMMISSION_STATUSES } from './commission-lifecycle.js';
import { commissionTotals } from '../store/commissions.js';
import { affiliateStatsTotals } from '../store/daily-stats.js';

const DAY = 86_400_000;

/**
 * One affiliate's last 30 days for its admin page (SPEC §13): clicks and sales from the daily
 * rollups (days in the report time zone), and its commissions created in the last 30 × 24 hours by status.
 */
export async function affiliateFigures(db: Knex, affiliateId: number, now: number, timeZone: string, currency: string) {
  const today = dayIn(now, timeZone);
  const from = dayIn(now - 29 * DAY, timeZone);
  const stats = await affiliateStatsTotals(db, affiliateId, from, today);
  const totals = await commissionTotals(db, { affiliateId, from: now - 30 * DAY });
  return {
    from,
    to: today,
    clicks: stats.clicks,
    uniqueClicks: stats.uniqueClicks,
    sales: stats.sales,
    actions: stats.actions,
    revenue: formatMoney(stats.revenue, currency),
    commissionsEarned: formatMoney(stats.commissions, currency),
    byStatus: COMMISSION_STATUSES.map((status) => ({
      status,
      count: totals[status]?.count ?? 0,
      amount: formatMoney(totals[status]?.amount ?? ZERO, currency),
    })),
  };
}
