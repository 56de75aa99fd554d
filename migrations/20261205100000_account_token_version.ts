import type { Knex } from 'knex';

/*
 * Every session and API token carries its account's token version (`ver`); raising the version
 * ends them all at once (decline, archive, password change, "sign out everywhere", SPEC §13).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.integer('token_version').unsigned().notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('token_version');
  });
}
