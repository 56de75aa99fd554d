import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Knex } from 'knex';
import { dropDatabase, openDatabase } from '../../server/db/index.js';
import { BACKSTOP_PAGES } from '../../server/db/checkpointer.js';
import { poll, sleep } from '../helpers/async.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => {
  pragma(s: string): unknown;
  prepare(sql: string): { run(...args: unknown[]): unknown };
  close(): void;
};

/**
 * An SQLite file's WAL checkpoints run on their own thread (server/db/checkpointer.ts), not inside
 * the COMMIT of the connection that serves requests. Whatever DATABASE_URL the suite runs on, this
 * uses a file of its own. The database file only grows when a checkpoint copies pages into it.
 */
describe('SQLite WAL checkpoints', () => {
  const filename = path.join(os.tmpdir(), `affix-checkpoints-${process.pid}-${Date.now()}.sqlite`);
  const target = { client: 'sqlite' as const, filename };
  const size = () => fs.statSync(filename).size;
  const row = 'x'.repeat(3000);
  let db: Knex;

  before(async () => {
    db = openDatabase(target);
    await db.schema.createTable('pages', (t) => {
      t.increments('id');
      t.text('body').notNullable();
    });
  });
  after(() => dropDatabase(target));

  test('commits append to the WAL, and another thread copies them into the database file', async () => {
    const [setting] = (await db.raw('PRAGMA wal_autocheckpoint')) as Array<{ wal_autocheckpoint: number }>;
    assert.equal(setting?.wal_autocheckpoint, BACKSTOP_PAGES, 'the serving connection leaves checkpoints alone');
    const start = size();
    // 300 commits of about one page each: under SQLite's own threshold of 1,000 pages, so no
    // commit checkpoints; only the checkpoint thread moves them into the file.
    for (let i = 0; i < 300; i++) await db('pages').insert({ body: row });
    await poll('the database file to hold the committed pages', async () => size() >= start + 300 * 3000 || null, 5000);
    assert.equal(Number((await db('pages').count({ n: '*' }).first())?.n), 300);
  });

  test('closing the database stops its checkpoint thread', async () => {
    await db.destroy();
    const other = new Database(filename);
    other.pragma('wal_autocheckpoint = 0');
    const insert = other.prepare('INSERT INTO pages (body) VALUES (?)');
    const before = size();
    for (let i = 0; i < 100; i++) insert.run(row);
    await sleep(500);
    assert.equal(size(), before, 'nothing checkpointed the new pages');
    other.close();
  });
});
