/*
 * ISO 4217: the currency codes a field may name. The list is the one the runtime's ICU data
 * knows (current codes such as USD, EUR, JPY, KWD), so "XYZ" or "EURO" is refused with the field
 * named rather than accepted and failing later at conversion.
 */
const ISO_4217: ReadonlySet<string> = new Set(
  typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('currency') : [],
);

export const CURRENCY_CODE_MESSAGE = 'must be an ISO 4217 currency code such as USD or EUR';

/** True for a current ISO 4217 code, in any case ("usd" too). */
export function isCurrencyCode(code: string): boolean {
  // Without ICU's list (a small-icu build), any three letters pass, as before.
  return ISO_4217.size === 0 ? /^[A-Za-z]{3}$/.test(code) : ISO_4217.has(code.toUpperCase());
}
