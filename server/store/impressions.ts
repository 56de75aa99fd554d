import type { Knex } from 'knex';
import { dialectHelper } from '../db/index.js';

/*
 * Banner impressions (SPEC §12): the visitors seen per day and banner (unique impressions count
 * once a day) and the raw / unique counters per day, campaign, banner and affiliate.
 */

export interface ImpressionVisitor {
  day: string;
  banner_id: number;
  visitor_key: string;
}

/**
 * The stored visitors among these: filtered on the key's leading columns (index-friendly
 * everywhere), so the caller matches the exact triples.
 */
export async function storedImpressionVisitors(db: Knex, keys: ImpressionVisitor[]): Promise<ImpressionVisitor[]> {
  const query = db('impression_visitors')
    .whereIn('day', [...new Set(keys.map((k) => k.day))])
    .whereIn('banner_id', [...new Set(keys.map((k) => k.banner_id))])
    .whereIn('visitor_key', [...new Set(keys.map((k) => k.visitor_key))]);
  // Locked (MySQL): the writer counts a visitor's first impression of the day from them.
  return (await dialectHelper(db).lockRows(query)) as ImpressionVisitor[];
}

/** Marks visitors seen (500 rows a statement); one marked already is left as it is. */
export async function markImpressionVisitors(db: Knex, visitors: ImpressionVisitor[]): Promise<void> {
  for (let i = 0; i < visitors.length; i += 500) {
    await db('impression_visitors')
      .insert(visitors.slice(i, i + 500))
      .onConflict(['day', 'banner_id', 'visitor_key'])
      .ignore();
  }
}

/** Adds raw and unique impressions to the counters of their day, campaign, banner and affiliate. */
export async function addImpressionCounts(
  db: Knex,
  rows: Array<{
    day: string;
    campaign_id: number;
    banner_id: number;
    affiliate_id: number;
    raw: number;
    unique: number;
  }>,
): Promise<void> {
  await dialectHelper(db).upsertIncrement(
    db,
    'impression_counts',
    ['day', 'campaign_id', 'banner_id', 'affiliate_id'],
    rows,
    ['raw', 'unique'],
  );
}
