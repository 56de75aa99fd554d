/**
 * `npm run bench`: requests per second and latency of the hot paths against a bare Koa app
 * answering a fixed 302, in the same run, on SQLite and (when reachable) MariaDB (SPEC §12).
 * The server runs in a child process; the load generator (autocannon) in this one.
 *
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=50 npm run bench
 *   BENCH_MYSQL_URL=mysql://root@127.0.0.1:3306/affix_bench (default; set to "off" to skip)
 *   BENCH_WORKERS=2: Affix as a node cluster of that many server processes on one port (as WORKERS=2)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const MYSQL_URL = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/affix_bench';
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);

interface Started {
  child: ChildProcess;
  port: number;
  info: Record<string, unknown>;
  stopped: Promise<string>;
}

function startServer(mode: 'bare' | 'same-work' | 'affix', env: Record<string, string> = {}): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench', 'server.ts'), mode], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let resolveStopped: (s: string) => void = () => {};
    const stopped = new Promise<string>((r) => (resolveStopped = r));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /READY (\d+) (.*)\n/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), info: JSON.parse(m[2]!) as Record<string, unknown>, stopped });
    });
    child.on('exit', (code) => {
      resolveStopped(out);
      if (!/READY/.test(out)) reject(new Error(`${mode} server exited with ${code}`));
    });
  });
}

async function stop(s: Started): Promise<Record<string, number> | null> {
  s.child.kill('SIGTERM');
  const out = await s.stopped;
  const m = /STORED (.*)/.exec(out);
  return m ? (JSON.parse(m[1]!) as Record<string, number>) : null;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx3xx: number;
}

async function load(opts: autocannon.Options): Promise<Result> {
  const r = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts });
  const bad = Object.entries(r.statusCodeStats ?? {})
    .filter(([code]) => !/^[23]/.test(code))
    .reduce((n, [, v]) => n + (v as { count: number }).count, 0);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx3xx: bad,
  };
}

/** One request of a scenario as autocannon would send it (its body made by `setupRequest`). */
interface Scenario {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  setupRequest?: (req: autocannon.Request) => autocannon.Request;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });

/**
 * An open-loop load at a steady rate: a request is due every 1/rate s whatever the answers, and its
 * latency counts from when it was due (so a stall delays and counts every request behind it).
 * autocannon's `overallRate` sends each second's requests at once and then waits, which measures
 * bursts at full speed rather than the latency at that rate.
 */
function paced(base: string, scenario: Scenario, rate: number, seconds: number): Promise<Result> {
  return new Promise((resolve) => {
    const latencies: number[] = [];
    let errors = 0;
    let bad = 0;
    let sent = 0;
    let done = 0;
    const total = Math.max(1, Math.floor(rate * seconds));
    const start = performance.now();
    const send = (due: number) => {
      const req = scenario.setupRequest?.({ ...scenario } as autocannon.Request) ?? scenario;
      const body = (req as { body?: string }).body;
      const r = http.request(
        `${base}${scenario.path}`,
        {
          method: scenario.method,
          headers: { ...scenario.headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
          agent,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - due);
            if (!/^[23]/.test(String(res.statusCode))) bad++;
            finish();
          });
        },
      );
      r.on('error', () => {
        errors++;
        finish();
      });
      r.end(body);
    };
    const finish = () => {
      if (++done < total) return;
      latencies.sort((a, b) => a - b);
      const at = (q: number) =>
        Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
      resolve({
        rps: done / ((performance.now() - start) / 1000),
        p50: at(0.5),
        p99: at(0.99),
        errors,
        non2xx3xx: bad,
      });
    };
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
      for (; sent < due; sent++) send(start + (sent * 1000) / rate);
      if (sent >= total) clearInterval(timer);
    }, 1);
  });
}

let orderCounter = 0;
const scenarios = (info: Record<string, unknown>) => ({
  'POST /t/click': {
    method: 'POST' as const,
    path: '/t/click',
    headers: { 'content-type': 'text/plain' },
    setupRequest: (req: autocannon.Request) => ({
      ...req,
      body: JSON.stringify({
        url: `https://shop.example/?a_aid=${String(info.affiliate)}&a_bid=${String(info.bannerId)}&n=${orderCounter++}`,
      }),
    }),
  },
  'GET /r': { method: 'GET' as const, path: `/r?a_aid=${String(info.affiliate)}&a_bid=${String(info.bannerId)}` },
  'GET /<alias>': {
    method: 'GET' as const,
    path: `/${String(info.alias)}?sub_id_1=zone7`,
    headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36' },
  },
  'POST /t/sale': {
    method: 'POST' as const,
    path: '/t/sale',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req: autocannon.Request) => ({
      ...req,
      body: JSON.stringify({
        orderId: `B-${process.pid}-${orderCounter++}`,
        totalCost: 120.5,
        productId: 'sku-1',
        coupon: 'BENCH10',
      }),
    }),
  },
});

const pad = (s: string | number, n: number) => String(s).padEnd(n);
const fmt = (n: number) => n.toFixed(0);

async function main(): Promise<void> {
  console.log(
    `Affix bench: ${os.cpus().length} cores, ${SECONDS}s per run, ${CONNECTIONS} connections, ${WORKERS} server process(es), node ${process.version}`,
  );
  // Both baselines stay up the whole run and are measured again beside each endpoint, just before
  // Affix: this machine's speed drifts from minute to minute, and a ratio is only as good as the
  // nearness of its two measurements.
  const bareServer = await startServer('bare');
  const sameWorkServer = await startServer('same-work');
  const sameWorkScenarios = scenarios({ affiliate: 'bench', bannerId: 1, alias: 'bench' });
  const baselines = async (label: string) => {
    const bare = await load({ url: `http://127.0.0.1:${bareServer.port}/r` });
    const opts = sameWorkScenarios[label as keyof typeof sameWorkScenarios];
    const same = await load({ url: `http://127.0.0.1:${sameWorkServer.port}${opts.path}`, requests: [opts] });
    return { bare: bare.rps, same: same.rps };
  };
  const bareRates: number[] = [];

  const workers = WORKERS > 1 ? ` ×${WORKERS}` : '';
  const targets: Array<[string, Record<string, string>]> = [
    [`SQLite${workers}`, { DATABASE_URL: `sqlite:${path.join(os.tmpdir(), `affix-bench-${process.pid}.sqlite`)}` }],
  ];
  if (MYSQL_URL !== 'off') targets.push([`MariaDB${workers}`, { DATABASE_URL: MYSQL_URL }]);
  for (const [, env] of targets) env.BENCH_WORKERS = String(WORKERS);

  const rows: string[] = [];
  rows.push(
    `${pad('database', 12)} ${pad('endpoint', 14)} ${pad('req/s', 8)} ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} ${pad('fixed302', 8)} ${pad('samework', 8)} ${pad('ratio', 6)} ${pad('same-work', 9)} ${pad('p50@½own', 9)} ${pad('p99@½own', 9)} errors`,
  );
  for (const [name, env] of targets) {
    let server: Started;
    try {
      server = await startServer('affix', env);
    } catch (err) {
      console.log(`${name}: skipped (${(err as Error).message})`);
      continue;
    }
    for (const [label, opts] of Object.entries(scenarios(server.info))) {
      const base = await baselines(label);
      bareRates.push(base.bare);
      const url = `http://127.0.0.1:${server.port}${opts.path}`;
      const full = await load({ url, requests: [opts] });
      const atHalfOwn = await paced(
        `http://127.0.0.1:${server.port}`,
        opts,
        Math.max(1, Math.floor(full.rps / 2)),
        SECONDS,
      );
      rows.push(
        `${pad(name, 12)} ${pad(label, 14)} ${pad(fmt(full.rps), 8)} ${pad(full.p50, 7)} ${pad(full.p99, 7)} ${pad(fmt(base.bare), 8)} ${pad(fmt(base.same), 8)} ${pad((full.rps / base.bare).toFixed(2), 6)} ${pad((full.rps / base.same).toFixed(2), 9)} ${pad(atHalfOwn.p50, 9)} ${pad(atHalfOwn.p99, 9)} ${full.errors + full.non2xx3xx + atHalfOwn.errors + atHalfOwn.non2xx3xx}`,
      );
      console.log(rows[rows.length - 1]);
    }
    const stored = await stop(server);
    if (stored) console.log(`${name}: stored ${stored.clicks} clicks and ${stored.sales} sales`);
  }
  await stop(bareServer);
  await stop(sameWorkServer);
  console.log(`\n${rows.join('\n')}`);
  console.log(
    `\nfixed302 and samework = req/s of the two baselines, measured just before the endpoint on Affix (bare Koa answering a fixed 302, from ${fmt(Math.min(...bareRates))} to ${fmt(Math.max(...bareRates))} req/s in this run; bare Koa doing the endpoint's HTTP work — body or query, cookie, the same JSON or 302 — without storage); ratio = req/s ÷ fixed302; same-work = req/s ÷ samework; p50@½own and p99@½own = latency at half the endpoint's own maximum rate, sent at an even pace (open loop: each request counts from when it was due).`,
  );
}

await main();
