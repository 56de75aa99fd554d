import fs from 'node:fs';
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
 * True for the errors of two processes migrating at once: knex's lock is taken (another process
 * is migrating), its bookkeeping tables were created by the other process a moment earlier, or
 * (on a Galera cluster) the other node's DDL aborted our bookkeeping query with a deadlock.
 */
function isMigrationRace(db: Knex, err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'MigrationLocked' || /already exists/i.test(err.message) || dialectHelper(db).isRetriable(err);
}

/**
 * Applies the pending migrations. Processes starting together (WORKERS, several hosts) wait for
 * the one that holds knex's migration lock, then find nothing left to do (SPEC §16).
 */
export async function migrateLatest(db: Knex, opts: { waitMs?: number; onWait?: () => void } = {}): Promise<string[]> {
  const deadline = Date.now() + (opts.waitMs ?? MIGRATION_WAIT_MS);
  let told = false;
  for (;;) {
    try {
      const [, applied] = (await db.migrate.latest({ migrationSource: new MigrationSource() })) as [number, string[]];
      return applied;
    } catch (err) {
      if (!isMigrationRace(db, err)) throw err;
      if (Date.now() > deadline) {
        throw new Error(
          'the migration lock is still held by another process; if none is migrating, a migration was interrupted: run `npx knex migrate:unlock` (or set knex_migrations_lock.is_locked = 0) and start again',
          { cause: err },
        );
      }
      if (!told) opts.onWait?.();
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 300));
    }
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
