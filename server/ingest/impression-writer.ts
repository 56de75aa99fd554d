import type { Knex } from 'knex';
import { transaction } from '../db/transaction.js';
import { GroupWriter } from './group-writer.js';
import type { PayoutDef } from '../domain/payouts.js';
import type { TrafficCommissionDelta, TrafficCommissionWriter } from './traffic-commissions.js';
import { addDailyStats } from '../store/daily-stats.js';
import { addImpressionCounts, markImpressionVisitors, storedImpressionVisitors } from '../store/impressions.js';

export interface PendingImpression {
  day: string;
  campaignId: number;
  bannerId: number;
  affiliateId: number;
  /** The visitor id, or a hash of IP + user agent: unique impressions are counted once per day. */
  visitorKey: string;
  /** The CPM payout that pays this impression, if any. */
  cpm: { payout: PayoutDef; status: 'approved' | 'pending' } | null;
}

/**
 * Impressions are counters, written in groups (SPEC §12): one transaction per batch marks the
 * day's new visitors and adds raw / unique counts per day, campaign, banner and affiliate.
 * Resolves to whether the impression was unique.
 */
export function createImpressionWriter(
  db: Knex,
  writeCommissions: TrafficCommissionWriter,
): GroupWriter<PendingImpression, boolean> {
  return new GroupWriter<PendingImpression, boolean>((items) =>
    transaction(db, async (trx) => {
      const keys = [...new Map(items.map((i) => [`${i.day}|${i.bannerId}|${i.visitorKey}`, i])).values()];
      const stored = await storedImpressionVisitors(
        trx,
        keys.map((i) => ({ day: i.day, banner_id: i.bannerId, visitor_key: i.visitorKey })),
      );
      const seen = new Set(stored.map((r) => `${r.day}|${r.banner_id}|${r.visitor_key}`));
      const counts = new Map<
        string,
        { day: string; campaign_id: number; banner_id: number; affiliate_id: number; raw: number; unique: number }
      >();
      const fresh: Array<{ day: string; banner_id: number; visitor_key: string }> = [];
      const paid: TrafficCommissionDelta[] = [];
      const results = items.map((i) => {
        const visitor = `${i.day}|${i.bannerId}|${i.visitorKey}`;
        const unique = !seen.has(visitor);
        if (unique) {
          seen.add(visitor);
          fresh.push({ day: i.day, banner_id: i.bannerId, visitor_key: i.visitorKey });
        }
        const key = `${i.day}|${i.campaignId}|${i.bannerId}|${i.affiliateId}`;
        const row = counts.get(key) ?? {
          day: i.day,
          campaign_id: i.campaignId,
          banner_id: i.bannerId,
          affiliate_id: i.affiliateId,
          raw: 0,
          unique: 0,
        };
        row.raw++;
        if (unique) row.unique++;
        if (i.cpm && i.affiliateId) {
          paid.push({
            kind: 'impression',
            affiliateId: i.affiliateId,
            campaignId: i.campaignId,
            payout: i.cpm.payout,
            day: i.day,
            quantity: 1,
            status: i.cpm.status,
          });
        }
        counts.set(key, row);
        return unique;
      });
      await markImpressionVisitors(trx, fresh);
      await addImpressionCounts(trx, [...counts.values()]);
      await addDailyStats(
        trx,
        [...counts.values()].map((c) => ({
          day: c.day,
          campaign_id: c.campaign_id,
          affiliate_id: c.affiliate_id,
          banner_id: c.banner_id,
          impressions: c.raw,
        })),
      );
      if (paid.length) await writeCommissions(trx, paid);
      return results;
    }),
  );
}
