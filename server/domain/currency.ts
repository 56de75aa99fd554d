/**
 * Currency conversion (SPEC §6.5): `exchangeRates` give units of the base currency per unit of
 * each other currency. The base currency converts at 1; a currency without a rate has no rate,
 * and each caller says what that means: a sale or a postback is rejected, a click's cost is 0.
 */
import { asUnits, SCALE, toUnits, type Units } from './money.js';

export interface CurrencySettings {
  baseCurrency: string;
  exchangeRates: Readonly<Record<string, number>>;
}

/** The rate (in units: 1.0850 = 10850) from `currency` to the base currency; null when it has none. */
export function rateToBase(currency: string, settings: CurrencySettings): Units | null {
  if (currency === settings.baseCurrency) return asUnits(SCALE);
  const rate = settings.exchangeRates[currency];
  return rate === undefined ? null : toUnits(rate);
}
