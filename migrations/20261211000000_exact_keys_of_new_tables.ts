import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * The identifying keys of the tables added after 20261125030000_exact_keys compare exactly on
 * MariaDB too (SPEC §10a): idempotency keys, and the platform event and order ids of the store
 * integrations' delivery log (Stripe's ids are case-sensitive).
 */
const KEYS: Record<string, string[]> = {
  idempotency_keys: ['key_hash', 'request_hash'],
  integration_deliveries: ['event_id', 'order_id', 'dedupe_key'],
};

export async function up(knex: Knex): Promise<void> {
  const helper = dialectHelper(knex);
  for (const [table, columns] of Object.entries(KEYS)) await helper.exactTextColumns(knex, table, columns);
}

export async function down(): Promise<void> {
  // Going back to a case-insensitive collation could fail on keys that now differ only in case.
}
