import type { Knex } from 'knex';
import { dayIn } from '../domain/time.js';
import { formatMoney, toUnits } from '../domain/money.js';
import { COMMISSION_STATUSES } from './commission-lifecycle.js';
import { commissionTotals } from '../store/commissions.js';
import { countSums, exactSum, exactSums } from '../store/daily-stats.js';

const DAY = 86_400_000;

/**
 * One affiliate's last 30 days for its admin page (SPEC §13): clicks and sales from the daily
 * rollups (days in the report time zone), and its commissions created in the last 30 × 24 hours by status.
 */
export async function affiliateFigures(db: Knex, affiliateId: number, now: number, timeZone: string, currency: string) {
  const today = dayIn(now, timeZone);
  const from = dayIn(now - 29 * DAY, timeZone);
  const row = (await db('daily_stats')
    .where('affiliate_id', affiliateId)
    .whereBetween('day', [from, today])
    .select(
      ...countSums(db, { clicks: 'clicks', uniqueClicks: 'unique_clicks', sales: 'sales', actions: 'actions' }),
      ...exactSums(db, { revenue: 'revenue', commissions: 'commissions' }),
    )
    .first()) as Record<string, unknown> | undefined;
  const n = (k: string) => Number(exactSum(row, k));
  const totals = await commissionTotals(db, { affiliateId, from: now - 30 * DAY });
  return {
    from,
    to: today,
    clicks: n('clicks'),
    uniqueClicks: n('uniqueClicks'),
    sales: n('sales'),
    actions: n('actions'),
    revenue: formatMoney(exactSum(row, 'revenue'), currency),
    commissionsEarned: formatMoney(exactSum(row, 'commissions'), currency),
    byStatus: COMMISSION_STATUSES.map((status) => ({
      status,
      count: totals[status]?.count ?? 0,
      amount: formatMoney(toUnits(totals[status]?.amount ?? 0), currency),
    })),
  };
}
