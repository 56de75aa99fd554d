/**
 * Money and percentages as integers of 1/10,000 (SPEC §1). Parsing goes through the decimal
 * text of a value, never through float multiplication, and rounds half-up (away from zero for
 * negative amounts) to 4 places. Arithmetic that can overflow 2^53 runs on BigInt.
 */

declare const unitsBrand: unique symbol;

/**
 * An amount in 1/10,000 of a currency unit (or of a percent point, for rates). Branded, so a
 * plain number (a decimal, or the result of `+`) is not accepted where units are expected: it
 * becomes units through `toUnits` (a decimal) or `asUnits` (an integer that already is units).
 */
export type Units = number & { readonly [unitsBrand]: true };

/**
 * A decimal as a client or a setting writes it (12.34): any number that is not already units, so
 * converting units again (`toUnits` of an amount in units) fails the type check.
 */
export type Decimal = number & { readonly [unitsBrand]?: never };

/** Zero units. */
export const ZERO = 0 as Units;

export const SCALE = 10_000;
const SCALE_BIG = 10_000n;
const MAX_UNITS = Number.MAX_SAFE_INTEGER;

export class MoneyError extends Error {
  override name = 'MoneyError';
}

/** A decimal too large (or too small) for exact arithmetic: a limit problem, not a typing one. */
export class MoneyRangeError extends MoneyError {
  override name = 'MoneyRangeError';
}

/**
 * An integer that already is units: a money column read from the database, a count of units
 * stored in JSON by this server. Throws for anything that is not a safe integer.
 */
export function asUnits(n: number): Units {
  if (!Number.isSafeInteger(n)) throw new MoneyError(`not an integer amount in units: ${String(n)}`);
  return (Object.is(n, -0) ? 0 : n) as Units;
}

/** Rounds a/b half away from zero (the "half-up" of SPEC §1, symmetric for refunds). */
function divRound(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new MoneyError('division by zero');
  const negative = a < 0n !== b < 0n;
  const absA = a < 0n ? -a : a;
  const absB = b < 0n ? -b : b;
  const q = (absA * 2n + absB) / (absB * 2n);
  return negative ? -q : q;
}

function toSafe(big: bigint): Units {
  if (big > BigInt(MAX_UNITS) || big < -BigInt(MAX_UNITS)) throw new MoneyRangeError('amount out of range');
  const n = Number(big);
  return (Object.is(n, -0) ? 0 : n) as Units;
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parses a decimal number or numeric string ("12.34", 12.34, "1e-5") into units, rounding
 * half-up at the 4th decimal place. Throws MoneyError for anything that is not a finite decimal.
 */
export function toUnits(value: Decimal | string): Units {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new MoneyError('not a finite number');
  const text = typeof value === 'number' ? String(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m || (!m[2] && !m[3])) throw new MoneyError(`not a decimal number: ${JSON.stringify(text).slice(0, 40)}`);
  const sign = m[1] === '-' ? -1n : 1n;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  const exp = m[4] ? Number(m[4]) : 0;
  if (Math.abs(exp) > 400) throw new MoneyRangeError('exponent out of range');
  // digits × 10^(exp - fracLen) is the value; units = value × 10^4.
  const digits = BigInt((intPart + fracPart).replace(/^0+(?=\d)/, '') || '0');
  const shift = exp - fracPart.length + 4;
  let units: bigint;
  if (shift >= 0) units = digits * 10n ** BigInt(shift);
  else units = divRound(digits, 10n ** BigInt(-shift));
  return toSafe(sign * units);
}

/** Units → a JS number with at most 4 decimal places (for JSON answers). */
export function fromUnits(units: Units): number {
  return units / SCALE;
}

/** Units → "1234.5000"-style fixed text with exactly 4 places. */
export function unitsToFixed(units: Units | bigint, places = 4): string {
  const big = BigInt(units);
  const negative = big < 0n;
  const abs = negative ? -big : big;
  const rounded = places >= 4 ? abs : divRound(abs, 10n ** BigInt(4 - places));
  const scale = 10n ** BigInt(Math.min(places, 4));
  const whole = rounded / scale;
  const frac = rounded % scale;
  const fracText = places > 0 ? '.' + frac.toString().padStart(Math.min(places, 4), '0').padEnd(places, '0') : '';
  return (negative && rounded !== 0n ? '-' : '') + whole.toString() + fracText;
}

/** A decimal as people write it: 2.5 → "2.5", 10 → "10" (no trailing zeros). */
export function decimalText(units: Units | bigint): string {
  return unitsToFixed(units).replace(/\.?0+$/, '');
}

/**
 * An exact amount in units that may pass 2^53 (a report total summed over rollup parts). Its text
 * has every digit (CSV, pages); JSON.stringify gives the nearest number, and the API's exact JSON
 * writer (server/http/exact-json.ts) every digit.
 */
export class ExactAmount {
  constructor(readonly units: bigint) {}
  toString(): string {
    return decimalText(this.units);
  }
  toJSON(): number {
    return Number(decimalText(this.units));
  }
}

/** Display text for people: "1,234.50 USD". */
export function formatMoney(units: Units | bigint, currency?: string): string {
  const fixed = unitsToFixed(units, 2);
  // The sign comes from the rounded text: -0.0049 shows as "0.00", not "-0.00".
  const negative = fixed.startsWith('-');
  const [whole = '0', frac] = fixed.replace('-', '').split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}.${frac ?? '00'}${currency ? ` ${currency}` : ''}`;
}

export function add(...amounts: Units[]): Units {
  return toSafe(amounts.reduce((sum, a) => sum + BigInt(a), 0n));
}

export function subtract(a: Units, b: Units): Units {
  return toSafe(BigInt(a) - BigInt(b));
}

export function negate(a: Units): Units {
  return toSafe(-BigInt(a));
}

/** The smaller of two amounts. */
export function minUnits(a: Units, b: Units): Units {
  return a < b ? a : b;
}

/** The amount, or zero when it is negative. */
export function atLeastZero(a: Units): Units {
  return a < 0 ? ZERO : a;
}

/** `percentUnits` is a percentage in units (12.5% = 125000); the result rounds half-up. */
export function percentOf(amount: Units, percentUnits: Units): Units {
  return toSafe(divRound(BigInt(amount) * BigInt(percentUnits), 100n * SCALE_BIG));
}

/**
 * amount × numerator / denominator, rounded half-up (proportional refunds, rate conversion). The
 * ratio has no unit of its own: a quantity, or two amounts of the same kind.
 */
export function scale(amount: Units, numerator: number, denominator: number): Units {
  return toSafe(divRound(BigInt(amount) * BigInt(numerator), BigInt(denominator)));
}

/**
 * amount × rate (as multiplyByRate), or null when the result would lie outside ±`max` units:
 * a limit check that cannot itself overflow.
 */
export function multiplyByRateWithin(amount: Units, rateUnits: Units, max: Units): Units | null {
  const big = divRound(BigInt(amount) * BigInt(rateUnits), SCALE_BIG);
  return big > BigInt(max) || big < -BigInt(max) ? null : toSafe(big);
}

/** amount × rate, where the rate is itself in units (1.0850 = 10850). */
export function multiplyByRate(amount: Units, rateUnits: Units): Units {
  return scale(amount, rateUnits, SCALE);
}
