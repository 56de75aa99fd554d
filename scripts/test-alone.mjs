#!/usr/bin/env node
// `node scripts/test-alone.mjs <file>...`: runs every test of each file on its own, to show
// which tests lean on state that an earlier test of the file left behind.
// A file is run once whole to list its tests (and to see which fail even together), then each
// test alone with `--test-name-pattern="^<its name>$"`. Node matches the pattern against a
// test's own name, not its describe path, so a name that stands twice in a file cannot be
// singled out: it is reported as such and not run. Each alone run is checked to have run
// exactly one test (the others skipped by the pattern).
// The database is the one DATABASE_URL names, as for scripts/test.mjs; the migrations run once
// into a template that every run copies.
// This file is also its own reporter (`--test-reporter=scripts/test-alone.mjs`): one JSON line
// per test that ends.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const self = fileURLToPath(import.meta.url);
const MARK = 'test-alone ';

/** The reporter: a JSON line for each test that ends, with its describe path. */
export default async function* reporter(source) {
  const stack = [];
  for await (const event of source) {
    const { type, data } = event;
    if (type === 'test:start') {
      stack.length = data.nesting;
      stack.push(data.name);
    } else if (type === 'test:pass' || type === 'test:fail') {
      const names = [...stack.slice(0, data.nesting), data.name];
      yield (
        MARK +
        JSON.stringify({
          names,
          suite: data.details?.type === 'suite',
          skipped: Boolean(data.skip),
          failed: type === 'test:fail',
        }) +
        '\n'
      );
    }
  }
}

/** One run of `file`; returns the tests that ended, in order, and the run's exit status. */
function run(file, env, pattern) {
  const args = ['--import', 'tsx', '--test', `--test-reporter=${self}`];
  if (pattern !== undefined) args.push(`--test-name-pattern=${pattern}`);
  const result = spawnSync(process.execPath, [...args, file], { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  const ended = result.stdout
    .split('\n')
    .filter((line) => line.startsWith(MARK))
    .map((line) => JSON.parse(line.slice(MARK.length)));
  return { ended, status: result.status, stderr: result.stderr };
}

/** The units a name pattern can select: tests (not suites) whose ancestors are all suites. */
function units(ended) {
  const suites = new Set(ended.filter((t) => t.suite).map((t) => JSON.stringify(t.names)));
  return ended.filter(
    (t) => !t.suite && t.names.slice(0, -1).every((_, i) => suites.has(JSON.stringify(t.names.slice(0, i + 1)))),
  );
}

const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const label = (t) => t.names.join(' > ');

function main(files) {
  if (!files.length) {
    console.error('usage: node scripts/test-alone.mjs <test file>...');
    process.exit(2);
  }
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/test-template.ts'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (built.status !== 0) {
    console.error('could not build the template database');
    process.exit(built.status ?? 1);
  }
  const template = built.stdout.trim();
  const env = { ...process.env, AFFIX_TEST_TEMPLATE: template };
  let failedAlone = 0;
  let total = 0;
  try {
    for (const file of files) {
      const whole = run(file, env);
      const tests = units(whole.ended);
      const failingTogether = tests.filter((t) => t.failed && !t.skipped);
      console.log(`${file}: ${tests.length} tests, ${failingTogether.length} failing in the whole run`);
      if (!tests.length && whole.status !== 0) console.log(whole.stderr.trim().split('\n').slice(-20).join('\n'));
      for (const t of failingTogether) console.log(`  fails in the whole run: ${label(t)}`);
      const count = new Map();
      for (const t of tests) count.set(t.names.at(-1), (count.get(t.names.at(-1)) ?? 0) + 1);
      for (const t of tests) {
        if (t.skipped) continue;
        const name = t.names.at(-1);
        if (count.get(name) > 1) {
          console.log(`  not run alone (the name stands ${count.get(name)} times): ${label(t)}`);
          continue;
        }
        total += 1;
        const alone = run(file, env, `^${escape(name)}$`);
        const selected = units(alone.ended).filter((u) => !u.skipped);
        if (selected.length !== 1) {
          failedAlone += 1;
          console.log(`  FAILS ALONE (the pattern selected ${selected.length} tests): ${label(t)}`);
        } else if (selected[0].failed || alone.status !== 0) {
          failedAlone += 1;
          console.log(`  FAILS ALONE: ${label(t)}${t.failed ? ' (fails in the whole run too)' : ''}`);
        }
      }
    }
  } finally {
    try {
      const t = JSON.parse(readFileSync(template, 'utf8'));
      if (t.client === 'sqlite') rmSync(t.file, { force: true });
    } catch {
      /* already gone */
    }
    rmSync(template, { force: true });
  }
  console.log(`test-alone: ${total} tests run alone, ${failedAlone} failed alone`);
  process.exit(failedAlone ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === self) main(process.argv.slice(2));
