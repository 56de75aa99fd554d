import type { Knex } from 'knex';

/*
 * Reads of the admin dashboard (SPEC §13) that the per-table modules do not hold: the live
 * payouts count and the getting-started checklist's first events.
 */

/** Payouts not archived. */
export async function livePayoutCount(db: Knex): Promise<number> {
  const row = (await db('payouts').whereNull('archived_at').count({ n: '*' }).first()) as
    { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

const exists = async (q: Knex.QueryBuilder) => Boolean(await q.first('id'));

/** Whether a first click, a first sale and a first approved (or paid) commission exist: indexed one-row reads. */
export async function firstEvents(db: Knex): Promise<{ click: boolean; sale: boolean; approved: boolean }> {
  const [click, sale, approved] = await Promise.all([
    exists(db('clicks')),
    exists(db('sales')),
    exists(db('commissions').whereIn('status', ['approved', 'paid'])),
  ]);
  return { click, sale, approved };
}
