import cluster from 'node:cluster';
import { loadConfig, type Config } from './config.js';
import { createApp } from './app.js';
import { bootServices, configOrExit } from './boot.js';
import { listen } from './http/listen.js';
import { ensureDatabaseExists, openDatabase } from './db/index.js';
import { migrateLatest } from './db/migrate.js';
import { createLogger } from './logger.js';
import { runPrimary } from './cluster.js';

/** How long a stopping process may take to finish its requests and drain its writers. */
const STOP_DEADLINE_MS = 20_000;

/** Boot: load config, open the database, migrate, start plugins, listen. */
async function serve(config: Config): Promise<void> {
  const { db, log, services, applied } = await bootServices(config, { startWorkers: true });
  if (applied.length) log.info({ applied }, 'migrations applied');
  const app = createApp(services);
  const server = await listen(app, config.port, config.host, config.http);
  const where = config.publicUrl ?? `http://localhost:${config.port}`;
  log.info(
    { port: config.port, database: config.database.client, http: config.http, pid: process.pid },
    `Affix is listening on ${where}`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Requests in progress finish; idle keep-alive connections close now, not at their timeout.
    server.close(
      () =>
        void services
          .stop()
          .then(() => db.destroy())
          .then(() => process.exit(0)),
    );
    server.closeIdleConnections();
    setTimeout(() => {
      log.error('requests or writes still open at the stop deadline; exiting');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** With WORKERS > 1 the primary migrates once, then forks the server processes. */
async function primary(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  await ensureDatabaseExists(config.database);
  const db = openDatabase(config.database);
  try {
    const applied = await migrateLatest(db, {
      onWait: () => log.info('another process is migrating the database; waiting for it'),
    });
    if (applied.length) log.info({ applied }, 'migrations applied');
  } finally {
    await db.destroy();
  }
  log.info({ workers: config.workers }, 'starting the server processes');
  runPrimary(config.workers, log);
}

async function main(): Promise<void> {
  const config = configOrExit(loadConfig);
  if (config.workers > 1 && cluster.isPrimary) await primary(config);
  else await serve(config);
}

main().catch((err: unknown) => {
  console.error('Affix failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
