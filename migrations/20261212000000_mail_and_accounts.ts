import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * Mail and account tokens (SPEC §13):
 * - mail_templates: the merchant's edits of the mail templates and whether each is on; a template
 *   without a row (or a NULL part) uses the default file in mail-templates/;
 * - account_tokens: password reset, e-mail verification and staff invitation tokens, stored as a
 *   SHA-256 hash (the raw token is only in the mail), single use, with an expiry;
 * - users.email_verified: portal sign-ups start unverified and may not sign in until they follow
 *   the link; every account made before this migration, or by staff, counts as verified (the
 *   default).
 * Mails themselves are outbox rows (channel `mail`), delivered by the outbox worker.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('mail_templates', (t) => {
    t.string('name', 64).primary();
    t.boolean('enabled').notNullable();
    t.text('subject').nullable();
    t.text('text').nullable();
    t.text('html').nullable();
    t.bigInteger('updated_at').notNullable();
  });
  await knex.schema.createTable('account_tokens', (t) => {
    t.increments('id');
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    // reset | verify | invite
    t.string('purpose', 16).notNullable();
    t.string('token_hash', 64).notNullable().unique();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('used_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.index(['user_id', 'purpose']);
  });
  await knex.schema.alterTable('users', (t) => {
    t.boolean('email_verified').notNullable().defaultTo(true);
  });
  await dialectHelper(knex).exactTextColumns(knex, 'account_tokens', ['token_hash']);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => t.dropColumn('email_verified'));
  await knex.schema.dropTableIfExists('account_tokens');
  await knex.schema.dropTableIfExists('mail_templates');
}
