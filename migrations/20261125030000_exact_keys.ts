import type { Knex } from 'knex';
import { dialectHelper } from '../server/db/index.js';

/*
 * SPEC §10a: keys that identify something compare exactly, byte for byte, on both databases.
 * SQLite compares text with BINARY; MariaDB's default utf8mb4_unicode_ci ignores case, accents
 * and trailing spaces, so `CaseOrder-XY` and `caseorder-xy`, or `café` and `cafe`, were one order
 * there, a postback's subid in another case found someone else's click, and a visitor id in
 * another case took another visitor's referral. These columns get a binary collation on MariaDB
 * (dialectHelper().exactTextColumns; nothing changes on SQLite). What compares without case does
 * so by a lower-cased key compared exactly (coupon codes `code_key`, account e-mails, domain
 * hosts) or by LOWER() over ASCII-only values (campaign aliases, refIds), the same on both.
 * New tables: declare such columns with `.collate(await dialectHelper(knex).exactCollation(knex))`.
 * On a large MariaDB install this rebuilds `clicks` and `sales` once, which takes a while.
 */
export const EXACT_KEYS: Record<string, string[]> = {
  system_kv: ['key'],
  settings: ['key'],
  plugins: ['name'],
  affiliates: ['ref_id'],
  users: ['email'],
  campaigns: ['secret_key', 'api_token'],
  campaign_products: ['product_id'],
  coupons: ['code_key'],
  audit_log: ['object_id'],
  clicks: ['click_id', 'visitor_id', 'external_id'],
  visitor_referrals: ['visitor_id'],
  impression_visitors: ['visitor_key'],
  sales: ['order_id', 'order_key', 'customer_id', 'visitor_id', 'product_id'],
  commissions: ['aggregate_key'],
  lifetime_customers: ['customer_key'],
  visitor_bindings: ['visitor_key'],
  uniqueness_marks: ['scope', 'device_key'],
  conversions: ['click_id', 'tid', 'dedupe_key'],
};

export async function up(knex: Knex): Promise<void> {
  const helper = dialectHelper(knex);
  for (const [table, columns] of Object.entries(EXACT_KEYS)) await helper.exactTextColumns(knex, table, columns);
}

export async function down(): Promise<void> {
  // Going back to a case-insensitive collation could fail on keys that now differ only in case.
}
