import type { Knex } from 'knex';
import { dialectHelper, splitValue } from '../db/index.js';
import { transaction } from '../db/transaction.js';

/**
 * Counters of one day, campaign, affiliate and banner (0 = none), added to the rollup.
 * `conversions`, `sales`, `actions` and `revenue` follow domain/report-figures.ts (every conversion
 * once, whoever recorded it: `conversions` = `sales` + `actions`); `declined_sales` counts declined
 * snippet and API sales and actions.
 */
export interface StatsDelta {
  day: string;
  campaign_id: number;
  affiliate_id: number;
  banner_id: number;
  clicks?: number;
  unique_clicks?: number;
  declined_clicks?: number;
  sales?: number;
  actions?: number;
  declined_sales?: number;
  revenue?: number;
  commissions?: number;
  refunds?: number;
  chargebacks?: number;
  impressions?: number;
  conversions?: number;
  cost?: number;
}

const COUNTERS = [
  'clicks',
  'unique_clicks',
  'declined_clicks',
  'sales',
  'actions',
  'declined_sales',
  'revenue',
  'commissions',
  'refunds',
  'chargebacks',
  'impressions',
  'conversions',
  'cost',
] as const;

/** A rollup table: its key columns and its counters (SPEC §12). */
interface Rollup {
  table: string;
  keys: readonly string[];
  counters: readonly string[];
}

const DAILY: Rollup = {
  table: 'daily_stats',
  keys: ['day', 'campaign_id', 'affiliate_id', 'banner_id'],
  counters: COUNTERS,
};

/** The BIGINT range of a counter (−2^63 left out, see counterCheck). */
const MAX = 9_223_372_036_854_775_807n;
const MIN = -MAX;

/** A value for SQL: a number while exact, else an integer literal (a string would be a float in MySQL arithmetic). */
const cell = (db: Knex, v: bigint | number): number | Knex.Raw =>
  typeof v === 'number'
    ? v
    : v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : db.raw(v.toString());

/**
 * A merged counter: a number while the sum is a safe integer (most batches), else a BigInt, so
 * the sum stays exact without a BigInt per delta. A delta that is not an integer is refused by
 * BigInt, as before.
 */
type Sum = number | bigint;
const plus = (a: Sum, v: unknown): Sum => {
  if (typeof a === 'number' && typeof v === 'number') {
    const s = a + v;
    if (Number.isSafeInteger(s)) return s;
  }
  return BigInt(a) + BigInt(v as number | bigint);
};
const inRange = (values: Record<string, Sum>): boolean => {
  for (const c in values) {
    const v = values[c]!;
    if (typeof v !== 'number' && (v > MAX || v < MIN)) return false;
  }
  return true;
};
const exact = (values: Record<string, Sum>): Record<string, bigint> => {
  const out: Record<string, bigint> = {};
  for (const c in values) out[c] = BigInt(values[c]!);
  return out;
};

/** How a delta gives a key column of a rollup: its own field, or one made from it (its month, a value without its flow). */
type KeyOf = (d: Record<string, unknown>, column: string) => string | number;
const ownKey: KeyOf = (d, column) => d[column] as string | number;

/** Keys whose part 0 is full, in this process: their deltas skip the one-statement path. */
const fullKeys = new Set<string>();

/**
 * Adds deltas to a rollup: the one place counters are added (SPEC §10a). Deltas with the same key
 * are merged exactly and added by one upsert to part 0 of each key. When a counter would
 * pass the BIGINT range there, the database refuses the statement (MariaDB's arithmetic, SQLite's
 * CHECK) and nothing of it is written; each key is then added by `carry`, which fills the room
 * left in the key's parts and puts the rest in a new part. Reports sum the parts, so no event
 * fails, is lost, or turns a counter inexact. `keyOf` gives each key column from a delta (the
 * monthly and all-campaign rollups take the same deltas as the daily one).
 */
async function addCounters(
  db: Knex,
  rollup: Rollup,
  deltas: ReadonlyArray<Record<string, unknown>>,
  keyOf: KeyOf = ownKey,
): Promise<void> {
  if (!deltas.length) return;
  const merged = new Map<string, { key: Record<string, string | number>; values: Record<string, Sum> }>();
  for (const d of deltas) {
    let id = rollup.table;
    for (const k of rollup.keys) id += `|${keyOf(d, k) ?? ''}`;
    let row = merged.get(id);
    if (!row) {
      row = { key: {}, values: {} };
      for (const k of rollup.keys) row.key[k] = keyOf(d, k);
      for (const c of rollup.counters) row.values[c] = 0;
      merged.set(id, row);
    }
    for (const c of rollup.counters) {
      const v = d[c];
      if (v) row.values[c] = plus(row.values[c]!, v);
    }
  }
  const helper = dialectHelper(db);
  // In key order: concurrent writers then lock the rollup rows in one order and cannot deadlock on them.
  const ordered = [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const fast = ordered.filter(([id, r]) => !fullKeys.has(id) && inRange(r.values));
  const slow = ordered.filter(([id, r]) => fullKeys.has(id) || !inRange(r.values));
  if (fast.length) {
    try {
      await helper.upsertIncrement(
        db,
        rollup.table,
        [...rollup.keys, 'part'],
        fast.map(([, r]) => {
          const row: Record<string, string | number | Knex.Raw> = { ...r.key, part: 0 };
          for (const c in r.values) row[c] = cell(db, r.values[c]!);
          return row;
        }),
        [...rollup.counters],
      );
    } catch (err) {
      // Only the failed statement is undone, on both databases: the transaction goes on.
      if (!helper.isCounterOverflow(err)) throw err;
      slow.push(...fast);
    }
  }
  for (const [id, r] of slow) {
    const values = exact(r.values);
    const overflowed = await ((db as Knex.Transaction).isTransaction
      ? carry(db, rollup, r.key, values)
      : transaction(db, (trx) => carry(trx, rollup, r.key, values)));
    if (overflowed) {
      if (fullKeys.size >= 10_000) fullKeys.clear();
      fullKeys.add(id);
    }
  }
}

/**
 * Adds one key's deltas exactly across its parts (rows locked: FOR UPDATE on MySQL, SQLite has
 * one writer): each delta fills the room of the parts in order, and what remains opens new parts.
 * Returns true when part 0 could not take everything (later deltas of the key come here at once).
 */
async function carry(
  trx: Knex,
  rollup: Rollup,
  key: Record<string, string | number>,
  deltas: Record<string, bigint>,
): Promise<boolean> {
  const helper = dialectHelper(trx);
  const query = trx(rollup.table)
    .where(key)
    .select('part', ...rollup.counters.flatMap((c) => helper.splitInteger(trx, c, c, 'value')))
    .orderBy('part');
  const rows = (await helper.lockRows(query)) as Array<Record<string, unknown>>;
  const parts = rows.map((row) => ({
    part: Number(row.part),
    values: Object.fromEntries(rollup.counters.map((c) => [c, splitValue(row, c)])),
    add: {} as Record<string, bigint>,
  }));
  const fresh: Array<Record<string, bigint>> = [];
  for (const c of rollup.counters) {
    let d = deltas[c] ?? 0n;
    for (const p of parts) {
      if (d === 0n) break;
      const v = p.values[c] as bigint;
      const room = d > 0n ? MAX - v : MIN - v;
      const take = d > 0n ? (d < room ? d : room) : d > room ? d : room;
      if (take !== 0n) {
        p.add[c] = take;
        d -= take;
      }
    }
    for (let i = 0; d !== 0n; i++) {
      const take = d > 0n ? (d < MAX ? d : MAX) : d > MIN ? d : MIN;
      (fresh[i] ??= {})[c] = take;
      d -= take;
    }
  }
  if (!parts.length && !fresh.length) fresh.push({});
  for (const p of parts) {
    const adds = Object.entries(p.add);
    if (!adds.length) continue;
    await trx(rollup.table)
      .where({ ...key, part: p.part })
      .update(Object.fromEntries(adds.map(([c, v]) => [c, trx.raw(`?? + ${v.toString()}`, [c])])));
  }
  const next = (parts.at(-1)?.part ?? -1) + 1;
  if (fresh.length)
    await trx(rollup.table).insert(
      fresh.map((values, i) => ({
        ...key,
        part: next + i,
        // Every counter, so that the rows of one INSERT have the same columns.
        ...Object.fromEntries(rollup.counters.map((c) => [c, cell(trx, values[c] ?? 0n)])),
      })),
    );
  return parts.some((p) => p.part > 0 && Object.keys(p.add).length > 0) || fresh.some((_, i) => next + i > 0);
}

/** SUM of each column exactly, whatever the number and size of the parts: select items (see splitInteger). */
export const exactSums = (db: Knex, columns: Record<string, string>): Knex.Raw[] =>
  Object.entries(columns).flatMap(([alias, column]) => dialectHelper(db).splitInteger(db, column, alias, 'sum'));

/**
 * SUM of event counts (clicks, sales…): a plain SUM is exact for them (a sum past 2^53 would take
 * 9 × 10^15 events), and half the work of `exactSums`. Read with `exactSum` too.
 */
export const countSums = (db: Knex, columns: Record<string, string>): Knex.Raw[] =>
  Object.entries(columns).map(([alias, column]) => db.raw('SUM(??) AS ??', [column, `${alias}__r`]));

/** A sum selected by `exactSums` or `countSums`. */
export const exactSum = (row: Record<string, unknown> | undefined, alias: string): bigint => splitValue(row, alias);

/** Adds deltas to `daily_stats` (see addCounters). */
export function addDailyStats(db: Knex, deltas: StatsDelta[]): Promise<void> {
  return addCounters(db, DAILY, deltas as unknown as Array<Record<string, unknown>>);
}

export interface StatsTotals {
  clicks: number;
  uniqueClicks: number;
  declinedClicks: number;
  sales: number;
  actions: number;
  declinedSales: number;
  /** Units; exact however large (a sum of rollup parts). */
  revenue: bigint;
}

const COUNT_TOTALS = {
  clicks: 'clicks',
  uniqueClicks: 'unique_clicks',
  declinedClicks: 'declined_clicks',
  sales: 'sales',
  actions: 'actions',
  declinedSales: 'declined_sales',
} as const;

/** Totals over days `from`..`to` (inclusive, "YYYY-MM-DD"). */
export async function statsTotals(db: Knex, from: string, to: string): Promise<StatsTotals> {
  const row = (await db('daily_stats')
    .whereBetween('day', [from, to])
    .select([...countSums(db, COUNT_TOTALS), ...exactSums(db, { revenue: 'revenue' })])
    .first()) as Record<string, unknown> | undefined;
  const n = (alias: string) => Number(exactSum(row, alias));
  return {
    clicks: n('clicks'),
    uniqueClicks: n('uniqueClicks'),
    declinedClicks: n('declinedClicks'),
    sales: n('sales'),
    actions: n('actions'),
    declinedSales: n('declinedSales'),
    revenue: exactSum(row, 'revenue'),
  };
}

/** The commissions of one day (units), exact however large. */
export async function commissionsOfDay(db: Knex, day: string): Promise<bigint> {
  const row = (await db('daily_stats')
    .where('day', day)
    .select(exactSums(db, { commissions: 'commissions' }))
    .first()) as Record<string, unknown> | undefined;
  return exactSum(row, 'commissions');
}

/** One affiliate's totals over days `from`..`to` (inclusive); amounts in units, exact. */
export async function affiliateStatsTotals(
  db: Knex,
  affiliateId: number,
  from: string,
  to: string,
): Promise<{
  clicks: number;
  uniqueClicks: number;
  sales: number;
  actions: number;
  revenue: bigint;
  commissions: bigint;
}> {
  const row = (await db('daily_stats')
    .where('affiliate_id', affiliateId)
    .whereBetween('day', [from, to])
    .select(
      ...countSums(db, { clicks: 'clicks', uniqueClicks: 'unique_clicks', sales: 'sales', actions: 'actions' }),
      ...exactSums(db, { revenue: 'revenue', commissions: 'commissions' }),
    )
    .first()) as Record<string, unknown> | undefined;
  const n = (alias: string) => Number(exactSum(row, alias));
  return {
    clicks: n('clicks'),
    uniqueClicks: n('uniqueClicks'),
    sales: n('sales'),
    actions: n('actions'),
    revenue: exactSum(row, 'revenue'),
    commissions: exactSum(row, 'commissions'),
  };
}

/** Per-day clicks, sales and revenue for a chart. */
export async function statsByDay(
  db: Knex,
  from: string,
  to: string,
): Promise<Array<{ day: string; clicks: number; sales: number; revenue: bigint }>> {
  const rows = (await db('daily_stats')
    .whereBetween('day', [from, to])
    .select('day', ...countSums(db, { clicks: 'clicks', sales: 'sales' }), ...exactSums(db, { revenue: 'revenue' }))
    .groupBy('day')
    .orderBy('day')) as Array<Record<string, unknown> & { day: string }>;
  return rows.map((r) => ({
    day: r.day,
    clicks: Number(exactSum(r, 'clicks')),
    sales: Number(exactSum(r, 'sales')),
    revenue: exactSum(r, 'revenue'),
  }));
}

/** A change to the campaign-URL rollup of one day, campaign, flow, landing, offer, source and country. */
export interface TrafficDelta {
  day: string;
  campaign_id: number;
  flow_id: number;
  landing_index: number;
  offer_index: number;
  source_id: number;
  country: string;
  clicks?: number;
  unique_clicks?: number;
  conversions?: number;
  sales?: number;
  revenue?: number;
  cost?: number;
}

const TRAFFIC_KEY = ['day', 'campaign_id', 'flow_id', 'landing_index', 'offer_index', 'source_id', 'country'] as const;
export const TRAFFIC_COUNTERS = ['clicks', 'unique_clicks', 'conversions', 'sales', 'revenue', 'cost'] as const;

const TRAFFIC: Rollup = { table: 'traffic_stats', keys: TRAFFIC_KEY, counters: TRAFFIC_COUNTERS };

/** Adds deltas to `traffic_stats` (see addCounters). */
export function addTrafficStats(db: Knex, deltas: TrafficDelta[]): Promise<void> {
  return addCounters(db, TRAFFIC, deltas as unknown as Array<Record<string, unknown>>);
}

/** A change to the campaign-URL rollup by dimension value (dimension `*`: the totals). */
export interface DimensionDelta {
  day: string;
  campaign_id: number;
  flow_id: number;
  dimension: string;
  value: string;
  clicks?: number;
  unique_clicks?: number;
  conversions?: number;
  sales?: number;
  revenue?: number;
  cost?: number;
}

const DIMENSION: Rollup = {
  table: 'dimension_stats',
  keys: ['day', 'campaign_id', 'flow_id', 'dimension', 'value'],
  counters: TRAFFIC_COUNTERS,
};

/** The same rows per month (`day` is the month's first day): what reports over whole months read. */
const DIMENSION_MONTHLY: Rollup = { ...DIMENSION, table: 'dimension_stats_monthly' };

/**
 * The same rows over every campaign and flow, per (dimension, day, value): what reports keyed by
 * day or week read when they neither group nor filter by campaign, group or flow.
 */
const DIMENSION_VALUES: Rollup = {
  table: 'dimension_value_stats',
  keys: ['day', 'dimension', 'value'],
  counters: TRAFFIC_COUNTERS,
};

/** The same rows per month (`day` is the month's first day): what reports over whole months of every campaign read. */
const DIMENSION_VALUES_MONTHLY: Rollup = { ...DIMENSION_VALUES, table: 'dimension_value_stats_monthly' };

/** The value of a dimension row without its flow: landings and offers as "flowId:index". */
export const valueWithoutFlow = (dimension: string, flowId: number, value: string): string =>
  dimension === 'landing' || dimension === 'offer' ? `${flowId}:${value}` : value;

/** The key of the monthly rollup row a report day falls in ("2026-03-17" → "2026-03-01"). */
export const monthRow = (day: string): string => `${day.slice(0, 7)}-01`;

/**
 * Adds deltas to `dimension_stats` and, with the same days, to `dimension_stats_monthly`,
 * `dimension_value_stats` and `dimension_value_stats_monthly` (see addCounters): called inside the
 * writer's transaction, all four change together or not at all, so a month's row is always the
 * sum of its days' rows and a value's row the sum of its campaigns' and flows' rows.
 */
export async function addDimensionStats(db: Knex, deltas: DimensionDelta[]): Promise<void> {
  const rows = deltas as unknown as Array<Record<string, unknown>>;
  await addCounters(db, DIMENSION, rows);
  await addCounters(db, DIMENSION_MONTHLY, rows, ofMonth);
  await addCounters(db, DIMENSION_VALUES, rows, withoutFlow);
  await addCounters(db, DIMENSION_VALUES_MONTHLY, rows, ofMonthWithoutFlow);
}

/** A delta's key in the monthly rows: its month's first day. */
const ofMonth: KeyOf = (d, column) => (column === 'day' ? monthRow(d.day as string) : ownKey(d, column));
/** A delta's key in the rows over every campaign and flow: landings and offers as "flowId:index". */
const withoutFlow: KeyOf = (d, column) =>
  column === 'value'
    ? valueWithoutFlow(d.dimension as string, d.flow_id as number, d.value as string)
    : ownKey(d, column);
const ofMonthWithoutFlow: KeyOf = (d, column) => (column === 'day' ? ofMonth(d, column) : withoutFlow(d, column));

/**
 * A writer batch's dimension rows, merged as they are added (one row per day, campaign, flow,
 * dimension and value), so a batch of clicks hands `addDimensionStats` each key once instead of
 * a row per click and value. Counters are summed as `addCounters` sums them (exact past 2^53).
 */
export class DimensionSums {
  private readonly merged = new Map<string, Record<string, unknown>>();

  add(
    key: { day: string; campaign_id: number; flow_id: number },
    values: ReadonlyArray<readonly [string, string]>,
    counters: Partial<Record<(typeof TRAFFIC_COUNTERS)[number], number>>,
  ): void {
    const prefix = `${key.day}|${key.campaign_id}|${key.flow_id}|`;
    this.addRow(`${prefix}*|`, key, '*', '', counters);
    for (const [dimension, value] of values)
      this.addRow(`${prefix}${dimension}|${value}`, key, dimension, value, counters);
  }

  get size(): number {
    return this.merged.size;
  }

  /** The merged rows, for `addDimensionStats`. */
  rows(): DimensionDelta[] {
    return [...this.merged.values()] as unknown as DimensionDelta[];
  }

  private addRow(
    id: string,
    key: { day: string; campaign_id: number; flow_id: number },
    dimension: string,
    value: string,
    counters: Partial<Record<string, number>>,
  ): void {
    const row = this.merged.get(id);
    if (!row) {
      this.merged.set(id, {
        day: key.day,
        campaign_id: key.campaign_id,
        flow_id: key.flow_id,
        dimension,
        value,
        ...counters,
      });
      return;
    }
    for (const c in counters) {
      const v = counters[c];
      if (v) row[c] = row[c] === undefined ? v : plus(row[c] as Sum, v);
    }
  }
}

/**
 * The dimension rows of one campaign-URL event: its totals under `*` and the same counters under
 * each (dimension, value) it has (see domain/report-dimensions.ts clickValues).
 */
export function dimensionDeltas(
  key: { day: string; campaign_id: number; flow_id: number },
  values: ReadonlyArray<readonly [string, string]>,
  counters: Omit<DimensionDelta, 'day' | 'campaign_id' | 'flow_id' | 'dimension' | 'value'>,
): DimensionDelta[] {
  const out: DimensionDelta[] = [{ ...key, dimension: '*', value: '', ...counters }];
  for (const [dimension, value] of values) out.push({ ...key, dimension, value, ...counters });
  return out;
}
