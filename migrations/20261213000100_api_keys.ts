import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * Named, revocable API keys for staff (SPEC §13). Only the SHA-256 (hex) of the secret is kept;
 * `prefix` is the secret's first characters, shown so a key can be recognised. A key belongs to
 * the staff account that created it and goes with it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_keys', (t) => {
    t.increments('id');
    t.string('name', 191).notNullable();
    t.string('role', 16).notNullable();
    t.string('key_hash', 64).notNullable().unique();
    t.string('prefix', 16).notNullable();
    t.integer('created_by').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').nullable();
    t.bigInteger('revoked_at').nullable();
    t.bigInteger('last_used_at').nullable();
  });
  await dialectHelper(knex).exactTextColumns(knex, 'api_keys', ['key_hash']);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('api_keys');
}
