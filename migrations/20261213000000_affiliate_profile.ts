import type { Knex } from 'knex';

/*
 * The affiliate profile (SPEC §13): website, promotion method, payout method and details (JSON),
 * tax id and when the programme's terms were accepted.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('affiliates', (t) => {
    t.string('website', 2048).nullable();
    t.text('promotion_method').nullable();
    t.string('payout_method', 16).nullable();
    t.text('payout_details').nullable();
    t.string('tax_id', 64).nullable();
    t.bigInteger('accepted_terms_at').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('affiliates', (t) => {
    t.dropColumn('website');
    t.dropColumn('promotion_method');
    t.dropColumn('payout_method');
    t.dropColumn('payout_details');
    t.dropColumn('tax_id');
    t.dropColumn('accepted_terms_at');
  });
}
