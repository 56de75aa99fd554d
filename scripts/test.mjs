#!/usr/bin/env node
// `npm test`: the whole suite (unit, integration, browser) on the database named by DATABASE_URL
// (unset: SQLite files in the temp folder; mysql://...: a fresh MariaDB database per test file).
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

const groups = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration', 'e2e'];
const files = groups.flatMap((g) => {
  const dir = path.join('test', g);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.test.ts'))
        .sort()
        .map((f) => path.join(dir, f))
    : [];
});
console.log(
  `Affix tests on ${process.env.DATABASE_URL?.startsWith('mysql') ? 'MariaDB/MySQL' : 'SQLite'}: ${files.length} files`,
);
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
