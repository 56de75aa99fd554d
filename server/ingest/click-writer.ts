import type { Knex } from 'knex';
import { transaction } from '../db/transaction.js';
import { dialectHelper } from '../db/index.js';
import { GroupWriter } from './group-writer.js';
import {
  insertClicks,
  referralsFor,
  saveReferrals,
  type ClickRow,
  type ClickStatus,
  type Referral,
  type TrafficClickColumns,
} from '../store/clicks.js';
import { saveUniquenessMarks } from '../store/uniqueness-marks.js';
import { saveBindings, type VisitorBinding } from '../store/visitor-bindings.js';
import { paysClick, referClick, unreferredClickStatus, withStatusOverride } from '../domain/referrals.js';
import {
  addDailyStats,
  addDimensionStats,
  addTrafficStats,
  DimensionSums,
  type StatsDelta,
  type TrafficDelta,
} from '../store/daily-stats.js';
import { clickValues } from '../domain/report-dimensions.js';
import type { PayoutDef } from '../domain/payouts.js';
import type { TrafficCommissionDelta, TrafficCommissionWriter } from './traffic-commissions.js';

/** Where a visitor (by cookie or device key) was sent in a campaign (SPEC §7.3 bind visitors). */
export type ClickBinding = VisitorBinding;

/** A click ready to store; `status` is decided here unless the click is already declined. */
export interface PendingClick {
  row: Omit<ClickRow, 'status'> & { status: 'declined' | null } & Partial<TrafficClickColumns>;
  /** Campaign-URL clicks decide unique / raw by the campaign's uniqueness rule instead. */
  statusOverride?: 'unique' | 'raw';
  /** Uniqueness marks to refresh (scope, device, time) and the visitor's flow binding (SPEC §7.3). */
  marks?: Array<{ scope: string; device_key: string; seen_at: number }>;
  binding?: ClickBinding | ClickBinding[] | null;
  /** The attribution window of the click's campaign, for resetting an expired first click. */
  windowDays: number;
  /** The visitor id was created by this request (a visitor without history). */
  newVisitor: boolean;
  /** The report day of the click in the merchant's time zone. */
  day: string;
  /** The hour ("00"–"23") of the click in the merchant's time zone (campaign-URL dimension rollup). */
  hour?: string;
  /** The PPC payout that pays this click, if any (unique clicks only unless `rawClicks`). */
  ppc: { payout: PayoutDef; status: 'approved' | 'pending' } | null;
}

/**
 * Writes clicks in groups (SPEC §12): one transaction per batch reads the visitors' referral
 * rows, decides unique / raw, inserts the clicks and upserts the referrals (first and last click).
 */
export function createClickWriter(
  db: Knex,
  writeCommissions: TrafficCommissionWriter,
  onBatchError?: (err: unknown, size: number) => void,
): GroupWriter<PendingClick, ClickStatus> {
  return new GroupWriter<PendingClick, ClickStatus>(
    (items) =>
      transaction(
        db,
        async (trx) => {
          const batch = newBatch(await referralState(trx, items));
          const statuses = items.map((item) => addClick(batch, item));
          await insertClicks(trx, batch.rows);
          await addDailyStats(trx, batch.deltas);
          await addTrafficStats(trx, batch.traffic);
          if (batch.dimensions.size) await addDimensionStats(trx, batch.dimensions.rows());
          if (batch.paid.length) await writeCommissions(trx, batch.paid);
          const fresh = [...batch.changed].filter(([key]) => !batch.stored.has(key)).map(([, r]) => r);
          const known = [...batch.changed].filter(([key]) => batch.stored.has(key)).map(([, r]) => r);
          await saveReferrals(trx, known, fresh);
          if (batch.marks.size) await saveUniquenessMarks(trx, [...batch.marks.values()]);
          if (batch.bindings.size) await saveBindings(trx, [...batch.bindings.values()]);
          return statuses;
        },
        referralsLocked(db),
      ),
    { maxBatch: 1000, onBatchError },
  );
}

/**
 * How a click batch keeps the referrals exact with other writers on MySQL/MariaDB: the stored
 * ones are read FOR UPDATE under READ COMMITTED (row locks, no gap locks, so writers adding new
 * visitors do not deadlock), and a new one is inserted plainly: if another writer stored it
 * meanwhile, the insert fails as a duplicate and the batch runs again, now finding it.
 */
const referralsLocked = (db: Knex) => ({
  readCommitted: true,
  retryIf: (err: unknown) => dialectHelper(db).isUniqueViolation(err),
});

const referralKey = (visitorId: string, campaignId: number) => `${campaignId}\u0000${visitorId}`;

/** The stored referral of every (visitor, campaign) the batch's referred clicks name. */
async function referralState(trx: Knex, items: PendingClick[]): Promise<Map<string, Referral>> {
  const pairs = new Map<string, [string, number]>();
  for (const i of items)
    if (i.row.status !== 'declined' && i.row.affiliate_id !== null)
      pairs.set(referralKey(i.row.visitor_id, i.row.campaign_id), [i.row.visitor_id, i.row.campaign_id]);
  const state = new Map<string, Referral>();
  for (const r of await referralsFor(trx, [...pairs.values()])) state.set(referralKey(r.visitorId, r.campaignId), r);
  return state;
}

/** What one batch writes: its clicks, rollup deltas, PPC commissions, referrals, marks and bindings. */
interface Batch {
  state: Map<string, Referral>;
  /** The keys stored when the batch read them (the others are new referrals). */
  stored: Set<string>;
  changed: Map<string, Referral>;
  rows: Array<ClickRow & Partial<TrafficClickColumns>>;
  marks: Map<string, { scope: string; device_key: string; seen_at: number }>;
  bindings: Map<string, ClickBinding>;
  deltas: StatsDelta[];
  paid: TrafficCommissionDelta[];
  traffic: TrafficDelta[];
  dimensions: DimensionSums;
}

const newBatch = (state: Map<string, Referral>): Batch => ({
  state,
  stored: new Set(state.keys()),
  changed: new Map(),
  rows: [],
  marks: new Map(),
  bindings: new Map(),
  deltas: [],
  paid: [],
  traffic: [],
  dimensions: new DimensionSums(),
});

/**
 * Decides one click's status (unique / raw from the referral state as the earlier clicks of the
 * batch left it; first and last click) and adds its rows and deltas to the batch.
 */
function addClick(batch: Batch, item: PendingClick): ClickStatus {
  const r = item.row;
  let status: ClickStatus;
  if (r.status === 'declined') status = 'declined';
  else if (r.affiliate_id === null) status = unreferredClickStatus(item.newVisitor);
  else {
    const key = referralKey(r.visitor_id, r.campaign_id);
    const next = referClick(
      batch.state.get(key),
      {
        visitorId: r.visitor_id,
        campaignId: r.campaign_id,
        affiliateId: r.affiliate_id,
        bannerId: r.banner_id,
        at: r.at,
      },
      item.windowDays,
    );
    status = next.status;
    batch.state.set(key, next.referral);
    batch.changed.set(key, next.referral);
  }
  status = withStatusOverride(status, item.statusOverride);
  for (const m of item.marks ?? []) batch.marks.set(`${m.scope}|${m.device_key}`, m);
  for (const b of item.binding ? (Array.isArray(item.binding) ? item.binding : [item.binding]) : [])
    batch.bindings.set(`${b.campaign_id}|${b.visitor_key}`, b);
  if (item.ppc && r.affiliate_id !== null && paysClick(status, item.ppc.payout.rawClicks)) {
    batch.paid.push({
      kind: 'click',
      affiliateId: r.affiliate_id,
      campaignId: r.campaign_id,
      payout: item.ppc.payout,
      day: item.day,
      quantity: 1,
      status: item.ppc.status,
    });
  }
  // The row is the writer's own: set its status in place (copying 40 columns per click is costly).
  (r as ClickRow).status = status;
  batch.rows.push(r as ClickRow & Partial<TrafficClickColumns>);
  addClickFigures(batch, item, status);
  return status;
}

/** The click's counts and cost in the daily rollup and, for a campaign-URL click, the traffic and dimension rollups. */
function addClickFigures(batch: Batch, item: PendingClick, status: ClickStatus): void {
  const r = item.row;
  // As in daily_stats: a declined click is routed and costs, but is not counted as a click.
  const clicks = status === 'declined' ? 0 : 1;
  const unique = status === 'unique' ? 1 : 0;
  const cost = r.cost ?? 0;
  batch.deltas.push({
    day: item.day,
    campaign_id: r.campaign_id,
    affiliate_id: r.affiliate_id ?? 0,
    banner_id: r.banner_id ?? 0,
    clicks,
    unique_clicks: unique,
    declined_clicks: status === 'declined' ? 1 : 0,
    cost,
  });
  if (r.flow_id === undefined || r.flow_id === null) return;
  batch.traffic.push({
    day: item.day,
    campaign_id: r.campaign_id,
    flow_id: r.flow_id,
    landing_index: r.landing_index ?? -1,
    offer_index: r.offer_index ?? -1,
    source_id: r.source_id ?? 0,
    country: r.country ?? '',
    clicks,
    unique_clicks: unique,
    cost,
  });
  batch.dimensions.add(
    { day: item.day, campaign_id: r.campaign_id, flow_id: r.flow_id },
    clickValues(r, item.hour ?? '00'),
    { clicks, unique_clicks: unique, cost },
  );
}
