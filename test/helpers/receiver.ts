import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got, with the status it answered. */
export interface Receipt {
  method: string;
  /** Path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  /** The receiver's clock when the request arrived (tests pass their fake clock). */
  at: number;
}

export interface Receiver {
  url: string;
  receipts: Receipt[];
  /** Answer 500 to the next `n` requests (then 200 again). */
  failNext(n: number): void;
  /** Answer every request with `status` until changed (null: back to 200 / failNext). */
  answerAlways(status: number | null): void;
  /** Hold every answer this long (for timeouts and in-flight stops). */
  delay(ms: number): void;
  /** Answer every request with a 302 to `location` (null: stop redirecting). */
  redirect(location: string | null): void;
  /** Requests answered 2xx. */
  ok(): Receipt[];
  /** How many 2xx answers each X-Affix-Delivery id got. */
  okPerDelivery(): Map<string, number>;
  close(): Promise<void>;
}

/**
 * A webhook / postback endpoint on 127.0.0.1 with a random port that fails the first requests
 * with 500 and then recovers, recording everything it got.
 */
export async function startReceiver(opts: { failFirst?: number; clock?: () => number } = {}): Promise<Receiver> {
  let failing = opts.failFirst ?? 0;
  let always: number | null = null;
  let delayMs = 0;
  let location: string | null = null;
  const clock = opts.clock ?? Date.now;
  const receipts: Receipt[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = clock();
      let status = 200;
      if (location !== null) status = 302;
      else if (always !== null) status = always;
      else if (failing > 0) {
        failing--;
        status = 500;
      }
      // Recorded on arrival: a sender that gave up waiting (timeout) still reached us.
      receipts.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status,
        at,
      });
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'text/plain', ...(status === 302 && location ? { location } : {}) });
        res.end(status === 200 ? 'ok' : 'try again');
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    receipts,
    failNext: (n) => {
      failing = n;
    },
    answerAlways: (status) => {
      always = status;
    },
    delay: (ms) => {
      delayMs = ms;
    },
    redirect: (to) => {
      location = to;
    },
    ok: () => receipts.filter((r) => r.status >= 200 && r.status < 300),
    okPerDelivery() {
      const counts = new Map<string, number>();
      for (const r of receipts) {
        if (r.status < 200 || r.status >= 300) continue;
        const id = String(r.headers['x-affix-delivery']);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
