import type { Knex } from 'knex';
import { transaction } from '../db/transaction.js';
import type { Actor } from './actor.js';
import type { Settings } from '../domain/settings.js';
import type { CommissionLifecycle, StatusChange } from './commission-lifecycle.js';
import { conflict, notFound } from '../errors.js';
import { add, fromUnits, toUnits, unitsToFixed, ZERO, type Units } from '../domain/money.js';
import { toCsv } from '../domain/csv.js';
import { recordAudit } from '../store/audit.js';
import type { Page } from '../store/rows.js';
import type { PageQuery } from '../validation.js';
import { readCommissions } from '../store/commission-changes.js';
import { lockSalesOfCommissions, refreshSaleStatuses } from '../store/sales.js';
import {
  affiliateContacts,
  attachCommissions,
  batchLines,
  commissionIdsOfBatch,
  deleteBatch,
  getBatch,
  insertBatch,
  insertBatchItems,
  listBatches,
  payableCommissions,
  payableTotals,
  payCommissions,
  releaseCommissions,
  setBatchStatus,
  type PayoutBatch,
  type PayoutBatchStatus,
  type PayoutLine,
} from '../store/payout-batches.js';
import { KEY_LENGTH, TEXT_LENGTH, clip, cut } from '../domain/limits.js';
import { missingPayoutDetails, type PayoutDetails, type PayoutMethod } from '../schemas/affiliate-profile.js';

/** A line of a batch or of a preview (the JSON shape is server/http/presenters/payout-batches.ts). */
export interface PayoutItem {
  affiliateId: number;
  refId: string;
  name: string;
  email: string;
  amount: Units;
  commissions: number;
}

export interface PayoutPreview {
  minimum: Units;
  currency: string;
  total: Units;
  /** The affiliates a batch would pay now. */
  data: PayoutItem[];
  /** Affiliates with approved, unpaid commissions who are not paid this time, and why. */
  carriedOver: Array<PayoutItem & { reason: string }>;
}

export interface PayoutBatchDetail extends PayoutBatch {
  items: Array<
    PayoutItem & {
      commissionIds: number[];
      payoutMethod: PayoutMethod | null;
      payoutDetails: PayoutDetails | null;
      /** The payout details still missing (`payoutMethod` when none is chosen); empty when it can be paid. */
      missingPayoutDetails: string[];
    }
  >;
}

const itemOf = (l: PayoutLine): PayoutItem => ({
  affiliateId: l.affiliateId,
  refId: l.refId,
  name: l.name,
  email: l.email,
  amount: l.amount,
  commissions: l.commissions,
});

/**
 * Payout batches (SPEC §6.6): approved commissions not yet in a batch, totalled per affiliate;
 * affiliates at or above the minimum are put in a batch, exported as CSV and marked paid. A
 * total below the minimum, or negative after refunds of paid commissions, waits for a later
 * batch with its commissions.
 */
export class PayoutBatchService {
  constructor(
    private readonly db: Knex,
    private readonly lifecycle: CommissionLifecycle,
    private readonly settings: () => Settings,
    private readonly clock: () => number = Date.now,
    /** Queues `payout.paid` for each paid affiliate, in the transaction that marks the batch paid. */
    private readonly onPaid:
      ((trx: Knex, batchId: number, lines: PayoutLine[], currency: string) => Promise<void>) | null = null,
  ) {}

  /** The minimum in units: the one asked for, else the `payoutMinimum` setting. */
  minimumOf(minimum: Units | undefined): Units {
    return minimum ?? toUnits(this.settings().payoutMinimum ?? 0);
  }

  async preview(minimum?: Units): Promise<PayoutPreview> {
    const min = this.minimumOf(minimum);
    const totals = await payableTotals(this.db);
    const contacts = await affiliateContacts(
      this.db,
      totals.map((t) => t.affiliateId),
    );
    const lines = totals.map((t) => {
      const c = contacts.get(t.affiliateId) ?? { refId: '', name: `#${t.affiliateId}`, email: '' };
      return { affiliateId: t.affiliateId, ...c, amount: t.amount, commissions: t.commissions };
    });
    const { pay, carry } = split(lines, min);
    return {
      minimum: min,
      currency: this.settings().baseCurrency,
      total: add(...pay.map((l) => l.amount)),
      data: pay.map(itemOf),
      carriedOver: carry.map((l) => ({
        ...itemOf(l),
        reason: carryReason(l.amount, min, this.settings().baseCurrency),
      })),
    };
  }

  /** Creates an open batch of every affiliate whose total reaches the minimum; 409 when there is none. */
  async create(input: { minimum?: Units; note?: string | null }, actor: Actor): Promise<PayoutBatchDetail> {
    const min = this.minimumOf(input.minimum);
    const currency = this.settings().baseCurrency;
    const id = await transaction(this.db, async (trx) => {
      const rows = await payableCommissions(trx);
      const byAffiliate = new Map<number, { amount: Units; ids: number[] }>();
      for (const r of rows) {
        const entry = byAffiliate.get(r.affiliateId) ?? { amount: ZERO, ids: [] };
        entry.amount = add(entry.amount, r.amount);
        entry.ids.push(r.id);
        byAffiliate.set(r.affiliateId, entry);
      }
      const items = [...byAffiliate]
        .filter(([, e]) => e.amount > 0 && e.amount >= min)
        .map(([affiliateId, e]) => ({ affiliateId, amount: e.amount, commissions: e.ids.length, ids: e.ids }));
      if (!items.length) {
        throw conflict(
          `No affiliate has approved, unpaid commissions totalling at least ${unitsToFixed(min, 2)} ${currency}: there is nothing to pay`,
          { minimum: fromUnits(min) },
        );
      }
      const now = this.clock();
      const total = add(...items.map((i) => i.amount));
      const commissions = items.reduce((n, i) => n + i.commissions, 0);
      const batchId = await insertBatch(trx, {
        created_at: now,
        updated_at: now,
        status: 'open',
        minimum: min,
        total,
        affiliates: items.length,
        commissions,
        currency,
        created_by: clip(actor.label, KEY_LENGTH),
        paid_at: null,
        note: cut(input.note, TEXT_LENGTH),
      });
      await insertBatchItems(trx, batchId, items);
      const moved = await attachCommissions(
        trx,
        batchId,
        items.flatMap((i) => i.ids),
        now,
      );
      if (moved !== commissions) throw conflict('Commissions changed while the batch was being made: try again');
      await recordAudit(
        trx,
        actor,
        'payoutBatch.created',
        'payoutBatch',
        batchId,
        {
          minimum: fromUnits(min),
          total: fromUnits(total),
          affiliates: items.length,
          commissions,
          note: input.note ?? null,
        },
        now,
      );
      return batchId;
    });
    return this.get(id);
  }

  async list(filters: { status?: PayoutBatchStatus }, page: PageQuery): Promise<Page<PayoutBatch>> {
    return listBatches(this.db, filters, page);
  }

  async get(id: number): Promise<PayoutBatchDetail> {
    const batch = await getBatch(this.db, id);
    if (!batch) throw notFound('payout batch', id);
    const lines = await batchLines(this.db, id);
    const ids = new Map<number, number[]>();
    for (const c of await commissionIdsOfBatch(this.db, id))
      ids.set(c.affiliateId, [...(ids.get(c.affiliateId) ?? []), c.id]);
    return {
      ...batch,
      items: lines.map((l) => ({
        ...itemOf(l),
        commissionIds: ids.get(l.affiliateId) ?? [],
        payoutMethod: l.payoutMethod ?? null,
        payoutDetails: l.payoutDetails ?? null,
        missingPayoutDetails: missingPayoutDetails(l.payoutMethod ?? null, l.payoutDetails ?? null),
      })),
    };
  }

  /** The batch for the payment provider: one row per affiliate, amounts with 2 decimals. */
  async csv(id: number): Promise<string> {
    const batch = await getBatch(this.db, id);
    if (!batch) throw notFound('payout batch', id);
    const lines = await batchLines(this.db, id);
    return toCsv(
      ['affiliateId', 'refId', 'name', 'email', 'amount', 'currency', 'commissions'],
      lines.map((l) => [
        l.affiliateId,
        l.refId,
        l.name,
        l.email,
        unitsToFixed(l.amount, 2),
        batch.currency,
        l.commissions,
      ]),
    );
  }

  /**
   * The PayPal Payouts bulk file (SPEC §13): one row per affiliate whose payout method is PayPal
   * and who gave a PayPal e-mail — recipient e-mail, amount, currency, note — with no header row
   * (PayPal's upload takes none). Everyone else is paid another way and listed on the batch page.
   */
  async paypalCsv(id: number): Promise<string> {
    const batch = await getBatch(this.db, id);
    if (!batch) throw notFound('payout batch', id);
    const lines = await batchLines(this.db, id);
    const note = clip(batch.note ?? `Affiliate commissions, payout batch ${id}`, TEXT_LENGTH);
    return toCsv(
      ['email', 'amount', 'currency', 'note'],
      lines
        .filter((l) => l.payoutMethod === 'paypal' && l.payoutDetails?.paypalEmail)
        .map((l) => [l.payoutDetails?.paypalEmail, unitsToFixed(l.amount, 2), batch.currency, note]),
      { header: false },
    );
  }

  /** Marks the batch and its commissions paid; 409 when it is already paid. */
  async markPaid(id: number, actor: Actor): Promise<PayoutBatchDetail> {
    const changes = await transaction(this.db, async (trx) => {
      const changes: StatusChange[] = [];
      const batch = await getBatch(trx, id, true);
      if (!batch) throw notFound('payout batch', id);
      if (batch.status !== 'open')
        throw conflict(`Payout batch ${id} is ${batch.status}: only an open batch can be marked paid`, {
          status: batch.status,
        });
      const now = this.clock();
      const ids = (await commissionIdsOfBatch(trx, id, 'approved')).map((c) => c.id);
      const saleIds = await lockSalesOfCommissions(trx, ids);
      const before = await readCommissions(trx, ids);
      await payCommissions(trx, id, now);
      await refreshSaleStatuses(trx, saleIds);
      for (const c of before) {
        changes.push(
          await this.lifecycle.recordChange(trx, c, 'paid', null, actor, now, {
            keepReason: true,
            details: { batchId: id },
          }),
        );
      }
      await setBatchStatus(trx, id, 'open', { status: 'paid', paid_at: now, updated_at: now });
      if (this.onPaid) await this.onPaid(trx, id, await batchLines(trx, id), batch.currency);
      await recordAudit(
        trx,
        actor,
        'payoutBatch.paid',
        'payoutBatch',
        id,
        { total: fromUnits(batch.total), commissions: before.length },
        now,
      );
      return changes;
    });
    await this.lifecycle.announce(changes);
    return this.get(id);
  }

  /** Deletes an open batch and releases its commissions for a later one; a paid batch is history (409). */
  async remove(id: number, actor: Actor): Promise<void> {
    await transaction(this.db, async (trx) => {
      const batch = await getBatch(trx, id, true);
      if (!batch) throw notFound('payout batch', id);
      if (batch.status !== 'open') {
        throw conflict(
          `Payout batch ${id} is ${batch.status}: a paid batch is kept as the record of the payment and cannot be deleted`,
          {
            status: batch.status,
          },
        );
      }
      const now = this.clock();
      const released = await releaseCommissions(trx, id, now);
      await deleteBatch(trx, id);
      await recordAudit(trx, actor, 'payoutBatch.deleted', 'payoutBatch', id, { total: batch.total, released }, now);
    });
  }
}

function split<T extends { amount: Units }>(lines: T[], min: Units): { pay: T[]; carry: T[] } {
  const pay: T[] = [];
  const carry: T[] = [];
  for (const l of lines) (l.amount > 0 && l.amount >= min ? pay : carry).push(l);
  const byAmount = (a: T, b: T) => b.amount - a.amount;
  return { pay: pay.sort(byAmount), carry: carry.sort(byAmount) };
}

function carryReason(amount: Units, min: Units, currency: string): string {
  if (amount < 0) return 'negative total after refunds: deducted from later commissions';
  if (amount === 0) return 'nothing to pay';
  return `below the minimum of ${unitsToFixed(min, 2)} ${currency}`;
}
