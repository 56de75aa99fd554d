import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * SPEC §10a: no rollup counter can make a later event fail, and none turns inexact. The rollups
 * gain a `part` in their key: when adding to a counter would pass the BIGINT range, the store
 * (server/store/daily-stats.ts) carries the rest into the next part of the same key, and reports
 * sum the parts. Every counter becomes BIGINT; on SQLite a CHECK makes an overflow an error
 * (SQLite would otherwise turn the value into an inexact REAL), as MariaDB's BIGINT arithmetic does.
 * The plain event counts of impression_counts and dropped_counts only become BIGINT (9.2 × 10^18
 * events is out of reach).
 */

interface Rollup {
  table: string;
  keys: Array<[name: string, build: (t: Knex.CreateTableBuilder) => Knex.ColumnBuilder]>;
  counters: string[];
  indexes: Array<{ columns: string[]; name: string }>;
}

const ROLLUPS: Rollup[] = [
  {
    table: 'daily_stats',
    keys: [
      ['day', (t) => t.string('day', 10).notNullable()],
      ['campaign_id', (t) => t.integer('campaign_id').unsigned().notNullable()],
      ['affiliate_id', (t) => t.integer('affiliate_id').unsigned().notNullable().defaultTo(0)],
      ['banner_id', (t) => t.integer('banner_id').unsigned().notNullable().defaultTo(0)],
    ],
    counters: [
      'clicks',
      'unique_clicks',
      'declined_clicks',
      'sales',
      'actions',
      'declined_sales',
      'revenue',
      'commissions',
      'refunds',
      'chargebacks',
      'impressions',
      'conversions',
      'cost',
      'conversion_revenue',
    ],
    indexes: [{ columns: ['day'], name: 'daily_stats_day_index' }],
  },
  {
    table: 'traffic_stats',
    keys: [
      ['day', (t) => t.string('day', 10).notNullable()],
      ['campaign_id', (t) => t.integer('campaign_id').unsigned().notNullable()],
      ['flow_id', (t) => t.integer('flow_id').unsigned().notNullable().defaultTo(0)],
      ['landing_index', (t) => t.integer('landing_index').notNullable().defaultTo(-1)],
      ['offer_index', (t) => t.integer('offer_index').notNullable().defaultTo(-1)],
      ['source_id', (t) => t.integer('source_id').unsigned().notNullable().defaultTo(0)],
      ['country', (t) => t.string('country', 2).notNullable().defaultTo('')],
    ],
    counters: ['clicks', 'unique_clicks', 'conversions', 'sales', 'revenue', 'cost'],
    indexes: [],
  },
];

/**
 * Rebuilds `r.table` with `part` in its primary key and BIGINT counters, copying every row. A
 * column this list does not know (added by another migration) is kept: an integer one as a
 * counter, any other with its type.
 */
async function rebuild(knex: Knex, r: Rollup, withParts: boolean): Promise<void> {
  const helper = dialectHelper(knex);
  const info = await knex(r.table).columnInfo();
  const known = new Set([...r.keys.map(([k]) => k), ...r.counters, 'part']);
  const extra = Object.entries(info).filter(([name]) => !known.has(name));
  const counters = [
    ...r.counters.filter((c) => c in info),
    ...extra.filter(([, c]) => /int/i.test(c.type)).map(([name]) => name),
  ];
  const others = extra.filter(([, c]) => !/int/i.test(c.type));
  const old = `${r.table}_before_parts`;
  // SQLite index names are global (MariaDB's move with the renamed table): free them for the new table.
  if (helper.dialect === 'sqlite')
    for (const index of r.indexes) await knex.raw('DROP INDEX IF EXISTS ??', [index.name]);
  await knex.schema.renameTable(r.table, old);
  await knex.schema.createTable(r.table, (t) => {
    for (const [, build] of r.keys) build(t);
    if (withParts) t.integer('part').notNullable().defaultTo(0);
    for (const c of counters) t.bigInteger(c).notNullable().defaultTo(0);
    for (const [name, c] of others) {
      const col = t.specificType(name, c.maxLength ? `${c.type}(${c.maxLength})` : c.type);
      if (c.nullable) col.nullable();
      else col.notNullable();
      if (c.defaultValue !== null && c.defaultValue !== undefined) col.defaultTo(knex.raw(String(c.defaultValue)));
    }
    t.primary([...r.keys.map(([k]) => k), ...(withParts ? ['part'] : [])]);
    for (const index of r.indexes) t.index(index.columns, index.name);
    for (const c of counters) {
      const check = helper.counterCheck(c);
      if (check) t.check(check, [], `${r.table}_${c}_exact`);
    }
  });
  const columns = [...r.keys.map(([k]) => k), ...counters, ...others.map(([name]) => name)];
  if (withParts) {
    await knex.raw(
      `INSERT INTO ?? (${columns.map(() => '??').join(', ')}) SELECT ${columns.map(() => '??').join(', ')} FROM ??`,
      [r.table, ...columns, ...columns, old],
    );
  } else {
    // Back to one row per key: the parts are summed (a sum past the BIGINT range cannot go back).
    const keys = r.keys.map(([k]) => k);
    await knex.raw(
      `INSERT INTO ?? (${[...keys, ...counters].map(() => '??').join(', ')}) SELECT ${keys.map(() => '??').join(', ')}, ${counters.map(() => 'SUM(??)').join(', ')} FROM ?? GROUP BY ${keys.map(() => '??').join(', ')}`,
      [r.table, ...keys, ...counters, ...keys, ...counters, old, ...keys],
    );
  }
  await knex.schema.dropTable(old);
}

export async function up(knex: Knex): Promise<void> {
  for (const r of ROLLUPS) await rebuild(knex, r, true);
  if (dialectHelper(knex).dialect === 'mysql') {
    // SQLite integers are 64-bit already.
    await knex.schema.alterTable('impression_counts', (t) => {
      t.bigInteger('raw').notNullable().defaultTo(0).alter();
      t.bigInteger('unique').notNullable().defaultTo(0).alter();
    });
    await knex.schema.alterTable('dropped_counts', (t) => {
      t.bigInteger('count').notNullable().defaultTo(0).alter();
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const r of ROLLUPS) await rebuild(knex, r, false);
}
