import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/*
 * The browser suites without Chromium: outside CI they are reported as skipped (the runner's
 * summary counts them), under CI=true they fail, so a runner without a browser cannot pass.
 */

const E2E = 'test/e2e';
const browserFiles = readdirSync(E2E)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => path.join(E2E, f))
  .filter((f) => /playwright-core|helpers\/browser\.js/.test(readFileSync(f, 'utf8')));

interface Run {
  code: number | null;
  output: string;
  summary: Record<string, number>;
}

function runWithoutChromium(ci: boolean): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, CHROMIUM_PATH: '/nonexistent/chromium' };
  delete env.CI;
  if (ci) env.CI = 'true';
  // Outside a test run: the child must not report into this runner.
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', ...browserFiles], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const summary: Record<string, number> = {};
      for (const m of output.matchAll(/^# (tests|pass|fail|skipped|cancelled) (\d+)$/gm)) summary[m[1]!] = Number(m[2]);
      resolve({ code, output, summary });
    }),
  );
}

describe('browser suites without Chromium', () => {
  test('there are browser suites to check', () => {
    assert.ok(browserFiles.length >= 4, `found ${browserFiles.join(', ')}`);
  });

  test('outside CI: every browser suite is counted as skipped and the run passes', async () => {
    const run = await runWithoutChromium(false);
    assert.equal(run.code, 0, run.output.slice(-2000));
    assert.equal(run.summary.fail, 0, run.output.slice(-2000));
    assert.ok(
      (run.summary.skipped ?? 0) >= browserFiles.length,
      `skipped ${run.summary.skipped} for ${browserFiles.length} browser files:\n${run.output.slice(-2000)}`,
    );
    assert.match(run.output, /Chromium not found at \/nonexistent\/chromium/);
  });

  test('under CI=true: a missing Chromium fails the run, saying why', async () => {
    const run = await runWithoutChromium(true);
    assert.notEqual(run.code, 0, 'the run fails');
    assert.ok(
      (run.summary.fail ?? 0) >= browserFiles.length,
      `fail ${run.summary.fail} for ${browserFiles.length} browser files:\n${run.output.slice(-2000)}`,
    );
    assert.equal(run.summary.skipped ?? 0, 0, 'nothing is skipped under CI');
    assert.match(run.output, /Chromium is required in CI/);
  });
});
