import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { DatabaseTarget } from '../config.js';

export type Db = Knex;
export type Dialect = 'sqlite' | 'mysql';

/**
 * Every dialect difference lives here. Queries elsewhere call these helpers instead of
 * branching on the client.
 */
export interface DialectHelper {
  dialect: Dialect;
  /** True when the error is a unique-key violation. */
  isUniqueViolation(err: unknown): boolean;
  /** True when the error is a foreign-key violation. */
  isForeignKeyViolation(err: unknown): boolean;
  /**
   * INSERT rows; on a key conflict add the `increment` columns to the stored row instead
   * (counters such as impressions per day). `keys` are the conflict columns.
   */
  upsertIncrement(
    db: Knex,
    table: string,
    keys: string[],
    rows: Array<Record<string, string | number>>,
    increment: string[],
  ): Promise<void>;
}

export function dialectOf(db: Knex): Dialect {
  const client = db.client.config.client as string;
  return client === 'better-sqlite3' ? 'sqlite' : 'mysql';
}

export function dialectHelper(db: Knex): DialectHelper {
  const dialect = dialectOf(db);
  const code = (err: unknown): string => {
    if (err && typeof err === 'object' && 'code' in err) return String((err as { code: unknown }).code);
    return '';
  };
  return {
    dialect,
    isUniqueViolation: (err) =>
      dialect === 'sqlite'
        ? code(err) === 'SQLITE_CONSTRAINT_UNIQUE' || code(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY'
        : code(err) === 'ER_DUP_ENTRY',
    isForeignKeyViolation: (err) =>
      dialect === 'sqlite'
        ? code(err) === 'SQLITE_CONSTRAINT_FOREIGNKEY'
        : code(err) === 'ER_NO_REFERENCED_ROW_2' || code(err) === 'ER_ROW_IS_REFERENCED_2',
    async upsertIncrement(conn, table, keys, rows, increment) {
      if (!rows.length) return;
      const merge: Record<string, Knex.Raw> = {};
      for (const col of increment) {
        merge[col] =
          dialect === 'sqlite'
            ? conn.raw('?? + excluded.??', [`${table}.${col}`, col])
            : conn.raw('?? + VALUES(??)', [`${table}.${col}`, col]);
      }
      await conn(table).insert(rows).onConflict(keys).merge(merge);
    },
  };
}

export function openDatabase(target: DatabaseTarget): Knex {
  if (target.client === 'sqlite') {
    if (target.filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(target.filename)), { recursive: true });
    return knexFactory({
      client: 'better-sqlite3',
      connection: { filename: target.filename },
      useNullAsDefault: true,
      // One connection: better-sqlite3 is synchronous, and one writer avoids SQLITE_BUSY.
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
          conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = NORMAL');
          conn.pragma('foreign_keys = ON');
          conn.pragma('busy_timeout = 5000');
          done(null, conn);
        },
      },
    });
  }
  return knexFactory({
    client: 'mysql2',
    connection: {
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      charset: 'utf8mb4',
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: false,
    },
    pool: { min: 0, max: 10 },
  });
}

/** Create the MySQL database named in the target if it does not exist (used at start and by tests). */
export async function ensureDatabaseExists(target: DatabaseTarget): Promise<void> {
  if (target.client !== 'mysql') return;
  const admin = knexFactory({
    client: 'mysql2',
    connection: { host: target.host, port: target.port, user: target.user, password: target.password },
    pool: { min: 0, max: 1 },
  });
  try {
    await admin.raw('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [
      target.database,
    ]);
  } finally {
    await admin.destroy();
  }
}

export async function dropDatabase(target: DatabaseTarget): Promise<void> {
  if (target.client !== 'mysql') {
    if (target.filename !== ':memory:') {
      for (const suffix of ['', '-wal', '-shm']) fs.rmSync(target.filename + suffix, { force: true });
    }
    return;
  }
  const admin = knexFactory({
    client: 'mysql2',
    connection: { host: target.host, port: target.port, user: target.user, password: target.password },
    pool: { min: 0, max: 1 },
  });
  try {
    await admin.raw('DROP DATABASE IF EXISTS ??', [target.database]);
  } finally {
    await admin.destroy();
  }
}
