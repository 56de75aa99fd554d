import type { Knex } from 'knex';

/*
 * Tracking (SPEC §4, §5): clicks, the visitor's referrals per campaign, impressions as daily
 * counters, sales and actions with their match trace. History tables restrict deletes of the
 * objects they reference, so deleting an affiliate, campaign or banner with history is a 409.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('clicks', (t) => {
    t.bigIncrements('id');
    // The public click id (subid): random, URL-safe.
    t.string('click_id', 32).notNullable().unique();
    t.bigInteger('at').notNullable();
    t.string('visitor_id', 64).notNullable();
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('RESTRICT');
    t.integer('affiliate_id').unsigned().nullable().references('affiliates.id').onDelete('RESTRICT');
    t.integer('banner_id').unsigned().nullable().references('banners.id').onDelete('RESTRICT');
    t.string('status', 16).notNullable();
    t.string('decline_reason', 255).nullable();
    t.string('matched_by', 16).notNullable();
    t.string('channel', 191).nullable();
    t.string('data1', 255).nullable();
    t.string('data2', 255).nullable();
    t.string('ip', 45).nullable();
    t.string('country', 2).nullable();
    t.string('user_agent', 512).nullable();
    t.string('referrer', 2048).nullable();
    t.string('url', 2048).nullable();
    t.string('source', 16).notNullable();
    t.text('trace').notNullable();
    t.index(['at']);
    t.index(['campaign_id', 'at']);
    t.index(['affiliate_id', 'at']);
    t.index(['visitor_id']);
  });

  // One row per visitor and campaign: the first and the last click (SPEC §4.3).
  await knex.schema.createTable('visitor_referrals', (t) => {
    t.string('visitor_id', 64).notNullable();
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('CASCADE');
    t.integer('first_affiliate_id').unsigned().notNullable().references('affiliates.id').onDelete('CASCADE');
    t.bigInteger('first_click_at').notNullable();
    t.integer('last_affiliate_id').unsigned().notNullable().references('affiliates.id').onDelete('CASCADE');
    t.bigInteger('last_click_at').notNullable();
    t.integer('last_banner_id').unsigned().nullable();
    t.integer('clicks').notNullable().defaultTo(1);
    t.primary(['visitor_id', 'campaign_id']);
  });

  // Impressions are counted, not stored one by one: raw and unique per day, banner and affiliate.
  await knex.schema.createTable('impression_counts', (t) => {
    t.string('day', 10).notNullable();
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('RESTRICT');
    t.integer('banner_id').unsigned().notNullable().defaultTo(0);
    t.integer('affiliate_id').unsigned().notNullable().defaultTo(0);
    t.integer('raw').notNullable().defaultTo(0);
    t.integer('unique').notNullable().defaultTo(0);
    t.primary(['day', 'campaign_id', 'banner_id', 'affiliate_id']);
  });
  // Who has already been counted today, for unique impressions.
  await knex.schema.createTable('impression_visitors', (t) => {
    t.string('day', 10).notNullable();
    t.integer('banner_id').unsigned().notNullable().defaultTo(0);
    t.string('visitor_key', 64).notNullable();
    t.primary(['day', 'banner_id', 'visitor_key']);
  });

  await knex.schema.createTable('sales', (t) => {
    t.bigIncrements('id');
    t.bigInteger('at').notNullable();
    t.string('kind', 8).notNullable();
    t.string('action_code', 64).nullable();
    t.string('order_id', 191).nullable();
    // kind:actionCode:orderId; NULL for a declined duplicate kept for audit. Unique per campaign (SPEC §5.4).
    t.string('order_key', 191).nullable();
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('RESTRICT');
    t.integer('affiliate_id').unsigned().nullable().references('affiliates.id').onDelete('RESTRICT');
    t.integer('banner_id').unsigned().nullable();
    t.string('status', 16).notNullable();
    t.string('decline_reason', 255).nullable();
    t.string('matched_by', 16).notNullable();
    t.bigInteger('total_cost').nullable();
    t.string('fixed_cost', 32).nullable();
    t.string('currency', 3).notNullable();
    t.bigInteger('total_cost_base').nullable();
    t.bigInteger('exchange_rate').notNullable();
    t.string('product_id', 191).nullable();
    t.string('coupon', 64).nullable();
    t.string('channel', 191).nullable();
    t.string('customer_id', 191).nullable();
    t.string('visitor_id', 64).nullable();
    t.text('data').notNullable();
    t.text('items').notNullable();
    t.string('ip', 45).nullable();
    t.string('source', 16).notNullable();
    t.bigInteger('duplicate_of').nullable();
    t.text('trace').notNullable();
    t.unique(['campaign_id', 'order_key']);
    t.index(['at']);
    t.index(['affiliate_id', 'at']);
    t.index(['campaign_id', 'at']);
    t.index(['order_id']);
    t.index(['customer_id']);
  });

  // Daily rollups maintained as events are stored: reports and the dashboard read these, never
  // COUNT(*) over raw clicks (SPEC §12). 0 stands for "none" in the id columns of the key.
  await knex.schema.createTable('daily_stats', (t) => {
    t.string('day', 10).notNullable();
    t.integer('campaign_id').unsigned().notNullable();
    t.integer('affiliate_id').unsigned().notNullable().defaultTo(0);
    t.integer('banner_id').unsigned().notNullable().defaultTo(0);
    t.integer('clicks').notNullable().defaultTo(0);
    t.integer('unique_clicks').notNullable().defaultTo(0);
    t.integer('declined_clicks').notNullable().defaultTo(0);
    t.integer('sales').notNullable().defaultTo(0);
    t.integer('actions').notNullable().defaultTo(0);
    t.integer('declined_sales').notNullable().defaultTo(0);
    t.bigInteger('revenue').notNullable().defaultTo(0);
    t.primary(['day', 'campaign_id', 'affiliate_id', 'banner_id']);
    t.index(['day']);
  });

  // Events dropped by fraud rules are counted, not stored (SPEC §5.5).
  await knex.schema.createTable('dropped_counts', (t) => {
    t.string('day', 10).notNullable();
    t.string('kind', 16).notNullable();
    t.string('reason', 64).notNullable();
    t.integer('count').notNullable().defaultTo(0);
    t.primary(['day', 'kind', 'reason']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'dropped_counts',
    'daily_stats',
    'sales',
    'impression_visitors',
    'impression_counts',
    'visitor_referrals',
    'clicks',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
