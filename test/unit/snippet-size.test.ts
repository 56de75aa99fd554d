import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { buildSnippet, renderSnippet } from '../../server/services/snippet-build.js';
import { defaultSettings } from '../../server/domain/settings.js';
import { snippetConfig } from '../../server/services/snippet-build.js';

/** The snippet's size budget (SPEC §4.1: under 3 KB gzipped), with a realistic configuration baked in. */
const BUDGET = 3072;

test(`the snippet is at most ${BUDGET} bytes gzipped`, async () => {
  const code = renderSnippet(
    await buildSnippet(),
    snippetConfig(defaultSettings('x'.repeat(24)), 'https://track.example.com'),
  );
  const size = gzipSync(code, { level: 9 }).length;
  console.log(`snippet: ${code.length} bytes minified, ${size} bytes gzipped (budget ${BUDGET})`);
  assert.ok(size <= BUDGET, `the snippet is ${size} bytes gzipped, over the ${BUDGET}-byte budget`);
});
