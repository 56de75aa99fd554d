/// <reference lib="dom" />

/** What the server bakes into the snippet (server/services/snippet-build.ts renders it). */
export interface SnippetConfig {
  /** The tracker origin, e.g. `https://track.example.com`. */
  endpoint: string;
  /** The configured URL parameter names (settings `urlParams`). */
  params: { affiliate: string; banner: string; campaign: string; channel: string; data1: string; data2: string };
  /** GDPR mode: nothing is stored and no click is sent before `affix('consent', true)`. */
  gdpr: boolean;
  /** The attribution window in days; the visitor cookie lives at least this long. */
  cookieDays: number;
}

// The server replaces the quoted placeholder with the settings as a JSON string. It is a call
// argument so the minifier keeps exactly one copy of it.
export const config: SnippetConfig = JSON.parse('__AFFIX_CONFIG__');
