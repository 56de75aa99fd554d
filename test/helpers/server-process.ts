import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import type { DatabaseTarget } from '../../server/config.js';

/** The DATABASE_URL of a target (for a server started as its own process). */
export const databaseUrl = (t: DatabaseTarget) =>
  t.client === 'sqlite' ? `sqlite:${t.filename}` : `mysql://${t.user}:${t.password}@${t.host}:${t.port}/${t.database}`;

export const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once('exit', () => r()));

export const randomPort = () => 20_000 + Math.floor(Math.random() * 20_000);

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  /** What it wrote (its log and errors) so far. */
  stderr(): string;
}

/** Starts `server/index.ts` as a real process and waits until /healthz answers. */
export async function startServerProcess(env: Record<string, string>, port = randomPort()): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      AFFIX_SECRET: 'cluster-secret-0123456789abcdef0123456789',
      AFFIX_OWNER_EMAIL: 'owner@example.com',
      AFFIX_OWNER_PASSWORD: 'correct horse battery',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (err += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return { child, base, stderr: () => err };
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start: ${err.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pids of a process's children (the cluster's workers). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there is none
  }
}
