import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';

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

export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: new MigrationSource() })) as [number, string[]];
  return applied;
}

/** Runs the migrations older than `name` (tests of a migration against the data it finds). */
export async function migrateBefore(db: Knex, name: string): Promise<void> {
  const source = new MigrationSource();
  for (const file of await source.getMigrations()) {
    if (source.getMigrationName(file) >= name) return;
    await db.migrate.up({ migrationSource: source, name: source.getMigrationName(file) });
  }
}
