import type { Knex } from 'knex';

/*
 * Payouts and commissions (SPEC §6): commissions with the amounts they came from, refunds,
 * payout batches, lifetime customer bindings and the outbox of outgoing notifications (§7.6).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('commissions', (t) => {
    t.bigIncrements('id');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    // sale | action | click | impression | refund | chargeback
    t.string('kind', 16).notNullable();
    t.bigInteger('sale_id').unsigned().nullable().references('sales.id').onDelete('RESTRICT');
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('RESTRICT');
    t.integer('affiliate_id').unsigned().notNullable().references('affiliates.id').onDelete('RESTRICT');
    t.integer('payout_id').unsigned().nullable();
    t.integer('tier').notNullable().defaultTo(1);
    t.string('status', 16).notNullable();
    t.string('status_reason', 255).nullable();
    // Base-currency units; negative for the linked reversal of a refund or chargeback.
    t.bigInteger('amount').notNullable();
    t.bigInteger('merchant_amount').notNullable().defaultTo(0);
    t.string('currency', 3).notNullable();
    // What the amount was computed from: the basis (after fixed cost), and the rate.
    t.bigInteger('basis').nullable();
    t.string('rate_unit', 16).nullable();
    t.bigInteger('rate_value').nullable();
    // Clicks or impressions accumulated in a PPC / CPM commission of one day.
    t.integer('quantity').notNullable().defaultTo(0);
    t.string('day', 10).nullable();
    // Open PPC / CPM accumulators: "<kind>|<affiliate>|<campaign>|<payout>|<day>"; NULL once approved or paid.
    t.string('aggregate_key', 191).nullable().unique();
    t.bigInteger('parent_id').unsigned().nullable();
    t.bigInteger('batch_id').unsigned().nullable();
    t.text('detail').notNullable();
    t.index(['status', 'created_at']);
    t.index(['affiliate_id', 'status']);
    t.index(['campaign_id', 'created_at']);
    t.index(['sale_id']);
    t.index(['batch_id']);
  });

  await knex.schema.createTable('refunds', (t) => {
    t.bigIncrements('id');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('sale_id').unsigned().notNullable().references('sales.id').onDelete('RESTRICT');
    t.string('type', 16).notNullable();
    // In the sale's currency, and converted to the base currency.
    t.bigInteger('amount').notNullable();
    t.bigInteger('amount_base').notNullable();
    t.string('actor', 191).notNullable();
    t.index(['sale_id']);
  });

  await knex.schema.createTable('payout_batches', (t) => {
    t.bigIncrements('id');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.string('status', 16).notNullable();
    t.bigInteger('minimum').notNullable();
    t.bigInteger('total').notNullable();
    t.integer('affiliates').notNullable();
    t.integer('commissions').notNullable();
    t.string('currency', 3).notNullable();
    t.string('created_by', 191).notNullable();
    t.bigInteger('paid_at').nullable();
    t.string('note', 255).nullable();
  });

  await knex.schema.createTable('payout_batch_items', (t) => {
    t.bigInteger('batch_id').unsigned().notNullable().references('payout_batches.id').onDelete('CASCADE');
    t.integer('affiliate_id').unsigned().notNullable().references('affiliates.id').onDelete('RESTRICT');
    t.bigInteger('amount').notNullable();
    t.integer('commissions').notNullable();
    t.primary(['batch_id', 'affiliate_id']);
  });

  // A customer bound to an affiliate by a sale in a campaign with a LIFETIME payout (SPEC §5.2 rule 1).
  await knex.schema.createTable('lifetime_customers', (t) => {
    t.string('customer_key', 191).primary();
    t.integer('affiliate_id').unsigned().notNullable().references('affiliates.id').onDelete('CASCADE');
    t.integer('campaign_id').unsigned().notNullable().references('campaigns.id').onDelete('CASCADE');
    t.bigInteger('sale_id').unsigned().nullable();
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id');
    t.bigInteger('created_at').notNullable();
    t.string('event', 64).notNullable();
    // webhook | affiliate_postback | source_postback
    t.string('channel', 32).notNullable();
    t.string('method', 8).notNullable();
    t.string('url', 2048).notNullable();
    t.text('headers').notNullable();
    t.text('body').nullable();
    // pending | delivered | failed
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('next_attempt_at').notNullable();
    t.bigInteger('locked_until').notNullable().defaultTo(0);
    t.bigInteger('delivered_at').nullable();
    t.string('last_error', 512).nullable();
    t.index(['status', 'next_attempt_at']);
  });

  await knex.schema.alterTable('sales', (t) => {
    t.bigInteger('refunded').notNullable().defaultTo(0);
  });
  await knex.schema.alterTable('daily_stats', (t) => {
    t.bigInteger('commissions').notNullable().defaultTo(0);
    t.bigInteger('refunds').notNullable().defaultTo(0);
    t.bigInteger('chargebacks').notNullable().defaultTo(0);
    t.integer('impressions').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('daily_stats', (t) => {
    t.dropColumn('commissions');
    t.dropColumn('refunds');
    t.dropColumn('chargebacks');
    t.dropColumn('impressions');
  });
  await knex.schema.alterTable('sales', (t) => t.dropColumn('refunded'));
  for (const table of [
    'outbox',
    'lifetime_customers',
    'payout_batch_items',
    'payout_batches',
    'refunds',
    'commissions',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
