import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { dialectHelper } from './index.js';

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Loads the timestamped TypeScript migrations from migrations/ so knex needs no compiled copies. */
class MigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return fs
      .readdirSync(migrationsDir)
      .filter((f) => /^\d{14}_[\w-]+\.ts$/.test(f))
      .sort();
  }
  getMigrationName(migration: string): string {
    return migration.replace(/\.ts$/, '');
  }
  async getMigration(migration: string): Promise<MigrationModule> {
    return (await import(pathToFileURL(path.join(migrationsDir, migration)).href)) as MigrationModule;
  }
}

/** How long a starting process waits for another one that is migrating the same database. */
export const MIGRATION_WAIT_MS = 10 * 60_000;

/**
 * The row a migrating process holds. knex's own lock (an UPDATE of knex_migrations_lock) is not
 * safe on a multi-primary cluster: two nodes that both find the lock table empty each insert a
 * lock row and each take "the" lock. A row inserted under one primary key is: two nodes
 * inserting it at once get one commit and one certification failure (SPEC §16).
 */
const LOCK_TABLE = 'migration_holder';
const LOCK_KEY = 'migrate';

/**
 * True for the errors of a process that finds another one migrating: the holder row is there,
 * knex's lock is taken, or (on a Galera cluster) the other node's DDL aborted our statement with
 * a deadlock or a certification failure.
 */
function isMigrationRace(db: Knex, err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const helper = dialectHelper(db);
  return err.name === 'MigrationLocked' || helper.isUniqueViolation(err) || helper.isRetriable(err);
}

async function takeMigrationLock(db: Knex, holder: string): Promise<void> {
  if (!(await db.schema.hasTable(LOCK_TABLE))) {
    try {
      await db.schema.createTable(LOCK_TABLE, (t) => {
        t.string('name', 32).primary();
        t.string('holder', 64).notNullable();
        t.bigInteger('taken_at').notNullable();
      });
    } catch (err) {
      // Created by another process a moment earlier.
      if (!(err instanceof Error) || !/already exists/i.test(err.message)) throw err;
    }
  }
  await db(LOCK_TABLE).insert({ name: LOCK_KEY, holder, taken_at: Date.now() });
}

async function freeMigrationLock(db: Knex, holder: string): Promise<void> {
  await db(LOCK_TABLE).where({ name: LOCK_KEY, holder }).delete();
}

/**
 * Applies the pending migrations. Processes starting together (WORKERS, several hosts, several
 * nodes of a cluster) wait for the one that holds the migration row, then find nothing left to do.
 */
export async function migrateLatest(db: Knex, opts: { waitMs?: number; onWait?: () => void } = {}): Promise<string[]> {
  const deadline = Date.now() + (opts.waitMs ?? MIGRATION_WAIT_MS);
  const holder = `${os.hostname()}:${process.pid}:${randomUUID()}`;
  let told = false;
  const wait = async (err: unknown) => {
    if (Date.now() > deadline) {
      throw new Error(
        `another process still holds the migration row; if none is migrating, a migration was interrupted: delete the row from ${LOCK_TABLE} (and run \`npx knex migrate:unlock\` if knex_migrations_lock is locked) and start again`,
        { cause: err },
      );
    }
    if (!told) opts.onWait?.();
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 300));
  };
  for (;;) {
    try {
      await takeMigrationLock(db, holder);
    } catch (err) {
      if (!isMigrationRace(db, err)) throw err;
      if (!(await clearDeadHolder(db))) await wait(err);
      continue;
    }
    try {
      const [, applied] = (await db.migrate.latest({ migrationSource: new MigrationSource() })) as [number, string[]];
      return applied;
    } catch (err) {
      if (!isMigrationRace(db, err)) throw err;
    } finally {
      await freeMigrationLock(db, holder);
    }
    await wait(null);
  }
}

/**
 * A holder row left by a process of this host that is gone (killed while it migrated or checked)
 * is removed, so the next start does not wait for it. Holders on other hosts are waited for.
 */
async function clearDeadHolder(db: Knex): Promise<boolean> {
  const row = (await db(LOCK_TABLE).where({ name: LOCK_KEY }).first('holder')) as { holder: string } | undefined;
  if (!row) return false;
  const [host, pid] = row.holder.split(':');
  if (host !== os.hostname() || Number(pid) === process.pid || processAlive(Number(pid))) return false;
  await db(LOCK_TABLE).where({ name: LOCK_KEY, holder: row.holder }).delete();
  return true;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs the migrations older than `name` (tests of a migration against the data it finds). */
export async function migrateBefore(db: Knex, name: string): Promise<void> {
  const source = new MigrationSource();
  for (const file of await source.getMigrations()) {
    if (source.getMigrationName(file) >= name) return;
    await db.migrate.up({ migrationSource: source, name: source.getMigrationName(file) });
  }
}
