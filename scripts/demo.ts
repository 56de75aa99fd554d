/*
 * `npm run demo`: Affix and the demo store in one process, with sample data to try the whole
 * loop (affiliate link → store → sale → admin). Boots like server/index.ts; the database is
 * sqlite:data/demo.sqlite unless DATABASE_URL is set. Re-running reuses the sample data.
 */
import { loadConfig, type Config } from '../server/config.js';
import type { Services } from '../server/container.js';
import { bootServices, configOrExit } from '../server/boot.js';
import { createApp } from '../server/app.js';
import { listen } from '../server/http/listen.js';
import { systemActor } from '../server/services/actor.js';
import * as schemas from '../server/schemas/programme.js';
import { findAffiliateByRef } from '../server/store/affiliates.js';
import { findCouponByCode } from '../server/store/coupons.js';
import { findUserByEmail } from '../server/store/users.js';
import { createDemoStore } from '../storefront-snippet/demo/server.js';

const STORE_PORT = Number(process.env.DEMO_STORE_PORT ?? 3100);
const OWNER_EMAIL = 'demo@affix.local';
const OWNER_PASSWORD = 'demo-password';

function demoConfig(): Config {
  const env = { ...process.env };
  env.DATABASE_URL ||= 'sqlite:data/demo.sqlite';
  if (!env.AFFIX_OWNER_EMAIL && !env.AFFIX_OWNER_PASSWORD) {
    env.AFFIX_OWNER_EMAIL = OWNER_EMAIL;
    env.AFFIX_OWNER_PASSWORD = OWNER_PASSWORD;
  }
  return loadConfig(env);
}

const PAGE = { page: 1, perPage: 200 };

async function campaignNamed(s: Services, name: string, input: schemas.CampaignCreate) {
  const existing = (await s.campaigns.all()).find((c) => c.name === name && !c.archived);
  if (existing)
    return s.campaigns.update(
      existing.id,
      { destinationUrl: input.destinationUrl, productIds: input.productIds },
      systemActor,
    );
  return s.campaigns.create(schemas.campaignCreate.parse(input), systemActor);
}

async function affiliateWithRef(s: Services, refId: string, name: string) {
  const existing = await findAffiliateByRef(s.db, refId);
  if (existing)
    return existing.status === 'approved'
      ? existing
      : s.affiliates.update(existing.id, { status: 'approved' }, systemActor);
  return s.affiliates.create(
    schemas.affiliateCreate.parse({ refId, name, email: `${refId}@affiliates.affix.local`, status: 'approved' }),
    systemActor,
  );
}

async function bannerNamed(s: Services, campaignId: number, name: string, destinationUrl: string) {
  const existing = (await s.banners.list({ campaignId, q: name }, PAGE)).data.find((b) => b.name === name);
  if (existing)
    return existing.destinationUrl === destinationUrl
      ? existing
      : s.banners.update(existing.id, { destinationUrl }, systemActor);
  return s.banners.create(schemas.bannerCreate.parse({ campaignId, name, type: 'link', destinationUrl }), systemActor);
}

async function generalPayout(s: Services, campaignId: number, title: string, percent: number) {
  const existing = (await s.payouts.list({ campaignId, kind: 'general' }, PAGE)).data;
  if (existing.length) return;
  const input = { kind: 'general', title, type: 'CPS', affiliateCommission: { value: percent, unit: 'percent' } };
  await s.payouts.create(campaignId, schemas.payoutCreate.parse(input), systemActor);
}

/** The sample programme: two campaigns, two approved affiliates, links into the store, a coupon. */
async function seed(s: Services, storeUrl: string) {
  if (s.settings.get().siteUrl !== `${storeUrl}/`) await s.settings.update({ siteUrl: `${storeUrl}/` }, systemActor);
  const shoes = await campaignNamed(s, 'Shoes', {
    name: 'Shoes',
    productIds: ['shoe-trail', 'shoe-city'],
    destinationUrl: `${storeUrl}/`,
  });
  const books = await campaignNamed(s, 'Books', {
    name: 'Books',
    productIds: ['book-affiliate'],
    destinationUrl: `${storeUrl}/product/book-affiliate`,
  });
  await generalPayout(s, shoes.id, 'Shoes: 10% of the order', 10);
  await generalPayout(s, books.id, 'Books: 15% of the order', 15);
  const alice = await affiliateWithRef(s, 'alice', 'Alice Runner (running blog)');
  const bob = await affiliateWithRef(s, 'bob', 'Bob Reads (book newsletter)');
  const shoesBanner = await bannerNamed(s, shoes.id, 'Shoes: store home page', `${storeUrl}/`);
  const booksBanner = await bannerNamed(s, books.id, 'Books: the handbook', `${storeUrl}/product/book-affiliate`);
  let coupon = await findCouponByCode(s.db, 'SPRING');
  if (!coupon)
    coupon = await s.coupons.create(
      schemas.couponCreate.parse({ code: 'SPRING', affiliateId: bob.id, campaignId: shoes.id }),
      systemActor,
    );
  return { alice, bob, shoesBanner, booksBanner, coupon };
}

async function main(): Promise<void> {
  const config = configOrExit(demoConfig);
  const { db, log, services } = await bootServices(config);
  const server = await listen(createApp(services), config.port, config.host, config.http);

  const trackerUrl = config.publicUrl ?? `http://localhost:${config.port}`;
  const storeUrl = `http://localhost:${STORE_PORT}`;
  const sample = await seed(services, storeUrl);
  const store = await createDemoStore({ trackerUrl, port: STORE_PORT, host: config.host });

  const names = services.settings.get().urlParams;
  const owner = config.ownerEmail && (await findUserByEmail(db, config.ownerEmail)) ? config.ownerEmail : null;
  const login = owner
    ? `${owner} / ${owner === OWNER_EMAIL && config.ownerPassword === OWNER_PASSWORD ? OWNER_PASSWORD : '(the AFFIX_OWNER_PASSWORD it was created with)'}`
    : 'the owner account already in this database';
  console.log(`
Affix demo is running (${config.database.client === 'sqlite' ? `sqlite:${config.database.filename}` : 'MySQL/MariaDB'}).

  Admin           ${trackerUrl}/admin
                  log in as ${login}
  Demo store      ${storeUrl}
  Affiliate link  ${trackerUrl}/r?${names.affiliate}=${sample.alice.refId}&${names.banner}=${sample.shoesBanner.id}
                  (${sample.alice.name}, banner "${sample.shoesBanner.name}": buy shoes, then see Sales in the admin)
  Another link    ${trackerUrl}/r?${names.affiliate}=${sample.bob.refId}&${names.banner}=${sample.booksBanner.id}
  Coupon          ${sample.coupon.code} at checkout: 10% off in the store, the sale goes to ${sample.bob.name}
  Snippet         ${trackerUrl}/snippet.js

Press Ctrl+C to stop.
`);

  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down the demo');
    store.closeAllConnections();
    store.close();
    server.close(
      () =>
        void services
          .stop()
          .then(() => db.destroy())
          .then(() => process.exit(0)),
    );
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('The Affix demo failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
