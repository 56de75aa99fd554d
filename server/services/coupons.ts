import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { withConstraints } from './constraints.js';
import { fieldError, notFound } from '../errors.js';
import * as store from '../store/coupons.js';
import { getAffiliate } from '../store/affiliates.js';
import { getCampaign } from '../store/campaigns.js';
import { getPayout } from '../store/payouts.js';
import type { CouponCreate, CouponPatch } from '../schemas/programme.js';
import type { PageQuery } from '../validation.js';

export class CouponService {
  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {}

  list(filters: store.CouponFilters, page: PageQuery) {
    return store.listCoupons(this.db, filters, page);
  }

  async get(id: number): Promise<store.Coupon> {
    const coupon = await store.getCoupon(this.db, id);
    if (!coupon) throw notFound('coupon', id);
    return coupon;
  }

  async create(input: CouponCreate, actor: Actor): Promise<store.Coupon> {
    const now = this.clock();
    const id = await this.guard(() =>
      audited(this.db, actor, 'coupon.created', 'coupon', async (trx) => {
        const campaignId = await checkReferences(
          trx,
          input.affiliateId,
          input.campaignId ?? null,
          input.payoutId ?? null,
        );
        const newId = await store.insertCoupon(trx, {
          code: input.code,
          code_key: store.couponKey(input.code),
          affiliate_id: input.affiliateId,
          campaign_id: campaignId,
          payout_id: input.payoutId ?? null,
          archived_at: input.archived ? now : null,
          created_at: now,
          updated_at: now,
        });
        return { result: newId, objectId: newId, details: changedFields(input) };
      }),
    );
    this.onChange();
    return this.get(id);
  }

  async update(id: number, patch: CouponPatch, actor: Actor): Promise<store.Coupon> {
    const now = this.clock();
    await this.guard(() =>
      audited(this.db, actor, 'coupon.updated', 'coupon', async (trx) => {
        const current = await store.getCoupon(trx, id);
        if (!current) throw notFound('coupon', id);
        const campaignId = await checkReferences(
          trx,
          patch.affiliateId ?? current.affiliateId,
          patch.campaignId !== undefined ? patch.campaignId : current.campaignId,
          patch.payoutId !== undefined ? patch.payoutId : current.payoutId,
        );
        await store.updateCoupon(trx, id, {
          ...(patch.code !== undefined && { code: patch.code, code_key: store.couponKey(patch.code) }),
          ...(patch.affiliateId !== undefined && { affiliate_id: patch.affiliateId }),
          campaign_id: campaignId,
          ...(patch.payoutId !== undefined && { payout_id: patch.payoutId }),
          ...(patch.archived !== undefined && { archived_at: patch.archived ? now : null }),
          updated_at: now,
        });
        return { result: null, objectId: id, details: changedFields(patch) };
      }),
    );
    this.onChange();
    return this.get(id);
  }

  async remove(id: number, actor: Actor): Promise<void> {
    await this.guard(() =>
      audited(this.db, actor, 'coupon.deleted', 'coupon', async (trx) => {
        const current = await store.getCoupon(trx, id);
        if (!current) throw notFound('coupon', id);
        await store.deleteCoupon(trx, id);
        return { result: null, objectId: id, details: { code: current.code } };
      }),
    );
    this.onChange();
  }

  private guard<T>(fn: () => Promise<T>): Promise<T> {
    return withConstraints(
      this.db,
      'coupon',
      () => fieldError('code', 'is already used by another coupon (codes ignore case)'),
      fn,
    );
  }
}

/**
 * The affiliate, campaign and payout must exist; a coupon payout must belong to the coupon's
 * campaign (a coupon without a campaign takes its payout's). Returns the campaign id to store.
 */
async function checkReferences(
  db: Knex,
  affiliateId: number,
  campaignId: number | null,
  payoutId: number | null,
): Promise<number | null> {
  if (!(await getAffiliate(db, affiliateId)))
    throw fieldError('affiliateId', `affiliate ${affiliateId} does not exist`);
  if (campaignId !== null && !(await getCampaign(db, campaignId)))
    throw fieldError('campaignId', `campaign ${campaignId} does not exist`);
  if (payoutId === null) return campaignId;
  const payout = await getPayout(db, payoutId);
  if (!payout) throw fieldError('payoutId', `payout ${payoutId} does not exist`);
  if (campaignId !== null && payout.campaignId !== campaignId) {
    throw fieldError('payoutId', `payout ${payoutId} belongs to campaign ${payout.campaignId}, not ${campaignId}`);
  }
  return payout.campaignId;
}
