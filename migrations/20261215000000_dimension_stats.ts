import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * The campaign-URL rollup by dimension value (SPEC §15): per report day, campaign and flow, one
 * row per (dimension, value) of a campaign-URL click or postback conversion — hour, landing,
 * offer, source, country, device, os, browser, language, sub_id_1…15, keyword, referrer_domain —
 * and dimension `*` (value '') with the totals. Empty values are not stored: "(none)" is the
 * totals less the values. Counters are BIGINT in parts, like the other rollups (SPEC §10a).
 */
const COUNTERS = ['clicks', 'unique_clicks', 'conversions', 'sales', 'revenue', 'cost'];

export async function up(knex: Knex): Promise<void> {
  const helper = dialectHelper(knex);
  const exact = await helper.exactCollation(knex);
  await knex.schema.createTable('dimension_stats', (t) => {
    t.string('day', 10).notNullable();
    t.integer('campaign_id').unsigned().notNullable();
    t.integer('flow_id').unsigned().notNullable().defaultTo(0);
    t.string('dimension', 16).notNullable();
    // Values identify a row: compared byte for byte ("Zone7" is not "zone7").
    t.string('value', 191).notNullable().collate(exact);
    t.integer('part').notNullable().defaultTo(0);
    for (const c of COUNTERS) t.bigInteger(c).notNullable().defaultTo(0);
    t.primary(['day', 'campaign_id', 'flow_id', 'dimension', 'value', 'part']);
    // A report of one dimension over a period reads this range only.
    t.index(['dimension', 'day'], 'dimension_stats_dimension_day');
    for (const c of COUNTERS) {
      const check = helper.counterCheck(c);
      if (check) t.check(check, [], `dimension_stats_${c}_exact`);
    }
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('dimension_stats');
}
