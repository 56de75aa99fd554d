import type { Knex } from 'knex';
import { transaction } from '../db/transaction.js';
import type { Hooks } from '../plugins/hooks.js';
import type { Actor } from './actor.js';
import type { Settings } from '../domain/settings.js';
import type { CommissionLifecycle, StatusChange } from './commission-lifecycle.js';
import { commissionSummary } from './commission-lifecycle.js';
import type { Outbox } from './outbox.js';
import { commissionJson, type CommissionJson } from './commission-json.js';
import { AppError, conflict, fieldError, notFound } from '../errors.js';
import {
  add,
  asUnits,
  fromUnits,
  minUnits,
  multiplyByRate,
  negate,
  subtract,
  unitsToFixed,
  ZERO,
  type Units,
} from '../domain/money.js';
import { refundTake } from '../domain/refunds.js';
import { dayIn } from '../domain/time.js';
import { recordAudit } from '../store/audit.js';
import { openBatchIds, takeOutOfOpenBatch } from '../store/payout-batches.js';
import { refreshSaleStatuses } from '../store/sales.js';
import { addDailyStats, type StatsDelta } from '../store/daily-stats.js';
import { insertCommission, toCommission, type Commission, type CommissionRow } from '../store/commissions.js';
import {
  lockCommissionsOfSale,
  readCommissions,
  setCommissionStatus,
  type StoredCommission,
} from '../store/commission-changes.js';
import {
  addRefunded,
  countRefunds,
  insertRefund,
  lockSale,
  salesWithOrderId,
  type RefundableSale,
  type RefundType,
} from '../store/refunds.js';
import { KEY_LENGTH, TEXT_LENGTH, clip } from '../domain/limits.js';

export interface RefundInput {
  /** In the sale's currency (units); null refunds everything left. */
  amount: Units | null;
  type: RefundType;
  /**
   * A full reversal of what the event paid (a conversion the network rejected, SPEC §7.5):
   * allowed for actions and for sales recorded without an amount or with 0.
   */
  reversal?: boolean;
  /**
   * Instead of `amount`: refund what brings the sale's refunded total up to this (units), read
   * under the sale's lock. Platforms that report a cumulative refunded amount (Stripe's
   * `amount_refunded`) refund the difference, in whatever order their events arrive.
   */
  refundedTotal?: Units;
}

export interface RefundResult {
  refundId: number;
  saleId: number;
  orderId: string | null;
  type: RefundType;
  /** This refund, in the sale's currency. */
  amount: number;
  currency: string;
  /** Everything refunded on the sale so far, in its currency. */
  refundedTotal: number;
  full: boolean;
  /** The sale's commissions this refund changed, and the linked negative commissions it created. */
  commissions: Commission[];
}

/** A refund as plugins receive it (`sale.refunded`): the commissions' amounts as decimals. */
export type AnnouncedRefund = Omit<RefundResult, 'commissions'> & { commissions: CommissionJson[] };

/** The one sale of an order to refund: 404 without one, 409 when several campaigns recorded the order. */
export function pickOrderSale(
  orderId: string,
  campaignId: number | undefined,
  sales: RefundableSale[],
): RefundableSale {
  const [sale] = sales;
  if (!sale)
    throw notFound(`order ${JSON.stringify(orderId)}${campaignId === undefined ? '' : ` in campaign ${campaignId}`}`);
  if (sales.length > 1) {
    const campaigns = [...new Set(sales.map((s) => s.campaignId))];
    throw conflict(
      `Order ${JSON.stringify(orderId)} was recorded in campaigns ${campaigns.join(', ')}: add ?campaignId= to say which one to refund`,
      { orderId, campaignIds: campaigns },
    );
  }
  return sale;
}

const UNPAID = ['pending', 'approved'] as const;
/** Not paid yet: pending or approved, in no payout batch or in one still open (not marked paid). */
const unpaidIn = (t: Pick<Taking, 'openBatches'>) => (c: StoredCommission) =>
  (c.status === 'pending' || c.status === 'approved') && (c.batch_id === null || t.openBatches.has(c.batch_id));
const isReversal = (c: StoredCommission) => c.kind === 'refund' || c.kind === 'chargeback';
const amountsOf = (c: StoredCommission) => ({ amount: asUnits(c.amount), merchantAmount: asUnits(c.merchant_amount) });

/**
 * Refunds and chargebacks (SPEC §6.4). The refunded share of the order (amount / totalCost)
 * is taken back from each commission of the sale: an unpaid commission (also one in a payout
 * batch not yet marked paid, which it then leaves) is `reversed` when the order is refunded in
 * full, else it gets a linked negative commission with its status; a paid commission always gets
 * a linked negative commission, approved, which the next payout batch nets. Chargebacks are
 * counted apart in the reports.
 */
export class RefundService {
  constructor(
    private readonly db: Knex,
    private readonly hooks: Hooks,
    private readonly outbox: Outbox,
    private readonly lifecycle: CommissionLifecycle,
    private readonly settings: () => Settings,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Refunds the sale recorded with `orderId`; `campaignId` picks one when several campaigns have it. */
  async refundOrder(
    orderId: string,
    campaignId: number | undefined,
    input: RefundInput,
    actor: Actor,
  ): Promise<RefundResult> {
    const sale = pickOrderSale(orderId, campaignId, await this.salesOfOrder(orderId, campaignId));
    return this.refundSale(sale.id, input, actor);
  }

  /** The sales recorded with `orderId` (in `campaignId` when given). */
  salesOfOrder(orderId: string, campaignId: number | undefined): Promise<RefundableSale[]> {
    return salesWithOrderId(this.db, orderId, campaignId);
  }

  async refundSale(saleId: number, input: RefundInput, actor: Actor): Promise<RefundResult> {
    const { result, changes } = await transaction(this.db, async (trx) => {
      const changes: StatusChange[] = [];
      const sale = await lockSale(trx, saleId);
      if (!sale) throw notFound('sale', saleId);
      return { result: await this.apply(trx, sale, input, actor, changes), changes };
    });
    await this.lifecycle.announce(changes);
    await this.hooks.doAction('sale.refunded', { ...result, commissions: result.commissions.map(commissionJson) });
    return result;
  }

  private async apply(
    trx: Knex,
    sale: RefundableSale,
    input: RefundInput,
    actor: Actor,
    changes: StatusChange[],
  ): Promise<RefundResult> {
    if (sale.kind !== 'sale' && !input.reversal)
      throw conflict(`Sale ${sale.id} is an action: only sales can be refunded`);
    if (sale.status === 'declined') throw conflict(`Sale ${sale.id} is declined: there is nothing to refund`);
    const money = (u: Units) => `${unitsToFixed(u, 2)} ${sale.currency}`;
    // A reversal of a sale without a total takes everything; `refundedTotal` asks for what is missing.
    const { amount, full } = await refundAmount(
      trx,
      input.reversal && !sale.totalCost ? { ...sale, totalCost: null } : sale,
      input.refundedTotal !== undefined && sale.totalCost !== null
        ? missingUpTo(sale, input.refundedTotal, money)
        : input.amount,
      money,
    );

    const now = this.clock();
    const settings = this.settings();
    const today = dayIn(now, settings.timezone);
    const amountBase = multiplyByRate(amount, sale.exchangeRate);
    const refundId = await insertRefund(trx, {
      created_at: now,
      sale_id: sale.id,
      type: input.type,
      amount,
      amount_base: amountBase,
      actor: clip(actor.label, KEY_LENGTH),
    });
    if (!(await addRefunded(trx, sale.id, sale.refunded, amount))) {
      throw conflict(`Sale ${sale.id} was refunded by someone else at the same time: check it and try again`);
    }

    const { originals, children } = await commissionsToTake(trx, sale.id);
    const batchIds = [...originals, ...[...children.values()].flat()].flatMap((c) =>
      c.batch_id === null ? [] : [c.batch_id],
    );
    const openBatches = await openBatchIds(trx, [...new Set(batchIds)]);
    const stats: StatsDelta[] = [
      {
        day: today,
        campaign_id: sale.campaignId,
        affiliate_id: sale.affiliateId ?? 0,
        banner_id: sale.bannerId ?? 0,
        [input.type === 'chargeback' ? 'chargebacks' : 'refunds']: amountBase,
      },
    ];
    const refund = {
      id: refundId,
      saleId: sale.id,
      orderId: sale.orderId,
      type: input.type,
      amount: fromUnits(amount),
      currency: sale.currency,
    };
    const why = `${input.type} of ${money(amount)}${full ? ' (the whole order)' : ''}`;
    const touched: number[] = [];
    const created: number[] = [];

    const taking: Taking = {
      trx,
      sale,
      input,
      actor,
      changes,
      amount,
      full,
      refundId,
      refund,
      why,
      money,
      now,
      today,
      stats,
      openBatches,
    };
    for (const original of originals) {
      const done = await this.takeFrom(taking, original, children.get(original.id) ?? []);
      if (!done) continue;
      touched.push(original.id, ...done.reversed.filter((c) => c.id !== original.id).map((c) => c.id));
      if (done.negative) created.push(done.negative.id);
    }

    return finishRefund(taking, touched, created);
  }

  /**
   * What a refund takes from one commission of the sale: an unpaid one refunded in full simply
   * stops counting (with its unpaid partial reversals); otherwise a negative commission takes back
   * its share. Answers null when nothing was taken, after announcing `commission.reversed` otherwise.
   */
  private async takeFrom(
    t: Taking,
    original: StoredCommission,
    own: StoredCommission[],
  ): Promise<{ reversed: StoredCommission[]; negative: StoredCommission | null } | null> {
    const unpaid = unpaidIn(t)(original);
    const reversed = unpaid && t.full ? await reverseUnpaid(t, original, own) : [];
    const negative = unpaid && t.full ? null : await insertReversal(t, original, own);
    if (!reversed.length && !negative) return null;
    for (const c of reversed) {
      // The event is one per commission of the sale, below; reversed partial reversals ride in it.
      t.changes.push(
        await this.lifecycle.recordChange(t.trx, c, 'reversed', t.why, t.actor, t.now, {
          keepReason: true,
          details: { refundId: t.refundId, type: t.input.type },
        }),
      );
    }
    // One `commission.reversed` per commission of the sale the refund took from.
    const after: StoredCommission = reversed.some((c) => c.id === original.id)
      ? { ...original, status: 'reversed', updated_at: t.now }
      : original;
    await this.outbox.emit(t.trx, 'commission.reversed', {
      commission: commissionSummary(after),
      previousStatus: original.status,
      reason: t.why,
      refund: t.refund,
      reversal: negative ? commissionSummary(negative) : null,
      reversedIds: reversed.map((c) => c.id),
    });
    return { reversed, negative };
  }
}

/**
 * The sale's commissions a refund takes from (pending, approved or paid, not reversals
 * themselves), locked, with the partial reversals each already has.
 */
async function commissionsToTake(
  trx: Knex,
  saleId: number,
): Promise<{ originals: StoredCommission[]; children: Map<number, StoredCommission[]> }> {
  const all = await lockCommissionsOfSale(trx, saleId);
  const children = new Map<number, StoredCommission[]>();
  for (const c of all) {
    if (c.parent_id !== null && isReversal(c)) children.set(c.parent_id, [...(children.get(c.parent_id) ?? []), c]);
  }
  const originals = all.filter((c) => !isReversal(c) && ['pending', 'approved', 'paid'].includes(c.status));
  return { originals, children };
}

/** The refund's rollups, the sale's status and audit entry, and the answer with the commissions it touched. */
async function finishRefund(t: Taking, touched: number[], created: number[]): Promise<RefundResult> {
  const { trx, stats, sale, actor, input, refundId, amount, full, now } = t;
  await addDailyStats(trx, stats);
  // The sale's status follows its commissions (reversed, or taken back in full).
  await refreshSaleStatuses(trx, [sale.id]);
  await recordAudit(
    trx,
    actor,
    `sale.${input.type}`,
    'sale',
    sale.id,
    { refundId, amount: fromUnits(amount), currency: sale.currency, full, reversed: touched, created },
    now,
  );
  const affected = await readCommissions(trx, [...new Set([...touched, ...created])]);
  return {
    refundId,
    saleId: sale.id,
    orderId: sale.orderId,
    type: input.type,
    amount: fromUnits(amount),
    currency: sale.currency,
    refundedTotal: fromUnits(add(sale.refunded, amount)),
    full,
    commissions: affected.map(toCommission),
  };
}

/** A refund being applied: what each commission's share is taken with. */
interface Taking {
  trx: Knex;
  sale: RefundableSale;
  input: RefundInput;
  actor: Actor;
  changes: StatusChange[];
  amount: Units;
  full: boolean;
  refundId: number;
  refund: Record<string, unknown>;
  why: string;
  money: (u: Units) => string;
  now: number;
  today: string;
  stats: StatsDelta[];
  /** The payout batches of the sale's commissions that are still open. */
  openBatches: Set<number>;
}

/** Nothing was paid: the commission and its unpaid partial reversals stop counting. */
async function reverseUnpaid(
  t: Taking,
  original: StoredCommission,
  own: StoredCommission[],
): Promise<StoredCommission[]> {
  const reversed: StoredCommission[] = [];
  for (const c of [original, ...own.filter(unpaidIn(t))]) {
    const inBatch = c.batch_id !== null;
    if (!(await setCommissionStatus(t.trx, c.id, [...UNPAID], 'reversed', undefined, t.now, { inBatch }))) continue;
    reversed.push(c);
    // In an open payout batch: it leaves the batch, whose totals drop by it (SPEC §6.3, §6.4).
    if (inBatch) await takeOutOfOpenBatch(t.trx, c.batch_id!, c, t.now);
    // It leaves the day it was counted on (as a declined commission does).
    t.stats.push({
      day: c.day ?? t.today,
      campaign_id: c.campaign_id,
      affiliate_id: c.affiliate_id,
      banner_id: 0,
      commissions: -c.amount,
    });
  }
  return reversed;
}

/** The negative commission that takes back this commission's share of the refund (none if it is nothing). */
async function insertReversal(
  t: Taking,
  original: StoredCommission,
  own: StoredCommission[],
): Promise<StoredCommission | null> {
  const { sale, input, amount, full, refundId, why, money, now, today } = t;
  const { amount: take, merchantAmount: takeMerchant } = refundTake(
    amountsOf(original),
    own.map((c) => ({ ...amountsOf(c), status: c.status })),
    { amount, orderTotal: sale.totalCost, full },
  );
  if (take <= 0) return null;
  const status = unpaidIn(t)(original) ? original.status : 'approved';
  const row: CommissionRow = {
    created_at: now,
    updated_at: now,
    kind: input.type,
    sale_id: sale.id,
    campaign_id: original.campaign_id,
    affiliate_id: original.affiliate_id,
    payout_id: original.payout_id,
    tier: original.tier,
    status,
    status_reason: clip(why, TEXT_LENGTH),
    amount: -take,
    merchant_amount: -takeMerchant,
    currency: original.currency,
    basis: null,
    rate_unit: null,
    rate_value: null,
    quantity: 1,
    day: today,
    aggregate_key: null,
    parent_id: original.id,
    batch_id: null,
    detail: JSON.stringify({
      refundId,
      type: input.type,
      refund: fromUnits(amount),
      saleCurrency: sale.currency,
      orderTotal: sale.totalCost === null ? null : fromUnits(sale.totalCost),
      full,
      parentId: original.id,
      parentStatus: original.status,
      reason: full
        ? `${why}: what is left of commission ${original.id}`
        : `${why}: the refunded ${money(amount)} of ${money(sale.totalCost ?? amount)} taken from commission ${original.id}`,
    }),
  };
  const id = await insertCommission(t.trx, row);
  t.stats.push({
    day: today,
    campaign_id: row.campaign_id,
    affiliate_id: row.affiliate_id,
    banner_id: 0,
    commissions: row.amount,
  });
  await recordAudit(
    t.trx,
    t.actor,
    'commission.created',
    'commission',
    id,
    { parentId: original.id, refundId, status, amount: fromUnits(negate(take)) },
    now,
  );
  return { ...row, id };
}

/** What is missing for the sale's refunded total to reach `total`, capped at what is left. */
function missingUpTo(sale: RefundableSale, total: Units, money: (u: Units) => string): Units {
  const missing = subtract(minUnits(total, sale.totalCost ?? total), sale.refunded);
  if (missing <= 0) throw conflict(`Sale ${sale.id} is already refunded up to ${money(sale.refunded)}`);
  return missing;
}

/**
 * The amount of this refund and whether it completes the order's refund. An amount is in the
 * sale's currency; none means everything left. A sale recorded without an amount can only be
 * refunded once, in full.
 */
async function refundAmount(
  trx: Knex,
  sale: RefundableSale,
  requested: Units | null,
  money: (u: Units) => string,
): Promise<{ amount: Units; full: boolean }> {
  if (requested !== null && requested <= 0) throw fieldError('amount', 'must be greater than 0');
  if (sale.totalCost === null) {
    if (requested !== null)
      throw fieldError(
        'amount',
        'cannot be used: the sale was recorded without an amount; leave it out to refund the whole sale',
      );
    if ((await countRefunds(trx, sale.id)) > 0) throw conflict(`Sale ${sale.id} is already refunded`);
    return { amount: ZERO, full: true };
  }
  const remaining = subtract(sale.totalCost, sale.refunded);
  if (requested === null) {
    if (remaining <= 0) throw conflict(`Sale ${sale.id} is already refunded in full (${money(sale.refunded)})`);
    return { amount: remaining, full: true };
  }
  if (requested > remaining) {
    throw new AppError(
      'validation_failed',
      `amount: ${money(requested)} is more than the ${money(remaining)} left to refund on this sale`,
      [{ field: 'amount', message: `is more than the ${money(remaining)} left to refund` }],
    );
  }
  return { amount: requested, full: requested === remaining };
}

declare module '../plugins/contract.js' {
  interface HookActions {
    'sale.refunded': [refund: AnnouncedRefund];
  }
}
