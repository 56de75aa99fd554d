/**
 * Reports over 10 million clicks (SPEC §12): fills the daily rollup with a year of traffic for
 * 20 campaigns × 50 affiliates (365,000 rows standing for about 10 million clicks) and times
 * GET /api/v1/reports grouped by day, campaign and affiliate over the whole year.
 */
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config.js';
import { openDatabase, dropDatabase, ensureDatabaseExists } from '../server/db/index.js';
import { migrateLatest } from '../server/db/migrate.js';
import { buildServices } from '../server/container.js';
import { createLogger } from '../server/logger.js';
import { systemActor } from '../server/services/actor.js';

const url = process.argv[2] ?? `sqlite:${path.join(os.tmpdir(), `affix-bench-reports-${process.pid}.sqlite`)}`;
const config = loadConfig({
  DATABASE_URL: url,
  LOG_LEVEL: 'warn',
  AFFIX_SECRET: 'bench-secret-0123456789abcdef0123456789',
});
await dropDatabase(config.database);
await ensureDatabaseExists(config.database);
const db = openDatabase(config.database);
await migrateLatest(db);
const services = await buildServices(config, db, createLogger('warn'));
for (let c = 0; c < 20; c++) await services.campaigns.create({ name: `Campaign ${c + 1}` }, systemActor);
const campaignIds = ((await db('campaigns').select('id')) as Array<{ id: number }>).map((r) => r.id).slice(0, 20);
const start = Date.UTC(2025, 10, 21);
let clicks = 0;
const rows: Array<Record<string, string | number>> = [];
for (let d = 0; d < 365; d++) {
  const day = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
  for (const campaign of campaignIds) {
    for (let a = 1; a <= 50; a++) {
      const n = 20 + ((d * 7 + campaign * 13 + a) % 16);
      clicks += n;
      rows.push({
        day,
        campaign_id: campaign,
        affiliate_id: a,
        banner_id: 0,
        clicks: n,
        unique_clicks: n - 3,
        sales: 1,
        revenue: 1_000_000,
      });
    }
  }
}
const t0 = performance.now();
for (let i = 0; i < rows.length; i += 500) await db('daily_stats').insert(rows.slice(i, i + 500));
console.log(
  `seeded ${rows.length} rollup rows standing for ${(clicks / 1e6).toFixed(1)} million clicks in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
for (const groupBy of ['day', 'campaign', 'affiliate'] as const) {
  const t = performance.now();
  const result = await services.reports.run({ groupBy: [groupBy], from: '2025-11-21', to: '2026-11-20' });
  const total = result.reduce((s, r) => s + r.clicks, 0);
  console.log(`report by ${groupBy}: ${result.length} rows, ${total} clicks, ${(performance.now() - t).toFixed(0)} ms`);
}
await services.stop();
await db.destroy();
await dropDatabase(config.database);
