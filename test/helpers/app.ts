import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { loadConfig, parseDatabaseUrl, type Config, type DatabaseTarget } from '../../server/config.js';
import { dropDatabase, openDatabase } from '../../server/db/index.js';
import { prepareDatabase } from './template-db.js';
import { buildServices, type BuildOptions, type Services } from '../../server/container.js';
import { createApp } from '../../server/app.js';
import { createLogger } from '../../server/logger.js';
import { listen } from '../../server/http/listen.js';

/**
 * A fresh database for one test file: a temp SQLite file, or (when DATABASE_URL is mysql://)
 * a new MariaDB database named after the URL's with a random suffix. Dropped by `close()`.
 */
export function freshDatabaseTarget(): DatabaseTarget {
  const url = process.env.DATABASE_URL;
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  if (url && !url.startsWith('sqlite:')) {
    const base = parseDatabaseUrl(url);
    if (base.client === 'mysql') return { ...base, database: `${base.database}_${suffix}`.slice(0, 64) };
  }
  return { client: 'sqlite', filename: path.join(os.tmpdir(), `affix-test-${suffix}.sqlite`) };
}

export const dialectName = () => freshDatabaseTarget().client;

export interface TestApp {
  services: Services;
  config: Config;
  /** The database it runs on (pass it as `database` to start a second process on it). */
  target: DatabaseTarget;
  url: string;
  server: Server;
  close(): Promise<void>;
}

export interface TestAppOptions extends BuildOptions {
  env?: Record<string, string>;
  /**
   * Another server process on the database of an app already started: it is not created nor
   * dropped here (close this one first).
   */
  database?: DatabaseTarget;
}

/** Creates a fresh database (a copy of the run's template, see template-db.ts), wires the services and serves the app on a random local port. */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const target = opts.database ?? freshDatabaseTarget();
  const own = !opts.database;
  const config: Config = {
    ...loadConfig({
      LOG_LEVEL: 'silent',
      TRUST_PROXY: 'true',
      AFFIX_SECRET: 'test-secret-0123456789abcdef0123456789abcdef',
      ...opts.env,
    }),
    database: target,
  };
  if (own) await prepareDatabase(target);
  const db = openDatabase(target);
  const log = createLogger(config.logLevel);
  const services = await buildServices(config, db, log, opts);
  // The server's own listen, so tests run with the real connection limits (or the env's).
  const server = await listen(createApp(services), 0, '127.0.0.1', config.http);
  const { port } = server.address() as AddressInfo;
  return {
    services,
    config,
    target,
    url: `http://127.0.0.1:${port}`,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.stop();
      await db.destroy();
      if (own) await dropDatabase(target);
    },
  };
}

/** A stand-in webhook: every outbox event also queues a webhook row to look at (nothing listens at its URL). */
export function addStandInWebhook(app: TestApp): void {
  app.services.hooks.addFilter('outbox.messages', (messages, event, payload) => [
    ...messages,
    {
      channel: 'webhook',
      method: 'POST',
      url: 'http://127.0.0.1:9/hook',
      body: JSON.stringify({ event, payload }),
    },
  ]);
}
