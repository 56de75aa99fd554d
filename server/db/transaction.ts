import type { Knex } from 'knex';
import { dialectHelper } from './index.js';

export interface TransactionOptions {
  /**
   * Also runs again on these errors: e.g. the loser of a race on a unique key, which on its
   * next run finds the winner's row.
   */
  retryIf?: (err: unknown) => boolean;
  /** Runs at most this many times (default 6). */
  attempts?: number;
  /**
   * MySQL/MariaDB: READ COMMITTED instead of REPEATABLE READ. Locking reads then lock the rows
   * they find and no gaps around them, so writers inserting new keys do not deadlock on each
   * other's gap locks; a transaction that must know a key is new inserts it plainly and runs again
   * on a duplicate (`retryIf`). SQLite has one writer and ignores it.
   */
  readCommitted?: boolean;
}

const pause = (attempt: number) =>
  // Random, growing pauses so the transactions that collided do not collide again in step.
  new Promise((resolve) => setTimeout(resolve, Math.round((5 + Math.random() * 20) * 2 ** (attempt - 1))));

/**
 * Runs `fn` in a transaction, and runs it again from the start when the database aborted it for
 * reasons of concurrency (what `DialectHelper.isRetriable` says: a deadlock, a lock wait timeout,
 * a Galera certification conflict, a busy SQLite file). Every write transaction goes through
 * here, so `fn` must keep its state inside: it may run more than once, and only its last run's
 * effects are committed.
 *
 * Inside a transaction this opens a savepoint and retries nothing: the database rolled back the
 * outer transaction, so that is what must run again.
 */
export async function transaction<T>(
  db: Knex,
  fn: (trx: Knex.Transaction) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  if ((db as Knex.Transaction).isTransaction) return db.transaction(fn);
  const dialect = dialectHelper(db);
  const attempts = Math.max(1, opts.attempts ?? 6);
  const config = opts.readCommitted && dialect.dialect === 'mysql' ? { isolationLevel: 'read committed' as const } : {};
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn, config);
    } catch (err) {
      const retriable = dialect.isRetriable(err) || (opts.retryIf?.(err) ?? false);
      if (!retriable || attempt >= attempts) throw err;
      await pause(attempt);
    }
  }
}
