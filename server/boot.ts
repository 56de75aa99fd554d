import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { ConfigError, type Config } from './config.js';
import { ensureDatabaseExists, openDatabase } from './db/index.js';
import { migrateLatest } from './db/migrate.js';
import { buildServices, type BuildOptions, type Services } from './container.js';
import { createLogger } from './logger.js';

/** Loads the configuration, or prints what is wrong with it and exits with status 2. */
export function configOrExit(load: () => Config): Config {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** Creates the database if needed, applies migrations and wires the services (server start, demo). */
export async function bootServices(
  config: Config,
  opts: BuildOptions = {},
): Promise<{ db: Knex; log: Logger; services: Services; applied: string[] }> {
  const log = createLogger(config.logLevel);
  await ensureDatabaseExists(config.database);
  const db = openDatabase(config.database);
  const applied = await migrateLatest(db, {
    onWait: () => log.info('another process is migrating the database; waiting for it'),
  });
  const services = await buildServices(config, db, log, opts);
  return { db, log, services, applied };
}
