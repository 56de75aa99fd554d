import type { Knex } from 'knex';
import { transaction } from '../db/transaction.js';
import type { Hooks } from '../plugins/hooks.js';
import type { Outbox } from './outbox.js';
import type { Actor } from './actor.js';
import type { Settings } from '../domain/settings.js';
import { AppError, conflict, forbidden, notFound } from '../errors.js';
import { ZERO, asUnits, fromUnits, type Units } from '../domain/money.js';
import { commissionJson, type CommissionJson } from './commission-json.js';
import { dayIn } from '../domain/time.js';
import { recordAudit } from '../store/audit.js';
import { addDailyStats, type StatsDelta } from '../store/daily-stats.js';
import {
  commissionTotals,
  getCommission,
  listCommissions,
  toCommission,
  type Commission,
  type CommissionFilters,
  type CommissionStatus,
} from '../store/commissions.js';
import {
  childrenOf,
  lockCommissions,
  setCommissionStatus,
  type StoredCommission,
} from '../store/commission-changes.js';
import type { Page } from '../store/rows.js';
import { lockSalesOfCommissions, refreshSaleStatuses } from '../store/sales.js';
import type { PageQuery } from '../validation.js';
import { TEXT_LENGTH, clip } from '../domain/limits.js';

export type ReviewAction = 'approve' | 'decline';

export const COMMISSION_STATUSES = [
  'pending',
  'approved',
  'declined',
  'paid',
  'reversed',
] as const satisfies readonly CommissionStatus[];

const TARGET = { approve: 'approved', decline: 'declined' } as const;
const EVENT = { approve: 'commission.approved', decline: 'commission.declined' } as const;

export type StatusTotals = Record<CommissionStatus, { count: number; amount: Units }>;

export interface CommissionPage extends Page<Commission> {
  totals: StatusTotals;
}

export interface BulkResult {
  updated: number[];
  skipped: Array<{ id: number; reason: string }>;
}

/** A status change made in a transaction, announced to plugins once it is committed. */
export interface StatusChange {
  commission: Commission;
  from: CommissionStatus;
  to: CommissionStatus;
  reason: string | null;
  actor: string;
}

/** A status change as plugins receive it (`commission.statusChanged`): the commission's amounts as decimals. */
export type AnnouncedStatusChange = Omit<StatusChange, 'commission'> & { commission: CommissionJson };

/** The commission in a notification: what an integrator needs, without the merchant's cut. */
export function commissionSummary(c: StoredCommission) {
  return {
    id: c.id,
    kind: c.kind,
    saleId: c.sale_id,
    campaignId: c.campaign_id,
    affiliateId: c.affiliate_id,
    tier: c.tier,
    status: c.status,
    statusReason: c.status_reason,
    amount: fromUnits(asUnits(c.amount)),
    currency: c.currency,
    parentId: c.parent_id,
    batchId: c.batch_id,
  };
}

/** What an affiliate may see of a commission: not the merchant's cut nor how it was computed. */
export function commissionFor<C extends { merchantAmount: unknown; detail: unknown }>(
  actor: Actor | null,
  c: C,
): Partial<C> {
  if (actor?.role !== 'affiliate') return c;
  const { merchantAmount: _m, detail: _d, ...rest } = c;
  return rest as Partial<C>;
}

/**
 * The review part of the commission lifecycle (SPEC §6.3): pending → approved | declined, one
 * by one or in bulk, with a reason. Every change writes its audit entry and its outbox event in
 * the same transaction; pending refund reversals linked to a commission follow it.
 */
export class CommissionLifecycle {
  constructor(
    private readonly db: Knex,
    private readonly hooks: Hooks,
    private readonly outbox: Outbox,
    private readonly settings: () => Settings,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Affiliates see only their own commissions, whatever filter they send. */
  async list(filters: CommissionFilters, page: PageQuery, actor: Actor): Promise<CommissionPage> {
    const f = this.scoped(filters, actor);
    const [result, totals] = await Promise.all([listCommissions(this.db, f, page), commissionTotals(this.db, f)]);
    return { ...result, totals: fillTotals(totals) };
  }

  async totals(filters: CommissionFilters, actor: Actor): Promise<StatusTotals> {
    return fillTotals(await commissionTotals(this.db, this.scoped(filters, actor)));
  }

  async get(id: number, actor: Actor): Promise<Commission> {
    const c = await getCommission(this.db, id);
    if (!c) throw notFound('commission', id);
    if (actor.role === 'affiliate' && c.affiliateId !== actor.affiliateId)
      throw forbidden('An affiliate can read only its own commissions');
    return c;
  }

  /** Approves or declines one pending commission; 409 naming its status otherwise. */
  async review(id: number, action: ReviewAction, reason: string | null, actor: Actor): Promise<Commission> {
    const changes = await transaction(this.db, async (trx) => {
      const changes: StatusChange[] = [];
      const stats: StatsDelta[] = [];
      const saleIds = await lockSalesOfCommissions(trx, [id]);
      const [row] = await lockCommissions(trx, [id]);
      if (!row) throw notFound('commission', id);
      const children = await childrenOf(trx, [id], ['pending']);
      const outcome = await this.applyReview(trx, row, children, action, reason, actor, changes, stats);
      if (outcome !== null) {
        throw conflict(`Commission ${id} is ${outcome}: only pending commissions can be ${TARGET[action]}`, {
          id,
          status: outcome,
        });
      }
      await refreshSaleStatuses(trx, saleIds);
      await addDailyStats(trx, stats);
      return changes;
    });
    await this.announce(changes);
    const after = await getCommission(this.db, id);
    if (!after) throw notFound('commission', id);
    return after;
  }

  /**
   * Reverts an approved commission to declined (a sale found fraudulent after approval), with
   * the reason, recorded in the audit log. Its approved or pending linked refund reversals follow
   * it. 409 when it is not approved, or sits in a payout batch (delete the batch first).
   */
  async revert(id: number, reason: string, actor: Actor): Promise<Commission> {
    const changes = await transaction(this.db, async (trx) => {
      const changes: StatusChange[] = [];
      const stats: StatsDelta[] = [];
      const saleIds = await lockSalesOfCommissions(trx, [id]);
      const [row] = await lockCommissions(trx, [id]);
      if (!row) throw notFound('commission', id);
      if (row.status !== 'approved')
        throw conflict(`Commission ${id} is ${row.status}: only an approved commission can be reverted to declined`, {
          id,
          status: row.status,
        });
      if (row.batch_id !== null)
        throw conflict(
          `Commission ${id} is in payout batch ${row.batch_id}: delete the open batch first, or refund the sale once it is paid`,
          { id, batchId: row.batch_id },
        );
      const now = this.clock();
      if (!(await setCommissionStatus(trx, row.id, ['approved'], 'declined', reason, now)))
        throw conflict(`Commission ${id} changed meanwhile; reload and try again`, { id });
      changes.push(
        await this.recordChange(trx, row, 'declined', reason, actor, now, {
          event: 'commission.declined',
          details: { reverted: true },
        }),
      );
      stats.push(this.declinedStats(row));
      for (const child of await childrenOf(trx, [id], ['approved', 'pending'])) {
        if (!(await setCommissionStatus(trx, child.id, ['approved', 'pending'], 'declined', reason, now))) continue;
        changes.push(
          await this.recordChange(trx, child, 'declined', reason, actor, now, {
            event: 'commission.declined',
            details: { follows: row.id, reverted: true },
          }),
        );
        stats.push(this.declinedStats(child));
      }
      await refreshSaleStatuses(trx, saleIds);
      await addDailyStats(trx, stats);
      return changes;
    });
    await this.announce(changes);
    const after = await getCommission(this.db, id);
    if (!after) throw notFound('commission', id);
    return after;
  }

  /** Approves or declines many; ids that cannot change are skipped with the reason. */
  async bulk(ids: number[], action: ReviewAction, reason: string | null, actor: Actor): Promise<BulkResult> {
    const unique = [...new Set(ids)];
    const { result, changes } = await transaction(this.db, async (trx) => {
      const result: BulkResult = { updated: [], skipped: [] };
      const changes: StatusChange[] = [];
      const stats: StatsDelta[] = [];
      const saleIds = await lockSalesOfCommissions(trx, unique);
      const rows = new Map((await lockCommissions(trx, unique)).map((r) => [r.id, r]));
      const pending = [...rows.values()].filter((r) => r.status === 'pending').map((r) => r.id);
      const children = new Map<number, StoredCommission[]>();
      for (let i = 0; i < pending.length; i += 500) {
        for (const c of await childrenOf(trx, pending.slice(i, i + 500), ['pending'])) {
          children.set(c.parent_id!, [...(children.get(c.parent_id!) ?? []), c]);
        }
      }
      const moved = new Set<number>();
      for (const id of unique) {
        const row = rows.get(id);
        if (!row) {
          result.skipped.push({ id, reason: 'not found' });
          continue;
        }
        // Already moved with its commission earlier in this bulk (a linked refund reversal).
        if (moved.has(id)) {
          result.updated.push(id);
          continue;
        }
        const before = changes.length;
        const outcome = await this.applyReview(trx, row, children.get(id) ?? [], action, reason, actor, changes, stats);
        for (const c of changes.slice(before)) moved.add(c.commission.id);
        if (outcome === null) result.updated.push(id);
        else
          result.skipped.push({
            id,
            reason: `status is ${outcome}; only pending commissions can be ${TARGET[action]}`,
          });
      }
      await refreshSaleStatuses(trx, saleIds);
      // The rollup rows last and at once, so the bulk holds their locks for the shortest time.
      await addDailyStats(trx, stats);
      return { result, changes };
    });
    await this.announce(changes);
    return result;
  }

  /** Tells plugins about committed changes (`commission.statusChanged`, SPEC §8). */
  async announce(changes: StatusChange[]): Promise<void> {
    for (const c of changes)
      await this.hooks.doAction('commission.statusChanged', { ...c, commission: commissionJson(c.commission) });
  }

  /**
   * Writes the audit entry and the outbox event of one status change in `trx`. Used by the
   * review here, and by refunds (reversed) and payout batches (paid).
   */
  async recordChange(
    trx: Knex,
    row: StoredCommission,
    to: CommissionStatus,
    reason: string | null,
    actor: Actor,
    now: number,
    extra: {
      event?: 'commission.approved' | 'commission.declined' | 'commission.reversed';
      details?: Record<string, unknown>;
      payload?: Record<string, unknown>;
      /** The change leaves `status_reason` as it was (paid, reversed by a refund). */
      keepReason?: boolean;
    } = {},
  ): Promise<StatusChange> {
    const after: StoredCommission = {
      ...row,
      status: to,
      status_reason: extra.keepReason ? row.status_reason : reason === null ? null : clip(reason, TEXT_LENGTH),
      aggregate_key: null,
      updated_at: now,
    };
    await recordAudit(
      trx,
      actor,
      `commission.${to}`,
      'commission',
      row.id,
      { from: row.status, to, reason, ...extra.details },
      now,
    );
    if (extra.event) {
      await this.outbox.emit(trx, extra.event, {
        commission: commissionSummary(after),
        previousStatus: row.status,
        reason,
        ...extra.payload,
      });
    }
    return { commission: toCommission(after), from: row.status, to, reason, actor: actor.label };
  }

  /**
   * Answers null when the commission changed, else the status that prevented it. The changes
   * and the rollup deltas are added to `changes` and `stats`; the caller writes the deltas.
   */
  private async applyReview(
    trx: Knex,
    row: StoredCommission,
    children: StoredCommission[],
    action: ReviewAction,
    reason: string | null,
    actor: Actor,
    changes: StatusChange[],
    stats: StatsDelta[],
  ): Promise<CommissionStatus | null> {
    const to = TARGET[action];
    if (row.status !== 'pending') return row.status;
    const now = this.clock();
    if (!(await setCommissionStatus(trx, row.id, ['pending'], to, reason, now))) {
      const [fresh] = await lockCommissions(trx, [row.id]);
      return fresh?.status ?? row.status;
    }
    changes.push(await this.recordChange(trx, row, to, reason, actor, now, { event: EVENT[action] }));
    if (to === 'declined') stats.push(this.declinedStats(row));
    // A pending reversal of a partial refund follows its commission: approved or declined with it.
    for (const child of children) {
      if (!(await setCommissionStatus(trx, child.id, ['pending'], to, reason, now))) continue;
      changes.push(
        await this.recordChange(trx, child, to, reason, actor, now, {
          event: EVENT[action],
          details: { follows: row.id },
        }),
      );
      if (to === 'declined') stats.push(this.declinedStats(child));
    }
    return null;
  }

  /** A declined commission is not earned: it leaves the day's commissions total it was added to. */
  private declinedStats(row: StoredCommission): StatsDelta {
    const day = row.day ?? dayIn(Number(row.created_at), this.settings().timezone);
    return {
      day,
      campaign_id: row.campaign_id,
      affiliate_id: row.affiliate_id,
      banner_id: 0,
      commissions: -row.amount,
    };
  }

  private scoped(filters: CommissionFilters, actor: Actor): CommissionFilters {
    if (actor.role !== 'affiliate') return filters;
    if (actor.affiliateId === null) throw new AppError('forbidden', 'This account is not linked to an affiliate');
    return { ...filters, affiliateId: actor.affiliateId };
  }
}

function fillTotals(raw: Record<string, { count: number; amount: Units }>): StatusTotals {
  const out = {} as StatusTotals;
  for (const s of COMMISSION_STATUSES) out[s] = raw[s] ?? { count: 0, amount: ZERO };
  return out;
}

declare module '../plugins/contract.js' {
  interface HookActions {
    'commission.statusChanged': [change: AnnouncedStatusChange];
  }
}
