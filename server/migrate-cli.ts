import { loadConfig } from './config.js';
import { ensureDatabaseExists, openDatabase } from './db/index.js';
import { migrateLatest } from './db/migrate.js';

/** `npm run migrate`: apply pending migrations and exit. */
const config = loadConfig();
await ensureDatabaseExists(config.database);
const db = openDatabase(config.database);
try {
  const applied = await migrateLatest(db);
  console.warn(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date');
} finally {
  await db.destroy();
}
