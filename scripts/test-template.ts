// Builds the test run's template database (test/helpers/template-db.ts) and prints the file describing it.
import { parseDatabaseUrl } from '../server/config.js';
import { freshDatabaseTarget } from '../test/helpers/app.js';
import { buildTemplate } from '../test/helpers/template-db.js';

const url = process.env.DATABASE_URL;
const target = url && !url.startsWith('sqlite:') ? parseDatabaseUrl(url) : freshDatabaseTarget();
process.stdout.write(await buildTemplate(target));
