import { loadConfig } from './config.js';
import { createApp } from './app.js';
import { bootServices, configOrExit } from './boot.js';
import { listen } from './http/listen.js';

/** Boot: load config, open the database, migrate, start plugins, listen. */
async function main(): Promise<void> {
  const config = configOrExit(loadConfig);
  const { db, log, services, applied } = await bootServices(config, { startWorkers: true });
  if (applied.length) log.info({ applied }, 'migrations applied');
  const app = createApp(services);
  const server = await listen(app, config.port, config.host, config.http);
  const where = config.publicUrl ?? `http://localhost:${config.port}`;
  log.info(
    { port: config.port, database: config.database.client, http: config.http },
    `Affix is listening on ${where}`,
  );
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
