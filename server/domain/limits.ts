/**
 * The limits of SPEC §10a in one place: the largest amount a client may send, and the size of
 * each kind of stored text column (the migrations declare these sizes). MariaDB counts VARCHAR(n)
 * in characters and TEXT in bytes; SQLite stores any length, so these caps make both hold the
 * same rows.
 */

import { asUnits, SCALE } from './money.js';

/** The largest money amount a client may send, in units of its currency (before and after conversion). */
export const MAX_AMOUNT = 1_000_000_000;
/** The same in 1/10,000 units. */
export const MAX_AMOUNT_UNITS = asUnits(MAX_AMOUNT * SCALE);
export const AMOUNT_LIMIT_MESSAGE = `must be at most ${MAX_AMOUNT.toLocaleString('en-US')}`;
/** The largest quantity of one item of a sale (a sale's item, a store order's line). */
export const MAX_QUANTITY = 1_000_000;

/** Indexed strings (utf8mb4 index limit): ids, keys, names, emails. */
export const KEY_LENGTH = 191;
/** Free text of one line: reasons, notes, click data. */
export const TEXT_LENGTH = 255;
/** URLs. */
export const URL_LENGTH = 2048;
/** Codes and public ids: coupon codes, action codes, refIds, secret keys. */
export const CODE_LENGTH = 64;
/** An IPv6 address in text. */
export const IP_LENGTH = 45;
/** User agents. */
export const USER_AGENT_LENGTH = 512;
/** A TEXT column (JSON lists and objects, traces, bodies): 65,535 bytes on MariaDB. */
export const TEXT_BYTES = 65_535;
/** A MEDIUMTEXT column on MariaDB (a sale's items and trace, which must never be cut). */
export const MEDIUM_TEXT_BYTES = 16_777_215;

/** Bytes of `value` in UTF-8. */
export const byteLength = (value: string): number => Buffer.byteLength(value, 'utf8');

/**
 * `value` cut to at most `maxChars` characters (code points, as MariaDB's VARCHAR and zod's `max`
 * count them) and `maxBytes` bytes of UTF-8, never inside a character (half an emoji would be
 * stored as a replacement character).
 */
export function clip(value: string, maxChars: number, maxBytes = maxChars * 4): string {
  // A string of n UTF-16 units has at most n characters and 3n bytes.
  if (value.length <= maxChars && (value.length * 3 <= maxBytes || byteLength(value) <= maxBytes)) return value;
  let chars = 0;
  let bytes = 0;
  let end = 0;
  for (const ch of value) {
    const cp = ch.codePointAt(0) as number;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (chars + 1 > maxChars || bytes + size > maxBytes) break;
    chars += 1;
    bytes += size;
    end += ch.length;
  }
  return value.slice(0, end);
}

/** `clip` for a nullable column: empty or missing becomes NULL. */
export const cut = (value: string | null | undefined, maxChars: number, maxBytes?: number): string | null =>
  value ? clip(value, maxChars, maxBytes) || null : null;

/** Characters (code points) of `value`. */
export const charLength = (value: string): number => {
  let n = 0;
  for (const _ of value) n++;
  return n;
};

/** A value (text, or anything as JSON) fits a TEXT column. */
export const fitsText = (value: unknown): boolean =>
  byteLength(typeof value === 'string' ? value : (JSON.stringify(value) ?? '')) <= TEXT_BYTES;

/**
 * An object as JSON text of at most `maxBytes` bytes: values are cut so the text stays valid JSON
 * (a sliced JSON text is not), keys listed in `first` are kept before the others, and whatever
 * does not fit is left out.
 */
export function jsonWithin(obj: Record<string, string>, maxBytes: number, first: readonly string[] = []): string {
  const whole = JSON.stringify(obj);
  if (byteLength(whole) <= maxBytes) return whole;
  const keys = [...first.filter((k) => Object.hasOwn(obj, k)), ...Object.keys(obj).filter((k) => !first.includes(k))];
  const out: Record<string, string> = {};
  // Room for the braces; each entry then costs its JSON text plus a comma.
  let used = 2;
  for (const k of keys) {
    const keyText = JSON.stringify(k);
    const keyCost = byteLength(keyText) + 2;
    if (used + keyCost + 2 > maxBytes) break;
    const room = maxBytes - used - keyCost;
    let value = obj[k] as string;
    let valueText = JSON.stringify(value);
    if (byteLength(valueText) > room) {
      // Cut the value to the room left, then by what its escapes still overflow, until it fits.
      let budget = room - 2;
      value = clip(value, budget, budget);
      valueText = JSON.stringify(value);
      while (value && byteLength(valueText) > room) {
        budget -= byteLength(valueText) - room;
        value = clip(value, budget, budget);
        valueText = JSON.stringify(value);
      }
      if (byteLength(valueText) > room) break;
    }
    out[k] = value;
    used += keyCost + byteLength(valueText);
  }
  return JSON.stringify(out);
}
