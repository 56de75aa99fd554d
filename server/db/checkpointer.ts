import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/**
 * The WAL checkpoints of an SQLite database file, run on a worker thread with its own connection.
 *
 * In WAL mode a commit appends the pages it changed to the `-wal` file, and a checkpoint copies
 * them back into the database file and syncs it. By default the connection whose commit takes the
 * WAL past 1,000 pages runs that checkpoint inside its COMMIT: on the tracking writers, which run
 * on the thread that answers requests, that stalled every request for tens to hundreds of
 * milliseconds about once a second under load. This thread runs a PASSIVE checkpoint (it never
 * blocks a reader or a writer) every `CHECKPOINT_EVERY_MS`, so the serving connection's commits
 * only append. That connection keeps its own threshold as a backstop (`BACKSTOP_PAGES`): it is
 * also what restarts the WAL from its beginning, and it takes over should this thread stop.
 */
export interface Checkpointer {
  /** Stops the thread and closes its connection. */
  stop(): Promise<void>;
}

/** The serving connection's own checkpoint threshold (pages) while the checkpointer runs. */
export const BACKSTOP_PAGES = 8000;

export const CHECKPOINT_EVERY_MS = 50;

// Plain JavaScript (the thread loads no TypeScript): checkpoint, and close on the first message.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Another checkpoint is running (another process on the same file): the next round goes on.
  }
}, workerData.everyMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');

/** Starts the checkpoints of a database file, or answers null when no thread could be started. */
export function startCheckpointer(filename: string, onError: (err: Error) => void): Checkpointer | null {
  let worker: Worker;
  try {
    worker = new Worker(WORKER, {
      eval: true,
      workerData: { module: betterSqlite3, filename, everyMs: CHECKPOINT_EVERY_MS },
    });
  } catch (err) {
    onError(err as Error);
    return null;
  }
  // It must not keep the process alive; if it fails, the backstop threshold checkpoints.
  worker.unref();
  worker.on('error', onError);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.postMessage('stop');
      const timeout = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
