import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Settings } from '../domain/settings.js';

/*
 * The storefront snippet (SPEC §4.1): storefront-snippet/src bundled once per process into one
 * minified IIFE, then rendered with the settings baked in for each configuration.
 */

const ENTRY = fileURLToPath(new URL('../../storefront-snippet/src/index.ts', import.meta.url));
/** The quoted placeholder the bundle keeps for the configuration (storefront-snippet/src/config.ts). */
const PLACEHOLDER = '"__AFFIX_CONFIG__"';

/** What the snippet needs to know; mirrors `SnippetConfig` in storefront-snippet/src/config.ts. */
export interface SnippetConfig {
  endpoint: string;
  params: Settings['urlParams'];
  gdpr: boolean;
  cookieDays: number;
}

export function snippetConfig(settings: Settings, endpoint: string): SnippetConfig {
  return {
    endpoint: endpoint.replace(/\/+$/, ''),
    params: { ...settings.urlParams },
    gdpr: settings.gdprMode,
    cookieDays: settings.cookieDays,
  };
}

/** Bundles and minifies the snippet in memory: an IIFE for evergreen browsers (es2019). */
export async function buildSnippet(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2019',
    platform: 'browser',
    write: false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text ?? '';
  const count = code.split(PLACEHOLDER).length - 1;
  if (count !== 1) throw new Error(`the built snippet must hold the configuration placeholder once, found ${count}`);
  return code;
}

let built: Promise<string> | null = null;

/** The built snippet, built at the first call; a failed build is retried on the next call. */
export function snippetCode(): Promise<string> {
  built ??= buildSnippet().catch((err: unknown) => {
    built = null;
    throw err;
  });
  return built;
}

/** The snippet with its configuration: the placeholder becomes the configuration as a JSON string literal. */
export function renderSnippet(code: string, config: SnippetConfig): string {
  return code.replace(PLACEHOLDER, () => JSON.stringify(JSON.stringify(config)));
}
