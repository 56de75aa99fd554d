import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromMinorUnits, stripeMinorDigits } from '../../server/domain/minor-units.js';
import { toUnits } from '../../server/domain/money.js';
import { MoneyError } from '../../server/domain/money.js';

/* Amounts sent in a currency's minor unit (Stripe), converted exactly to units (SPEC §1, §14). */

test('two-decimal currencies: cents to units', () => {
  assert.equal(stripeMinorDigits('usd'), 2);
  assert.equal(fromMinorUnits(2198, 2), toUnits('21.98'));
  assert.equal(fromMinorUnits(1, 2), toUnits('0.01'));
  assert.equal(fromMinorUnits(0, 2), 0);
});

test('zero-decimal currencies (JPY, KRW, …) have no minor unit', () => {
  for (const c of ['JPY', 'jpy', 'KRW', 'VND', 'CLP', 'XOF', 'UGX']) assert.equal(stripeMinorDigits(c), 0, c);
  assert.equal(fromMinorUnits(5000, stripeMinorDigits('JPY')), toUnits('5000'));
});

test('three-decimal currencies (BHD, KWD, …) count thousandths', () => {
  for (const c of ['BHD', 'JOD', 'KWD', 'OMR', 'TND']) assert.equal(stripeMinorDigits(c), 3, c);
  assert.equal(fromMinorUnits(12340, stripeMinorDigits('KWD')), toUnits('12.34'));
  assert.equal(fromMinorUnits(5124, 3), toUnits('5.124'));
});

test('Stripe keeps ISK, HUF and TWD two-decimal in its API', () => {
  for (const c of ['ISK', 'HUF', 'TWD']) assert.equal(stripeMinorDigits(c), 2, c);
});

test('large amounts stay exact (no float multiplication)', () => {
  // (1005 / 100) * 10000 is 100499.99999999999 in floating point.
  assert.equal(fromMinorUnits(1005, 2), 100_500);
  assert.equal(fromMinorUnits(99_999_999_999, 2), toUnits('999999999.99'));
  assert.equal(fromMinorUnits(1_000_000_000, 0), 10_000_000_000_000);
});

test('anything but a non-negative safe integer is refused', () => {
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])
    assert.throws(() => fromMinorUnits(bad, 2), MoneyError, String(bad));
});
