import type { Knex } from 'knex';

/*
 * Answers of signed and keyed server-to-server requests (SPEC §10a): a replay gets the first
 * answer and changes nothing. `key_hash` is the SHA-256 (hex) of scope + key, so keys of any
 * length compare exactly on both databases. `status` is NULL while the first request runs.
 * `expires_at` NULL: kept (refundId); otherwise pruned after it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.increments('id');
    t.string('key_hash', 64).notNullable().unique();
    t.string('request_hash', 64).notNullable();
    t.integer('status').nullable();
    t.text('body', 'mediumtext').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').nullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('idempotency_keys');
}
