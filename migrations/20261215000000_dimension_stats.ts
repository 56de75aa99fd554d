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

/** The key in the order reports read it: one dimension over a range of days is one contiguous range. */
const KEY = ['dimension', 'day', 'campaign_id', 'flow_id', 'value', 'part'];

export async function up(knex: Knex): Promise<void> {
  const helper = dialectHelper(knex);
  if (helper.dialect === 'sqlite') {
    // WITHOUT ROWID: the rows are stored in key order, so a report's range scan reads the
    // counters where it finds the key (knex cannot say this).
    const checks = COUNTERS.map((c) => `CONSTRAINT "dimension_stats_${c}_exact" CHECK (${helper.counterCheck(c)})`);
    await knex.raw(`CREATE TABLE "dimension_stats" (
      "day" varchar(10) NOT NULL,
      "campaign_id" integer NOT NULL,
      "flow_id" integer NOT NULL DEFAULT 0,
      "dimension" varchar(16) NOT NULL,
      "value" varchar(191) NOT NULL,
      "part" integer NOT NULL DEFAULT 0,
      ${COUNTERS.map((c) => `"${c}" bigint NOT NULL DEFAULT 0`).join(',\n      ')},
      ${checks.join(',\n      ')},
      PRIMARY KEY (${KEY.map((k) => `"${k}"`).join(', ')})
    ) WITHOUT ROWID`);
    return;
  }
  const exact = await helper.exactCollation(knex);
  // InnoDB stores rows in primary-key order: the same contiguous ranges.
  await knex.schema.createTable('dimension_stats', (t) => {
    t.string('day', 10).notNullable();
    t.integer('campaign_id').unsigned().notNullable();
    t.integer('flow_id').unsigned().notNullable().defaultTo(0);
    t.string('dimension', 16).notNullable();
    // Values identify a row: compared byte for byte ("Zone7" is not "zone7").
    t.string('value', 191).notNullable().collate(exact);
    t.integer('part').notNullable().defaultTo(0);
    for (const c of COUNTERS) t.bigInteger(c).notNullable().defaultTo(0);
    t.primary(KEY);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('dimension_stats');
}
