/**
 * A server for the benchmark, in its own process: `bare` is a bare Koa app answering a fixed
 * 302 (the baseline of SPEC §12); `affix` is the real app on DATABASE_URL with sample data.
 * Prints "READY <port> <json>" when listening.
 */
import cluster from 'node:cluster';
import Koa from 'koa';
import { loadConfig } from '../server/config.js';
import { ensureDatabaseExists, openDatabase, dropDatabase } from '../server/db/index.js';
import { migrateLatest } from '../server/db/migrate.js';
import { buildServices } from '../server/container.js';
import { createApp } from '../server/app.js';
import { listen } from '../server/http/listen.js';
import { createLogger } from '../server/logger.js';
import { systemActor } from '../server/services/actor.js';
import { toUnits } from '../server/domain/money.js';

const mode = process.argv[2];
/** Server processes for `affix` (BENCH_WORKERS, default 1): above 1, a node cluster on one port. */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const benchConfig = () =>
  loadConfig({ ...process.env, LOG_LEVEL: 'warn', AFFIX_SECRET: 'bench-secret-0123456789abcdef0123456789' });

/** The request body as text (what the tracking endpoints read before parsing it). */
const bodyOf = (req: NodeJS.ReadableStream) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
const someId = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;

if (mode === 'same-work') {
  // The HTTP work of each hot path without storage or rules: read the body or query, set the
  // visitor cookie, answer the same JSON or 302 (the second baseline of `npm run bench`).
  const app = new Koa();
  app.use(async (ctx) => {
    const cookie = { httpOnly: false, sameSite: 'lax' as const, maxAge: 60 * 86_400_000, overwrite: true };
    if (ctx.method === 'POST') {
      const body = JSON.parse((await bodyOf(ctx.req)) || '{}') as Record<string, unknown>;
      if (ctx.path === '/t/sale') {
        ctx.status = 201;
        ctx.body = { saleId: 1, status: 'pending', duplicate: false, commissions: [], orderId: body.orderId };
        return;
      }
      const visitorId = someId();
      ctx.cookies.set('affix_vid', visitorId, cookie);
      ctx.body = { clickId: someId(), visitorId, campaignId: 1, affiliateId: 1, status: 'raw' };
      return;
    }
    const query = ctx.query;
    ctx.cookies.set('affix_vid', someId(), cookie);
    ctx.status = 302;
    ctx.set('Location', `https://shop.example/landing?s=${someId()}&z=${String(query.sub_id_1 ?? '')}`);
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(`READY ${typeof address === 'object' && address ? address.port : 0} {}`);
  });
} else if (mode === 'bare') {
  const app = new Koa();
  app.use((ctx) => {
    ctx.status = 302;
    ctx.set('Location', 'https://shop.example/landing');
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(`READY ${typeof address === 'object' && address ? address.port : 0} {}`);
  });
} else if (cluster.isWorker) {
  // One of BENCH_WORKERS server processes on the seeded database: they share the primary's port.
  const config = benchConfig();
  const db = openDatabase(config.database);
  const services = await buildServices(config, db, createLogger('warn'));
  const server = await listen(createApp(services), 0, '127.0.0.1', config.http);
  const address = server.address();
  process.send?.(typeof address === 'object' && address ? address.port : 0);
  process.on('SIGTERM', () => void services.stop().finally(() => process.exit(0)));
} else {
  const config = benchConfig();
  await dropDatabase(config.database);
  await ensureDatabaseExists(config.database);
  const db = openDatabase(config.database);
  await migrateLatest(db);
  const services = await buildServices(config, db, createLogger('warn'));
  const affiliate = await services.affiliates.create(
    { name: 'Bench affiliate', email: 'bench@example.com', refId: 'bench' },
    systemActor,
  );
  const campaign = await services.campaigns.create(
    { name: 'Bench campaign', productIds: ['sku-1'], destinationUrl: 'https://shop.example/landing', approval: 'auto' },
    systemActor,
  );
  const banner = await services.banners.create(
    { campaignId: campaign.id, name: 'Bench banner', destinationUrl: 'https://shop.example/b' },
    systemActor,
  );
  await services.payouts.create(
    campaign.id,
    {
      kind: 'general',
      title: 'Bench 10%',
      type: 'CPS',
      affiliateCommission: { value: toUnits('10'), unit: 'percent' },
    },
    systemActor,
  );
  // The bench's sales carry this coupon: each is the affiliate's, with a 10% commission (and its mail).
  await services.coupons.create({ code: 'BENCH10', affiliateId: affiliate.id, campaignId: campaign.id }, systemActor);
  // A traffic campaign with filters and two weighted flows (SPEC §12: GET /<alias>).
  const traffic = await services.campaigns.create(
    {
      name: 'Bench traffic',
      alias: 'bench',
      flowRotation: 'weight',
      costModel: 'CPC',
      costValue: toUnits('0.05'),
      trafficLoss: toUnits('10'),
    },
    systemActor,
  );
  await services.flows.create(
    traffic.id,
    {
      name: 'Mobile DE',
      type: 'forced',
      filters: [
        { name: 'country', mode: 'is', values: ['DE'] },
        { name: 'device', mode: 'is', values: ['mobile'] },
      ],
      schema: 'redirect',
      url: 'https://offer.example/de?subid={subid}',
    },
    systemActor,
  );
  for (const [name, weight] of [
    ['A', 70],
    ['B', 30],
  ] as const) {
    await services.flows.create(
      traffic.id,
      {
        name,
        type: 'regular',
        weight,
        filters: [{ name: 'bot', mode: 'is_not', values: [] }],
        schema: 'landings_offers',
        landings: [{ url: `https://lp.example/${name}?subid={subid}&z={sub_id_1}`, weight: 1 }],
        offers: [{ url: 'https://offer.example/?subid={subid}', weight: 1 }],
      },
      systemActor,
    );
  }
  const info = { affiliate: affiliate.refId, campaignId: campaign.id, bannerId: banner.id, alias: 'bench' };
  /** Prints what was stored (every acknowledged event must be there) and drops the database. */
  const report = async () => {
    const counts = await db('clicks').count({ n: '*' }).first();
    const sales = await db('sales').count({ n: '*' }).first();
    console.log(`STORED ${JSON.stringify({ clicks: Number(counts?.n ?? 0), sales: Number(sales?.n ?? 0) })}`);
    await db.destroy();
    await dropDatabase(config.database);
  };
  if (WORKERS > 1) {
    // The seeded database served by WORKERS processes (a node cluster, as `WORKERS=N` starts them).
    await services.stop();
    const workers = Array.from({ length: WORKERS }, () => cluster.fork());
    const ports = await Promise.all(workers.map((w) => new Promise<number>((r) => w.once('message', r))));
    console.log(`READY ${ports[0]} ${JSON.stringify(info)}`);
    process.on('SIGTERM', () => {
      const exited = workers.map((w) => new Promise((r) => w.once('exit', r)));
      for (const w of workers) w.process.kill('SIGTERM');
      void Promise.all(exited)
        .then(report)
        .finally(() => process.exit(0));
    });
  } else {
    // The server's own listen: the bench measures Affix with its real connection limits.
    const server = await listen(createApp(services), 0, '127.0.0.1', config.http);
    const address = server.address();
    console.log(`READY ${typeof address === 'object' && address ? address.port : 0} ${JSON.stringify(info)}`);
    process.on('SIGTERM', () => {
      server.close();
      void services
        .stop()
        .then(report)
        .finally(() => process.exit(0));
    });
  }
}
