import assert from 'node:assert/strict';
import type { Agent } from './http.js';

/** Reading the admin's and the portal's HTML the way a person or a browser does. */

/** The text a person reads: HTML entities decoded (Handlebars escapes quotes, "=" and "&"). */
export function decode(html: string): string {
  return html
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** An attribute of a tag's attribute text, decoded; '' for one without a value, null when absent. */
export const attr = (attrs: string, name: string): string | null => {
  const m = new RegExp(`\\b${name}="([^"]*)"`).exec(attrs);
  return m ? decode(m[1] ?? '') : new RegExp(`\\s${name}(\\s|$)`).test(attrs) ? '' : null;
};

/** The number a redirect's Location carries in the pattern's first group (the id of what a form created). */
export const idFrom = (location: string | null, pattern: RegExp): number => {
  const m = location ? pattern.exec(location) : null;
  assert.ok(m, `unexpected redirect ${location}`);
  return Number(m[1]);
};

/** Posts a form and follows the redirect, returning the page shown next (with its flash), decoded. */
export async function postAndFollow(agent: Agent, path: string, fields: Record<string, string | string[]>) {
  const res = await agent.post(path, fields);
  assert.equal(res.status, 302, `POST ${path} → ${res.status}: ${decode(res.text).slice(0, 800)}`);
  const next = await agent.get(res.location!);
  return { ...next, location: res.location!, text: decode(next.text) };
}
