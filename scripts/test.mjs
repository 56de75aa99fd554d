#!/usr/bin/env node
// `npm test`: the whole suite (unit, integration, browser) on the database named by DATABASE_URL
// (unset: SQLite files in the temp folder; mysql://...: a fresh MariaDB database per test file).
// The migrations run once, into a template that every test file copies (test/helpers/template-db.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync, readFileSync, rmSync } from 'node:fs';
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
const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/test-template.ts'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (built.status !== 0) {
  console.error('could not build the template database');
  process.exit(built.status ?? 1);
}
const template = built.stdout.trim();
let status = 1;
try {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
    stdio: 'inherit',
    env: { ...process.env, AFFIX_TEST_TEMPLATE: template },
  });
  status = result.status ?? 1;
} finally {
  try {
    const t = JSON.parse(readFileSync(template, 'utf8'));
    if (t.client === 'sqlite') rmSync(t.file, { force: true });
  } catch {
    /* already gone */
  }
  rmSync(template, { force: true });
}
process.exit(status);
