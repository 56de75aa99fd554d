import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { freshDatabaseTarget, dialectName } from '../helpers/app.js';
import { dropDatabase, ensureDatabaseExists, openDatabase } from '../../server/db/index.js';
import { migrateBefore, migrateLatest } from '../../server/db/migrate.js';
import type { DatabaseTarget } from '../../server/config.js';

/*
 * migrations/20261124000000_conversions_once.ts rewrites the daily rollup that counted a postback
 * conversion and the sale paying its affiliate side by side (issue: 5 conversions, 140 revenue for
 * one lead → sale and one rebill) into every conversion once (SPEC §15).
 */

const D = Date.UTC(2026, 10, 25, 12);
const D1 = D + 86_400_000;
const DAY = '2026-11-25';
const NEXT = '2026-11-26';

describe(`the migration to every conversion once on ${dialectName()}`, () => {
  let target: DatabaseTarget;
  let db: Knex;
  let campaignId: number;
  let affiliateId: number;

  before(async () => {
    target = freshDatabaseTarget();
    await ensureDatabaseExists(target);
    db = openDatabase(target);
    await migrateBefore(db, '20261124000000_conversions_once');
    await db('campaigns').insert({
      name: 'Postbacks',
      product_ids: '[]',
      secret_key: 'k'.repeat(32),
      created_at: D,
      updated_at: D,
    });
    await db('affiliates').insert({
      ref_id: 'ada',
      name: 'Ada',
      email: 'ada@example.com',
      created_at: D,
      updated_at: D,
    });
    campaignId = Number(((await db('campaigns').max({ id: 'id' }).first()) as { id: number }).id);
    affiliateId = Number(((await db('affiliates').max({ id: 'id' }).first()) as { id: number }).id);
    const click = (clickId: string, affiliate: number | null) => ({
      click_id: clickId,
      at: D,
      visitor_id: `v-${clickId}`,
      campaign_id: campaignId,
      affiliate_id: affiliate,
      status: 'unique',
      matched_by: 'campaign_url',
      source: 'campaign',
      trace: '{}',
      flow_id: 7,
      source_id: null,
      offer_index: 0,
      country: 'GB',
    });
    await db('clicks').insert([click('SUBID-ADA', affiliateId), click('SUBID-REJ', null), click('SUBID-LEAD', null)]);
    const conversion = (
      clickId: string,
      tid: string,
      status: string,
      previous: string | null,
      revenue: number,
      affiliate: number | null,
      updatedAt = D,
    ) => ({
      created_at: D,
      updated_at: updatedAt,
      click_id: clickId,
      tid,
      campaign_id: campaignId,
      flow_id: 7,
      offer_index: 0,
      affiliate_id: affiliate,
      status,
      previous_status: previous,
      revenue,
      revenue_base: revenue,
      currency: 'USD',
      params: '{}',
      dedupe_key: `${clickId}|${tid}`,
    });
    await db('conversions').insert([
      conversion('SUBID-ADA', 'T1', 'sale', 'lead', 500_000, affiliateId),
      conversion('SUBID-ADA', 'T2', 'rebill', null, 200_000, affiliateId),
      conversion('SUBID-REJ', 'R1', 'rejected', null, 0, null),
      conversion('SUBID-LEAD', 'L1', 'rejected', 'lead', 0, null, D1),
    ]);
    const sale = (kind: string, orderId: string, status: string, source: string, total: number) => ({
      at: D,
      kind,
      action_code: kind === 'action' ? 'lead' : null,
      order_id: orderId,
      order_key: status === 'declined' ? null : `${kind}:${orderId}`,
      campaign_id: campaignId,
      affiliate_id: affiliateId,
      status,
      matched_by: 'campaign',
      total_cost: total,
      currency: 'USD',
      total_cost_base: total,
      exchange_rate: 10_000,
      data: '{}',
      items: '[]',
      source,
      trace: '{}',
    });
    await db('sales').insert([
      sale('action', 'T1', 'approved', 'postback', 0),
      sale('sale', 'T1', 'approved', 'postback', 500_000),
      sale('sale', 'T2', 'approved', 'postback', 200_000),
      sale('sale', 'SHOP-1', 'approved', 'snippet', 1_000_000),
      sale('sale', 'SHOP-2', 'declined', 'snippet', 300_000),
    ]);
    const commission = (status: string, amount: number) => ({
      created_at: D,
      updated_at: D1,
      kind: 'sale',
      campaign_id: campaignId,
      affiliate_id: affiliateId,
      status,
      amount,
      currency: 'USD',
      day: DAY,
      detail: '{}',
    });
    // The sale's 10 %, and the lead's 1.50 reversed the next day when the network rejected it.
    await db('commissions').insert([commission('approved', 50_000), commission('reversed', 15_000)]);
    // The rollups as the earlier code left them.
    const daily = (day: string, affiliate: number, counts: Record<string, number>) => ({
      day,
      campaign_id: campaignId,
      affiliate_id: affiliate,
      banner_id: 0,
      ...counts,
    });
    for (const row of [
      daily(DAY, affiliateId, {
        clicks: 1,
        unique_clicks: 1,
        conversions: 2,
        conversion_revenue: 700_000,
        sales: 3,
        actions: 1,
        revenue: 1_700_000,
        declined_sales: 1,
        commissions: 65_000,
      }),
      daily(DAY, 0, { clicks: 2, unique_clicks: 2, conversions: 2 }),
      daily(NEXT, 0, {}),
      daily(NEXT, affiliateId, { commissions: -15_000 }),
    ])
      await db('daily_stats').insert(row);
    const traffic = (day: string, counts: Record<string, number>) => ({
      day,
      campaign_id: campaignId,
      flow_id: 7,
      landing_index: -1,
      offer_index: 0,
      source_id: 0,
      country: 'GB',
      ...counts,
    });
    for (const row of [
      traffic(DAY, { clicks: 3, unique_clicks: 3, conversions: 4, sales: 2, revenue: 700_000 }),
      traffic(NEXT, {}),
    ])
      await db('traffic_stats').insert(row);
    await migrateLatest(db);
  });
  after(async () => {
    await db?.destroy();
    if (target) await dropDatabase(target);
  });

  const dailyRow = async (day: string, affiliate: number) => {
    const row = (await db('daily_stats')
      .where({ day, campaign_id: campaignId, affiliate_id: affiliate, banner_id: 0 })
      .first()) as Record<string, unknown>;
    assert.ok(row, `a row for ${day} / affiliate ${affiliate}`);
    return Object.fromEntries(
      ['clicks', 'conversions', 'sales', 'actions', 'revenue', 'declined_sales', 'commissions'].map((k) => [
        k,
        Number(row[k]),
      ]),
    );
  };
  const nothing = { clicks: 0, conversions: 0, sales: 0, actions: 0, revenue: 0, declined_sales: 0, commissions: 0 };

  test('the affiliate’s lead → sale, rebill and shop sale: 3 conversions, 3 sales, 170 revenue', async () => {
    assert.deepEqual(await dailyRow(DAY, affiliateId), {
      clicks: 1,
      conversions: 3,
      sales: 3,
      actions: 0,
      revenue: 1_700_000,
      declined_sales: 1,
      commissions: 50_000,
    });
  });

  test('rejected conversions and reversed commissions no longer count, on the day they were counted on', async () => {
    assert.deepEqual(await dailyRow(DAY, 0), { ...nothing, clicks: 2 });
    assert.deepEqual(await dailyRow(NEXT, 0), nothing);
    assert.deepEqual(await dailyRow(NEXT, affiliateId), nothing);
    const traffic = (await db('traffic_stats').where({ campaign_id: campaignId }).orderBy('day')) as Array<
      Record<string, unknown>
    >;
    assert.deepEqual(
      traffic.map((r) => [r.day, Number(r.clicks), Number(r.conversions), Number(r.sales), Number(r.revenue)]),
      [
        [DAY, 3, 2, 2, 700_000],
        [NEXT, 0, 0, 0, 0],
      ],
    );
  });

  test('conversion_revenue is gone', async () => {
    assert.equal(await db.schema.hasColumn('daily_stats', 'conversion_revenue'), false);
  });
});
