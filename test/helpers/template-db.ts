import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { DatabaseTarget } from '../../server/config.js';
import { ensureDatabaseExists, openDatabase } from '../../server/db/index.js';
import { migrateLatest } from '../../server/db/migrate.js';

/*
 * Migrations run once per test run, into a template; each test file copies the template instead of
 * migrating its own database (Ghost's test utils restore a snapshot the same way). `npm test`
 * builds the template and names it in AFFIX_TEST_TEMPLATE; a test file run on its own migrates.
 *
 * SQLite: the template is one database file, copied per test file.
 * MariaDB/MySQL: the template is its schema as `SHOW CREATE TABLE` statements plus the rows the
 * migrations wrote, replayed into each new database.
 */

export type Template =
  | { client: 'sqlite'; file: string }
  | { client: 'mysql'; tables: Array<{ name: string; ddl: string; rows: Array<Record<string, unknown>> }> };

const ENV = 'AFFIX_TEST_TEMPLATE';

function adminConnection(
  target: Extract<DatabaseTarget, { client: 'mysql' }>,
  database?: string,
  // Rows are dumped with DATETIME values as text, so they replay exactly as stored.
  dateStrings = false,
): Knex {
  return knexFactory({
    client: 'mysql2',
    connection: {
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database,
      charset: 'utf8mb4',
      timezone: 'Z',
      dateStrings,
    },
    pool: { min: 1, max: 1 },
  });
}

/** Migrates a template for `target`'s kind of database and writes its description to a file. */
export async function buildTemplate(target: DatabaseTarget): Promise<string> {
  const out = path.join(os.tmpdir(), `affix-test-template-${process.pid}.json`);
  let template: Template;
  if (target.client === 'sqlite') {
    const file = path.join(os.tmpdir(), `affix-test-template-${process.pid}.sqlite`);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
    const db = openDatabase({ client: 'sqlite', filename: file });
    await migrateLatest(db);
    await db.destroy();
    // One self-contained file: the WAL folded in, so a plain copy is the whole database. The
    // switch needs the file to itself, so it is made once the server's connections (its WAL
    // checkpoint thread among them) are closed.
    const own = knexFactory({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true });
    await own.raw('PRAGMA journal_mode = DELETE');
    await own.destroy();
    template = { client: 'sqlite', file };
  } else {
    const name = `${target.database}_template`.slice(0, 64);
    const t = { ...target, database: name };
    const admin = adminConnection(target);
    await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
    await admin.destroy();
    await ensureDatabaseExists(t);
    const migrated = openDatabase(t);
    await migrateLatest(migrated);
    await migrated.destroy();
    const db = adminConnection(target, name, true);
    const [list] = (await db.raw('SHOW FULL TABLES WHERE Table_type = ?', ['BASE TABLE'])) as [
      Array<Record<string, string>>,
    ];
    const tables: Extract<Template, { client: 'mysql' }>['tables'] = [];
    for (const entry of list) {
      const table = Object.values(entry)[0] as string;
      const [[ddl]] = (await db.raw('SHOW CREATE TABLE ??', [table])) as [Array<Record<string, string>>];
      const rows = (await db(table).select('*')) as Array<Record<string, unknown>>;
      tables.push({ name: table, ddl: ddl?.['Create Table'] as string, rows });
    }
    await db.destroy();
    const cleanup = adminConnection(target);
    await cleanup.raw('DROP DATABASE IF EXISTS ??', [name]);
    await cleanup.destroy();
    template = { client: 'mysql', tables };
  }
  fs.writeFileSync(out, JSON.stringify(template));
  return out;
}

function templateFor(target: DatabaseTarget): Template | null {
  const file = process.env[ENV];
  if (!file || !fs.existsSync(file)) return null;
  const template = JSON.parse(fs.readFileSync(file, 'utf8')) as Template;
  return template.client === target.client ? template : null;
}

/** Creates `target` with the current schema: a copy of the run's template, else by migrating. */
export async function prepareDatabase(target: DatabaseTarget): Promise<void> {
  const template = templateFor(target);
  if (!template) {
    await ensureDatabaseExists(target);
    const db = openDatabase(target);
    try {
      await migrateLatest(db);
    } finally {
      await db.destroy();
    }
    return;
  }
  if (template.client === 'sqlite' && target.client === 'sqlite') {
    fs.copyFileSync(template.file, target.filename);
    return;
  }
  if (template.client !== 'mysql' || target.client !== 'mysql') return;
  await ensureDatabaseExists(target);
  // One connection, so the session's FOREIGN_KEY_CHECKS=0 covers tables created before those they reference.
  const db = adminConnection(target, target.database);
  try {
    await db.raw('SET FOREIGN_KEY_CHECKS = 0');
    for (const t of template.tables) await db.raw(t.ddl);
    for (const t of template.tables) if (t.rows.length) await db(t.name).insert(t.rows);
    await db.raw('SET FOREIGN_KEY_CHECKS = 1');
  } finally {
    await db.destroy();
  }
}
