/**
 * Reports over 10 million clicks (SPEC §15): a year of campaign-URL traffic for 50 campaigns
 * (3 flows each, 2 landings and 2 offers per flow, 10 sources) is drawn click by click in memory
 * and written as the rollup rows the click writer would have kept for it (daily_stats and
 * dimension_stats; the sales that carry a coupon or product as sales rows) — writing 10 million
 * clicks through HTTP would take hours. Cardinalities: 1,000 sub_id_1 zones (each campaign's
 * source sends ~100 of them), 200 countries, 10 devices, OSes and browsers, 20 languages,
 * 50 sub_id_2 creatives, 200 keywords (30 % of clicks), 100 referrer domains (50 %); values are
 * Zipf-distributed as real traffic is. Then every single-dimension report and the two-dimension
 * reports whose first dimension is day, campaign or flow are timed for the last 30 days and the
 * whole year, through the ReportService the API calls, as the API asks by default (the first
 * page of 10,000 rows; the row counts printed are of the whole report).
 *
 *   npm run bench:reports                      # SQLite in the temp directory
 *   npm run bench:reports -- mysql://root@127.0.0.1:3306/affix_bench_reports
 *   BENCH_CLICKS=1000000 npm run bench:reports # a smaller run
 *   BENCH_KEEP=/tmp/r.sqlite npm run bench:reports  # keep the data there; a second run only times
 *   BENCH_ONLY=day,sub_id_1 …                  # time only these groupings (";" between several)
 */
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config.js';
import { openDatabase, dropDatabase, ensureDatabaseExists } from '../server/db/index.js';
import { migrateLatest } from '../server/db/migrate.js';
import { buildServices } from '../server/container.js';
import { createLogger } from '../server/logger.js';
import { DIMENSIONS, type Dimension } from '../server/domain/report-dimensions.js';
import { systemActor } from '../server/services/actor.js';
import { REPORT_PER_PAGE } from '../server/services/reports.js';

const keep = process.env.BENCH_KEEP;
const url = process.argv[2] ?? `sqlite:${keep ?? path.join(os.tmpdir(), `affix-bench-reports-${process.pid}.sqlite`)}`;
const TOTAL = Number(process.env.BENCH_CLICKS ?? 10_000_000);
const CAMPAIGNS = 50;
const FLOWS = 3;
const DAYS = 365;
const config = loadConfig({
  DATABASE_URL: url,
  LOG_LEVEL: 'warn',
  AFFIX_SECRET: 'bench-secret-0123456789abcdef0123456789',
});
if (!keep) await dropDatabase(config.database);
await ensureDatabaseExists(config.database);
const db = openDatabase(config.database);
await migrateLatest(db);
const services = await buildServices(config, db, createLogger('warn'));
/** With BENCH_KEEP, data written by an earlier run is timed again as it is. */
const written =
  keep !== undefined && Number(((await db('daily_stats').count({ n: '*' })) as Array<{ n: number }>)[0]!.n) > 0;

/** A seeded random source (mulberry32): the same data on every run and database. */
let seed = 20261215;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
/** Draws 0..n-1 with Zipf weights (s = 1). */
function zipf(n: number): () => number {
  const cdf: number[] = [];
  let sum = 0;
  for (let i = 1; i <= n; i++) cdf.push((sum += 1 / i));
  return () => {
    const r = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const start = Date.UTC(2025, 11, 1);
const dayOf = (d: number) => new Date(start + d * 86_400_000).toISOString().slice(0, 10);
const lastDay = dayOf(DAYS - 1);

/** Writes the year of traffic (see above). */
async function write(): Promise<void> {
  const sourceRows = Array.from({ length: 10 }, (_, i) => ({ name: `Source ${i + 1}`, params: '{}' }));
  for (const s of sourceRows) await db('traffic_sources').insert({ ...s, created_at: 0, updated_at: 0 });
  const now = Date.now();
  const campaignIds: number[] = [];
  const flowIds: number[][] = [];
  for (let c = 0; c < CAMPAIGNS; c++) {
    const { id } = await services.campaigns.create({ name: `Campaign ${c + 1}` }, systemActor);
    campaignIds.push(Number(id));
    const flows: number[] = [];
    for (let f = 0; f < FLOWS; f++) {
      const [fid] = await db('flows').insert({
        campaign_id: Number(id),
        name: `Flow ${f + 1}`,
        position: f,
        type: f === 2 ? 'forced' : 'default',
        filters: '[]',
        schema: 'landings_offers',
        landings: JSON.stringify([{ url: 'https://lp.example/a' }, { url: 'https://lp.example/b' }]),
        offers: JSON.stringify([{ url: 'https://offer.example/a' }, { url: 'https://offer.example/b' }]),
        created_at: now,
        updated_at: now,
      });
      flows.push(Number(fid));
    }
    flowIds.push(flows);
  }
  services.cache.invalidate();

  const country = zipf(200);
  const ten = zipf(10);
  const language = zipf(20);
  const zone = zipf(100);
  const creative = zipf(50);
  const keyword = zipf(200);
  const referrer = zipf(100);
  const hourWeights = Array.from({ length: 24 }, (_, h) => 1 + Math.sin(((h - 6) / 24) * 2 * Math.PI));
  const hourSum = hourWeights.reduce((a, b) => a + b, 0);
  const hour = () => {
    let r = random() * hourSum;
    for (let h = 0; h < 24; h++) if ((r -= hourWeights[h] as number) <= 0) return h;
    return 23;
  };
  const COUNTRIES = Array.from({ length: 200 }, (_, i) => String.fromCharCode(65 + (i % 26), 65 + Math.floor(i / 26)));
  /** Each campaign's source sends ~100 of the 1,000 zones. */
  const zonesOf = (c: number) => (i: number) => `zone${(c * 97 + i * 13) % 1000}`;

  const perCampaignDay = TOTAL / (CAMPAIGNS * DAYS);

  const t0 = performance.now();
  let clicks = 0;
  let rollupRows = 0;
  let buffer: Array<Record<string, string | number>> = [];
  const flush = async (force = false) => {
    if (buffer.length < 20_000 && !force) return;
    const rows = buffer;
    buffer = [];
    await db.transaction(async (trx) => {
      for (let i = 0; i < rows.length; i += 400) await trx('dimension_stats').insert(rows.slice(i, i + 400));
    });
  };
  const daily: Array<Record<string, string | number>> = [];
  const sales: Array<Record<string, string | number | null>> = [];
  for (let d = 0; d < DAYS; d++) {
    const day = dayOf(d);
    for (let c = 0; c < CAMPAIGNS; c++) {
      const n = Math.round(perCampaignDay * (0.5 + random()));
      const rows = new Map<
        string,
        { clicks: number; unique: number; conversions: number; revenue: number; cost: number }
      >();
      const bump = (flow: number, dimension: string, value: string, conv: boolean, revenue: number) => {
        const k = `${flow}\u0000${dimension}\u0000${value}`;
        let r = rows.get(k);
        if (!r) rows.set(k, (r = { clicks: 0, unique: 0, conversions: 0, revenue: 0, cost: 0 }));
        r.clicks++;
        r.unique += 1;
        r.cost += 500;
        if (conv) {
          r.conversions++;
          r.revenue += revenue;
        }
      };
      const zones = zonesOf(c);
      let dayClicks = 0;
      let dayConversions = 0;
      let dayRevenue = 0;
      for (let i = 0; i < n; i++) {
        const f = random() < 0.6 ? 0 : random() < 0.7 ? 1 : 2;
        const flow = flowIds[c]![f]!;
        const conv = random() < 0.02;
        const revenue = conv ? 100_000 + Math.floor(random() * 400_000) : 0;
        bump(flow, '*', '', conv, revenue);
        bump(flow, 'hour', String(hour()).padStart(2, '0'), conv, revenue);
        bump(flow, 'landing', String(Math.floor(random() * 2)), conv, revenue);
        bump(flow, 'offer', String(Math.floor(random() * 2)), conv, revenue);
        bump(flow, 'source', String((c % 10) + 1), conv, revenue);
        bump(flow, 'country', COUNTRIES[country()]!, conv, revenue);
        bump(flow, 'device', `device${ten()}`, conv, revenue);
        bump(flow, 'os', `os${ten()}`, conv, revenue);
        bump(flow, 'browser', `browser${ten()}`, conv, revenue);
        bump(flow, 'language', `l${language()}`, conv, revenue);
        bump(flow, 'sub_id_1', zones(zone()), conv, revenue);
        bump(flow, 'sub_id_2', `creative${creative()}`, conv, revenue);
        if (random() < 0.3) bump(flow, 'keyword', `keyword ${keyword()}`, conv, revenue);
        if (random() < 0.5) bump(flow, 'referrer_domain', `site${referrer()}.example`, conv, revenue);
        dayClicks++;
        if (conv) {
          dayConversions++;
          dayRevenue += revenue;
          // A fifth of the conversions are also snippet sales with a coupon or product.
          if (random() < 0.2)
            sales.push({
              at: start + d * 86_400_000 + 43_200_000,
              kind: 'sale',
              campaign_id: campaignIds[c]!,
              status: 'approved',
              matched_by: 'cookie',
              currency: 'USD',
              exchange_rate: 10_000,
              total_cost: revenue,
              total_cost_base: revenue,
              coupon: random() < 0.5 ? `COUPON${Math.floor(random() * 50)}` : null,
              product_id: `sku-${Math.floor(random() * 500)}`,
              data: '{}',
              items: '[]',
              source: 'snippet',
              trace: '{}',
            });
        }
      }
      clicks += dayClicks;
      daily.push({
        day,
        campaign_id: campaignIds[c]!,
        affiliate_id: 0,
        banner_id: 0,
        clicks: dayClicks,
        unique_clicks: dayClicks,
        conversions: dayConversions,
        sales: dayConversions,
        revenue: dayRevenue,
        cost: dayClicks * 500,
      });
      for (const [k, r] of rows) {
        const [flow, dimension, value] = k.split('\u0000') as [string, string, string];
        buffer.push({
          day,
          campaign_id: campaignIds[c]!,
          flow_id: Number(flow),
          dimension,
          value,
          clicks: r.clicks,
          unique_clicks: r.unique,
          conversions: r.conversions,
          sales: r.conversions,
          revenue: r.revenue,
          cost: r.cost,
        });
        rollupRows++;
      }
      await flush();
    }
  }
  await flush(true);
  // The monthly rollup the click writer keeps beside the daily rows: each month's sum of them.
  {
    const sqlite = url.startsWith('sqlite');
    const month = sqlite ? `substr(day, 1, 7) || '-01'` : `CONCAT(LEFT(day, 7), '-01')`;
    const counters = 'clicks, unique_clicks, conversions, sales, revenue, cost';
    await db.raw(
      `INSERT INTO dimension_stats_monthly (day, campaign_id, flow_id, dimension, value, part, ${counters})
       SELECT ${month}, campaign_id, flow_id, dimension, value, part, SUM(clicks), SUM(unique_clicks),
         SUM(conversions), SUM(sales), SUM(revenue), SUM(cost)
       FROM dimension_stats GROUP BY ${month}, campaign_id, flow_id, dimension, value, part`,
    );
    // And the rows over every campaign and flow: each day's and value's sum (landings and offers
    // as "flowId:index").
    const pair = sqlite ? `flow_id || ':' || value` : `CONCAT(flow_id, ':', value)`;
    const value = `CASE WHEN dimension IN ('landing', 'offer') THEN ${pair} ELSE value END`;
    await db.raw(
      `INSERT INTO dimension_value_stats (day, dimension, value, part, ${counters})
       SELECT day, dimension, ${value}, part, SUM(clicks), SUM(unique_clicks), SUM(conversions), SUM(sales),
         SUM(revenue), SUM(cost)
       FROM dimension_stats GROUP BY day, dimension, ${value}, part`,
    );
    await db.raw(
      `INSERT INTO dimension_value_stats_monthly (day, dimension, value, part, ${counters})
       SELECT ${month}, dimension, value, part, SUM(clicks), SUM(unique_clicks), SUM(conversions), SUM(sales),
         SUM(revenue), SUM(cost)
       FROM dimension_value_stats GROUP BY ${month}, dimension, value, part`,
    );
  }
  const monthlyRows = Number(((await db('dimension_stats_monthly').count({ n: '*' })) as Array<{ n: number }>)[0]!.n);
  const valueRows = Number(((await db('dimension_value_stats').count({ n: '*' })) as Array<{ n: number }>)[0]!.n);
  for (let i = 0; i < daily.length; i += 400) await db('daily_stats').insert(daily.slice(i, i + 400));
  for (let i = 0; i < sales.length; i += 200) await db('sales').insert(sales.slice(i, i + 200));
  console.log(
    `${(clicks / 1e6).toFixed(2)} million clicks as ${rollupRows.toLocaleString('en')} dimension rollup rows (${monthlyRows.toLocaleString('en')} monthly, ${valueRows.toLocaleString('en')} over all campaigns), ` +
      `${daily.length.toLocaleString('en')} daily rows and ${sales.length.toLocaleString('en')} sales, written in ${((performance.now() - t0) / 1000).toFixed(0)} s (${url.split(':')[0]})`,
  );
}
if (written) console.log(`timing the data kept in ${url}`);
else await write();

const periods = [
  { name: '30 days', from: dayOf(DAYS - 30), to: lastDay },
  { name: 'a year', from: dayOf(0), to: lastDay },
];
/** Groupings timed: every single dimension but external_id (a per-click id, counted from the raw clicks). */
const singles = DIMENSIONS.filter((d) => d !== 'external_id').map((d) => [d] as Dimension[]);
const seconds: Dimension[] = [
  'hour',
  'campaign',
  'flow',
  'landing',
  'offer',
  'country',
  'device',
  'sub_id_1',
  'keyword',
];
const pairs = (['day', 'campaign', 'flow'] as Dimension[]).flatMap((first) =>
  seconds.filter((s) => s !== first).map((s) => [first, s] as Dimension[]),
);
const firstPage = { page: 1, perPage: REPORT_PER_PAGE };
const results: Array<{ groupBy: string; period: string; rows: number; ms: number }> = [];
const only = process.env.BENCH_ONLY?.split(';').map((g) => g.split(',') as Dimension[]);
for (const groupBy of only ?? [...singles, ...pairs])
  for (const p of periods) {
    const t = performance.now();
    // As GET /api/v1/reports answers by default: the first page of rows, totals over all of them.
    const report = await services.reports.report({ groupBy, from: p.from, to: p.to, page: firstPage });
    results.push({ groupBy: groupBy.join(','), period: p.name, rows: report.rowCount, ms: performance.now() - t });
  }
console.log(`\nscale: BENCH_CLICKS=${TOTAL} over ${DAYS} days`);
console.log('\n| groupBy | rows (30 days) | 30 days | rows (year) | a year |\n|---|---:|---:|---:|---:|');
for (let i = 0; i < results.length; i += 2) {
  const a = results[i]!;
  const b = results[i + 1]!;
  console.log(`| ${a.groupBy} | ${a.rows} | ${a.ms.toFixed(0)} ms | ${b.rows} | ${b.ms.toFixed(0)} ms |`);
}
const slowest = results.reduce((m, r) => (r.ms > m.ms ? r : m));
const over = results.filter((r) => r.ms >= 1000);
console.log(
  `\nslowest: ${slowest.groupBy} over ${slowest.period}, ${slowest.ms.toFixed(0)} ms; ${over.length} of ${results.length} reports took 1 s or more`,
);
await services.stop();
await db.destroy();
if (!keep) await dropDatabase(config.database);
