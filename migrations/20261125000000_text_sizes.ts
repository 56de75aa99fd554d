import type { Knex } from 'knex';
import { dialectOf } from '../server/db/index.js';

/*
 * SPEC §10a: every stored row fits its column. A sale's `items` and its match `trace`, and the
 * `detail` of its commissions (one line per item), are kept whole: they are what the amounts were
 * computed from. A 100 KB tracking body can hold more than a MariaDB TEXT (65,535 bytes), so they
 * become MEDIUMTEXT there. SQLite TEXT has no limit.
 */
export async function up(knex: Knex): Promise<void> {
  if (dialectOf(knex) !== 'mysql') return;
  await knex.schema.alterTable('sales', (t) => {
    t.text('items', 'mediumtext').notNullable().alter();
    t.text('trace', 'mediumtext').notNullable().alter();
  });
  await knex.schema.alterTable('commissions', (t) => {
    t.text('detail', 'mediumtext').notNullable().alter();
  });
}

export async function down(knex: Knex): Promise<void> {
  if (dialectOf(knex) !== 'mysql') return;
  await knex.schema.alterTable('sales', (t) => {
    t.text('items').notNullable().alter();
    t.text('trace').notNullable().alter();
  });
  await knex.schema.alterTable('commissions', (t) => {
    t.text('detail').notNullable().alter();
  });
}
