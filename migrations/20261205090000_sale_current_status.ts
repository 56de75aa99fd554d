import type { Knex } from 'knex';
import { saleStatusOf, type RecordedSaleStatus, type SaleCommissionFacts } from '../server/domain/sale-status.js';

/*
 * The sale's status from its commissions: `current_status` is kept up to date on
 * every commission change and shown as the sale's `status`; `status` stays what was decided when
 * the sale was recorded (the reports count its revenue by it).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sales', (t) => {
    t.string('current_status', 16).notNullable().defaultTo('pending');
  });
  await knex('sales').update({ current_status: knex.ref('status') });
  // Sales that already have commissions: derive it from them, a thousand sales at a time.
  let after = 0;
  for (;;) {
    const ids = (
      (await knex('commissions')
        .whereNotNull('sale_id')
        .where('sale_id', '>', after)
        .distinct('sale_id')
        .orderBy('sale_id')
        .limit(1000)) as Array<{ sale_id: number | string }>
    ).map((r) => Number(r.sale_id));
    if (!ids.length) break;
    after = ids[ids.length - 1]!;
    const sales = (await knex('sales').whereIn('id', ids).select('id', 'status')) as Array<{
      id: number | string;
      status: RecordedSaleStatus;
    }>;
    const rows = (await knex('commissions')
      .whereIn('sale_id', ids)
      .select('id', 'sale_id', 'parent_id', 'status', 'amount')) as Array<{
      id: number | string;
      sale_id: number | string;
      parent_id: number | string | null;
      status: SaleCommissionFacts['status'];
      amount: number | string;
    }>;
    for (const sale of sales) {
      const own = rows
        .filter((r) => Number(r.sale_id) === Number(sale.id))
        .map((r) => ({
          id: Number(r.id),
          parentId: r.parent_id === null ? null : Number(r.parent_id),
          status: r.status,
          amount: Number(r.amount),
        }));
      const current = saleStatusOf(sale.status, own);
      if (current !== sale.status) await knex('sales').where({ id: sale.id }).update({ current_status: current });
    }
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sales', (t) => {
    t.dropColumn('current_status');
  });
}
