import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * The monthly rollup of `dimension_stats` (SPEC §15): the same rows and counters, one per month
 * instead of per day — `day` holds the month's first day ("YYYY-MM-01") of the report days the
 * daily rows were counted on (the `timezone` setting when the event was written). Written beside
 * the daily rows in the same statement batch, so a month's row is always the sum of its days'
 * rows. Reports over whole months read these rows (a year is 12 instead of 365 per key).
 */
const COUNTERS = ['clicks', 'unique_clicks', 'conversions', 'sales', 'revenue', 'cost'];

/** The same key order as dimension_stats: one dimension over a range of months is one contiguous range. */
const KEY = ['dimension', 'day', 'campaign_id', 'flow_id', 'value', 'part'];

export async function up(knex: Knex): Promise<void> {
  const helper = dialectHelper(knex);
  if (helper.dialect === 'sqlite') {
    const checks = COUNTERS.map(
      (c) => `CONSTRAINT "dimension_stats_monthly_${c}_exact" CHECK (${helper.counterCheck(c)})`,
    );
    await knex.raw(`CREATE TABLE "dimension_stats_monthly" (
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
  } else {
    const exact = await helper.exactCollation(knex);
    await knex.schema.createTable('dimension_stats_monthly', (t) => {
      t.string('day', 10).notNullable();
      t.integer('campaign_id').unsigned().notNullable();
      t.integer('flow_id').unsigned().notNullable().defaultTo(0);
      t.string('dimension', 16).notNullable();
      t.string('value', 191).notNullable().collate(exact);
      t.integer('part').notNullable().defaultTo(0);
      for (const c of COUNTERS) t.bigInteger(c).notNullable().defaultTo(0);
      t.primary(KEY);
    });
  }
  // Back-fill from the daily rows kept so far (part by part; a sum past the BIGINT range makes
  // the migration fail rather than store an inexact counter).
  const month = helper.dialect === 'sqlite' ? `substr("day", 1, 7) || '-01'` : "CONCAT(LEFT(`day`, 7), '-01')";
  const q = (c: string) => (helper.dialect === 'sqlite' ? `"${c}"` : `\`${c}\``);
  const keys = ['campaign_id', 'flow_id', 'dimension', 'value', 'part'];
  await knex.raw(
    `INSERT INTO ${q('dimension_stats_monthly')} (${q('day')}, ${[...keys, ...COUNTERS].map(q).join(', ')})
     SELECT ${month}, ${keys.map(q).join(', ')}, ${COUNTERS.map((c) => `SUM(${q(c)})`).join(', ')}
     FROM ${q('dimension_stats')} GROUP BY ${month}, ${keys.map(q).join(', ')}`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('dimension_stats_monthly');
}
