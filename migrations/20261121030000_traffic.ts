import type { Knex } from 'knex';

/*
 * Traffic campaigns (SPEC §7): domains, groups, sources, the campaign's traffic fields, flows,
 * visitor bindings, uniqueness marks and conversions; campaign-URL clicks share the clicks table
 * (their `click_id` is the subid).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('traffic_groups', (t) => {
    t.increments('id');
    t.string('name', 191).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('traffic_sources', (t) => {
    t.increments('id');
    t.string('name', 191).notNullable();
    // { sub_id_1: 'zoneid', …, cost: 'cost', currency: 'cur', external_id: 'clickid' }
    t.text('params').notNullable();
    t.string('postback_url', 2048).nullable();
    t.bigInteger('archived_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('domains', (t) => {
    t.increments('id');
    t.string('host', 191).notNullable().unique();
    t.integer('parked_campaign_id').unsigned().nullable().references('campaigns.id').onDelete('SET NULL');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.alterTable('campaigns', (t) => {
    t.integer('domain_id').unsigned().nullable().references('domains.id').onDelete('RESTRICT');
    t.string('alias', 191).nullable();
    t.integer('group_id').unsigned().nullable().references('traffic_groups.id').onDelete('SET NULL');
    t.integer('source_id').unsigned().nullable().references('traffic_sources.id').onDelete('RESTRICT');
    t.string('flow_rotation', 16).notNullable().defaultTo('position');
    t.string('cost_model', 16).notNullable().defaultTo('CPC');
    t.bigInteger('cost_value').notNullable().defaultTo(0);
    t.boolean('cost_auto').notNullable().defaultTo(true);
    t.string('cost_currency', 3).nullable();
    t.bigInteger('traffic_loss').notNullable().defaultTo(0);
    t.string('bind_visitors', 32).notNullable().defaultTo('none');
    t.string('uniqueness', 16).notNullable().defaultTo('ip_ua');
    t.integer('uniqueness_ttl_hours').notNullable().defaultTo(24);
    t.boolean('bypass_cache').notNullable().defaultTo(false);
    t.string('api_token', 64).nullable().unique();
    // Alias unique per domain (NULL domain = the tracker's own host).
    t.unique(['domain_id', 'alias']);
  });

  await knex.schema.createTable('flows', (t) => {
    t.increments('id');
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('CASCADE');
    t.string('name', 191).notNullable();
    t.string('type', 16).notNullable();
    t.integer('position').notNullable().defaultTo(0);
    t.integer('weight').notNullable().defaultTo(100);
    t.string('status', 16).notNullable().defaultTo('active');
    t.boolean('collect_clicks').notNullable().defaultTo(true);
    t.text('filters').notNullable();
    t.string('filters_mode', 8).notNullable().defaultTo('and');
    // landings_offers | redirect | action
    t.string('schema', 32).notNullable();
    t.text('landings').notNullable();
    t.text('offers').notNullable();
    t.string('redirect_url', 2048).nullable();
    t.string('action', 16).nullable();
    t.text('action_text').nullable();
    t.bigInteger('archived_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['campaign_id', 'position']);
  });

  // Where a returning visitor was sent (SPEC §7.3 bind visitors).
  await knex.schema.createTable('visitor_bindings', (t) => {
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('CASCADE');
    t.string('visitor_key', 64).notNullable();
    t.integer('flow_id').unsigned().notNullable();
    t.integer('landing_index').nullable();
    t.integer('offer_index').nullable();
    t.bigInteger('updated_at').notNullable();
    t.primary(['campaign_id', 'visitor_key']);
  });

  // Last time a device (cookie or IP[+UA] hash) was seen per scope: c<campaign>, f<flow>, g (all).
  await knex.schema.createTable('uniqueness_marks', (t) => {
    t.string('scope', 24).notNullable();
    t.string('device_key', 64).notNullable();
    t.bigInteger('seen_at').notNullable();
    t.primary(['scope', 'device_key']);
  });

  await knex.schema.alterTable('clicks', (t) => {
    t.integer('flow_id').unsigned().nullable();
    t.integer('source_id').unsigned().nullable();
    t.integer('landing_index').nullable();
    t.integer('offer_index').nullable();
    t.string('landing_url', 2048).nullable();
    t.string('offer_url', 2048).nullable();
    t.bigInteger('offer_at').nullable();
    t.bigInteger('cost').notNullable().defaultTo(0);
    t.boolean('unique_campaign').nullable();
    t.boolean('unique_flow').nullable();
    t.boolean('unique_global').nullable();
    t.text('sub_ids').nullable();
    t.string('external_id', 191).nullable();
    t.string('device', 16).nullable();
    t.string('os', 64).nullable();
    t.string('browser', 64).nullable();
    t.string('language', 16).nullable();
    t.boolean('is_bot').nullable();
    t.index(['flow_id']);
  });

  await knex.schema.createTable('conversions', (t) => {
    t.bigIncrements('id');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.string('click_id', 32).notNullable();
    t.string('tid', 191).nullable();
    t.integer('campaign_id').unsigned().notNullable();
    t.integer('flow_id').unsigned().nullable();
    t.integer('landing_index').nullable();
    t.integer('offer_index').nullable();
    t.integer('source_id').unsigned().nullable();
    t.integer('affiliate_id').unsigned().nullable();
    // lead | sale | rejected | rebill
    t.string('status', 16).notNullable();
    t.string('previous_status', 16).nullable();
    t.bigInteger('revenue').notNullable().defaultTo(0);
    t.string('currency', 3).notNullable();
    t.bigInteger('revenue_base').notNullable().defaultTo(0);
    t.bigInteger('cost').notNullable().defaultTo(0);
    t.bigInteger('sale_id').nullable();
    t.text('params').notNullable();
    // click_id + tid: a repeat with the same tid is idempotent (NULL tid: one per click and status).
    t.string('dedupe_key', 191).notNullable().unique();
    t.index(['click_id']);
    t.index(['campaign_id', 'created_at']);
  });

  // Campaign-URL rollups by flow, landing, offer, source and country (reports, SPEC §9 / §12).
  await knex.schema.createTable('traffic_stats', (t) => {
    t.string('day', 10).notNullable();
    t.integer('campaign_id').unsigned().notNullable();
    t.integer('flow_id').unsigned().notNullable().defaultTo(0);
    // -1 = none (a redirect or action flow, or straight to the offer).
    t.integer('landing_index').notNullable().defaultTo(-1);
    t.integer('offer_index').notNullable().defaultTo(-1);
    t.integer('source_id').unsigned().notNullable().defaultTo(0);
    t.string('country', 2).notNullable().defaultTo('');
    t.integer('clicks').notNullable().defaultTo(0);
    t.integer('unique_clicks').notNullable().defaultTo(0);
    t.integer('conversions').notNullable().defaultTo(0);
    t.integer('sales').notNullable().defaultTo(0);
    t.bigInteger('revenue').notNullable().defaultTo(0);
    t.bigInteger('cost').notNullable().defaultTo(0);
    t.primary(['day', 'campaign_id', 'flow_id', 'landing_index', 'offer_index', 'source_id', 'country']);
  });

  await knex.schema.alterTable('daily_stats', (t) => {
    t.integer('conversions').notNullable().defaultTo(0);
    t.bigInteger('cost').notNullable().defaultTo(0);
    t.bigInteger('conversion_revenue').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('daily_stats', (t) => {
    t.dropColumn('conversions');
    t.dropColumn('cost');
    t.dropColumn('conversion_revenue');
  });
  await knex.schema.dropTableIfExists('traffic_stats');
  await knex.schema.dropTableIfExists('conversions');
  await knex.schema.alterTable('clicks', (t) => {
    t.dropIndex(['flow_id']);
    for (const c of [
      'flow_id',
      'source_id',
      'landing_index',
      'offer_index',
      'landing_url',
      'offer_url',
      'offer_at',
      'cost',
      'unique_campaign',
      'unique_flow',
      'unique_global',
      'sub_ids',
      'external_id',
      'device',
      'os',
      'browser',
      'language',
      'is_bot',
    ]) {
      t.dropColumn(c);
    }
  });
  await knex.schema.dropTableIfExists('uniqueness_marks');
  await knex.schema.dropTableIfExists('visitor_bindings');
  await knex.schema.dropTableIfExists('flows');
  await knex.schema.alterTable('campaigns', (t) => {
    t.dropUnique(['domain_id', 'alias']);
    for (const c of [
      'domain_id',
      'alias',
      'group_id',
      'source_id',
      'flow_rotation',
      'cost_model',
      'cost_value',
      'cost_auto',
      'cost_currency',
      'traffic_loss',
      'bind_visitors',
      'uniqueness',
      'uniqueness_ttl_hours',
      'bypass_cache',
      'api_token',
    ]) {
      t.dropColumn(c);
    }
  });
  await knex.schema.dropTableIfExists('domains');
  await knex.schema.dropTableIfExists('traffic_sources');
  await knex.schema.dropTableIfExists('traffic_groups');
}
