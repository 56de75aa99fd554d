import type { Knex } from 'knex';

/*
 * Conventions (documented once, used by every migration):
 * - timestamps are BIGINT milliseconds since the epoch, UTC: identical on SQLite and MySQL;
 * - money and percentages are BIGINT in 1/10,000 units (SPEC §1);
 * - indexed strings are at most 191 characters (utf8mb4 index limit); URLs are 2048;
 * - lists and small objects are JSON in TEXT columns, parsed by the store layer;
 * - configuration children (banners, payouts, coupons) cascade with their parent; history
 *   tables (added by later migrations) restrict, so deleting an object with history is a 409.
 */

const ts = (t: Knex.CreateTableBuilder) => {
  t.bigInteger('created_at').notNullable();
  t.bigInteger('updated_at').notNullable();
};

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('system_kv', (t) => {
    t.string('key', 64).primary();
    t.text('value').notNullable();
  });

  await knex.schema.createTable('settings', (t) => {
    t.string('key', 100).primary();
    t.text('value').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('affiliates', (t) => {
    t.increments('id');
    t.string('ref_id', 64).notNullable().unique();
    t.string('name', 191).notNullable();
    t.string('email', 191).notNullable().index();
    t.string('status', 16).notNullable().defaultTo('pending').index();
    t.integer('parent_id').unsigned().nullable().references('affiliates.id').onDelete('SET NULL');
    t.boolean('overwrite_cookie').nullable();
    t.string('postback_url', 2048).nullable();
    t.bigInteger('archived_at').nullable();
    ts(t);
  });

  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('email', 191).notNullable().unique();
    t.string('name', 191).notNullable().defaultTo('');
    t.string('password_hash', 255).notNullable();
    t.string('role', 16).notNullable();
    t.integer('affiliate_id').unsigned().nullable().references('affiliates.id').onDelete('CASCADE');
    t.bigInteger('last_login_at').nullable();
    ts(t);
  });

  await knex.schema.createTable('campaigns', (t) => {
    t.increments('id');
    t.string('name', 191).notNullable();
    t.string('type', 16).notNullable().defaultTo('public');
    // 1 for the default campaign, NULL otherwise: the unique index allows exactly one default.
    t.tinyint('default_key').nullable().unique();
    t.string('status', 16).notNullable().defaultTo('active');
    t.text('product_ids').notNullable();
    t.integer('cookie_days').nullable();
    t.boolean('overwrite_cookie').nullable();
    t.string('approval', 16).nullable();
    t.string('secret_key', 64).notNullable();
    t.string('destination_url', 2048).nullable();
    t.bigInteger('archived_at').nullable();
    ts(t);
  });

  // Product IDs per campaign, kept beside campaigns.product_ids for indexed matching (SPEC §5.2 rule 5).
  await knex.schema.createTable('campaign_products', (t) => {
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('CASCADE');
    t.string('product_id', 191).notNullable();
    t.primary(['campaign_id', 'product_id']);
    t.index(['product_id']);
  });

  await knex.schema.createTable('banners', (t) => {
    t.increments('id');
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('CASCADE');
    t.string('name', 191).notNullable();
    t.string('type', 16).notNullable().defaultTo('link');
    t.string('destination_url', 2048).nullable();
    t.text('content').nullable();
    t.bigInteger('archived_at').nullable();
    ts(t);
    t.index(['campaign_id']);
  });

  await knex.schema.createTable('payouts', (t) => {
    t.increments('id');
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('CASCADE');
    t.string('kind', 16).notNullable();
    t.string('title', 191).notNullable();
    t.string('type', 16).notNullable();
    t.string('action_code', 64).nullable();
    t.boolean('raw_clicks').notNullable().defaultTo(false);
    t.bigInteger('affiliate_value').notNullable();
    t.string('affiliate_unit', 16).notNullable();
    t.bigInteger('merchant_value').notNullable();
    t.string('merchant_unit', 16).notNullable();
    t.text('goal_product_ids').notNullable();
    t.text('goal_categories').notNullable();
    t.string('coupon_code', 64).nullable();
    t.text('tiers').notNullable();
    t.bigInteger('archived_at').nullable();
    ts(t);
    t.index(['campaign_id']);
  });

  await knex.schema.createTable('payout_affiliates', (t) => {
    t.integer('payout_id').unsigned().notNullable().references('payouts.id').onDelete('CASCADE');
    t.integer('affiliate_id').unsigned().notNullable().references('affiliates.id').onDelete('CASCADE');
    t.primary(['payout_id', 'affiliate_id']);
    t.index(['affiliate_id']);
  });

  await knex.schema.createTable('coupons', (t) => {
    t.increments('id');
    t.string('code', 64).notNullable();
    // Lower-cased code: coupon codes are unique case-insensitively on every database.
    t.string('code_key', 64).notNullable().unique();
    t.integer('affiliate_id').unsigned().notNullable().references('affiliates.id').onDelete('CASCADE');
    t.integer('campaign_id').unsigned().nullable().references('campaigns.id').onDelete('CASCADE');
    t.integer('payout_id').unsigned().nullable().references('payouts.id').onDelete('SET NULL');
    t.bigInteger('archived_at').nullable();
    ts(t);
    t.index(['affiliate_id']);
  });

  await knex.schema.createTable('plugins', (t) => {
    t.string('name', 100).primary();
    t.boolean('active').notNullable().defaultTo(false);
    t.text('settings').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.bigInteger('at').notNullable().index();
    t.integer('actor_user_id').unsigned().nullable();
    t.string('actor', 191).notNullable();
    t.string('action', 64).notNullable();
    t.string('object_type', 32).notNullable();
    t.string('object_id', 64).nullable();
    t.text('details').notNullable();
    t.index(['object_type', 'object_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'audit_log',
    'plugins',
    'coupons',
    'payout_affiliates',
    'payouts',
    'banners',
    'campaign_products',
    'campaigns',
    'users',
    'affiliates',
    'settings',
    'system_kv',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
