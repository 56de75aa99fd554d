import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { refundTake } from '../../server/domain/refunds.js';
import { asUnits, toUnits } from '../../server/domain/money.js';

const commission = { amount: toUnits('10.00'), merchantAmount: toUnits('12.00') };

describe('refundTake', () => {
  test('a partial refund takes the refunded share of the order from both amounts', () => {
    assert.deepEqual(
      refundTake(commission, [], { amount: toUnits('33.33'), orderTotal: toUnits('100.00'), full: false }),
      { amount: toUnits('3.333'), merchantAmount: toUnits('3.9996') },
    );
  });

  test('the share rounds half-up at the 4th decimal place', () => {
    // 1.0001 × 1/3 = 0.33336… → 0.3334; 0.0001 × 1/2 = 0.00005 → 0.0001.
    assert.equal(
      refundTake({ amount: asUnits(10_001), merchantAmount: asUnits(0) }, [], {
        amount: asUnits(10_000),
        orderTotal: asUnits(30_000),
        full: false,
      }).amount,
      3334,
    );
    assert.deepEqual(
      refundTake({ amount: asUnits(1), merchantAmount: asUnits(3) }, [], {
        amount: asUnits(5000),
        orderTotal: asUnits(10_000),
        full: false,
      }),
      {
        amount: asUnits(1),
        merchantAmount: asUnits(2),
      },
    );
    assert.equal(
      refundTake({ amount: asUnits(1), merchantAmount: asUnits(0) }, [], {
        amount: asUnits(4999),
        orderTotal: asUnits(10_000),
        full: false,
      }).amount,
      0,
      'under half a unit takes nothing',
    );
  });

  test('partial shares ignore earlier reversals', () => {
    const earlier = [{ amount: toUnits('-5'), merchantAmount: toUnits('-6'), status: 'approved' }];
    assert.deepEqual(
      refundTake(commission, earlier, { amount: toUnits('10'), orderTotal: toUnits('100'), full: false }),
      { amount: toUnits('1'), merchantAmount: toUnits('1.2') },
    );
  });

  test('the refund that completes the order takes exactly what is left after live reversals', () => {
    const third = { amount: toUnits('-3.333'), merchantAmount: toUnits('-3.9996') };
    const reversals = [
      { ...third, status: 'approved' },
      { ...third, status: 'pending' },
      { ...third, status: 'paid' },
      { ...third, status: 'reversed' },
      { amount: asUnits(-1), merchantAmount: asUnits(-1), status: 'declined' },
    ];
    // 10 − 3 × 3.333 = 0.001 and 12 − 3 × 3.9996 = 0.0012: no cent is left behind by rounding.
    assert.deepEqual(
      refundTake(commission, reversals, { amount: toUnits('33.34'), orderTotal: toUnits('100'), full: true }),
      {
        amount: toUnits('0.001'),
        merchantAmount: toUnits('0.0012'),
      },
    );
  });

  test('a full refund of an untouched commission takes all of it, whatever the refund amount', () => {
    assert.deepEqual(refundTake(commission, [], { amount: asUnits(0), orderTotal: null, full: true }), commission);
  });

  test('without an order total the refund counts as the whole order', () => {
    assert.deepEqual(refundTake(commission, [], { amount: toUnits('7'), orderTotal: null, full: false }), commission);
  });
});
