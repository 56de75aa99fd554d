import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createRequire } from 'node:module';
import type { DatabaseTarget } from '../config.js';
import { BACKSTOP_PAGES, startCheckpointer, type Checkpointer } from './checkpointer.js';

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
   * True when the database aborted the transaction for reasons of concurrency, not of its
   * content, so running it again can succeed: a deadlock victim, a lock wait that timed out, a
   * Galera certification conflict, a busy SQLite file.
   */
  isRetriable(err: unknown): boolean;
  /**
   * ` FOR UPDATE` on MySQL, '' on SQLite (one writer, nothing to lock): a read inside a writer's
   * transaction that decides what it writes (a visitor's referral, an open accumulator row)
   * locks what it read, so the writers of several processes wait for each other instead of
   * writing over each other (SPEC §16).
   */
  forUpdate: string;
  /** The same for a knex query: `.forUpdate()` on MySQL, the query as it is on SQLite (which would warn). */
  lockRows<Q extends Knex.QueryBuilder>(query: Q): Q;
  /**
   * INSERT rows; on a key conflict add the `increment` columns to the stored row instead
   * (counters such as impressions per day). `keys` are the conflict columns.
   */
  upsertIncrement(
    db: Knex,
    table: string,
    keys: string[],
    rows: Array<Record<string, string | number | Knex.Raw>>,
    increment: string[],
  ): Promise<void>;
  /**
   * INSERT many rows of the same shape inside a transaction: on SQLite one cached prepared
   * statement run per row (no SQL building per batch), on MySQL multi-row INSERTs.
   * With `upsertKeys`, a conflicting row replaces the stored one's other columns.
   */
  insertRows(
    trx: Knex.Transaction,
    table: string,
    rows: Array<Record<string, Cell>>,
    upsertKeys?: string[],
  ): Promise<void>;
  /** insertRows with the values already laid out per `columns` (no object per row). */
  insertValues(
    trx: Knex.Transaction,
    table: string,
    columns: readonly string[],
    values: Cell[][],
    upsertKeys?: string[],
  ): Promise<void>;
  /**
   * A read on a hot path: plain SQL with `?` placeholders, run as a cached prepared statement on
   * SQLite (no query building), through knex.raw on MySQL.
   */
  select<T>(db: Knex, sql: string, bindings: Cell[]): Promise<T[]>;
  /** INSERT one row inside a transaction and return its auto-increment id (cached statement on SQLite). */
  insertOne(db: Knex, table: string, row: Record<string, Cell>): Promise<number>;
  /**
   * INSERT rows of the same shape inside a transaction and return their auto-increment ids in
   * order; all of them or none (a failure undoes the call's rows and throws). On MariaDB one
   * `INSERT … RETURNING id` per 500 rows (one round trip instead of one per row), on SQLite a
   * cached statement per row; on MySQL, which has no RETURNING, one INSERT per row.
   */
  insertMany(trx: Knex.Transaction, table: string, rows: Array<Record<string, Cell>>): Promise<number[]>;
  /**
   * True when a write failed because a BIGINT counter would pass its range: MariaDB's BIGINT
   * arithmetic fails by itself; on SQLite (which would silently turn the value into a REAL) the
   * CHECK of `counterCheck` fails. Either way only the failing statement is undone.
   */
  isCounterOverflow(err: unknown): boolean;
  /** The CHECK (SQL) that keeps an integer column an exact integer, where the database needs one. */
  counterCheck(column: string): string | null;
  /**
   * Select items that read an integer column (`sum`: its SUM) exactly as two small parts, the
   * quotient and the remainder by 10^9, so that neither the database's sum nor the driver's
   * number can overflow or round: combine them with `splitValue`.
   */
  splitInteger(db: Knex, column: string, alias: string, aggregate: 'sum' | 'value'): Knex.Raw[];
  /**
   * Makes text columns compare exactly, byte for byte, as SQLite's BINARY does (SPEC §10a): on
   * MySQL/MariaDB they take a binary NO PAD collation (the default utf8mb4_unicode_ci ignores
   * case, accents and trailing spaces). For migrations; a no-op on SQLite.
   */
  exactTextColumns(db: Knex, table: string, columns: string[]): Promise<void>;
  /** The collation for new exact-key columns (`t.string(…).collate(…)`; SQLite ignores it). */
  exactCollation(db: Knex): Promise<string>;
}

/** 10^9: the divisor of `splitInteger`. */
const SPLIT = 1_000_000_000;

/** The exact value of a column read with `splitInteger` under `alias`. */
export function splitValue(row: Record<string, unknown> | undefined, alias: string): bigint {
  const part = (v: unknown) => (v === null || v === undefined || v === '' ? 0n : BigInt(v as string | number));
  return part(row?.[`${alias}__q`]) * BigInt(SPLIT) + part(row?.[`${alias}__r`]);
}

export type Cell = string | number | null;

interface SqliteStatement {
  run(...params: Cell[]): { lastInsertRowid: number | bigint };
  all(...params: Cell[]): unknown[];
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
const statementCache = new WeakMap<object, Map<string, SqliteStatement>>();

function sqliteStatement(conn: SqliteConnection, sql: string): SqliteStatement {
  let cache = statementCache.get(conn);
  if (!cache) statementCache.set(conn, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = conn.prepare(sql)));
  return stmt;
}

/** Most distinct statements kept prepared per connection (batch inserts vary in row count). */
const PREPARED_LIMIT = 500;

/**
 * knex prepares every statement it runs again, BEGIN and COMMIT included, which on the hot
 * click paths costs as much as running several of them. better-sqlite3 runs statements
 * synchronously, so one prepared statement per SQL text can be reused; SQLite re-prepares it
 * itself after a schema change.
 */
function cachePreparedStatements(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, SqliteStatement>();
  conn.prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      if (cache.size >= PREPARED_LIMIT) cache.clear();
      cache.set(sql, (stmt = prepare(sql)));
    }
    return stmt;
  };
}

/** A row of plain values (no raw SQL in it), which a prepared statement can bind. */
const plainCells = (row: Record<string, unknown>) => {
  for (const k in row) if (typeof row[k] === 'object' && row[k] !== null) return false;
  return true;
};

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteMysql = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** The connection of a transaction on SQLite: knex hands out the transaction's own. */
const ownConnection = async (trx: Knex): Promise<SqliteConnection> =>
  (await (trx.client as { acquireConnection(): Promise<SqliteConnection> }).acquireConnection()) as SqliteConnection;

/** The SQLite INSERT of one row of these columns. */
const sqliteInsert = (table: string, columns: readonly string[]) =>
  `INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;

/** Runs synchronous statements under a savepoint of the connection: all of them or none. */
function underSavepoint<T>(conn: SqliteConnection, fn: () => T): T {
  sqliteStatement(conn, 'SAVEPOINT affix_batch').run();
  try {
    const out = fn();
    sqliteStatement(conn, 'RELEASE affix_batch').run();
    return out;
  } catch (err) {
    sqliteStatement(conn, 'ROLLBACK TO affix_batch').run();
    sqliteStatement(conn, 'RELEASE affix_batch').run();
    throw err;
  }
}

export function dialectOf(db: Knex): Dialect {
  const client = db.client.config.client as string;
  return client === 'better-sqlite3' ? 'sqlite' : 'mysql';
}

/** A trivial query: resolves when the database answers (the health check). */
export async function ping(db: Knex): Promise<void> {
  await db.raw('select 1');
}

const helpers = new WeakMap<object, DialectHelper>();

export function dialectHelper(db: Knex): DialectHelper {
  // One helper per client configuration (a transaction shares its parent's).
  const key = db.client.config as object;
  let helper = helpers.get(key);
  if (!helper) helpers.set(key, (helper = makeDialectHelper(db)));
  return helper;
}

/**
 * Builds the helper of one client. It is long because it lists every small per-dialect function
 * of `DialectHelper` side by side (each a few lines), which keeps the two dialects readable together.
 */
function makeDialectHelper(db: Knex): DialectHelper {
  const dialect = dialectOf(db);
  const code = (err: unknown): string => {
    if (err && typeof err === 'object' && 'code' in err) return String((err as { code: unknown }).code);
    return '';
  };
  const message = (err: unknown): string => (err instanceof Error ? err.message : '');
  /** Whether the server knows INSERT … RETURNING (MariaDB does, MySQL does not): found on first use. */
  let returning: boolean | undefined;
  return {
    dialect,
    isUniqueViolation: (err) =>
      dialect === 'sqlite'
        ? code(err) === 'SQLITE_CONSTRAINT_UNIQUE' || code(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY'
        : code(err) === 'ER_DUP_ENTRY',
    forUpdate: dialect === 'sqlite' ? '' : ' FOR UPDATE',
    lockRows: (query) => (dialect === 'sqlite' ? query : (query.forUpdate() as typeof query)),
    isCounterOverflow: (err) =>
      dialect === 'sqlite'
        ? code(err) === 'SQLITE_CONSTRAINT_CHECK'
        : code(err) === 'ER_DATA_OUT_OF_RANGE' || code(err) === 'ER_WARN_DATA_OUT_OF_RANGE',
    counterCheck: (column) =>
      // -2^63 is left out: a negative overflow can round to it and pass as an integer.
      dialect === 'sqlite' ? `typeof(${quote(column)}) = 'integer' AND ${quote(column)} >= -9223372036854775807` : null,
    splitInteger(conn, column, alias, aggregate) {
      // MySQL/MariaDB sum integers exactly (as a DECIMAL, read as text): one SUM, no split.
      if (dialect === 'mysql' && aggregate === 'sum')
        return [conn.raw('0 AS ??', [`${alias}__q`]), conn.raw('SUM(??) AS ??', [column, `${alias}__r`])];
      // Integer division truncates toward zero on both (`/` of integers on SQLite, DIV on MySQL).
      const quotient = dialect === 'sqlite' ? `?? / ${SPLIT}` : `?? DIV ${SPLIT}`;
      const wrap = (sql: string) => (aggregate === 'sum' ? `SUM(${sql})` : sql);
      return [
        conn.raw(`${wrap(quotient)} AS ??`, [column, `${alias}__q`]),
        conn.raw(`${wrap(`?? % ${SPLIT}`)} AS ??`, [column, `${alias}__r`]),
      ];
    },
    async exactCollation(conn) {
      if (dialect === 'sqlite') return 'BINARY';
      const [rows] = (await conn.raw(
        "SHOW COLLATION WHERE Collation IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')",
      )) as [Array<{ Collation: string }>];
      const names = rows.map((r) => r.Collation);
      // MariaDB's NO PAD binary collation, else MySQL 8's, else the PAD SPACE one ("a" = "a ").
      return names.includes('utf8mb4_nopad_bin')
        ? 'utf8mb4_nopad_bin'
        : names.includes('utf8mb4_0900_bin')
          ? 'utf8mb4_0900_bin'
          : 'utf8mb4_bin';
    },
    async exactTextColumns(conn, table, columns) {
      if (dialect === 'sqlite' || !columns.length) return;
      const collation = await this.exactCollation(conn);
      const [info] = (await conn.raw(
        `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS def
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME IN (${columns.map(() => '?').join(', ')})`,
        [table, ...columns],
      )) as [Array<{ name: string; type: string; nullable: string; def: string | null }>];
      if (info.length !== columns.length)
        throw new Error(`exactTextColumns: ${table} lacks some of ${columns.join(', ')}`);
      const clauses = info.map((c) => {
        if (c.def !== null && c.def !== 'NULL') throw new Error(`exactTextColumns: ${table}.${c.name} has a default`);
        if (!/^(var)?char\(\d+\)$/i.test(c.type)) throw new Error(`exactTextColumns: ${table}.${c.name} is ${c.type}`);
        return `MODIFY ${quoteMysql(c.name)} ${c.type} CHARACTER SET utf8mb4 COLLATE ${collation} ${c.nullable === 'YES' ? 'NULL' : 'NOT NULL'}`;
      });
      // One ALTER per table: the table is rebuilt once.
      await conn.raw(`ALTER TABLE ${quoteMysql(table)} ${clauses.join(', ')}`);
    },
    isForeignKeyViolation: (err) =>
      dialect === 'sqlite'
        ? code(err) === 'SQLITE_CONSTRAINT_FOREIGNKEY' ||
          // ON DELETE RESTRICT is enforced by SQLite as a trigger and reported with the trigger code.
          (code(err) === 'SQLITE_CONSTRAINT_TRIGGER' && /FOREIGN KEY constraint failed/.test(message(err)))
        : code(err) === 'ER_NO_REFERENCED_ROW_2' || code(err) === 'ER_ROW_IS_REFERENCED_2',
    isRetriable: (err) =>
      dialect === 'sqlite'
        ? code(err).startsWith('SQLITE_BUSY')
        : // 1213 ER_LOCK_DEADLOCK (Galera reports its certification failures and brute-force
          // aborts so too), 1205 ER_LOCK_WAIT_TIMEOUT, and 1047 while a Galera node is not yet
          // (or no longer) part of the primary component ("WSREP has not yet prepared node").
          code(err) === 'ER_LOCK_DEADLOCK' ||
          code(err) === 'ER_LOCK_WAIT_TIMEOUT' ||
          (code(err) === 'ER_UNKNOWN_COM_ERROR' && /WSREP/i.test(message(err))),
    async upsertIncrement(conn, table, keys, rows, increment) {
      if (!rows.length) return;
      if (dialect === 'sqlite' && (conn as Knex.Transaction).isTransaction && rows.every(plainCells)) {
        // In the caller's transaction: one cached single-row statement run per row (no SQL built
        // per call), under a savepoint so that the call adds all of its rows or none.
        const raw = await ownConnection(conn);
        const columns = Object.keys(rows[0] as object);
        const added = new Set(increment);
        const sql =
          sqliteInsert(table, columns) +
          ` ON CONFLICT (${keys.map(quote).join(', ')}) DO UPDATE SET ` +
          columns
            .filter((c) => added.has(c))
            .map((c) => `${quote(c)} = ${quote(table)}.${quote(c)} + excluded.${quote(c)}`)
            .join(', ');
        const stmt = sqliteStatement(raw, sql);
        underSavepoint(raw, () => {
          for (const row of rows) stmt.run(...columns.map((c) => (row[c] ?? null) as Cell));
        });
        return;
      }
      const merge: Record<string, Knex.Raw> = {};
      for (const col of increment) {
        merge[col] =
          dialect === 'sqlite'
            ? conn.raw('?? + excluded.??', [`${table}.${col}`, col])
            : conn.raw('?? + VALUES(??)', [`${table}.${col}`, col]);
      }
      await conn(table).insert(rows).onConflict(keys).merge(merge);
    },
    insertRows(trx, table, rows, upsertKeys) {
      if (!rows.length) return Promise.resolve();
      const columns = Object.keys(rows[0] as object);
      return this.insertValues(
        trx,
        table,
        columns,
        rows.map((row) => columns.map((c) => row[c] ?? null)),
        upsertKeys,
      );
    },
    async insertValues(trx, table, columns, values, upsertKeys) {
      if (!values.length) return;
      if (dialect === 'sqlite') {
        const conn = await ownConnection(trx);
        let sql = sqliteInsert(table, columns);
        if (upsertKeys) {
          const rest = columns.filter((c) => !upsertKeys.includes(c));
          sql += ` ON CONFLICT (${upsertKeys.map(quote).join(', ')}) DO UPDATE SET ${rest.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(', ')}`;
        }
        const stmt = sqliteStatement(conn, sql);
        for (const row of values) stmt.run(...row);
        return;
      }
      const rows = values.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null])));
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = trx(table).insert(rows.slice(i, i + 500));
        await (upsertKeys ? chunk.onConflict(upsertKeys).merge() : chunk);
      }
    },
    async insertOne(trx, table, row) {
      const columns = Object.keys(row);
      // The cached statement needs the transaction's own connection; outside one, knex inserts.
      if (dialect === 'sqlite' && (trx as Knex.Transaction).isTransaction) {
        const conn = await ownConnection(trx);
        const sql = sqliteInsert(table, columns);
        return Number(sqliteStatement(conn, sql).run(...columns.map((c) => row[c] ?? null)).lastInsertRowid);
      }
      const [id] = await trx(table).insert(row);
      return Number(id);
    },
    async insertMany(trx, table, rows) {
      if (!rows.length) return [];
      const columns = Object.keys(rows[0] as object);
      if (dialect === 'sqlite') {
        const conn = await ownConnection(trx);
        const stmt = sqliteStatement(conn, sqliteInsert(table, columns));
        return underSavepoint(conn, () =>
          rows.map((row) => Number(stmt.run(...columns.map((c) => row[c] ?? null)).lastInsertRowid)),
        );
      }
      // More than one statement: under a savepoint, so that the call stays all or nothing.
      const run = (sp: Knex.Transaction) => (returning === false ? insertEach(sp) : insertReturning(sp));
      const insertReturning = async (sp: Knex.Transaction) => {
        const ids: number[] = [];
        for (let i = 0; i < rows.length; i += 500) {
          const chunk = rows.slice(i, i + 500);
          const tuple = `(${columns.map(() => '?').join(', ')})`;
          const [result] = (await sp.raw(
            `INSERT INTO ${quoteMysql(table)} (${columns.map(quoteMysql).join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')} RETURNING id`,
            chunk.flatMap((row) => columns.map((c) => row[c] ?? null)),
          )) as [Array<{ id: number | string }>];
          for (const r of result) ids.push(Number(r.id));
        }
        returning = true;
        return ids;
      };
      const insertEach = async (sp: Knex.Transaction) => {
        const ids: number[] = [];
        for (const row of rows) ids.push(Number((await sp(table).insert(row))[0]));
        return ids;
      };
      try {
        return rows.length <= 500 && returning !== false ? await run(trx) : await trx.transaction(run);
      } catch (err) {
        // MySQL (not MariaDB) does not know RETURNING: the statement failed whole, nothing was written.
        if (returning !== undefined || code(err) !== 'ER_PARSE_ERROR') throw err;
        returning = false;
        return trx.transaction(run);
      }
    },
    async select<T>(conn: Knex, sql: string, bindings: Cell[]): Promise<T[]> {
      if (dialect === 'sqlite') {
        // In a transaction: its own connection, which sees its own writes.
        if ((conn as Knex.Transaction).isTransaction) {
          const own = await ownConnection(conn);
          return sqliteStatement(own, sql).all(...bindings) as T[];
        }
        // Else a separate read connection: WAL lets it read committed data while the writer's
        // transaction holds the pool's one connection, so hot reads never queue behind a batch.
        const reader = sqliteReader(conn);
        if (reader) return sqliteStatement(reader, sql).all(...bindings) as T[];
        const client = conn.client as {
          acquireConnection(): Promise<SqliteConnection>;
          releaseConnection(c: SqliteConnection): Promise<void>;
        };
        const raw = await client.acquireConnection();
        try {
          return sqliteStatement(raw, sql).all(...bindings) as T[];
        } finally {
          await client.releaseConnection(raw);
        }
      }
      const [rows] = (await conn.raw(sql, bindings)) as [T[]];
      return rows;
    },
  };
}

type SqliteDatabase = SqliteConnection & { close(): void; pragma(s: string): unknown };
const BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3') as new (
  filename: string,
  options: { readonly: boolean; fileMustExist: boolean },
) => SqliteDatabase;

/** An SQLite database file's read-only connection and WAL checkpointer (none for :memory:). */
interface SqliteFile {
  filename: string;
  conn: SqliteDatabase | null;
  checkpointer: Checkpointer | null;
}

const readers = new WeakMap<object, SqliteFile>();

/** The read-only connection of an SQLite database file, opened on first use (none for :memory:). */
function sqliteReader(db: Knex): SqliteConnection | null {
  const entry = readers.get(db.client.config as object);
  if (!entry) return null;
  if (!entry.conn) {
    entry.conn = new BetterSqlite3(entry.filename, { readonly: true, fileMustExist: true });
    entry.conn.pragma('busy_timeout = 5000');
  }
  return entry.conn;
}

export function openDatabase(target: DatabaseTarget): Knex {
  if (target.client === 'sqlite') {
    const file: SqliteFile | null =
      target.filename === ':memory:' ? null : { filename: target.filename, conn: null, checkpointer: null };
    if (file) fs.mkdirSync(path.dirname(path.resolve(file.filename)), { recursive: true });
    /** In WAL mode (a file) checkpoints run on their own thread; the connection's threshold is a backstop. */
    const inWal = (conn: { pragma(s: string): unknown }) => {
      if (!file) return;
      file.checkpointer ??= startCheckpointer(file.filename, (err) =>
        process.emitWarning(`SQLite checkpoint thread: ${err.message}`),
      );
      if (file.checkpointer) conn.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    };
    const db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: target.filename },
      useNullAsDefault: true,
      // One connection: better-sqlite3 is synchronous, and one writer avoids SQLITE_BUSY.
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
          conn.pragma('busy_timeout = 5000');
          conn.pragma('synchronous = NORMAL');
          conn.pragma('foreign_keys = ON');
          cachePreparedStatements(conn as unknown as SqliteConnection);
          // Switching to WAL needs the file to itself, and SQLite answers "database is locked" at
          // once (no busy wait) while another process writes: the switch is retried, and skipped
          // when the file is already in WAL (every open but the very first).
          const started = Date.now();
          const toWal = () => {
            try {
              if (!JSON.stringify(conn.pragma('journal_mode')).includes('"wal"')) conn.pragma('journal_mode = WAL');
              inWal(conn);
              done(null, conn);
            } catch (err) {
              const busy = /SQLITE_BUSY|database is locked/i.test(String((err as Error).message ?? err));
              if (!busy || Date.now() - started > 10_000) return done(err as Error, conn);
              setTimeout(toWal, 50);
            }
          };
          toWal();
        },
      },
    });
    if (file) {
      readers.set(db.client.config as object, file);
      // Closing the database closes its reader and checkpointer too (knex.destroy calls client.destroy).
      const client = db.client as { destroy(callback?: unknown): Promise<void> };
      const destroy = client.destroy.bind(client);
      client.destroy = async (callback?: unknown) => {
        file.conn?.close();
        file.conn = null;
        const checkpointer = file.checkpointer;
        file.checkpointer = null;
        await checkpointer?.stop();
        return destroy(callback);
      };
    }
    return db;
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
    pool: {
      min: 0,
      max: 10,
      // A report grouped by flow or campaign and a value over a year groups ~30,000 keys of up to
      // 191 characters: past the server's default 16 MB in-memory temporary table it is written to
      // disk and takes seconds. The session may use 64 MB (only while such a query runs).
      afterCreate: (
        conn: { query(sql: string, cb: (err: Error | null) => void): void },
        done: (err: Error | null, conn: unknown) => void,
      ) =>
        conn.query('SET SESSION tmp_table_size = 67108864, max_heap_table_size = 67108864', (err) => done(err, conn)),
    },
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
