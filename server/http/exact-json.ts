import { randomBytes } from 'node:crypto';
import { ExactAmount } from '../domain/money.js';

/*
 * JSON.stringify can only print a JS number, which has about 16 significant digits: a report total
 * past 2^53 units would come out rounded. This writer prints an ExactAmount as a JSON number with
 * every digit. Each amount goes through JSON.stringify as a marked string first (a marker no
 * client can know), then the quoted marker is replaced by the digits.
 */
const MARK = `\u0000exact-${randomBytes(8).toString('hex')}:`;
const MARKED = new RegExp(`"\\\\u0000exact-${MARK.slice(7, 23)}:(-?\\d+(?:\\.\\d+)?)"`, 'g');

/** `value` as JSON text, with every ExactAmount as an exact number. */
export function exactJson(value: unknown): string {
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    // `this[key]` is the value before its toJSON ran.
    const original = this[key];
    return original instanceof ExactAmount ? `${MARK}${original.toString()}` : v;
  });
  return text.replace(MARKED, '$1');
}
