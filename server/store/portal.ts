import type { Knex } from 'knex';

/*
 * Reads of the affiliate portal (SPEC §9) that the per-table modules do not hold: the sign-up's
 * e-mail check and the order ids shown beside an affiliate's commissions.
 */

/** Whether an affiliate already has this e-mail address, in any letter case. */
export async function affiliateEmailTaken(db: Knex, email: string): Promise<boolean> {
  const row = (await db('affiliates').whereRaw('LOWER(email) = ?', [email.toLowerCase()]).first('id')) as unknown;
  return Boolean(row);
}

/** The order id of each of these sales. */
export async function orderIdsOfSales(db: Knex, saleIds: number[]): Promise<Map<number, string | null>> {
  const orders = new Map<number, string | null>();
  const rows = (await db('sales').whereIn('id', saleIds).select('id', 'order_id')) as Array<{
    id: number | string;
    order_id: string | null;
  }>;
  for (const r of rows) orders.set(Number(r.id), r.order_id);
  return orders;
}
