import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { request } from '../helpers/http.js';

/** A raw connection to the app, and a promise of the server closing it (we never close it ourselves). */
function connect(url: string, send?: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      if (send) socket.write(send);
      resolve();
    });
    socket.once('error', reject);
  });
  const closed = new Promise<string>((resolve) => {
    socket.on('error', () => {});
    socket.once('close', () => resolve(received));
  });
  return { socket, opened, closed, received: () => received };
}

const SLOW_BODY =
  'POST /t/sale HTTP/1.1\r\nHost: tracker\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"orderId":';
const KEEP_ALIVE_GET = 'GET /healthz HTTP/1.1\r\nHost: tracker\r\nConnection: keep-alive\r\n\r\n';

/** Waits until `check` holds (bounded by the test's timeout, a safety net, not a measure). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Held connections cannot exhaust the server (SPEC §12 durability): headers, request bodies and
 * idle keep-alive connections are timed out, connections are capped, and idle keep-alive
 * connections give way to new ones when the cap is near. The test app listens through the same
 * function as the server, with short limits.
 */
describe('connection cap and timeouts', () => {
  describe('timeouts', () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({
        env: {
          HTTP_HEADERS_TIMEOUT_MS: '300',
          HTTP_REQUEST_TIMEOUT_MS: '600',
          HTTP_KEEP_ALIVE_TIMEOUT_MS: '300',
          HTTP_MAX_CONNECTIONS: '50',
        },
      });
    });
    after(async () => {
      await app.close();
    });

    test(
      'the server closes connections that send nothing, a slow body, or idle after a request',
      { timeout: 30_000 },
      async () => {
        const silent = Array.from({ length: 5 }, () => connect(app.url));
        const slow = Array.from({ length: 5 }, () => connect(app.url, SLOW_BODY));
        const idle = Array.from({ length: 3 }, () => connect(app.url, KEEP_ALIVE_GET));
        await Promise.all([...silent, ...slow, ...idle].map((c) => c.opened));

        // While they are held, a normal request succeeds.
        const health = await request(app.url, 'GET', '/healthz');
        assert.equal(health.status, 200);

        const slowAnswers = await Promise.all(slow.map((c) => c.closed));
        for (const text of slowAnswers) assert.match(text, /^(HTTP\/1\.1 408|$)/, 'a slow body is timed out');
        await Promise.all(silent.map((c) => c.closed));
        const idleAnswers = await Promise.all(idle.map((c) => c.closed));
        for (const text of idleAnswers) assert.match(text, /^HTTP\/1\.1 200/, 'the request itself was answered');
        assert.ok(slow.every((c) => c.socket.destroyed) && silent.every((c) => c.socket.destroyed));
      },
    );

    test('a client that goes away mid-body is logged at debug, not as an error', { timeout: 30_000 }, async () => {
      const log = app.services.log as unknown as Record<string, (...args: unknown[]) => void>;
      const errors: unknown[] = [];
      const debug: unknown[] = [];
      const original = { error: log.error, debug: log.debug };
      log.error = (...args) => errors.push(args);
      log.debug = (...args) => debug.push(args);
      try {
        for (const path of ['/t/sale', '/api/v1/sales']) {
          const c = connect(app.url, SLOW_BODY.replace('/t/sale', path));
          await c.opened;
          await new Promise((r) => setTimeout(r, 20));
          c.socket.destroy();
        }
        await until(() => debug.length >= 2);
        assert.deepEqual(errors, [], 'no error log for a client that went away');
        assert.match(JSON.stringify(debug), /client/i);
      } finally {
        log.error = original.error!;
        log.debug = original.debug!;
      }
      assert.equal((await request(app.url, 'GET', '/healthz')).status, 200);
    });
  });

  describe('the cap', () => {
    let app: TestApp;
    const CAP = 20;
    before(async () => {
      app = await startTestApp({
        env: {
          HTTP_MAX_CONNECTIONS: String(CAP),
          HTTP_HEADERS_TIMEOUT_MS: '60000',
          HTTP_REQUEST_TIMEOUT_MS: '60000',
          HTTP_KEEP_ALIVE_TIMEOUT_MS: '60000',
        },
      });
    });
    after(async () => {
      await app.close();
    });

    test(
      'connections over the cap are refused at once, and the server keeps answering',
      { timeout: 30_000 },
      async () => {
        const held = Array.from({ length: CAP }, () => connect(app.url, SLOW_BODY));
        await Promise.all(held.map((c) => c.opened));
        await until(() => app.server.listening);
        const extra = Array.from({ length: 5 }, () => connect(app.url, SLOW_BODY));
        await Promise.all(extra.map((c) => c.opened.catch(() => undefined)));
        // The extra ones are closed by the server without an answer; the held ones stay open.
        const extraAnswers = await Promise.all(extra.map((c) => c.closed));
        assert.deepEqual(extraAnswers, ['', '', '', '', ''], 'refused without an answer');
        assert.ok(
          held.every((c) => !c.socket.destroyed),
          'the held connections are untouched',
        );
        for (const c of held) c.socket.destroy();
        await Promise.all(held.map((c) => c.closed));
        await until(() => (app.server as unknown as { _connections: number })._connections === 0);
        assert.equal((await request(app.url, 'GET', '/healthz')).status, 200, 'a normal request succeeds afterwards');
      },
    );

    test('idle keep-alive connections give way to new ones near the cap', { timeout: 30_000 }, async () => {
      const idle = Array.from({ length: CAP }, () => connect(app.url, KEEP_ALIVE_GET));
      await Promise.all(idle.map((c) => c.opened));
      await until(() => idle.every((c) => /^HTTP\/1\.1 200/.test(c.received())));
      for (let i = 0; i < 5; i++) {
        const res = await request(app.url, 'GET', '/healthz');
        assert.equal(res.status, 200, 'a normal request succeeds while the idle ones are held');
      }
      await Promise.all(idle.slice(0, 3).map((c) => c.closed));
      for (const c of idle) c.socket.destroy();
    });
  });
});
