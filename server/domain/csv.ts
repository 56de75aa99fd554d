import { stringify } from 'csv-stringify/sync';
import { ExactAmount } from './money.js';

/** Text a spreadsheet would run as a formula (OWASP "CSV injection"): =, +, -, @, tab, carriage return. */
const FORMULA = /^[=+\-@\t\r]/;

/**
 * One cell as text: numbers and exact amounts as their digits; text that a spreadsheet would run
 * as a formula (an affiliate named "=HYPERLINK(…)") is prefixed with ' so it stays text.
 */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof ExactAmount) return value.toString();
  const text = typeof value === 'string' ? value : typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  return FORMULA.test(text) ? `'${text}` : text;
}

/**
 * Every CSV export (reports, payout batches): a header row, then one row per entry. `header:
 * false` for files whose reader takes no header row (PayPal Payouts).
 */
export function toCsv(
  columns: readonly string[],
  rows: ReadonlyArray<readonly unknown[]>,
  opts: { header?: boolean } = {},
): string {
  return stringify(
    rows.map((row) => row.map(cellText)),
    { header: opts.header ?? true, columns: columns as string[] },
  );
}

/** One CSV line (with its line break) for exports written row by row. */
export function csvLine(row: readonly unknown[]): string {
  return stringify([row.map(cellText)]);
}
