import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Knex } from 'knex';
import { freshDatabaseTarget, dialectName } from '../helpers/app.js';
import { dropDatabase, ensureDatabaseExists, openDatabase, dialectHelper } from '../../server/db/index.js';
import { transaction } from '../../server/db/transaction.js';
import { AppError } from '../../server/errors.js';
import type { DatabaseTarget } from '../../server/config.js';

/*
 * The one retry mechanism of write transactions (SPEC §16): what the database aborts for reasons
 * of concurrency runs again and commits once; anything else fails at once.
 */

const sqliteOnly = dialectName() === 'sqlite' ? false : 'SQLite only';
const mysqlOnly = dialectName() === 'mysql' ? false : 'MySQL/MariaDB only';

/** Resolves when `n` callers have arrived. */
function barrier(n: number): () => Promise<void> {
  let waiting = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  return () => {
    if (++waiting === n) release();
    return all;
  };
}

describe(`transaction(db, fn) on ${dialectName()}`, () => {
  let target: DatabaseTarget;
  let db: Knex;

  before(async () => {
    target = freshDatabaseTarget();
    await ensureDatabaseExists(target);
    db = openDatabase(target);
    await db.schema.createTable('counters', (t) => {
      t.integer('id').primary();
      t.integer('n').notNullable();
    });
    await db('counters').insert([
      { id: 1, n: 0 },
      { id: 2, n: 0 },
    ]);
  });
  after(async () => {
    await db.destroy();
    await dropDatabase(target);
  });

  test('a real deadlock: the victim runs again and both transactions commit once', { skip: mysqlOnly }, async () => {
    const runs = { a: 0, b: 0 };
    const bothLocked = barrier(2);
    const bump = (first: number, second: number, who: 'a' | 'b') =>
      transaction(db, async (trx) => {
        runs[who]++;
        await trx('counters').where({ id: first }).increment('n', 1);
        // Only the first run of each waits for the other: the two hold one row each, then cross.
        if (runs[who] === 1) await bothLocked();
        await trx('counters').where({ id: second }).increment('n', 10);
      });
    await Promise.all([bump(1, 2, 'a'), bump(2, 1, 'b')]);
    assert.equal(runs.a + runs.b, 3, `one of them was the deadlock victim and ran again (${JSON.stringify(runs)})`);
    const rows = (await db('counters').orderBy('id')) as Array<{ id: number; n: number }>;
    assert.deepEqual(
      rows.map((r) => Number(r.n)),
      [11, 11],
      'each transaction committed exactly once',
    );
  });

  test('an error of the content is not retried', async () => {
    let runs = 0;
    await assert.rejects(
      transaction(db, async (trx) => {
        runs++;
        await trx('counters').insert({ id: 1, n: 5 });
      }),
      (err) => dialectHelper(db).isUniqueViolation(err),
    );
    assert.equal(runs, 1);
    runs = 0;
    await assert.rejects(
      transaction(db, async () => {
        runs++;
        throw new AppError('conflict', 'no');
      }),
      AppError,
    );
    assert.equal(runs, 1);
  });

  test('retryIf adds errors that are worth another run (a lost unique-key race)', async () => {
    let runs = 0;
    const id = await transaction(
      db,
      async (trx) => {
        runs++;
        const next = runs === 1 ? 2 : 3; // the first run collides, the second finds a free key
        await trx('counters').insert({ id: next, n: 0 });
        return next;
      },
      { retryIf: (err) => dialectHelper(db).isUniqueViolation(err) },
    );
    assert.equal(runs, 2);
    assert.equal(id, 3);
  });

  test(
    'SQLITE_BUSY from another connection holding the write lock: retried until it is released',
    { skip: sqliteOnly, timeout: 60_000 },
    async () => {
      if (target.client !== 'sqlite') return;
      const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => {
        exec(sql: string): void;
        close(): void;
      };
      const before = Number(((await db('counters').where({ id: 2 }).first()) as { n: number }).n);
      const other = new Database(target.filename);
      other.exec('BEGIN IMMEDIATE');
      let runs = 0;
      const busy = (err: unknown) => String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY');
      const seenBusy: unknown[] = [];
      const done = transaction(db, async (trx) => {
        runs++;
        try {
          await trx('counters').where({ id: 2 }).increment('n', 100);
        } catch (err) {
          if (busy(err)) seenBusy.push(err);
          // The first run waited out the busy timeout: let the other connection finish now.
          if (seenBusy.length === 1) {
            other.exec('COMMIT');
            other.close();
          }
          throw err;
        }
      });
      await done;
      assert.equal(seenBusy.length, 1, 'the first run met SQLITE_BUSY');
      assert.equal(runs, 2, 'and the transaction ran again');
      const row = (await db('counters').where({ id: 2 }).first()) as { n: number };
      assert.equal(Number(row.n), before + 100, 'committed once');
    },
  );
});
