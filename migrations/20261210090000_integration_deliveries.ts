import type { Knex } from 'knex';

/*
 * The delivery log of the store integrations (SPEC §14): one row per webhook delivery, with what
 * came of it. It is also how a replay is recognised: `dedupe_key` is the SHA-256 (hex) of the
 * platform and its event or order key, unique, so keys compare exactly on both databases; rows
 * that need no deduplication (bad signatures, replays themselves) leave it NULL.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('integration_deliveries', (t) => {
    t.bigIncrements('id');
    t.bigInteger('received_at').notNullable();
    t.string('platform', 16).notNullable();
    t.string('event_type', 100).nullable();
    t.string('event_id', 191).nullable();
    t.string('order_id', 191).nullable();
    t.string('dedupe_key', 64).nullable().unique();
    // processing | sale | refund | chargeback | declined | duplicate | ignored | unknown_order | bad_signature | invalid | failed
    t.string('outcome', 16).notNullable();
    t.integer('status').nullable();
    t.bigInteger('sale_id').unsigned().nullable();
    t.bigInteger('refund_id').unsigned().nullable();
    t.string('message', 255).nullable();
    // The first answer, repeated to a replay.
    t.text('answer').nullable();
    t.bigInteger('duplicate_of').unsigned().nullable();
    t.index(['platform', 'id']);
    t.index(['received_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('integration_deliveries');
}
