import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * State several server processes share through the database (SPEC §16):
 * - `leases`: who runs a once-only background job (pruning) until when; a process takes or
 *   renews a lease by a guarded UPDATE, so exactly one holds it at a time.
 * - `shared_values`: the counters the rules need exact across processes when there is no Redis
 *   (fraud duplicate windows, flow `clickLimit`, the sign-in brake), changed by compare-and-set.
 * Keys compare exactly (SPEC §10a).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('leases', (t) => {
    t.string('name', 64).notNullable().primary();
    t.string('holder', 64).notNullable();
    t.bigInteger('expires_at').notNullable();
  });
  await knex.schema.createTable('shared_values', (t) => {
    t.string('key', 100).notNullable().primary();
    t.string('value', 191).notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at']);
  });
  const helper = dialectHelper(knex);
  await helper.exactTextColumns(knex, 'leases', ['name', 'holder']);
  await helper.exactTextColumns(knex, 'shared_values', ['key', 'value']);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('shared_values');
  await knex.schema.dropTableIfExists('leases');
}
