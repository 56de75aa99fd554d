import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** A worker that dies sooner than this after its start counts as crashing at start-up. */
const QUICK_DEATH_MS = 5_000;
/** Longest pause before forking again a worker that keeps dying at start-up. */
const MAX_RESTART_PAUSE_MS = 30_000;

/**
 * The primary process of `WORKERS=N` (SPEC §16): forks N server processes that share the
 * listening port, forks a new one when one dies (a crash loses nothing acknowledged: a request
 * is answered only after its event is committed), and on SIGTERM / SIGINT passes the signal on
 * and waits until every worker has drained its writers and exited.
 */
export function runPrimary(count: number, log: Logger): void {
  let stopping = false;
  const started = new Map<number, number>();
  let pause = 0;

  const fork = (): Worker => {
    const worker = cluster.fork();
    started.set(worker.id, Date.now());
    log.info({ worker: worker.id, pid: worker.process.pid }, 'server process started');
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (started.get(worker.id) ?? 0);
    started.delete(worker.id);
    if (stopping) {
      if (!Object.keys(cluster.workers ?? {}).length) {
        log.info('every server process has stopped');
        process.exit(0);
      }
      return;
    }
    // A worker that keeps dying at once (a bad database URL, a port taken) is not forked in a
    // tight loop: the pause doubles up to 30 s, and resets once one lives.
    pause = lived < QUICK_DEATH_MS ? Math.min(MAX_RESTART_PAUSE_MS, Math.max(500, pause * 2)) : 0;
    log.error(
      { worker: worker.id, pid: worker.process.pid, code, signal, restartInMs: pause },
      'server process died; starting another',
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, pause);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down every server process');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (!workers.length) process.exit(0);
    for (const w of workers) w.process.kill(signal);
    // A worker stuck past its own deadline is not waited for forever.
    setTimeout(() => process.exit(1), 30_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  for (let i = 0; i < count; i++) fork();
}
