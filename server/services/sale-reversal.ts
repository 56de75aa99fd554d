import type { Knex } from 'knex';
import type { RefundService } from './refunds.js';
import { refundableSale, saleHasRefund } from '../store/refunds.js';

/**
 * A conversion the network rejected reverses what its sale paid: a full refund of the sale's
 * commissions. Nothing happens for a sale that is gone, already fully refunded, or refunded
 * before (the merchant or an earlier rejection already decided what it keeps).
 */
export async function reverseRejectedSale(
  db: Knex,
  refunds: Pick<RefundService, 'refundSale'>,
  saleId: number,
  reason: string,
): Promise<void> {
  const sale = await refundableSale(db, saleId);
  const alreadyFull = sale && sale.totalCost !== null && sale.totalCost > 0 && sale.refunded >= sale.totalCost;
  if (!sale || alreadyFull || (await saleHasRefund(db, saleId))) return;
  await refunds.refundSale(
    saleId,
    { amount: null, type: 'refund', reversal: true },
    { userId: null, label: `postback: ${reason}`, role: 'system', affiliateId: null },
  );
}
