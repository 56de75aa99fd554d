import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * Recurring commissions, commission groups and payout goals by country (SPEC §14):
 * - `subscriptions`: the campaign and affiliate a subscription's first sale was attributed to,
 *   keyed exactly by the store's subscription id; a renewal is attributed the same way.
 * - `payouts.recurring_months` (RECURRING payouts; NULL = as long as the subscription lasts) and
 *   `payouts.goal_countries` (a JSON list; NULL = no country condition).
 * - `commission_groups` with their members, and the groups a personal payout names.
 */
export async function up(knex: Knex): Promise<void> {
  const helper = dialectHelper(knex);
  await knex.schema.alterTable('sales', (t) => {
    t.string('subscription_id', 191).nullable();
  });
  await knex.schema.alterTable('payouts', (t) => {
    t.integer('recurring_months').nullable();
    t.text('goal_countries').nullable();
  });
  await knex.schema.createTable('subscriptions', (t) => {
    t.bigIncrements('id');
    t.string('subscription_id', 191).notNullable().unique();
    t.integer('campaign_id').unsigned().notNullable();
    t.integer('affiliate_id').unsigned().notNullable();
    t.bigInteger('first_sale_id').unsigned().notNullable();
    t.bigInteger('first_sale_at').notNullable();
  });
  await helper.exactTextColumns(knex, 'subscriptions', ['subscription_id']);
  await helper.exactTextColumns(knex, 'sales', ['subscription_id']);
  await knex.schema.createTable('commission_groups', (t) => {
    t.increments('id');
    t.string('name', 191).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  await knex.schema.createTable('commission_group_members', (t) => {
    t.integer('group_id').unsigned().notNullable().references('commission_groups.id').onDelete('CASCADE');
    t.integer('affiliate_id').unsigned().notNullable().references('affiliates.id').onDelete('CASCADE');
    t.primary(['group_id', 'affiliate_id']);
    t.index(['affiliate_id']);
  });
  await knex.schema.createTable('payout_commission_groups', (t) => {
    t.integer('payout_id').unsigned().notNullable().references('payouts.id').onDelete('CASCADE');
    t.integer('group_id').unsigned().notNullable().references('commission_groups.id').onDelete('CASCADE');
    t.primary(['payout_id', 'group_id']);
    t.index(['group_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('payout_commission_groups');
  await knex.schema.dropTableIfExists('commission_group_members');
  await knex.schema.dropTableIfExists('commission_groups');
  await knex.schema.dropTableIfExists('subscriptions');
  await knex.schema.alterTable('payouts', (t) => {
    t.dropColumn('recurring_months');
    t.dropColumn('goal_countries');
  });
  await knex.schema.alterTable('sales', (t) => {
    t.dropColumn('subscription_id');
  });
}
