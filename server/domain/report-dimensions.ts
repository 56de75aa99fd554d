/**
 * The dimensions of a report (SPEC §15) and where each is counted. Pure: no I/O.
 *
 * - The daily rollup (`daily_stats`, every event) knows day, week, month, campaign, group,
 *   affiliate and banner.
 * - The campaign-URL rollup (`dimension_stats`, campaign-URL clicks and postback conversions)
 *   is keyed by day, campaign and flow, and holds one row per dimension value of the other
 *   campaign-URL dimensions; dimension `*` holds the totals, so a click without a value (no
 *   `sub_id_3`) is counted under "(none)" as the totals less the values.
 * - coupon and product are facts of snippet and API sales, read from the sales.
 */

import { byZoneAndMinute } from './time.js';

export const DIMENSIONS = [
  'day',
  'hour',
  'week',
  'month',
  'campaign',
  'group',
  'affiliate',
  'banner',
  'flow',
  'landing',
  'offer',
  'source',
  'country',
  'device',
  'os',
  'browser',
  'language',
  'sub_id_1',
  'sub_id_2',
  'sub_id_3',
  'sub_id_4',
  'sub_id_5',
  'sub_id_6',
  'sub_id_7',
  'sub_id_8',
  'sub_id_9',
  'sub_id_10',
  'sub_id_11',
  'sub_id_12',
  'sub_id_13',
  'sub_id_14',
  'sub_id_15',
  'external_id',
  'keyword',
  'referrer_domain',
  'coupon',
  'product',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Time dimensions, read from the rollups' `day` (week and month are made of days). */
export const TIME: ReadonlySet<Dimension> = new Set(['day', 'week', 'month']);

/** Dimensions the daily rollup knows. */
export const DAILY: ReadonlySet<Dimension> = new Set([
  'day',
  'week',
  'month',
  'campaign',
  'group',
  'affiliate',
  'banner',
]);

/** Dimensions that are keys of the campaign-URL rollup (or made of them). */
export const TRAFFIC_KEYS: ReadonlySet<Dimension> = new Set(['day', 'week', 'month', 'campaign', 'group', 'flow']);

/** Dimensions stored as (dimension, value) rows of the campaign-URL rollup. */
export const VALUE_DIMENSIONS = [
  'hour',
  'landing',
  'offer',
  'source',
  'country',
  'device',
  'os',
  'browser',
  'language',
  ...Array.from({ length: 15 }, (_, i) => `sub_id_${i + 1}` as Dimension),
  'keyword',
  'referrer_domain',
] as const satisfies readonly Dimension[];
export const VALUES: ReadonlySet<Dimension> = new Set(VALUE_DIMENSIONS);

/** Dimensions of sales only (snippet and API sales). */
export const SALE_FACTS: ReadonlySet<Dimension> = new Set(['coupon', 'product']);

/** The widest value stored in a rollup key (indexed utf8mb4 strings ≤ 191). */
export const VALUE_LENGTH = 191;

/** Cut at a character boundary (a surrogate pair is not split). */
export function cutValue(v: string): string {
  if (v.length <= VALUE_LENGTH) return v;
  const cut = v.slice(0, VALUE_LENGTH);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** The host of a referrer URL, lower case, without `www.`; '' when there is none. */
export function referrerDomain(referrer: string | null | undefined): string {
  if (!referrer) return '';
  try {
    return new URL(referrer).hostname.toLowerCase().replace(/^www\./, '');
  } catch {
    return '';
  }
}

/** What a campaign-URL click carries for the value dimensions (the click row's columns). */
export interface ClickFacts {
  landing_index?: number | null;
  offer_index?: number | null;
  source_id?: number | null;
  country?: string | null;
  device?: string | null;
  os?: string | null;
  browser?: string | null;
  language?: string | null;
  sub_ids?: string | null;
  referrer?: string | null;
}

/**
 * The (dimension, value) pairs of a click at `hour` ("00"–"23" in the time zone setting),
 * empty values left out (they are counted under "(none)"). `keyword` is the `keyword` entry of
 * the stored sub ids (the source's keyword parameter).
 */
export function clickValues(c: ClickFacts, hour: string): Array<[Dimension, string]> {
  const out: Array<[Dimension, string]> = [['hour', hour]];
  if (c.landing_index !== null && c.landing_index !== undefined && c.landing_index >= 0)
    out.push(['landing', String(c.landing_index)]);
  if (c.offer_index !== null && c.offer_index !== undefined && c.offer_index >= 0)
    out.push(['offer', String(c.offer_index)]);
  if (c.source_id) out.push(['source', String(c.source_id)]);
  if (c.country) out.push(['country', c.country]);
  if (c.device) out.push(['device', cutValue(c.device)]);
  if (c.os) out.push(['os', cutValue(c.os)]);
  if (c.browser) out.push(['browser', cutValue(c.browser)]);
  if (c.language) out.push(['language', cutValue(c.language)]);
  if (c.sub_ids && c.sub_ids !== '{}') {
    let subIds: Record<string, unknown> = {};
    try {
      subIds = JSON.parse(c.sub_ids) as Record<string, unknown>;
    } catch {
      subIds = {};
    }
    for (let n = 1; n <= 15; n++) {
      const v = subIds[`sub_id_${n}`];
      if (typeof v === 'string' && v !== '') out.push([`sub_id_${n}` as Dimension, cutValue(v)]);
    }
    if (typeof subIds.keyword === 'string' && subIds.keyword !== '') out.push(['keyword', cutValue(subIds.keyword)]);
  }
  const domain = referrerDomain(c.referrer);
  if (domain) out.push(['referrer_domain', cutValue(domain)]);
  return out;
}

const hourOf = byZoneAndMinute(
  (timeZone) => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }),
);

/** The hour "00"–"23" of `ms` in `timeZone`. */
export const hourIn = (ms: number, timeZone: string): string => hourOf(ms, timeZone).padStart(2, '0');

/** The Monday ("YYYY-MM-DD") of the ISO week of a report day. */
export function weekOf(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  const weekday = (new Date(t).getUTCDay() + 6) % 7;
  return new Date(t - weekday * 86_400_000).toISOString().slice(0, 10);
}

export const monthOf = (day: string): string => day.slice(0, 7);

/** Days between two report days, inclusive. */
export const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;

export const addDays = (day: string, n: number): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** The preceding period of equal length (compare=previous). */
export function previousPeriod(from: string, to: string): { from: string; to: string } {
  const length = daysBetween(from, to);
  return { from: addDays(from, -length), to: addDays(from, -1) };
}

/** The first instant (ms) of a report day in `timeZone` (DST-aware: a day can be 23 or 25 hours). */
export function dayStart(day: string, timeZone: string, dayInZone: (ms: number, tz: string) => string): number {
  // Start from UTC midnight and step by hours: the zone's midnight is within ±14 h of it.
  const utc = Date.parse(`${day}T00:00:00Z`);
  let t = utc - 14 * 3_600_000;
  while (dayInZone(t, timeZone) < day) t += 3_600_000;
  // Back to the exact minute (zones with half-hour offsets).
  let lo = t - 3_600_000;
  let hi = t;
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
    if (dayInZone(mid, timeZone) < day) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Human words for a dimension (table headers, SPEC §15). */
export const DIMENSION_WORDS: Record<Dimension, string> = {
  day: 'Day',
  hour: 'Hour',
  week: 'Week',
  month: 'Month',
  campaign: 'Campaign',
  group: 'Group',
  affiliate: 'Affiliate',
  banner: 'Banner',
  flow: 'Flow',
  landing: 'Landing page',
  offer: 'Offer',
  source: 'Traffic source',
  country: 'Country',
  device: 'Device',
  os: 'Operating system',
  browser: 'Browser',
  language: 'Language',
  ...(Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`sub_id_${i + 1}`, `Sub ID ${i + 1}`])) as Record<
    `sub_id_${number}`,
    string
  >),
  external_id: 'External ID',
  keyword: 'Keyword',
  referrer_domain: 'Referrer domain',
  coupon: 'Coupon',
  product: 'Product',
} as Record<Dimension, string>;
