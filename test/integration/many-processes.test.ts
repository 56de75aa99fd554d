import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { startTestApp, freshDatabaseTarget, dialectName, type TestApp } from '../helpers/app.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { childPids, databaseUrl, exited, startServerProcess } from '../helpers/server-process.js';
import { dropDatabase, ensureDatabaseExists, openDatabase } from '../../server/db/index.js';
import { migrateLatest } from '../../server/db/migrate.js';
import { PRUNING_LEASE } from '../../server/services/pruning.js';

/*
 * SPEC §16: several server processes on one database. Processes starting together wait for the
 * one that migrates; the outbox is delivered once and pruning runs in one process at a time
 * however many run; WORKERS=N forks N servers, restarts a crashed one, and a stop drains the
 * group-commit writers — no acknowledged click or sale is lost either way.
 */

const run = (args: string[], env: Record<string, string>) =>
  new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr, stdout }));
  });

describe(`many processes on one database (${dialectName()})`, () => {
  test('three processes migrating a new database at once: each migration runs once, all three succeed', async () => {
    const target = freshDatabaseTarget();
    await ensureDatabaseExists(target);
    try {
      const env = { DATABASE_URL: databaseUrl(target) };
      const results = await Promise.all([1, 2, 3].map(() => run(['server/migrate-cli.ts'], env)));
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const files = fs.readdirSync('migrations').filter((f) => /^\d{14}_[\w-]+\.ts$/.test(f));
      const db = openDatabase(target);
      try {
        const done = (await db('knex_migrations').select('name')) as Array<{ name: string }>;
        assert.equal(done.length, files.length, 'every migration recorded exactly once');
        assert.equal(new Set(done.map((d) => d.name)).size, files.length);
      } finally {
        await db.destroy();
      }
      const applied = results.filter((r) => /Applied:/.test(r.stderr)).length;
      assert.ok(applied >= 1, 'one of them applied the migrations');
    } finally {
      await dropDatabase(target);
    }
  });

  test('a migration row left by a killed process of this host is cleared; one held on another host is waited for', async () => {
    const target = freshDatabaseTarget();
    await ensureDatabaseExists(target);
    const db = openDatabase(target);
    try {
      await migrateLatest(db);
      const gone = spawn(process.execPath, ['-e', '0']);
      await exited(gone);
      await db('migration_holder').insert({ name: 'migrate', holder: `${os.hostname()}:${gone.pid}:x`, taken_at: 1 });
      assert.deepEqual(await migrateLatest(db, { waitMs: 5_000 }), []);
      assert.equal(Number((await db('migration_holder').count({ n: '*' }).first())?.n), 0);

      await db('migration_holder').insert({ name: 'migrate', holder: 'other-host:1:y', taken_at: 1 });
      let waited = false;
      await assert.rejects(
        migrateLatest(db, { waitMs: 300, onWait: () => (waited = true) }),
        /another process still holds the migration row.*migration_holder/,
      );
      assert.ok(waited, 'the start said it waits for another process');
    } finally {
      await db.destroy();
      await dropDatabase(target);
    }
  });

  test('WORKERS that is not a whole number stops the start with an error naming WORKERS', async () => {
    for (const bad of ['two', '-1', '1.5', '999']) {
      const r = await run(['server/index.ts'], { WORKERS: bad, DATABASE_URL: 'sqlite::memory:' });
      assert.equal(r.code, 2, `WORKERS=${bad}: ${r.stderr}`);
      assert.match(r.stderr, /WORKERS: must be/);
    }
  });

  describe('two service processes', () => {
    let one: TestApp;
    let other: TestApp;
    let receiver: Receiver;

    before(async () => {
      const env = { AFFIX_ALLOW_PRIVATE_TARGETS: 'true' };
      const outbox = { pollMs: 10, backoff: () => 20 };
      one = await startTestApp({ env, outbox });
      other = await startTestApp({ env, outbox, database: one.target });
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
      await other?.close();
      await one?.close();
    });

    test('both deliver the outbox at once: every message is sent once, none twice', async () => {
      receiver.delay(2);
      receiver.failNext(8);
      const queue = (app: TestApp, from: number) =>
        (async () => {
          for (let n = from; n < from + 40; n++) {
            await app.services.db.transaction((trx) =>
              app.services.outbox.emit(trx, 'conversion.created', { n }, [
                {
                  channel: 'webhook',
                  method: 'POST',
                  url: `${receiver.url}/hook`,
                  headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify({ n }),
                },
              ]),
            );
          }
        })();
      // Queued first: two SQLite connections in one test process cannot both hold a write open.
      await queue(one, 0);
      await queue(other, 1000);
      one.services.outboxWorker.start();
      other.services.outboxWorker.start();
      await waitFor(
        async () => {
          const pending = (await one.services
            .db('outbox')
            .whereNot('status', 'delivered')
            .count({ n: '*' })
            .first()) as {
            n: number | string;
          };
          return Number(pending.n) === 0;
        },
        30_000,
        'every message delivered',
      );
      const per = receiver.okPerDelivery();
      assert.equal(per.size, 80);
      assert.ok(
        [...per.values()].every((n) => n === 1),
        'no message was delivered twice',
      );
      assert.equal(receiver.ok().length, 80);
    });

    test('pruning: of two processes asking at once exactly one prunes; the other takes over once the lease expires', async () => {
      const db = one.services.db;
      const old = Date.now() - 30 * 86_400_000;
      await db('uniqueness_marks').insert(
        Array.from({ length: 50 }, (_, i) => ({ scope: 'g', device_key: `lease-${i}`, seen_at: old })),
      );
      const runs = await Promise.all([
        one.services.pruner.runIfLeaseHolder(),
        other.services.pruner.runIfLeaseHolder(),
        one.services.pruner.runIfLeaseHolder(),
        other.services.pruner.runIfLeaseHolder(),
      ]);
      const holders = new Set<string | null>(
        runs.map((r, i) => (r.ran ? (i % 2 === 0 ? 'one' : 'other') : null)).filter((h) => h !== null),
      );
      assert.equal(holders.size, 1, 'only one process pruned');
      const pruned = runs.reduce((s, r) => s + (r.ran ? r.result.uniquenessMarks : 0), 0);
      assert.equal(pruned, 50, 'the rows were deleted once');
      const holder = holders.has('one') ? one : other;
      const waiting = holder === one ? other : one;
      assert.equal((await waiting.services.pruner.runIfLeaseHolder()).ran, false);
      assert.equal((await holder.services.pruner.runIfLeaseHolder()).ran, true, 'the holder renews its lease');
      // The holder is gone (its lease expired): the other one takes over.
      await db('leases')
        .where({ name: PRUNING_LEASE })
        .update({ expires_at: Date.now() - 1 });
      assert.equal((await waiting.services.pruner.runIfLeaseHolder()).ran, true);
      assert.equal((await holder.services.pruner.runIfLeaseHolder()).ran, false);
    });
  });

  test('WORKERS=2: two server processes; a killed one is restarted; SIGTERM drains; nothing acknowledged is lost', async () => {
    const target = freshDatabaseTarget();
    await ensureDatabaseExists(target);
    const server = await startServerProcess({ WORKERS: '2', DATABASE_URL: databaseUrl(target), LOG_LEVEL: 'info' });
    const primary = server.child.pid as number;
    try {
      await waitFor(async () => childPids(primary).length === 2, 60_000, 'two workers');
      const first = childPids(primary);
      const ackedClicks: string[] = [];
      const ackedSales: number[] = [];
      let stop = false;
      const loop = async (n: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const click = await fetch(`${server.base}/t/click`, {
              method: 'POST',
              headers: { 'content-type': 'text/plain', connection: 'close' },
              body: JSON.stringify({ url: `https://shop.example/?w=${n}&i=${i}` }),
            });
            if (click.status === 200) ackedClicks.push(((await click.json()) as { clickId: string }).clickId);
            const sale = await fetch(`${server.base}/t/sale`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', connection: 'close' },
              body: JSON.stringify({ orderId: `W-${n}-${i}`, totalCost: 10 }),
            });
            if (sale.status === 201) ackedSales.push(((await sale.json()) as { saleId: number }).saleId);
          } catch {
            // A request to the killed worker, or to a stopping server: not acknowledged.
            await new Promise((r) => setTimeout(r, 10));
          }
        }
      };
      const loops = Array.from({ length: 8 }, (_, n) => loop(n));
      await waitFor(async () => ackedClicks.length > 20 && ackedSales.length > 20, 60_000, 'load acknowledged');
      process.kill(first[0] as number, 'SIGKILL');
      await waitFor(
        async () => {
          const now = childPids(primary);
          return now.length === 2 && !now.includes(first[0] as number);
        },
        60_000,
        'the killed worker replaced',
      );
      const acksBefore = ackedClicks.length;
      await waitFor(async () => ackedClicks.length > acksBefore + 20, 60_000, 'load served after the restart');
      // Stopped while the load still runs: what was acknowledged must be committed.
      const gone = exited(server.child);
      server.child.kill('SIGTERM');
      await gone;
      stop = true;
      await Promise.all(loops);
      assert.equal(server.child.exitCode, 0, server.stderr().slice(-2000));
      assert.match(server.stderr(), /server process died; starting another/);

      const db = openDatabase(target);
      try {
        const stored = new Set(
          ((await db('clicks').whereIn('click_id', ackedClicks).select('click_id')) as Array<{ click_id: string }>).map(
            (r) => r.click_id,
          ),
        );
        assert.equal(stored.size, ackedClicks.length, `${ackedClicks.length - stored.size} acknowledged clicks lost`);
        const sales = (await db('sales').whereIn('id', ackedSales).count({ n: '*' }).first()) as { n: number | string };
        assert.equal(Number(sales.n), ackedSales.length, 'acknowledged sales were lost');
      } finally {
        await db.destroy();
      }
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await dropDatabase(target);
    }
  });
});
