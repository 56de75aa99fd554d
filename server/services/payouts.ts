import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { withConstraints } from './constraints.js';
import { AppError, fieldError, notFound } from '../errors.js';
import * as store from '../store/payouts.js';
import { getCampaign } from '../store/campaigns.js';
import { payoutHasCommissions } from '../store/commissions.js';
import { existingAffiliateIds, existingCommissionGroupIds } from '../store/commission-groups.js';
import {
  findCouponByCode,
  findCouponByPayout,
  insertCoupon,
  updateCoupon,
  deleteCoupon,
  couponKey,
} from '../store/coupons.js';
import { payoutProblems } from '../domain/payout-rules.js';
import type { PayoutCreate, PayoutPatch } from '../schemas/programme.js';
import type { PageQuery } from '../validation.js';
import { ZERO } from '../domain/money.js';

type Merged = Omit<store.PayoutRecord, 'id' | 'campaignId' | 'createdAt' | 'updatedAt' | 'archived'>;

/** A saved payout, with what saving it also did (e.g. a plugin it needs was activated). */
export type SavedPayout = store.PayoutRecord & { notices?: string[] };

/** Turns on a plugin a payout type needs; answers true when it was off and is now on. */
export interface PluginActivator {
  ensureActive(name: string, actor: Actor): Promise<boolean>;
}

export const LIFETIME_PLUGIN_NOTICE =
  'The lifetime-commissions plugin was activated: a LIFETIME payout binds each customer to the affiliate of their first sale and pays on every later sale.';

/** Payouts of a campaign (SPEC §6.1): stored and validated here; computing commissions is the payouts engine's. */
export class PayoutService {
  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void = () => {},
    private readonly clock: () => number = Date.now,
    private readonly plugins: PluginActivator | null = null,
  ) {}

  list(filters: store.PayoutFilters, page: PageQuery) {
    return store.listPayouts(this.db, filters, page);
  }

  async get(id: number, campaignId?: number): Promise<store.PayoutRecord> {
    const payout = await store.getPayout(this.db, id);
    if (!payout || (campaignId !== undefined && payout.campaignId !== campaignId)) throw notFound('payout', id);
    return payout;
  }

  async create(campaignId: number, input: PayoutCreate, actor: Actor): Promise<SavedPayout> {
    const now = this.clock();
    const merged: Merged = {
      kind: input.kind,
      title: input.title,
      type: input.type,
      actionCode: input.actionCode ?? null,
      rawClicks: input.rawClicks ?? false,
      affiliateCommission: input.affiliateCommission,
      merchantCommission: input.merchantCommission ?? { value: ZERO, unit: 'fixed' },
      goal: normaliseGoal(input.goal),
      couponCode: input.couponCode ?? null,
      tiers: input.tiers ?? [],
      affiliateIds: [...new Set(input.affiliateIds ?? [])],
      commissionGroupIds: [...new Set(input.commissionGroupIds ?? [])],
      recurringMonths: input.recurringMonths ?? null,
    };
    check(merged);
    const id = await this.guard(() =>
      audited(this.db, actor, 'payout.created', 'payout', async (trx) => {
        if (!(await getCampaign(trx, campaignId))) throw notFound('campaign', campaignId);
        await checkAffiliates(trx, merged.affiliateIds);
        await checkGroups(trx, merged.commissionGroupIds);
        const newId = await store.insertPayout(
          trx,
          {
            ...columns(merged),
            campaign_id: campaignId,
            archived_at: input.archived ? now : null,
            created_at: now,
            updated_at: now,
          },
          merged.affiliateIds,
          merged.commissionGroupIds,
        );
        await syncCoupon(trx, newId, campaignId, merged, now);
        return { result: newId, objectId: newId, details: { campaignId, ...changedFields(input) } };
      }),
    );
    this.onChange();
    return this.withNotices(await this.get(id), actor);
  }

  async update(campaignId: number, id: number, patch: PayoutPatch, actor: Actor): Promise<SavedPayout> {
    const now = this.clock();
    await this.guard(() =>
      audited(this.db, actor, 'payout.updated', 'payout', async (trx) => {
        const current = await store.getPayout(trx, id);
        if (!current || current.campaignId !== campaignId) throw notFound('payout', id);
        const merged: Merged = {
          kind: patch.kind ?? current.kind,
          title: patch.title ?? current.title,
          type: patch.type ?? current.type,
          actionCode: patch.actionCode !== undefined ? patch.actionCode : current.actionCode,
          rawClicks: patch.rawClicks ?? current.rawClicks,
          affiliateCommission: patch.affiliateCommission ?? current.affiliateCommission,
          merchantCommission: patch.merchantCommission ?? current.merchantCommission,
          goal: patch.goal !== undefined ? normaliseGoal(patch.goal) : current.goal,
          couponCode: patch.couponCode !== undefined ? patch.couponCode : current.couponCode,
          tiers: patch.tiers ?? current.tiers,
          affiliateIds: patch.affiliateIds ? [...new Set(patch.affiliateIds)] : current.affiliateIds,
          commissionGroupIds: patch.commissionGroupIds
            ? [...new Set(patch.commissionGroupIds)]
            : current.commissionGroupIds,
          recurringMonths: patch.recurringMonths !== undefined ? patch.recurringMonths : current.recurringMonths,
        };
        check(merged);
        await checkAffiliates(trx, merged.affiliateIds);
        await checkGroups(trx, merged.commissionGroupIds);
        await store.updatePayout(
          trx,
          id,
          {
            ...columns(merged),
            ...(patch.archived !== undefined && { archived_at: patch.archived ? now : null }),
            updated_at: now,
          },
          merged.affiliateIds,
          merged.commissionGroupIds,
        );
        await syncCoupon(trx, id, campaignId, merged, now);
        return { result: null, objectId: id, details: changedFields(patch) };
      }),
    );
    this.onChange();
    return this.withNotices(await this.get(id), actor);
  }

  /**
   * A live LIFETIME payout needs the lifetime-commissions plugin, which starts inactive: without
   * it the payout would silently pay only once. Saving one turns the plugin on.
   */
  private async withNotices(payout: store.PayoutRecord, actor: Actor): Promise<SavedPayout> {
    const notices: string[] = [];
    if (
      payout.type === 'LIFETIME' &&
      !payout.archived &&
      (await this.plugins?.ensureActive('lifetime-commissions', actor))
    )
      notices.push(LIFETIME_PLUGIN_NOTICE);
    return notices.length ? { ...payout, notices } : payout;
  }

  async remove(campaignId: number, id: number, actor: Actor): Promise<void> {
    await this.guard(() =>
      audited(this.db, actor, 'payout.deleted', 'payout', async (trx) => {
        const current = await store.getPayout(trx, id);
        if (!current || current.campaignId !== campaignId) throw notFound('payout', id);
        // SPEC §9: history depends on it (the commissions it paid name it); archive it instead.
        if (await payoutHasCommissions(trx, id))
          throw new AppError('conflict', 'The payout has paid commissions; archive it instead of deleting it');
        const coupon = await findCouponByPayout(trx, id);
        if (coupon && current.couponCode && couponKey(coupon.code) === couponKey(current.couponCode))
          await deleteCoupon(trx, coupon.id);
        await store.deletePayout(trx, id);
        return { result: null, objectId: id, details: { title: current.title } };
      }),
    );
    this.onChange();
  }

  private guard<T>(fn: () => Promise<T>): Promise<T> {
    return withConstraints(this.db, 'payout', () => fieldError('couponCode', 'is already used by another coupon'), fn);
  }
}

function normaliseGoal(
  goal: { productIds?: string[]; categories?: string[]; countries?: string[] } | null | undefined,
): Merged['goal'] {
  if (!goal) return null;
  const productIds = [...new Set(goal.productIds ?? [])];
  const categories = [...new Set(goal.categories ?? [])];
  const countries = [...new Set(goal.countries ?? [])];
  return productIds.length || categories.length || countries.length ? { productIds, categories, countries } : null;
}

function check(p: Merged): void {
  const problems = payoutProblems(p);
  if (problems.length) {
    throw new AppError('validation_failed', problems.map((x) => `${x.field}: ${x.message}`).join('; '), problems);
  }
}

function columns(p: Merged): store.PayoutColumns {
  return {
    kind: p.kind,
    title: p.title,
    type: p.type,
    action_code: p.actionCode,
    raw_clicks: p.rawClicks,
    affiliate_value: p.affiliateCommission.value,
    affiliate_unit: p.affiliateCommission.unit,
    merchant_value: p.merchantCommission.value,
    merchant_unit: p.merchantCommission.unit,
    goal_product_ids: JSON.stringify(p.goal?.productIds ?? []),
    goal_categories: JSON.stringify(p.goal?.categories ?? []),
    goal_countries: JSON.stringify(p.goal?.countries ?? []),
    coupon_code: p.couponCode,
    tiers: JSON.stringify(p.tiers),
    recurring_months: p.recurringMonths,
  };
}

async function checkAffiliates(db: Knex, ids: number[]): Promise<void> {
  if (!ids.length) return;
  const found = await existingAffiliateIds(db, ids);
  const missing = ids.filter((i) => !found.has(i));
  if (missing.length) throw fieldError('affiliateIds', `affiliate ${missing.join(', ')} does not exist`);
}

async function checkGroups(db: Knex, ids: number[]): Promise<void> {
  if (!ids.length) return;
  const found = await existingCommissionGroupIds(db, ids);
  const missing = ids.filter((i) => !found.has(i));
  if (missing.length) throw fieldError('commissionGroupIds', `commission group ${missing.join(', ')} does not exist`);
}

/** A payout's `couponCode` is a coupon of its one affiliate that applies this payout (SPEC §6.1). */
async function syncCoupon(db: Knex, payoutId: number, campaignId: number, p: Merged, now: number): Promise<void> {
  const linked = await findCouponByPayout(db, payoutId);
  if (!p.couponCode) {
    if (linked) await deleteCoupon(db, linked.id);
    return;
  }
  const affiliateId = p.affiliateIds[0] as number;
  const sameCode = await findCouponByCode(db, p.couponCode);
  if (sameCode && sameCode.id !== linked?.id) {
    if (sameCode.payoutId !== null && sameCode.payoutId !== payoutId)
      throw fieldError('couponCode', 'is already used by another coupon');
    if (sameCode.affiliateId !== affiliateId)
      throw fieldError('couponCode', `is already a coupon of affiliate ${sameCode.affiliateId}`);
    if (linked) await deleteCoupon(db, linked.id);
    await updateCoupon(db, sameCode.id, { payout_id: payoutId, campaign_id: campaignId, updated_at: now });
    return;
  }
  const cols = {
    code: p.couponCode,
    code_key: couponKey(p.couponCode),
    affiliate_id: affiliateId,
    campaign_id: campaignId,
    payout_id: payoutId,
    updated_at: now,
  };
  if (linked) await updateCoupon(db, linked.id, cols);
  else await insertCoupon(db, { ...cols, archived_at: null, created_at: now });
}
