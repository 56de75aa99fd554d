import type { Knex } from 'knex';

/*
 * Every conversion once in the daily rollup (SPEC §15, server/domain/report-figures.ts).
 * Before, daily_stats counted postback conversions in `conversions` / `conversion_revenue` and,
 * beside them, the sales and actions recorded to pay the click's affiliate in `sales` / `actions` /
 * `revenue`; snippet and API sales were in `sales` / `actions` only. Now `conversions`, `sales`,
 * `actions` and `revenue` hold every conversion once, whoever recorded it, and a rejected postback
 * conversion stops counting (as a declined sale never counts). This rewrites the stored rows to
 * that meaning from the raw sales and conversions and folds `conversion_revenue` into `revenue`.
 * A conversion that went lead → sale → rejected is booked as sale → rejected (only one earlier
 * status is stored): the totals of any period holding all three days are exact.
 */

type Key = string;
interface DailyDelta {
  conversions: number;
  sales: number;
  actions: number;
  revenue: number;
  declined_sales: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function dayIn(ms: number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f.format(ms);
}

async function timeZoneOf(knex: Knex): Promise<string> {
  const row = (await knex('settings').where({ key: 'timezone' }).first('value')) as { value: string } | undefined;
  try {
    const tz = row ? (JSON.parse(row.value) as unknown) : null;
    if (typeof tz === 'string') {
      dayIn(0, tz);
      return tz;
    }
  } catch {
    /* an unreadable setting: the default */
  }
  return 'UTC';
}

/** Adds `delta` to the row of `key`, creating it when the rollup has none. */
async function addTo(
  knex: Knex,
  table: string,
  key: Record<string, string | number>,
  delta: Record<string, number>,
): Promise<void> {
  const changes = Object.entries(delta).filter(([, v]) => v !== 0);
  if (!changes.length) return;
  const updated = await knex(table)
    .where(key)
    .update(Object.fromEntries(changes.map(([c, v]) => [c, knex.raw('?? + ?', [c, v])])));
  if (!updated) await knex(table).insert({ ...key, ...Object.fromEntries(changes) });
}

export async function up(knex: Knex): Promise<void> {
  const tz = await timeZoneOf(knex);
  const daily = new Map<Key, { key: Record<string, string | number>; delta: DailyDelta }>();
  const add = (
    day: string,
    campaign: number,
    affiliate: number | null,
    banner: number | null,
    d: Partial<DailyDelta>,
  ) => {
    const key = { day, campaign_id: campaign, affiliate_id: affiliate ?? 0, banner_id: banner ?? 0 };
    const id = `${key.day}|${key.campaign_id}|${key.affiliate_id}|${key.banner_id}`;
    const entry = daily.get(id) ?? {
      key,
      delta: { conversions: 0, sales: 0, actions: 0, revenue: 0, declined_sales: 0 },
    };
    for (const [k, v] of Object.entries(d)) entry.delta[k as keyof DailyDelta] += v;
    daily.set(id, entry);
  };

  const sales = (await knex('sales').select(
    'at',
    'kind',
    'status',
    'source',
    'campaign_id',
    'affiliate_id',
    'banner_id',
    'total_cost_base',
  )) as Array<{
    at: number | string;
    kind: string;
    status: string;
    source: string;
    campaign_id: number;
    affiliate_id: number | null;
    banner_id: number | null;
    total_cost_base: number | string | null;
  }>;
  for (const s of sales) {
    const day = dayIn(Number(s.at), tz);
    const declined = s.status === 'declined';
    const revenue = Number(s.total_cost_base ?? 0);
    if (s.source === 'postback') {
      // The payment of a postback conversion: take out what it added.
      if (declined) add(day, s.campaign_id, s.affiliate_id, s.banner_id, { declined_sales: -1 });
      else
        add(day, s.campaign_id, s.affiliate_id, s.banner_id, {
          sales: s.kind === 'sale' ? -1 : 0,
          actions: s.kind === 'action' ? -1 : 0,
          revenue: -revenue,
        });
    } else if (!declined) {
      add(day, s.campaign_id, s.affiliate_id, s.banner_id, { conversions: 1 });
    }
  }

  const conversions = (await knex('conversions as v')
    .leftJoin('clicks as c', 'c.click_id', 'v.click_id')
    .select(
      'v.created_at',
      'v.updated_at',
      'v.status',
      'v.previous_status',
      'v.campaign_id',
      'v.affiliate_id',
      'v.flow_id',
      'v.landing_index',
      'v.offer_index',
      'v.source_id',
      'c.country',
    )) as Array<{
    created_at: number | string;
    updated_at: number | string;
    status: string;
    previous_status: string | null;
    campaign_id: number;
    affiliate_id: number | null;
    flow_id: number | null;
    landing_index: number | null;
    offer_index: number | null;
    source_id: number | null;
    country: string | null;
  }>;
  const isSale = (s: string | null) => s === 'sale' || s === 'rebill';
  for (const v of conversions) {
    // Before: +1 conversion on the day it was stored, whatever became of it; revenue already followed it.
    const created = dayIn(Number(v.created_at), tz);
    const changed = dayIn(Number(v.updated_at), tz);
    const at = (day: string, d: Partial<DailyDelta>) => add(day, v.campaign_id, v.affiliate_id, 0, d);
    const first = v.previous_status ?? v.status;
    if (first === 'rejected') at(created, { conversions: -1 });
    else at(created, isSale(first) ? { sales: 1 } : { actions: 1 });
    if (v.previous_status !== null) {
      if (v.status === 'rejected')
        at(changed, isSale(v.previous_status) ? { conversions: -1, sales: -1 } : { conversions: -1, actions: -1 });
      else if (isSale(v.status) && !isSale(v.previous_status)) at(changed, { actions: -1, sales: 1 });
    }
    // A rejected conversion leaves the campaign-URL rollup too, on the day it was rejected.
    if (v.status === 'rejected') {
      await addTo(
        knex,
        'traffic_stats',
        {
          day: v.previous_status === null ? created : changed,
          campaign_id: v.campaign_id,
          flow_id: v.flow_id ?? 0,
          landing_index: v.landing_index ?? -1,
          offer_index: v.offer_index ?? -1,
          source_id: v.source_id ?? 0,
          country: v.country ?? '',
        },
        { conversions: -1 },
      );
    }
  }

  for (const { key, delta } of daily.values()) await addTo(knex, 'daily_stats', key, { ...delta });
  await knex('daily_stats')
    .whereNot('conversion_revenue', 0)
    .update({ revenue: knex.raw('?? + ??', ['revenue', 'conversion_revenue']) });
  await knex.schema.alterTable('daily_stats', (t) => t.dropColumn('conversion_revenue'));
}

/** The column comes back empty; the counts keep their new meaning. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('daily_stats', (t) => {
    t.bigInteger('conversion_revenue').notNullable().defaultTo(0);
  });
}
