import type { Knex } from 'knex';
import { commissionsOfSale, type Commission } from '../store/commissions.js';
import { refundableSale, refundsOfSale, type Refund, type RefundableSale } from '../store/refunds.js';
import { isRefundable, refundFits, refundRemaining } from '../domain/refundability.js';
import type { Units } from '../domain/money.js';

/** A sale's money as its admin page shows it: commissions, refunds, and what is left to refund (units). */
export interface SaleMoney {
  commissions: Commission[];
  refunds: Refund[];
  sale: RefundableSale | null;
  refundable: boolean;
  /** Null when the sale has no amount (or is not found). */
  remaining: Units | null;
}

/** What the sale page reads about refunds (SPEC §6.4); the refund itself is RefundService's. */
export class SaleRefunds {
  constructor(private readonly db: Knex) {}

  async moneyOf(saleId: number): Promise<SaleMoney> {
    const [commissions, refunds, sale] = await Promise.all([
      commissionsOfSale(this.db, saleId),
      refundsOfSale(this.db, saleId),
      refundableSale(this.db, saleId),
    ]);
    return {
      commissions,
      refunds,
      sale,
      refundable: isRefundable(sale, refunds.length),
      remaining: sale ? refundRemaining(sale) : null,
    };
  }

  /**
   * The sale and what is left of it when a refund of `amount` (null: the rest) would be accepted,
   * so it is worth asking to confirm; null when the refund would refuse it anyway.
   */
  async toConfirm(
    saleId: number,
    amount: Units | null,
  ): Promise<{ sale: RefundableSale; remaining: Units | null } | null> {
    const sale = await refundableSale(this.db, saleId);
    if (!sale || !refundFits(sale, amount)) return null;
    return { sale, remaining: refundRemaining(sale) };
  }
}
