import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * The campaign-URL rollup by dimension value over every campaign and flow (SPEC §15): the rows
 * of `dimension_stats` summed per (dimension, day, value), without campaign and flow. Landing
 * and offer values are indexes within their flow, so here they are "flowId:index" (the key the
 * reports show). Written beside the daily and monthly rows in the same statement batch, so a
 * day's row is always the sum of that day's `dimension_stats` rows. Reports keyed by day or week
 * that neither group nor filter by campaign, group or flow read these rows: one per day and value
 * instead of one per day, campaign, flow and value.
 */
const COUNTERS = ['clicks', 'unique_clicks', 'conversions', 'sales', 'revenue', 'cost'];

/** One dimension over a range of days is one contiguous range, in (day, value) order. */
const KEY = ['dimension', 'day', 'value', 'part'];

export async function up(knex: Knex): Promise<void> {
  const helper = dialectHelper(knex);
  if (helper.dialect === 'sqlite') {
    const checks = COUNTERS.map(
      (c) => `CONSTRAINT "dimension_value_stats_${c}_exact" CHECK (${helper.counterCheck(c)})`,
    );
    await knex.raw(`CREATE TABLE "dimension_value_stats" (
      "day" varchar(10) NOT NULL,
      "dimension" varchar(16) NOT NULL,
      "value" varchar(191) NOT NULL,
      "part" integer NOT NULL DEFAULT 0,
      ${COUNTERS.map((c) => `"${c}" bigint NOT NULL DEFAULT 0`).join(',\n      ')},
      ${checks.join(',\n      ')},
      PRIMARY KEY (${KEY.map((k) => `"${k}"`).join(', ')})
    ) WITHOUT ROWID`);
  } else {
    const exact = await helper.exactCollation(knex);
    await knex.schema.createTable('dimension_value_stats', (t) => {
      t.string('day', 10).notNullable();
      t.string('dimension', 16).notNullable();
      t.string('value', 191).notNullable().collate(exact);
      t.integer('part').notNullable().defaultTo(0);
      for (const c of COUNTERS) t.bigInteger(c).notNullable().defaultTo(0);
      t.primary(KEY);
    });
  }
  // Back-fill from the daily rows kept so far (part by part; a sum past the BIGINT range makes
  // the migration fail rather than store an inexact counter).
  const sqlite = helper.dialect === 'sqlite';
  const q = (c: string) => (sqlite ? `"${c}"` : `\`${c}\``);
  const pair = sqlite ? `"flow_id" || ':' || "value"` : "CONCAT(`flow_id`, ':', `value`)";
  const value = `CASE WHEN ${q('dimension')} IN ('landing', 'offer') THEN ${pair} ELSE ${q('value')} END`;
  await knex.raw(
    `INSERT INTO ${q('dimension_value_stats')} (${['dimension', 'day', 'value', 'part', ...COUNTERS].map(q).join(', ')})
     SELECT ${q('dimension')}, ${q('day')}, ${value}, ${q('part')}, ${COUNTERS.map((c) => `SUM(${q(c)})`).join(', ')}
     FROM ${q('dimension_stats')} GROUP BY ${q('dimension')}, ${q('day')}, ${value}, ${q('part')}`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('dimension_value_stats');
}
