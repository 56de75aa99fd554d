import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  MoneyError,
  ZERO,
  asUnits,
  SCALE,
  add,
  formatMoney,
  fromUnits,
  multiplyByRate,
  percentOf,
  scale,
  subtract,
  toUnits,
  unitsToFixed,
} from '../../server/domain/money.js';

describe('toUnits: decimal input → 1/10,000 units', () => {
  test('numbers and numeric strings give the same exact units', () => {
    assert.equal(SCALE, 10_000);
    assert.equal(toUnits(12.3456), 123_456);
    assert.equal(toUnits('12.3456'), 123_456);
    assert.equal(toUnits(0), 0);
    assert.equal(toUnits('0'), 0);
    assert.equal(toUnits(1), 10_000);
    assert.equal(toUnits('19.99'), 199_900);
    assert.equal(toUnits(-7.5), -75_000);
    assert.equal(toUnits('+3'), 30_000);
    assert.equal(toUnits('  7 '), 70_000, 'surrounding spaces are ignored');
    assert.equal(toUnits('.5'), 5_000);
    assert.equal(toUnits('5.'), 50_000);
  });

  test('floating-point noise in a number does not leak into the units', () => {
    assert.equal(toUnits(0.1 + 0.2), 3_000); // 0.30000000000000004
    assert.equal(toUnits(1.1 * 3), 33_000); // 3.3000000000000003
    assert.equal(toUnits(19.99 * 100), 19_990_000);
  });

  test('exponents are applied exactly', () => {
    assert.equal(toUnits('1e3'), 10_000_000);
    assert.equal(toUnits('1.5E2'), 1_500_000);
    assert.equal(toUnits('2e-4'), 2);
    assert.equal(toUnits('5e-5'), 1, 'half a unit rounds up');
    assert.equal(toUnits('1e-5'), 0);
    assert.equal(toUnits(1e-7), 0, 'String(1e-7) is "1e-7"');
    assert.equal(toUnits(5e-5), 1);
    assert.equal(toUnits('1e-400'), 0, 'a tiny value rounds to zero');
  });

  test('rounds half-up at the 4th decimal place, away from zero for negatives', () => {
    assert.equal(toUnits('0.00005'), 1);
    assert.equal(toUnits('0.000049999'), 0);
    assert.equal(toUnits('0.00015'), 2);
    assert.equal(toUnits('0.00014'), 1);
    assert.equal(toUnits('1.23455'), 12_346);
    assert.equal(toUnits('1.23454999'), 12_345);
    assert.equal(toUnits('-0.00005'), -1);
    assert.equal(toUnits(-0.00005), -1);
    assert.equal(toUnits('-0.00015'), -2);
    assert.equal(toUnits('-0.00004'), 0);
    assert.equal(toUnits(1.00005), 10_001);
  });

  test('negative zero comes back as plain zero', () => {
    assert.ok(Object.is(toUnits('-0'), 0));
    assert.ok(Object.is(toUnits(-0), 0));
    assert.ok(Object.is(toUnits('-0.00001'), 0));
  });

  test('junk strings are refused with MoneyError', () => {
    for (const junk of [
      '',
      ' ',
      '.',
      'abc',
      '1,5',
      '1 000',
      '0x10',
      '1e',
      'e5',
      '--1',
      '+-1',
      '1.2.3',
      'Infinity',
      'NaN',
      '12abc',
      '$5',
      '1_000',
    ]) {
      assert.throws(() => toUnits(junk), MoneyError, `"${junk}" must be refused`);
    }
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => toUnits(n), MoneyError, `${n} must be refused`);
    }
  });

  test('amounts beyond 2^53 units are out of range, not silently wrong', () => {
    assert.throws(() => toUnits(1e21), /out of range/);
    assert.throws(() => toUnits('1e400'), MoneyError);
    assert.throws(() => toUnits('900719925474.0993'), /out of range/);
    assert.throws(() => toUnits('-900719925474.0993'), /out of range/);
    assert.equal(toUnits('900719925474.0991'), Number.MAX_SAFE_INTEGER);
    assert.throws(() => toUnits('1e100000'), MoneyError);
  });
});

describe('unit arithmetic', () => {
  test('percentOf takes a percentage given in units, rounding half-up', () => {
    assert.equal(percentOf(toUnits(100), toUnits(10)), toUnits(10));
    assert.equal(percentOf(toUnits('19.99'), toUnits('12.5')), 24_988); // 2.49875 → 2.4988
    assert.equal(percentOf(toUnits(1), toUnits('0.005')), 1); // 0.00005 → 0.0001
    assert.equal(percentOf(toUnits(1), toUnits('0.004')), 0);
    assert.equal(percentOf(toUnits(-1), toUnits('0.005')), -1, 'refunds round away from zero too');
    assert.equal(percentOf(toUnits(250), toUnits(100)), toUnits(250));
    assert.equal(percentOf(toUnits(250), ZERO), 0);
  });

  test('scale is amount × numerator / denominator, rounded half-up', () => {
    assert.equal(scale(toUnits(100), 1, 3), 333_333); // 33.33333
    assert.equal(scale(toUnits(100), 2, 3), 666_667); // 66.66667
    assert.equal(scale(asUnits(10), 1, 4), 3); // 2.5 → 3
    assert.equal(scale(asUnits(-10), 1, 4), -3);
    assert.equal(scale(asUnits(-5), 1, 10), -1);
    assert.throws(() => scale(asUnits(1), 1, 0), MoneyError);
  });

  test('multiplyByRate treats the rate as units (1.085 = 10850)', () => {
    assert.equal(multiplyByRate(toUnits(100), toUnits('1.085')), toUnits('108.5'));
    assert.equal(multiplyByRate(toUnits('0.01'), toUnits('0.5')), toUnits('0.005'));
    assert.equal(multiplyByRate(asUnits(1), toUnits('0.5')), 1); // 0.00005 → 0.0001
    assert.equal(multiplyByRate(toUnits(3), toUnits(1)), toUnits(3));
  });

  test('add and subtract are exact and refuse overflow', () => {
    assert.equal(add(toUnits('0.1'), toUnits('0.2')), toUnits('0.3'));
    assert.equal(add(), 0);
    assert.equal(subtract(toUnits(1), toUnits('0.0001')), 9_999);
    assert.throws(() => add(asUnits(Number.MAX_SAFE_INTEGER), asUnits(1)), /out of range/);
    assert.throws(() => subtract(asUnits(-Number.MAX_SAFE_INTEGER), asUnits(1)), /out of range/);
    assert.throws(() => percentOf(asUnits(Number.MAX_SAFE_INTEGER), toUnits(200)), /out of range/);
  });
});

describe('output', () => {
  test('fromUnits gives a decimal number with at most 4 places', () => {
    assert.equal(fromUnits(asUnits(123_456)), 12.3456);
    assert.equal(fromUnits(asUnits(1)), 0.0001);
    assert.equal(fromUnits(asUnits(-75_000)), -7.5);
    assert.equal(fromUnits(toUnits('0.3')), 0.3);
  });

  test('unitsToFixed writes exactly the requested places, rounding half-up', () => {
    assert.equal(unitsToFixed(asUnits(123_456)), '12.3456');
    assert.equal(unitsToFixed(asUnits(0)), '0.0000');
    assert.equal(unitsToFixed(asUnits(-5)), '-0.0005');
    assert.equal(unitsToFixed(asUnits(10_000)), '1.0000');
    assert.equal(unitsToFixed(asUnits(123_456), 2), '12.35');
    assert.equal(unitsToFixed(asUnits(-123_456), 2), '-12.35');
    assert.equal(unitsToFixed(asUnits(15), 3), '0.002');
    assert.equal(unitsToFixed(asUnits(50), 2), '0.01');
    assert.equal(unitsToFixed(asUnits(49), 2), '0.00');
    assert.equal(unitsToFixed(asUnits(-49), 2), '0.00', 'no "-0.00"');
    assert.equal(unitsToFixed(asUnits(5_000), 0), '1');
    assert.equal(unitsToFixed(asUnits(4_999), 0), '0');
    assert.equal(unitsToFixed(asUnits(12), 6), '0.001200');
  });

  test('formatMoney groups thousands and names the currency', () => {
    assert.equal(formatMoney(toUnits('1234567.891'), 'USD'), '1,234,567.89 USD');
    assert.equal(formatMoney(toUnits(100_000), 'EUR'), '100,000.00 EUR');
    assert.equal(formatMoney(toUnits('999.995')), '1,000.00');
    assert.equal(formatMoney(asUnits(0)), '0.00');
    assert.equal(formatMoney(toUnits('-1.2345')), '-1.23');
    assert.equal(formatMoney(toUnits('-1234.5'), 'USD'), '-1,234.50 USD');
    assert.equal(formatMoney(asUnits(-49)), '0.00', 'an amount that rounds to zero shows no minus sign');
  });
});
