import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MoneyError, add, asUnits, fromUnits, toUnits, unitsToFixed, type Units } from '../../server/domain/money.js';

describe('Units is a branded type', () => {
  test('a plain number is not units without a named conversion (npm run typecheck)', () => {
    const price = (u: Units) => unitsToFixed(u, 2);
    // A decimal where units belong is the bug the brand catches at compile time.
    // @ts-expect-error: 12.5 is a decimal, not an amount in units
    assert.throws(() => price(12.5), RangeError);
    // @ts-expect-error: the result of `+` on units is a plain number
    assert.equal(price(toUnits('1') + toUnits('2')), '3.00');
    // @ts-expect-error: fromUnits gives a decimal for JSON, which is not units
    assert.throws(() => price(fromUnits(toUnits('1.5'))), RangeError);
    assert.equal(price(toUnits('12.5')), '12.50');
    assert.equal(price(add(toUnits('1'), toUnits('2'))), '3.00');
    assert.equal(price(asUnits(125_000)), '12.50');
  });

  test('asUnits takes only safe integers, the units a column holds', () => {
    assert.equal(asUnits(42), 42);
    assert.ok(Object.is(asUnits(-0), 0));
    assert.throws(() => asUnits(12.5), MoneyError);
    assert.throws(() => asUnits(Number.NaN), MoneyError);
    assert.throws(() => asUnits(2 ** 53), MoneyError);
  });
});
