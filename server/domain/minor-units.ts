import { MoneyError, toUnits, type Units } from './money.js';

/*
 * Amounts that platforms send in a currency's minor unit (cents, yen, fils), converted to units
 * exactly (SPEC §1): the integer is read as decimal text shifted by the currency's digits, never
 * divided in floating point.
 */

export type MinorDigits = 0 | 2 | 3;

/** Currencies Stripe counts in whole units (docs.stripe.com/currencies#zero-decimal). */
const STRIPE_ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
/** Currencies Stripe counts in thousandths (docs.stripe.com/currencies#three-decimal). */
const STRIPE_THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/**
 * The digits of Stripe's minor unit for a currency. Stripe's list, not ISO 4217's: Stripe keeps
 * ISK, HUF and TWD two-decimal in its API although they are charged in whole units.
 */
export function stripeMinorDigits(currency: string): MinorDigits {
  const code = currency.toUpperCase();
  if (STRIPE_ZERO_DECIMAL.has(code)) return 0;
  if (STRIPE_THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** A non-negative integer amount in minor units → units. */
export function fromMinorUnits(minor: number, digits: MinorDigits): Units {
  if (!Number.isSafeInteger(minor) || minor < 0)
    throw new MoneyError(`not a non-negative whole amount in minor units: ${String(minor).slice(0, 40)}`);
  return toUnits(`${minor}e-${digits}`);
}
