import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The platforms' documented payloads kept in test/fixtures/ (SPEC §14). */
const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

/** A fixture's exact text (Shopify's ids are beyond 2^53: edit them as text, not as numbers). */
export const fixtureText = (name: string): string => fs.readFileSync(path.join(dir, name), 'utf8');

/** A fixture parsed, for payloads whose numbers JSON.parse keeps exactly (Stripe, WooCommerce). */

export const fixture = (name: string): any => JSON.parse(fixtureText(name));
