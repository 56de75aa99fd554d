import type { Knex } from 'knex';
import { toBool, toIso, parseJson, paginate, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';
import { asUnits } from '../domain/money.js';
import type { PayoutDef, Rate, RateUnit } from '../domain/payouts.js';

export type { Rate };
export type CommissionUnit = RateUnit;

/** A stored payout: the rules' shape plus its bookkeeping. */
export interface PayoutRecord extends PayoutDef {
  archived: boolean;
  createdAt: string | null;
  updatedAt: string | null;
}

/** A `payouts` row as the database answers it. */
export interface PayoutRow {
  id: number;
  campaign_id: number;
  kind: PayoutRecord['kind'];
  title: string;
  type: PayoutRecord['type'];
  action_code: string | null;
  raw_clicks: number | boolean;
  affiliate_value: number | string;
  affiliate_unit: CommissionUnit;
  merchant_value: number | string;
  merchant_unit: CommissionUnit;
  goal_product_ids: string;
  goal_categories: string;
  goal_countries: string | null;
  coupon_code: string | null;
  tiers: string;
  recurring_months: number | null;
  archived_at: number | null;
  created_at: number;
  updated_at: number;
}

export type PayoutColumns = Partial<Omit<PayoutRow, 'id'>>;

/** A stored goal: null when it names nothing (SPEC §6.1, §14). */
export function goalOf(r: {
  goal_product_ids: string;
  goal_categories: string;
  goal_countries: string | null;
}): PayoutDef['goal'] {
  const productIds = parseJson<string[]>(r.goal_product_ids, []);
  const categories = parseJson<string[]>(r.goal_categories, []);
  const countries = parseJson<string[]>(r.goal_countries ?? '[]', []);
  return productIds.length || categories.length || countries.length ? { productIds, categories, countries } : null;
}

/** The rules' shape of a stored payout (the config cache's and the API's), its amounts in units. */
export function payoutDefOf(r: PayoutRow, affiliateIds: number[], commissionGroupIds: number[]): PayoutDef {
  return {
    id: r.id,
    campaignId: r.campaign_id,
    kind: r.kind,
    title: r.title,
    type: r.type,
    actionCode: r.action_code,
    rawClicks: toBool(r.raw_clicks),
    affiliateCommission: { value: asUnits(Number(r.affiliate_value)), unit: r.affiliate_unit },
    merchantCommission: { value: asUnits(Number(r.merchant_value)), unit: r.merchant_unit },
    goal: goalOf(r),
    couponCode: r.coupon_code,
    tiers: parseJson<Array<{ value: number; unit: Rate['unit'] }>>(r.tiers, []).map((t) => ({
      value: asUnits(t.value),
      unit: t.unit,
    })),
    affiliateIds,
    commissionGroupIds,
    recurringMonths: r.recurring_months === null ? null : Number(r.recurring_months),
  };
}

function toPayout(r: PayoutRow, affiliateIds: number[], commissionGroupIds: number[]): PayoutRecord {
  return {
    ...payoutDefOf(r, affiliateIds, commissionGroupIds),
    archived: r.archived_at !== null,
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
}

async function withAffiliates(db: Knex, rows: PayoutRow[]): Promise<PayoutRecord[]> {
  if (!rows.length) return [];
  const links = (await db('payout_affiliates')
    .whereIn(
      'payout_id',
      rows.map((r) => r.id),
    )
    .orderBy('affiliate_id')) as Array<{ payout_id: number; affiliate_id: number }>;
  const byPayout = new Map<number, number[]>();
  for (const l of links) byPayout.set(l.payout_id, [...(byPayout.get(l.payout_id) ?? []), l.affiliate_id]);
  const groupLinks = (await db('payout_commission_groups')
    .whereIn(
      'payout_id',
      rows.map((r) => r.id),
    )
    .orderBy('group_id')) as Array<{ payout_id: number; group_id: number }>;
  const groupsOf = new Map<number, number[]>();
  for (const l of groupLinks) groupsOf.set(l.payout_id, [...(groupsOf.get(l.payout_id) ?? []), l.group_id]);
  return rows.map((r) => toPayout(r, byPayout.get(r.id) ?? [], groupsOf.get(r.id) ?? []));
}

export interface PayoutFilters {
  campaignId?: number;
  kind?: PayoutRecord['kind'];
  type?: PayoutRecord['type'];
  affiliateId?: number;
  archived?: boolean;
}

export async function listPayouts(db: Knex, f: PayoutFilters, page: PageQuery): Promise<Page<PayoutRecord>> {
  const q = db('payouts').select('payouts.*');
  if (f.campaignId) q.where('campaign_id', f.campaignId);
  if (f.kind) q.where('kind', f.kind);
  if (f.type) q.where('type', f.type);
  if (f.archived !== undefined) q[f.archived ? 'whereNotNull' : 'whereNull']('archived_at');
  if (f.affiliateId) q.whereIn('id', db('payout_affiliates').select('payout_id').where('affiliate_id', f.affiliateId));
  const page1 = await paginate<PayoutRow, PayoutRow>(q, page, (r) => r, [{ column: 'id', order: 'asc' }]);
  return { ...page1, data: await withAffiliates(db, page1.data) };
}

export async function getPayout(db: Knex, id: number): Promise<PayoutRecord | null> {
  const row = (await db('payouts').where({ id }).first()) as PayoutRow | undefined;
  if (!row) return null;
  const [payout] = await withAffiliates(db, [row]);
  return payout ?? null;
}

export async function insertPayout(
  db: Knex,
  cols: PayoutColumns,
  affiliateIds: number[],
  commissionGroupIds: number[] = [],
): Promise<number> {
  const [id] = await db('payouts').insert(cols);
  await replacePayoutAffiliates(db, Number(id), affiliateIds);
  await replacePayoutGroups(db, Number(id), commissionGroupIds);
  return Number(id);
}

export async function updatePayout(
  db: Knex,
  id: number,
  cols: PayoutColumns,
  affiliateIds?: number[],
  commissionGroupIds?: number[],
): Promise<void> {
  if (Object.keys(cols).length) await db('payouts').where({ id }).update(cols);
  if (affiliateIds) await replacePayoutAffiliates(db, id, affiliateIds);
  if (commissionGroupIds) await replacePayoutGroups(db, id, commissionGroupIds);
}

async function replacePayoutGroups(db: Knex, payoutId: number, groupIds: number[]): Promise<void> {
  await db('payout_commission_groups').where({ payout_id: payoutId }).delete();
  const unique = [...new Set(groupIds)];
  if (unique.length)
    await db('payout_commission_groups').insert(unique.map((g) => ({ payout_id: payoutId, group_id: g })));
}

async function replacePayoutAffiliates(db: Knex, payoutId: number, affiliateIds: number[]): Promise<void> {
  await db('payout_affiliates').where({ payout_id: payoutId }).delete();
  const unique = [...new Set(affiliateIds)];
  for (let i = 0; i < unique.length; i += 200) {
    await db('payout_affiliates').insert(
      unique.slice(i, i + 200).map((a) => ({ payout_id: payoutId, affiliate_id: a })),
    );
  }
}

export async function deletePayout(db: Knex, id: number): Promise<void> {
  await db('payouts').where({ id }).delete();
}

/** Copies a campaign's payouts that are not archived, with their affiliates, to another campaign. */
export async function copyCampaignPayouts(db: Knex, fromCampaignId: number, toCampaignId: number, now: number) {
  const payouts = (await db('payouts').where({ campaign_id: fromCampaignId })) as Array<Record<string, unknown>>;
  for (const { id: payoutId, ...payout } of payouts) {
    if (payout.archived_at !== undefined && payout.archived_at !== null) continue;
    const [pid] = await db('payouts').insert({
      ...payout,
      campaign_id: toCampaignId,
      created_at: now,
      updated_at: now,
    });
    const affiliates = (await db('payout_affiliates').where({ payout_id: payoutId })) as Array<{
      affiliate_id: number;
    }>;
    if (affiliates.length)
      await db('payout_affiliates').insert(
        affiliates.map((a) => ({ payout_id: Number(pid), affiliate_id: a.affiliate_id })),
      );
  }
}
