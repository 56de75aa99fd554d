import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { OutboxWorker, type OutboxWorkerTuning } from '../../server/services/outbox-worker.js';
import type { OutboxEvent, OutboxMessage } from '../../server/services/outbox.js';
import { openDatabase } from '../../server/db/index.js';
import { buildServices } from '../../server/container.js';
import { createLogger } from '../../server/logger.js';

type Api = ReturnType<typeof api>;

interface Row {
  id: number;
  url: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  locked_until: number;
  delivered_at: number | null;
  last_error: string | null;
}

describe(`outbox delivery worker (SPEC §7.6, §12) on ${dialectName()}`, () => {
  let app: TestApp;
  let db: Knex;
  let a: Api;
  let receiver: Receiver;
  // The worker's clock, ahead of the rows' write time so what is queued is due.
  let now = 0;
  const advance = (ms: number) => {
    now += ms;
  };

  const worker = (tuning: OutboxWorkerTuning = {}, on: Knex = db) =>
    new OutboxWorker({
      db: on,
      hooks: app.services.hooks,
      log: app.services.log,
      http: app.services.outgoing,
      clock: () => now,
      ...tuning,
    });

  const message = (path: string, n: number): OutboxMessage => ({
    channel: 'webhook',
    method: 'POST',
    url: `${receiver.url}${path}`,
    headers: { 'Content-Type': 'application/json', 'X-Test': 'yes' },
    body: JSON.stringify({ n }),
  });

  /** Queues `count` messages, each in its own committed transaction like real events. */
  const queue = async (count: number, path = '/hook', event: OutboxEvent = 'conversion.created') => {
    for (let n = 1; n <= count; n++) {
      await db.transaction((trx) => app.services.outbox.emit(trx, event, { n }, [message(path, n)]));
    }
  };
  const rows = async () => (await db('outbox').orderBy('id')) as Row[];
  const num = (v: unknown) => Number(v);

  before(async () => {
    // The receiver listens on 127.0.0.1.
    app = await startTestApp({ env: { AFFIX_ALLOW_PRIVATE_TARGETS: 'true' }, outbox: { pollMs: 60_000 } });
    db = app.services.db;
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await app.close();
  });
  beforeEach(async () => {
    await db('outbox').del();
    receiver.receipts.length = 0;
    receiver.failNext(0);
    receiver.answerAlways(null);
    receiver.delay(0);
    now = Date.now() + 60_000;
  });

  test('retries with back-off until the receiver recovers: one successful delivery per message, attempts counted', async () => {
    await queue(3);
    receiver.failNext(6); // every message fails twice
    const w = worker();

    const first = await w.runOnce();
    assert.deepEqual(first, { due: 3, delivered: 0, retried: 3, failed: 0, skipped: 0 });
    for (const r of await rows()) {
      assert.equal(r.status, 'pending');
      assert.equal(num(r.attempts), 1);
      assert.equal(num(r.next_attempt_at), now + 10_000, 'the first retry 10 s later');
      assert.equal(num(r.locked_until), 0, 'the lock is released');
      assert.match(r.last_error ?? '', /^HTTP 500/);
    }
    assert.equal((await w.runOnce()).due, 0, 'nothing is due before the back-off passes');

    advance(10_000);
    assert.equal((await w.runOnce()).retried, 3);
    assert.equal(num((await rows())[0]!.next_attempt_at), now + 20_000, 'the wait doubles');
    advance(19_999);
    assert.equal((await w.runOnce()).due, 0);
    advance(1);
    assert.equal((await w.runOnce()).delivered, 3);

    const stored = await rows();
    for (const r of stored) {
      assert.equal(r.status, 'delivered');
      assert.equal(num(r.attempts), 3, 'two failures and the success');
      assert.equal(num(r.delivered_at), now);
      assert.equal(r.last_error, null);
    }
    // Nothing is sent again, however long the worker keeps running.
    for (let i = 0; i < 3; i++) {
      advance(3_600_000);
      assert.equal((await w.runOnce()).due, 0);
    }
    assert.equal(receiver.receipts.length, 9, '3 messages × 3 attempts, no more');
    const perDelivery = receiver.okPerDelivery();
    assert.deepEqual(
      [...perDelivery.keys()].sort(),
      stored.map((r) => String(r.id)).sort(),
      'X-Affix-Delivery is the outbox id',
    );
    assert.ok(
      [...perDelivery.values()].every((n) => n === 1),
      'exactly one successful receipt per message',
    );

    const ok = receiver.ok()[0]!;
    assert.equal(ok.method, 'POST');
    assert.equal(ok.path, '/hook');
    assert.equal(ok.headers['content-type'], 'application/json');
    assert.equal(ok.headers['x-test'], 'yes', 'the stored headers are sent');
    assert.match(String(ok.headers['user-agent']), /^Affix/);
    assert.deepEqual(
      receiver
        .ok()
        .map((r) => JSON.parse(r.body).n)
        .sort(),
      [1, 2, 3],
      'each body as stored',
    );
  });

  test('a message that never succeeds is failed after maxAttempts, and an admin can retry it', async () => {
    await queue(1);
    receiver.answerAlways(503);
    const w = worker({ maxAttempts: 3 });
    assert.equal((await w.runOnce()).retried, 1);
    advance(10_000);
    assert.equal((await w.runOnce()).retried, 1);
    advance(20_000);
    assert.equal((await w.runOnce()).failed, 1);
    const [row] = await rows();
    assert.equal(row!.status, 'failed');
    assert.equal(num(row!.attempts), 3);
    assert.match(row!.last_error ?? '', /^HTTP 503/);
    advance(10 * 3_600_000);
    assert.equal((await w.runOnce()).due, 0, 'a failed message is not tried again by itself');
    assert.equal(receiver.receipts.length, 3);

    // Admin visibility: GET /api/v1/outbox?status=failed, then POST /api/v1/outbox/:id/retry.
    const failed = await a.get('/outbox?status=failed');
    assert.equal(failed.status, 200, failed.text);
    assert.equal(failed.body.pagination.total, 1);
    assert.equal(failed.body.data[0].id, num(row!.id));
    assert.equal(failed.body.data[0].attempts, 3);
    assert.equal(failed.body.data[0].channel, 'webhook');
    assert.match(failed.body.data[0].lastError, /^HTTP 503/);
    assert.equal((await a.get('/outbox?status=pending')).body.pagination.total, 0);
    assert.equal((await a.get('/outbox?status=sent')).status, 422);
    assert.equal((await a.get('/outbox/999999')).status, 404);

    const retried = await a.post(`/outbox/${row!.id}/retry`);
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.body.status, 'pending');
    assert.equal(retried.body.attempts, 0);
    assert.equal((await a.post(`/outbox/${row!.id}/retry`)).status, 409, 'only failed messages');

    receiver.answerAlways(null);
    assert.equal((await w.runOnce()).delivered, 1);
    assert.equal((await a.get(`/outbox/${row!.id}`)).body.status, 'delivered');
    assert.equal((await a.post(`/outbox/${row!.id}/retry`)).status, 409, 'a delivered message is never sent again');
    assert.equal(receiver.ok().length, 1);
    const audit = await a.get('/audit-log?perPage=20');
    assert.equal(audit.status, 200, audit.text);
    assert.ok(
      (audit.body.data as Array<{ action: string }>).some((e) => e.action === 'outbox.retried'),
      'the retry is audited',
    );
  });

  test('a timeout and a refused connection count as failed attempts; a malformed URL fails at once', async () => {
    await queue(1, '/slow');
    await db.transaction((trx) =>
      app.services.outbox.emit(trx, 'conversion.created', {}, [
        { channel: 'affiliate_postback', method: 'GET', url: 'http://127.0.0.1:1/closed' },
        { channel: 'affiliate_postback', method: 'GET', url: 'not a url {subid}' },
      ]),
    );
    receiver.delay(1_000);
    const result = await worker({ timeoutMs: 200 }).runOnce();
    assert.deepEqual(result, { due: 3, delivered: 0, retried: 2, failed: 1, skipped: 0 });
    const [slow, closed, malformed] = await rows();
    assert.equal(slow!.status, 'pending');
    assert.equal(slow!.last_error, 'no answer within 0.2 s');
    assert.equal(closed!.status, 'pending');
    assert.match(closed!.last_error ?? '', /ECONNREFUSED/);
    assert.equal(malformed!.status, 'failed');
    assert.equal(num(malformed!.attempts), 1);
    assert.equal(malformed!.last_error, 'the URL is not valid');
  });

  test('a restart delivers every pending message exactly once (nothing lost, nothing duplicated)', async () => {
    await queue(6, '/restart');
    now = Date.now() + 60_000;
    receiver.delay(60);
    // The first process delivers a few, then stops while a request is in flight.
    const first = new OutboxWorker({
      db,
      hooks: app.services.hooks,
      log: app.services.log,
      http: app.services.outgoing,
      concurrency: 1,
      pollMs: 10,
    });
    first.start();
    await waitFor(() => receiver.receipts.length >= 2, 5000, 'two deliveries');
    await first.stop();
    const afterStop = await rows();
    const delivered = afterStop.filter((r) => r.status === 'delivered').length;
    assert.ok(delivered >= 2 && delivered < 6, `some delivered before the stop (${delivered})`);
    assert.equal(delivered, receiver.ok().length, 'stop() waited for the request in flight and recorded it');
    assert.ok(
      afterStop.every((r) => num(r.locked_until) === 0),
      'nothing is left locked by a clean stop',
    );

    // The second process: new services and a new connection on the same database.
    const db2 = openDatabase(app.config.database);
    const services2 = await buildServices(app.config, db2, createLogger('silent'), {
      startWorkers: true,
      outbox: { pollMs: 10 },
    });
    try {
      await waitFor(
        async () => (await db('outbox').where({ status: 'delivered' }).count({ n: '*' }).first())?.n === 6 || false,
        10_000,
        'all delivered',
      );
    } finally {
      await services2.stop();
      await db2.destroy();
    }
    assert.equal(receiver.receipts.length, 6);
    assert.ok([...receiver.okPerDelivery().values()].every((n) => n === 1));
    assert.equal(receiver.okPerDelivery().size, 6);
  });

  test('a message whose sender died mid-send is sent again once its lock expires', async () => {
    await queue(1, '/crashed');
    // As left by a process killed after claiming the row: pending, locked for 30 s.
    await db('outbox').update({ locked_until: now + 30_000 });
    const w = worker();
    assert.equal((await w.runOnce()).due, 0, 'not while another sender may be sending it');
    advance(30_001);
    assert.equal((await w.runOnce()).delivered, 1);
    assert.equal(receiver.ok().length, 1);
  });

  test('two workers on one database never send the same message twice', async () => {
    const db2 = openDatabase(app.config.database);
    try {
      receiver.delay(3);
      for (let round = 0; round < 3; round++) {
        await db('outbox').del();
        receiver.receipts.length = 0;
        await queue(30, `/race${round}`);
        const w1 = worker({ concurrency: 4 });
        const w2 = worker({ concurrency: 4 }, db2);
        const results = await Promise.all([w1.runOnce(), w2.runOnce(), w1.runOnce(), w2.runOnce()]);
        const sent = results.reduce((s, r) => s + r.delivered, 0);
        assert.equal(sent, 30, `round ${round}: every message delivered once`);
        assert.equal(receiver.receipts.length, 30, `round ${round}: no request was sent twice`);
        assert.equal(receiver.okPerDelivery().size, 30);
        assert.ok(
          results.some((r) => r.skipped > 0),
          'the workers raced for the same rows',
        );
        assert.ok((await rows()).every((r) => r.status === 'delivered' && num(r.attempts) === 1));
      }
      // And while both poll on their own, with failures and retries in between.
      await db('outbox').del();
      receiver.receipts.length = 0;
      receiver.failNext(10);
      await queue(20, '/polling');
      const fast = { pollMs: 5, backoff: () => 20, http: app.services.outgoing };
      const p1 = new OutboxWorker({ db, hooks: app.services.hooks, log: app.services.log, ...fast });
      const p2 = new OutboxWorker({ db: db2, hooks: app.services.hooks, log: app.services.log, ...fast });
      p1.start();
      p2.start();
      try {
        await waitFor(async () => (await rows()).every((r) => r.status === 'delivered'), 10_000, 'all delivered');
      } finally {
        await Promise.all([p1.stop(), p2.stop()]);
      }
      assert.equal(receiver.ok().length, 20);
      assert.equal(receiver.receipts.length, 30, '20 successes and the 10 failures, nothing else');
      assert.ok([...receiver.okPerDelivery().values()].every((n) => n === 1));
      const attempts = (await rows()).reduce((s, r) => s + num(r.attempts), 0);
      assert.equal(attempts, 30, 'every request is counted as an attempt');
    } finally {
      await db2.destroy();
    }
  });

  test('a started worker is kicked when a transaction that queued messages commits', async () => {
    // The app's worker polls only every 60 s here; the commit notifies it.
    const w = app.services.outboxWorker;
    w.start();
    try {
      await new Promise((r) => setTimeout(r, 50)); // its first (empty) cycle
      const started = Date.now();
      await db.transaction(async (trx) => {
        await app.services.outbox.emit(trx, 'conversion.created', {}, [message('/kick', 1)]);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(receiver.receipts.length, 0, 'not before the commit');
      });
      await waitFor(() => receiver.ok().length === 1, 3000, 'the kicked delivery');
      assert.ok(Date.now() - started < 3000);
    } finally {
      await w.stop();
    }
    assert.equal(w.isRunning, false);
  });

  test('the outbox API is for merchant roles and validates its filters', async () => {
    await queue(3, '/api');
    const page = await a.get('/outbox?perPage=2&page=2');
    assert.equal(page.status, 200, page.text);
    assert.deepEqual(page.body.pagination, { page: 2, perPage: 2, total: 3, totalPages: 2 });
    assert.equal(page.body.data.length, 1);
    const entry = (await a.get('/outbox?status=pending&channel=webhook&event=conversion.created')).body.data[0];
    assert.deepEqual(Object.keys(entry).sort(), [
      'attempts',
      'body',
      'channel',
      'createdAt',
      'deliveredAt',
      'event',
      'headers',
      'id',
      'lastError',
      'method',
      'nextAttemptAt',
      'status',
      'url',
    ]);
    assert.equal((await a.get('/outbox?channel=carrier-pigeon')).status, 422);
    assert.equal((await api(app.url).get('/outbox')).status, 401);
    assert.equal((await a.post('/outbox/abc/retry')).status, 422);
  });
});
