import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startTestApp, freshDatabaseTarget, dialectName } from '../helpers/app.js';
import { CHROME_LINUX, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { waitFor } from '../helpers/receiver.js';
import { visit } from '../helpers/visit.js';
import { databaseUrl, exited, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { dropDatabase, ensureDatabaseExists, openDatabase } from '../../server/db/index.js';
import type { Knex } from 'knex';
import { created } from '../helpers/assert.js';
import { approvedAffiliate, campaignWithPayout } from '../helpers/programme.js';

/*
 * SPEC §16: the fraud duplicate windows, flow clickLimit and the sign-in brake hold exactly
 * across processes — in Redis when REDIS_URL is set, else through the database — and with Redis a
 * configuration change is pushed to every process at once. Redis unreachable at start or going
 * away mid-run never fails an event: the database takes over.
 * Two real server processes on one database (so concurrent writes from both are real).
 */

const REDIS = 'redis://127.0.0.1:6379';
const prefix = () => `affix-test-${randomBytes(6).toString('hex')}:`;

const clickFrom = (base: string, ip: string) =>
  request(base, 'POST', '/t/click', {
    body: { url: 'https://shop.example/?a=1' },
    headers: { 'user-agent': CHROME_LINUX, 'x-forwarded-for': ip },
  });

async function statusesOf(db: Knex, clickIds: string[]): Promise<string[]> {
  const rows = (await db('clicks').whereIn('click_id', clickIds).select('status')) as Array<{ status: string }>;
  return rows.map((r) => r.status);
}

for (const mode of ['database', 'redis'] as const) {
  describe(`shared counters across two server processes: ${mode} (${dialectName()})`, () => {
    const target = freshDatabaseTarget();
    const keyPrefix = prefix();
    let one: ServerProcess;
    let two: ServerProcess;
    let db: Knex;
    let a: ReturnType<typeof api>;
    let b: ReturnType<typeof api>;
    let n = 0;
    const nextIp = () => {
      n++;
      return `10.77.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    };

    before(async () => {
      await ensureDatabaseExists(target);
      const env = {
        DATABASE_URL: databaseUrl(target),
        TRUST_PROXY: 'true',
        ...(mode === 'redis' ? { REDIS_URL: REDIS, REDIS_PREFIX: keyPrefix } : {}),
      };
      // Started together: the second waits for the first one's migrations.
      [one, two] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
      db = openDatabase(target);
      a = api(one.base, await tokenFor(one.base, OWNER.email, OWNER.password));
      b = api(two.base, await tokenFor(two.base, OWNER.email, OWNER.password));
      assert.equal((await a.patch('/plugins/fraud-protection', { active: true })).status, 200);
      const res = await a.patch('/settings', {
        fraud: { duplicateClickSeconds: 600, duplicateClickAction: 'decline' },
      });
      assert.equal(res.status, 200, res.text);
      await waitFor(
        async () => (await b.get('/settings')).body?.fraud?.duplicateClickSeconds === 600,
        20_000,
        'the other process has the setting',
      );
    });
    after(async () => {
      await db?.destroy();
      for (const p of [one, two]) {
        if (!p) continue;
        const gone = exited(p.child);
        p.child.kill('SIGTERM');
        await gone;
      }
      await dropDatabase(target);
      if (mode === 'redis') {
        const r = new Redis(REDIS);
        const keys = await r.keys(`${keyPrefix}*`);
        if (keys.length) await r.del(...keys);
        r.disconnect();
      }
    });

    test('a repeated click on the other process is a duplicate; of 12 at once on both, one is not', async () => {
      const ip = nextIp();
      const first = await clickFrom(one.base, ip);
      assert.equal(first.status, 200, first.text);
      const again = await clickFrom(two.base, ip);
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(await statusesOf(db, [again.body.clickId as string]), ['declined']);

      const burstIp = nextIp();
      const burst = await Promise.all(
        Array.from({ length: 12 }, (_, i) => clickFrom(i % 2 ? one.base : two.base, burstIp)),
      );
      for (const r of burst) assert.equal(r.status, 200, r.text);
      const statuses = await statusesOf(
        db,
        burst.map((r) => r.body.clickId as string),
      );
      assert.equal(statuses.length, 12);
      assert.equal(statuses.filter((s) => s !== 'declined').length, 1, `statuses: ${statuses.join(', ')}`);
      if (mode === 'redis') {
        const r = new Redis(REDIS);
        try {
          assert.ok((await r.keys(`${keyPrefix}click:*`)).length >= 2, 'the marks are in Redis');
        } finally {
          r.disconnect();
        }
      }
    });

    test('clickLimit 5 with 40 visits at once on both processes: exactly 5 enter the flow', async () => {
      const campaign = created(await a.post('/campaigns', { name: 'Limited', alias: 'lim' }), 'campaign');
      const limited = created(
        await a.post(`/campaigns/${campaign}/flows`, {
          name: 'Limited',
          schema: 'redirect',
          url: 'https://limited.example/?s={subid}',
          type: 'regular',
          position: 0,
          filters: [{ name: 'clickLimit', values: ['5'] }],
        }),
        'flow',
      );
      created(
        await a.post(`/campaigns/${campaign}/flows`, {
          name: 'Rest',
          schema: 'redirect',
          url: 'https://rest.example/?s={subid}',
          type: 'default',
        }),
        'flow',
      );
      await waitFor(
        async () => (await visit(two.base, '/lim', { ip: '10.0.0.1', ua: CHROME_LINUX })).status === 302,
        20_000,
        'the other process knows the campaign',
      );
      // That visit may have taken a place: count what is left.
      const before = Number(
        ((await db('clicks').where({ flow_id: limited }).count({ n: '*' }).first()) as { n: number | string }).n,
      );
      const visits = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          visit(i % 2 ? one.base : two.base, '/lim', { ip: nextIp(), ua: CHROME_LINUX }),
        ),
      );
      const hosts: Record<string, number> = {};
      for (const v of visits) {
        assert.equal(v.status, 302, v.body);
        const host = new URL(v.location!).host;
        hosts[host] = (hosts[host] ?? 0) + 1;
      }
      assert.equal((hosts['limited.example'] ?? 0) + before, 5, JSON.stringify(hosts));
      const stored = (await db('clicks').where({ flow_id: limited }).count({ n: '*' }).first()) as {
        n: number | string;
      };
      assert.equal(Number(stored.n), 5);
    });

    test('clicks at once on both processes: a new visitor has one unique click, and a PPC accumulator counts every paid click', async () => {
      const campaign = await campaignWithPayout(
        a,
        { name: `PPC ${mode}` },
        { title: 'PPC', type: 'PPC', rawClicks: true, affiliateCommission: { value: 0.1, unit: 'fixed' } },
      );
      const refId = `ppc-${mode}`;
      const affiliate = await approvedAffiliate(a, 'Pat', refId);
      const click = (base: string, visitorId: string) =>
        request(base, 'POST', '/t/click', {
          body: { url: `https://shop.example/?a_aid=${refId}&a_cid=${campaign}`, visitorId },
          headers: { 'user-agent': CHROME_LINUX, 'x-forwarded-for': nextIp() },
        });
      const newVisitor = () => `v${randomBytes(12).toString('hex')}`;
      await waitFor(
        async () => (await click(two.base, newVisitor())).body?.affiliateId === affiliate,
        20_000,
        'the other process knows the campaign and the affiliate',
      );
      // Rounds of one new visitor's clicks, half on each process: the writers of both decide
      // from the visitor's referral and add to the same accumulator row at the same time.
      for (let round = 0; round < 4; round++) {
        const visitorId = newVisitor();
        const answers = await Promise.all(
          Array.from({ length: 16 }, (_, i) => click(i % 2 ? one.base : two.base, visitorId)),
        );
        for (const r of answers) assert.equal(r.status, 200, r.text);
        const statuses = answers.map((r) => r.body.status as string);
        assert.equal(statuses.filter((x) => x === 'unique').length, 1, `round ${round}: ${statuses.join(', ')}`);
        const referral = (await db('visitor_referrals')
          .where({ visitor_id: visitorId, campaign_id: campaign })
          .first()) as {
          clicks: number | string;
        };
        assert.equal(Number(referral.clicks), 16, `round ${round}: the referral counts every click`);
      }
      const paid = (await db('clicks')
        .where({ campaign_id: campaign })
        .whereNot({ status: 'declined' })
        .count({
          n: '*',
        })
        .first()) as { n: number | string };
      const commissions = (await db('commissions').where({ campaign_id: campaign, kind: 'click' })) as Array<{
        quantity: number | string;
        amount: number | string;
      }>;
      assert.equal(
        commissions.reduce((n, c) => n + Number(c.quantity), 0),
        Number(paid.n),
        'every stored click is paid once',
      );
      assert.equal(
        commissions.reduce((n, c) => n + Number(c.amount), 0),
        Number(paid.n) * 1_000,
      );
    });

    test('the sign-in brake counts failures on both processes: 12 wrong passwords at once, 5 are checked', async () => {
      const email = `victim-${mode}@example.com`;
      assert.equal((await a.post('/users', { email, password: 'victim password 1' })).status, 201);
      const attempts = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          request(i % 2 ? one.base : two.base, 'POST', '/api/v1/auth/token', {
            body: { email, password: `wrong ${i}` },
            headers: { 'x-forwarded-for': nextIp() },
          }),
        ),
      );
      const statuses = attempts.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(', '));
      assert.equal(statuses.filter((s) => s === 429).length, 7, statuses.join(', '));
    });
  });
}

/** A TCP proxy in front of Redis that can be cut, like a Redis going away mid-run. */
async function cuttableProxy(port: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

describe(`Redis pushes configuration; Redis unreachable never fails an event (${dialectName()})`, () => {
  test('with Redis a change reaches a process that does not poll', async () => {
    const env = { REDIS_URL: REDIS, REDIS_PREFIX: prefix() };
    const one = await startTestApp({ env });
    const other = await startTestApp({ env, database: one.target });
    try {
      await setupOwner(one.url);
      const a = api(one.url, await tokenFor(one.url, OWNER.email, OWNER.password));
      // Only the push can tell it now.
      other.services.cache.stop();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await a.patch('/settings', { fraud: { duplicateClickSeconds: 77 } })).status, 200);
      await waitFor(() => other.services.settings.get().fraud.duplicateClickSeconds === 77, 5_000, 'the pushed change');
    } finally {
      await other.close();
      await one.close();
    }
  });

  test('Redis unreachable from the start: clicks are tracked, the duplicate rule holds through the database', async () => {
    const app = await startTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: prefix() } });
    try {
      await setupOwner(app.url);
      const a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
      assert.equal((await a.patch('/plugins/fraud-protection', { active: true })).status, 200);
      await a.patch('/settings', { fraud: { duplicateClickSeconds: 600, duplicateClickAction: 'decline' } });
      const first = await clickFrom(app.url, '10.66.0.1');
      const again = await clickFrom(app.url, '10.66.0.1');
      assert.equal(first.status, 200, first.text);
      assert.equal(again.status, 200, again.text);
      const db = app.services.db;
      assert.notEqual((await statusesOf(db, [first.body.clickId as string]))[0], 'declined');
      assert.deepEqual(await statusesOf(db, [again.body.clickId as string]), ['declined']);
      assert.ok(Number(((await db('shared_values').count({ n: '*' }).first()) as { n: number }).n) >= 1);
    } finally {
      await app.close();
    }
  });

  test('Redis going away mid-run: every click is still answered and stored', async () => {
    const proxy = await cuttableProxy(6379);
    const keyPrefix = prefix();
    const app = await startTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_PREFIX: keyPrefix } });
    const r = new Redis(REDIS);
    try {
      await setupOwner(app.url);
      const a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
      assert.equal((await a.patch('/plugins/fraud-protection', { active: true })).status, 200);
      await a.patch('/settings', { fraud: { duplicateClickSeconds: 600, duplicateClickAction: 'decline' } });
      await waitFor(async () => (await clickFrom(app.url, `10.55.0.${++ipN}`)).status === 200, 5000, 'a click');
      await waitFor(async () => (await r.keys(`${keyPrefix}click:*`)).length > 0, 5000, 'a mark in Redis');
      await proxy.cut();
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await clickFrom(app.url, `10.55.1.${i + 1}`);
        assert.equal(res.status, 200, res.text);
        ids.push(res.body.clickId as string);
      }
      assert.equal((await statusesOf(app.services.db, ids)).length, 20);
      // The rule keeps working on the database meanwhile.
      const again = await clickFrom(app.url, '10.55.1.1');
      assert.deepEqual(await statusesOf(app.services.db, [again.body.clickId as string]), ['declined']);
    } finally {
      const keys = await r.keys(`${keyPrefix}*`);
      if (keys.length) await r.del(...keys);
      r.disconnect();
      await app.close();
    }
  });
});
let ipN = 0;
