import { loadConfig, ConfigError } from './config.js';
import { ensureDatabaseExists, openDatabase } from './db/index.js';
import { migrateLatest } from './db/migrate.js';
import { buildServices } from './container.js';
import { createApp } from './app.js';
import { createLogger } from './logger.js';

/** Boot: load config, open the database, migrate, start plugins, listen. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  await ensureDatabaseExists(config.database);
  const db = openDatabase(config.database);
  const applied = await migrateLatest(db);
  if (applied.length) log.info({ applied }, 'migrations applied');
  const services = await buildServices(config, db, log, { startWorkers: true });
  const app = createApp(services);
  const server = app.listen(config.port, config.host, () => {
    const where = config.publicUrl ?? `http://localhost:${config.port}`;
    log.info({ port: config.port, database: config.database.client }, `Affix is listening on ${where}`);
  });
  server.keepAliveTimeout = 65_000;
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close(
      () =>
        void services
          .stop()
          .then(() => db.destroy())
          .then(() => process.exit(0)),
    );
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('Affix failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
