import type { Knex } from 'knex';

/*
 * Approving or declining a commission locks its pending refund reversals (`parent_id`). Without
 * an index that locking read scans, and on MySQL/MariaDB locks, every commission row, so
 * parallel reviews of different commissions deadlock on each other.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('commissions', (t) => {
    t.index(['parent_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('commissions', (t) => {
    t.dropIndex(['parent_id']);
  });
}
