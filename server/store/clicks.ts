import type { Knex } from 'knex';
import { dialectHelper, type Cell } from '../db/index.js';
import { parseJson, toIso, paginate, eachRow, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';
import { asUnits, type Units } from '../domain/money.js';
import type { ReferralFacts } from '../domain/matching.js';

export type ClickStatus = 'unique' | 'raw' | 'declined';

export interface ClickRow {
  click_id: string;
  at: number;
  visitor_id: string;
  campaign_id: number;
  affiliate_id: number | null;
  banner_id: number | null;
  status: ClickStatus;
  decline_reason: string | null;
  matched_by: string;
  channel: string | null;
  data1: string | null;
  data2: string | null;
  ip: string | null;
  country: string | null;
  user_agent: string | null;
  referrer: string | null;
  url: string | null;
  source: string;
  trace: string;
}

/** Columns only campaign-URL clicks fill (SPEC §7); affiliate clicks store NULL (cost 0). */
export interface TrafficClickColumns {
  flow_id: number | null;
  source_id: number | null;
  landing_index: number | null;
  offer_index: number | null;
  landing_url: string | null;
  offer_url: string | null;
  offer_at: number | null;
  cost: number;
  unique_campaign: number | null;
  unique_flow: number | null;
  unique_global: number | null;
  sub_ids: string | null;
  external_id: string | null;
  device: string | null;
  os: string | null;
  browser: string | null;
  language: string | null;
  is_bot: number | null;
}

const NO_TRAFFIC: TrafficClickColumns = {
  flow_id: null,
  source_id: null,
  landing_index: null,
  offer_index: null,
  landing_url: null,
  offer_url: null,
  offer_at: null,
  cost: 0,
  unique_campaign: null,
  unique_flow: null,
  unique_global: null,
  sub_ids: null,
  external_id: null,
  device: null,
  os: null,
  browser: null,
  language: null,
  is_bot: null,
};

export interface Click {
  id: number;
  clickId: string;
  at: string | null;
  visitorId: string;
  campaignId: number;
  affiliateId: number | null;
  bannerId: number | null;
  status: ClickStatus;
  declineReason: string | null;
  matchedBy: string;
  channel: string | null;
  data1: string | null;
  data2: string | null;
  ip: string | null;
  country: string | null;
  userAgent: string | null;
  referrer: string | null;
  url: string | null;
  source: string;
  /**
   * Why the click went where it did, as stored: a MatchTrace for affiliate links (/t/click, /r), a
   * `{ flowId, rotation, bound, type }` for campaign-URL clicks; readers must expect either (or none).
   */
  trace: unknown;
  /** What a campaign-URL click did (SPEC §15 Clicks log); null for affiliate-link clicks. */
  traffic?: {
    flowId: number;
    sourceId: number | null;
    landingUrl: string | null;
    offerUrl: string | null;
    subIds: Record<string, string>;
    externalId: string | null;
    cost: Units;
    uniqueCampaign: boolean;
    uniqueFlow: boolean;
    uniqueGlobal: boolean;
    device: string | null;
    os: string | null;
    browser: string | null;
  } | null;
}

const trafficOf = (r: ClickRow & Partial<TrafficClickColumns>): Click['traffic'] =>
  r.flow_id === null || r.flow_id === undefined
    ? null
    : {
        flowId: Number(r.flow_id),
        sourceId: r.source_id ?? null,
        landingUrl: r.landing_url ?? null,
        offerUrl: r.offer_url ?? null,
        subIds: parseJson<Record<string, string>>(r.sub_ids ?? null, {}),
        externalId: r.external_id ?? null,
        cost: asUnits(Number(r.cost ?? 0)),
        uniqueCampaign: Boolean(Number(r.unique_campaign ?? 0)),
        uniqueFlow: Boolean(Number(r.unique_flow ?? 0)),
        uniqueGlobal: Boolean(Number(r.unique_global ?? 0)),
        device: r.device ?? null,
        os: r.os ?? null,
        browser: r.browser ?? null,
      };

const toClick = (r: ClickRow & { id: number }): Click => ({
  id: Number(r.id),
  clickId: r.click_id,
  at: toIso(r.at),
  visitorId: r.visitor_id,
  campaignId: r.campaign_id,
  affiliateId: r.affiliate_id,
  bannerId: r.banner_id,
  status: r.status,
  declineReason: r.decline_reason,
  matchedBy: r.matched_by,
  channel: r.channel,
  data1: r.data1,
  data2: r.data2,
  ip: r.ip,
  country: r.country,
  userAgent: r.user_agent,
  referrer: r.referrer,
  url: r.url,
  source: r.source,
  trace: parseJson<unknown>(r.trace, null),
  traffic: trafficOf(r),
});

export interface ClickFilters {
  campaignId?: number;
  affiliateId?: number;
  bannerId?: number;
  status?: ClickStatus;
  visitorId?: string;
  from?: number;
  to?: number;
}

export async function listClicks(db: Knex, f: ClickFilters, page: PageQuery): Promise<Page<Click>> {
  return paginate<ClickRow & { id: number }, Click>(clicksQuery(db, f), page, toClick);
}

/** Every click matching the filters, newest first, read in batches (CSV export). */
export function eachClick(db: Knex, f: ClickFilters): AsyncGenerator<Click> {
  return eachRow<ClickRow & { id: number }, Click>(clicksQuery(db, f), toClick);
}

/** What a fresh click of the bypass cache rebuilds from an old campaign-URL click (SPEC §7.8). */
export interface ReloadableClick {
  at: number | string;
  campaign_id: number;
  affiliate_id: number | null;
  channel: string | null;
  data1: string | null;
  data2: string | null;
  referrer: string | null;
  sub_ids: string | null;
  external_id: string | null;
}

/** The campaign-URL click with this subid, or undefined. */
export async function campaignClickOfSubid(db: Knex, subid: string): Promise<ReloadableClick | undefined> {
  return (await db('clicks')
    .where({ click_id: subid, source: 'campaign' })
    .first('at', 'campaign_id', 'affiliate_id', 'channel', 'data1', 'data2', 'referrer', 'sub_ids', 'external_id')) as
    ReloadableClick | undefined;
}

function clicksQuery(db: Knex, f: ClickFilters): Knex.QueryBuilder {
  const q = db('clicks').select('*');
  if (f.campaignId) q.where('campaign_id', f.campaignId);
  if (f.affiliateId) q.where('affiliate_id', f.affiliateId);
  if (f.bannerId) q.where('banner_id', f.bannerId);
  if (f.status) q.where('status', f.status);
  if (f.visitorId) q.where('visitor_id', f.visitorId);
  if (f.from !== undefined) q.where('at', '>=', f.from);
  if (f.to !== undefined) q.where('at', '<', f.to);
  return q;
}

interface ReferralRow {
  visitor_id: string;
  campaign_id: number;
  first_affiliate_id: number;
  first_click_at: number;
  last_affiliate_id: number;
  last_click_at: number;
  last_banner_id: number | null;
  clicks: number;
}

export type Referral = ReferralFacts & { visitorId: string; lastBannerId: number | null; clicks: number };

const toReferral = (r: ReferralRow): Referral => ({
  visitorId: r.visitor_id,
  campaignId: r.campaign_id,
  firstAffiliateId: r.first_affiliate_id,
  firstClickAt: Number(r.first_click_at),
  lastAffiliateId: r.last_affiliate_id,
  lastClickAt: Number(r.last_click_at),
  lastBannerId: r.last_banner_id,
  clicks: Number(r.clicks),
});

/** The visitor's referrals in every campaign (a hot read of sales: a cached statement, no query building). */
export async function referralsOfVisitor(db: Knex, visitorId: string): Promise<Referral[]> {
  const rows = await dialectHelper(db).select<ReferralRow>(db, 'SELECT * FROM visitor_referrals WHERE visitor_id = ?', [
    visitorId,
  ]);
  return rows.map(toReferral);
}

/** The referral rows of these (visitor, campaign) pairs. */
export async function referralsFor(db: Knex, pairs: Array<[string, number]>): Promise<Referral[]> {
  if (!pairs.length) return [];
  // IN on the key's first column uses the primary key on every dialect (row-value IN may not).
  const wanted = new Set(pairs.map(([v, c]) => `${c}|${v}`));
  const visitors = [...new Set(pairs.map(([v]) => v))];
  // Plain SQL (a cached statement on SQLite): this runs in every click batch.
  // Locked (MySQL): the writer decides each click's status and first / last click from them.
  const helper = dialectHelper(db);
  const rows = await helper.select<ReferralRow>(
    db,
    `SELECT * FROM visitor_referrals WHERE visitor_id IN (${visitors.map(() => '?').join(', ')})${helper.forUpdate}`,
    visitors,
  );
  return rows.filter((r) => wanted.has(`${r.campaign_id}|${r.visitor_id}`)).map(toReferral);
}

/**
 * Stores referrals: `fresh` ones (none was stored when the batch read them) by a plain INSERT, so a
 * row another writer stored meanwhile fails it as a duplicate (the batch then runs again and finds
 * it), the others by an upsert of the rows the batch locked.
 */
export async function saveReferrals(
  db: Knex.Transaction,
  referrals: Referral[],
  fresh: Referral[] = [],
): Promise<void> {
  await insertReferralRows(db, fresh, false);
  await insertReferralRows(db, referrals, true);
}

async function insertReferralRows(db: Knex.Transaction, referrals: Referral[], upsert: boolean): Promise<void> {
  if (!referrals.length) return;
  const rows = referrals.map((r) => ({
    visitor_id: r.visitorId,
    campaign_id: r.campaignId,
    first_affiliate_id: r.firstAffiliateId,
    first_click_at: r.firstClickAt,
    last_affiliate_id: r.lastAffiliateId,
    last_click_at: r.lastClickAt,
    last_banner_id: r.lastBannerId,
    clicks: r.clicks,
  }));
  await dialectHelper(db).insertRows(db, 'visitor_referrals', rows, upsert ? ['visitor_id', 'campaign_id'] : undefined);
}

const CLICK_COLUMNS = [
  'click_id',
  'at',
  'visitor_id',
  'campaign_id',
  'affiliate_id',
  'banner_id',
  'status',
  'decline_reason',
  'matched_by',
  'channel',
  'data1',
  'data2',
  'ip',
  'country',
  'user_agent',
  'referrer',
  'url',
  'source',
  'trace',
  ...(Object.keys(NO_TRAFFIC) as Array<keyof TrafficClickColumns>),
] as const;

/** Inserts clicks with the full column set, laid out as value lists (one prepared statement serves the batch). */
export async function insertClicks(
  db: Knex.Transaction,
  rows: Array<ClickRow & Partial<TrafficClickColumns>>,
): Promise<void> {
  const values = rows.map((r) => {
    const row = r as unknown as Record<string, Cell | undefined>;
    return CLICK_COLUMNS.map((c) => row[c] ?? (NO_TRAFFIC as unknown as Record<string, Cell>)[c] ?? null);
  });
  await dialectHelper(db).insertValues(db, 'clicks', CLICK_COLUMNS, values);
}

/** When each click a flow collected since `since` (unix ms) happened: seeds its `clickLimit` count. */
export async function flowClickTimes(db: Knex, flowId: number, since: number): Promise<number[]> {
  const rows = (await db('clicks').where('flow_id', flowId).where('at', '>=', since).select('at')) as Array<{
    at: number | string;
  }>;
  return rows.map((r) => Number(r.at));
}

/** A click's stored row by its click id (the `subid` of postbacks and the landing → offer step). */
/** A stored click with every column, as a postback or a landing's offer step reads it by its subid. */
export type StoredClick = ClickRow & TrafficClickColumns & { id: number };

export async function clickBySubid(db: Knex, clickId: string): Promise<StoredClick | undefined> {
  return (await db('clicks').where({ click_id: clickId }).first()) as StoredClick | undefined;
}

/** Records the offer a landing page's click went on to, and when (SPEC §7.2). */
export async function setClickOffer(
  db: Knex,
  id: number,
  cols: { offer_index: number; offer_url: string; offer_at: number },
): Promise<void> {
  await db('clicks').where({ id }).update(cols);
}
