import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { freshDatabaseTarget } from '../helpers/app.js';
import { dropDatabase, ensureDatabaseExists, openDatabase } from '../../server/db/index.js';
import type { DatabaseTarget } from '../../server/config.js';

/** SPEC §12: `kill -9` of the server under load loses no acknowledged click or sale. */

const databaseUrl = (t: DatabaseTarget) =>
  t.client === 'sqlite' ? `sqlite:${t.filename}` : `mysql://${t.user}:${t.password}@${t.host}:${t.port}/${t.database}`;

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once('exit', () => r()));

function startServer(url: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      AFFIX_SECRET: 'durability-secret-0123456789abcdef012345',
      AFFIX_OWNER_EMAIL: 'owner@example.com',
      AFFIX_OWNER_PASSWORD: 'durability-password',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 120_000;
    const poll = async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.ok) return resolve(child);
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline || child.exitCode !== null) return reject(new Error('server did not start'));
      setTimeout(() => void poll(), 100);
    };
    void poll();
  });
}

describe('durability under kill -9', () => {
  test('every click and sale the server acknowledged is stored after a kill -9', async () => {
    const target = freshDatabaseTarget();
    await ensureDatabaseExists(target);
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const url = databaseUrl(target);
    let server = await startServer(url, port);
    const base = `http://127.0.0.1:${port}`;
    const ackedClicks: string[] = [];
    const ackedSales: number[] = [];
    let stop = false;
    const worker = async (n: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const click = await fetch(`${base}/t/click`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({ url: `https://shop.example/?w=${n}&i=${i}` }),
          });
          if (click.status === 200) ackedClicks.push(((await click.json()) as { clickId: string }).clickId);
          const sale = await fetch(`${base}/t/sale`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ orderId: `K-${n}-${i}`, totalCost: 10 }),
          });
          if (sale.status === 201) ackedSales.push(((await sale.json()) as { saleId: number }).saleId);
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 20 }, (_, n) => worker(n));
    // Killed under load once it has acknowledged something, however fast this machine is.
    const deadline = Date.now() + 120_000;
    while (!(ackedClicks.length && ackedSales.length) && Date.now() < deadline && server.exitCode === null) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const killed = exited(server);
    server.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await killed;
    assert.ok(ackedClicks.length >= 1, 'the server acknowledged no click before it was killed');
    assert.ok(ackedSales.length >= 1, 'the server acknowledged no sale before it was killed');

    // A restart on the same database finds every acknowledged event.
    server = await startServer(url, port);
    const stopped = exited(server);
    server.kill('SIGTERM');
    await stopped;
    const db = openDatabase(target);
    try {
      const stored = new Set(
        ((await db('clicks').whereIn('click_id', ackedClicks).select('click_id')) as Array<{ click_id: string }>).map(
          (r) => r.click_id,
        ),
      );
      assert.equal(
        stored.size,
        ackedClicks.length,
        `${ackedClicks.length - stored.size} acknowledged clicks were lost`,
      );
      const sales = (await db('sales').whereIn('id', ackedSales).count({ n: '*' }).first()) as { n: number | string };
      assert.equal(Number(sales.n), ackedSales.length, 'acknowledged sales were lost');
    } finally {
      await db.destroy();
      await dropDatabase(target);
    }
  });
});
