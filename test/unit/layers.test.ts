import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

/*
 * The layout of the code (README "How the code is laid out"): only server/store/ and server/db/
 * write SQL, server/http/ never sees the database handle, and no module imports itself back
 * through others. These are read from the source, so a change that breaks the layout fails here.
 */

const ROOT = 'server';

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

const files = sources(ROOT).map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
const inside = (file: string, ...dirs: string[]) => dirs.some((d) => file.startsWith(path.join(ROOT, d) + path.sep));

/** A knex query: a handle called with a table name, raw SQL, a direct transaction or schema change. */
const QUERY_HELPER =
  /\b(?:dialectHelper\([^)]*\)|helper|dialect)\.(?:select|upsertIncrement|insertRows|insertValues|exactTextColumns)\(/;
const QUERY =
  /\b(?:db|trx|conn|knex|tx|sp)\(\s*['"`]|\.(?:db|trx)\(\s*['"`]|\.raw\(|\.whereRaw\(|\.transaction\(|\.schema\.|\bfn\.now\(/;

test('only server/store/ and server/db/ write SQL', () => {
  const found = files
    .filter(({ file }) => !inside(file, 'store', 'db'))
    .flatMap(({ file, text }) =>
      text
        .split('\n')
        .map((line, i) => ({ line, at: `${file}:${i + 1}` }))
        .filter(({ line }) => (QUERY.test(line) || QUERY_HELPER.test(line)) && !/^\s*(\/\/|\*)/.test(line)),
    )
    .map(({ at, line }) => `${at}: ${line.trim()}`);
  assert.deepEqual(found, []);
});

test('server/http/ never reaches the database handle', () => {
  const found = files
    .filter(({ file }) => inside(file, 'http'))
    .filter(({ text }) => /services\.db\b|from 'knex'|\bKnex\b/.test(text))
    .map(({ file }) => file);
  assert.deepEqual(found, []);
});

test('only the web layer imports server/http/: services, store, domain, ingest and db never do', () => {
  const found = files
    .filter(({ file }) => inside(file, 'services', 'store', 'domain', 'ingest', 'db'))
    .filter(({ text }) => /(?:from|import)\s*\(?\s*'(?:\.\.\/)+http\//.test(text))
    .map(({ file }) => file);
  assert.deepEqual(found, []);
});

test('no import cycle between server modules', () => {
  const graph = new Map<string, string[]>();
  for (const { file, text } of files) {
    const deps: string[] = [];
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = path.normalize(path.join(path.dirname(file), (m[1] as string).replace(/\.js$/, '.ts')));
      if (fs.existsSync(target)) deps.push(target);
    }
    graph.set(file, deps);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  assert.deepEqual(cycles, []);
});

/*
 * Money (README "How the code is laid out"): the store and the services work in units; the
 * decimals of a JSON answer are made once, by the resource's presenter in server/http/presenters/.
 */
test('server/store/ gives units: no store module converts to decimals', () => {
  const found = files
    .filter(({ file }) => inside(file, 'store'))
    .flatMap(({ file, text }) =>
      text
        .split('\n')
        .map((line, i) => ({ line, at: `${file}:${i + 1}` }))
        .filter(({ line }) => /\bfromUnits\b|\/\s*10_?000\b|\/\s*SCALE\b/.test(line) && !/^\s*(\/\/|\*)/.test(line)),
    )
    .map(({ at, line }) => `${at}: ${line.trim()}`);
  assert.deepEqual(found, []);
});

test('API routes take their decimals from the presenters, not from the money functions', () => {
  const found = files
    .filter(({ file }) => inside(file, path.join('http', 'api')))
    .filter(({ text }) => /from '\.\.\/\.\.\/domain\/money\.js'/.test(text))
    .map(({ file }) => file);
  assert.deepEqual(found, []);
});
