import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * The rollup over every campaign and flow by month (SPEC §15): the rows of `dimension_value_stats`
 * summed per (dimension, month, value), `day` holding the month's first day (YYYY-MM-01). Written
 * beside the other dimension rows in the same statement batch, so a month's row is always the sum
 * of its days' rows. Reports by one value dimension (or by month) that neither group nor filter by
 * campaign, group or flow read their whole months here: a year of `referrer_domain` is 12 rows per
 * domain instead of 12 per domain, campaign and flow.
 */
const COUNTERS = ['clicks', 'unique_clicks', 'conversions', 'sales', 'revenue', 'cost'];

const KEY = ['dimension', 'day', 'value', 'part'];

export async function up(knex: Knex): Promise<void> {
  const helper = dialectHelper(knex);
  const sqlite = helper.dialect === 'sqlite';
  if (sqlite) {
    const checks = COUNTERS.map(
      (c) => `CONSTRAINT "dimension_value_stats_monthly_${c}_exact" CHECK (${helper.counterCheck(c)})`,
    );
    await knex.raw(`CREATE TABLE "dimension_value_stats_monthly" (
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
    await knex.schema.createTable('dimension_value_stats_monthly', (t) => {
      t.string('day', 10).notNullable();
      t.string('dimension', 16).notNullable();
      t.string('value', 191).notNullable().collate(exact);
      t.integer('part').notNullable().defaultTo(0);
      for (const c of COUNTERS) t.bigInteger(c).notNullable().defaultTo(0);
      t.primary(KEY);
    });
  }
  // Back-fill from the daily rows over every campaign kept so far (part by part; a sum past the
  // BIGINT range makes the migration fail rather than store an inexact counter).
  const q = (c: string) => (sqlite ? `"${c}"` : `\`${c}\``);
  const month = sqlite ? `substr(${q('day')}, 1, 7) || '-01'` : `CONCAT(LEFT(${q('day')}, 7), '-01')`;
  await knex.raw(
    `INSERT INTO ${q('dimension_value_stats_monthly')} (${['dimension', 'day', 'value', 'part', ...COUNTERS].map(q).join(', ')})
     SELECT ${q('dimension')}, ${month}, ${q('value')}, ${q('part')}, ${COUNTERS.map((c) => `SUM(${q(c)})`).join(', ')}
     FROM ${q('dimension_value_stats')} GROUP BY ${q('dimension')}, ${month}, ${q('value')}, ${q('part')}`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('dimension_value_stats_monthly');
}
