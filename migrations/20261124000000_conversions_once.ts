import type { Knex } from 'knex';

/*
 * Every conversion once in the rollups (SPEC §15, server/domain/report-figures.ts).
 * Before, daily_stats counted postback conversions in `conversions` / `conversion_revenue` and,
 * beside them, the sales and actions recorded to pay the click's affiliate in `sales` / `actions` /
 * `revenue`; a rejected conversion kept counting; status changes and refund reversals were booked
 * on the day they happened. Now `conversions`, `sales`, `actions` and `revenue` hold every
 * conversion once, whoever recorded it, on the day it arrived (with its current status), and a
 * commission counts on its own report day while it is pending, approved or paid.
 * This rebuilds those columns (and `commissions`, `declined_sales`, and traffic_stats'
 * `conversions`, `sales`, `revenue`) from the stored sales, conversions and commissions, and drops
 * `conversion_revenue`. Clicks, impressions, refunds and costs are kept as they are: the cost of a
 * conversion that changed on a later day stays split over both days (the totals are exact).
 */

type Key = string;
interface DailyDelta {
  conversions: number;
  sales: number;
  actions: number;
  revenue: number;
  declined_sales: number;
  commissions: number;
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
      delta: { conversions: 0, sales: 0, actions: 0, revenue: 0, declined_sales: 0, commissions: 0 },
    };
    for (const [k, v] of Object.entries(d)) entry.delta[k as keyof DailyDelta] += v;
    daily.set(id, entry);
  };
  const traffic = new Map<Key, { key: Record<string, string | number>; delta: Record<string, number> }>();

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
    // The payment of a postback conversion is that conversion: it adds nothing here.
    if (s.source === 'postback') continue;
    const day = dayIn(Number(s.at), tz);
    if (s.status === 'declined') add(day, s.campaign_id, s.affiliate_id, s.banner_id, { declined_sales: 1 });
    else
      add(day, s.campaign_id, s.affiliate_id, s.banner_id, {
        conversions: 1,
        sales: s.kind === 'sale' ? 1 : 0,
        actions: s.kind === 'action' ? 1 : 0,
        revenue: Number(s.total_cost_base ?? 0),
      });
  }

  const conversions = (await knex('conversions as v')
    .leftJoin('clicks as c', 'c.click_id', 'v.click_id')
    .select(
      'v.created_at',
      'v.status',
      'v.campaign_id',
      'v.affiliate_id',
      'v.flow_id',
      'v.landing_index',
      'v.offer_index',
      'v.source_id',
      'v.revenue_base',
      'c.country',
    )) as Array<{
    created_at: number | string;
    status: string;
    campaign_id: number;
    affiliate_id: number | null;
    flow_id: number | null;
    landing_index: number | null;
    offer_index: number | null;
    source_id: number | null;
    revenue_base: number | string;
    country: string | null;
  }>;
  for (const v of conversions) {
    if (v.status === 'rejected') continue;
    const sale = v.status === 'sale' || v.status === 'rebill';
    const figures = {
      conversions: 1,
      sales: sale ? 1 : 0,
      actions: sale ? 0 : 1,
      revenue: sale ? Number(v.revenue_base) : 0,
    };
    const day = dayIn(Number(v.created_at), tz);
    add(day, v.campaign_id, v.affiliate_id, 0, figures);
    const key = {
      day,
      campaign_id: v.campaign_id,
      flow_id: v.flow_id ?? 0,
      landing_index: v.landing_index ?? -1,
      offer_index: v.offer_index ?? -1,
      source_id: v.source_id ?? 0,
      country: v.country ?? '',
    };
    const id = Object.values(key).join('|');
    const entry = traffic.get(id) ?? { key, delta: { conversions: 0, sales: 0, revenue: 0 } };
    entry.delta.conversions! += figures.conversions;
    entry.delta.sales! += figures.sales;
    entry.delta.revenue! += figures.revenue;
    traffic.set(id, entry);
  }

  const commissions = (await knex('commissions')
    .whereIn('status', ['pending', 'approved', 'paid'])
    .select('day', 'created_at', 'campaign_id', 'affiliate_id', 'amount')) as Array<{
    day: string | null;
    created_at: number | string;
    campaign_id: number;
    affiliate_id: number;
    amount: number | string;
  }>;
  for (const c of commissions)
    add(c.day ?? dayIn(Number(c.created_at), tz), c.campaign_id, c.affiliate_id, 0, { commissions: Number(c.amount) });

  await knex('daily_stats').update({
    conversions: 0,
    sales: 0,
    actions: 0,
    revenue: 0,
    declined_sales: 0,
    commissions: 0,
  });
  await knex('traffic_stats').update({ conversions: 0, sales: 0, revenue: 0 });
  for (const { key, delta } of daily.values()) await addTo(knex, 'daily_stats', key, { ...delta });
  for (const { key, delta } of traffic.values()) await addTo(knex, 'traffic_stats', key, delta);
  await knex.schema.alterTable('daily_stats', (t) => t.dropColumn('conversion_revenue'));
}

/** The column comes back empty; the counts keep their new meaning. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('daily_stats', (t) => {
    t.bigInteger('conversion_revenue').notNullable().defaultTo(0);
  });
}
