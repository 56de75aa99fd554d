import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { saleStatusOf, type SaleCommissionFacts } from '../../server/domain/sale-status.js';

const c = (id: number, status: SaleCommissionFacts['status'], amount = 100, parentId: number | null = null) => ({
  id,
  parentId,
  status,
  amount,
});

describe('saleStatusOf (issue 9.8)', () => {
  test('no commission: the recorded status', () => {
    for (const recorded of ['pending', 'approved', 'declined'] as const)
      assert.equal(saleStatusOf(recorded, []), recorded);
  });

  test('the statuses of its own commissions', () => {
    const cases: Array<[SaleCommissionFacts['status'][], string]> = [
      [['pending', 'pending'], 'pending'],
      [['approved', 'pending'], 'pending'],
      [['approved', 'approved'], 'approved'],
      [['approved', 'paid'], 'approved'],
      [['paid', 'paid'], 'paid'],
      [['declined', 'declined'], 'declined'],
      [['declined', 'approved'], 'approved'],
      [['declined', 'paid'], 'paid'],
      [['reversed', 'reversed'], 'reversed'],
      [['reversed', 'declined'], 'reversed'],
      [['reversed', 'pending'], 'pending'],
    ];
    for (const [statuses, expected] of cases)
      assert.equal(
        saleStatusOf(
          'pending',
          statuses.map((s, i) => c(i + 1, s)),
        ),
        expected,
        statuses.join(', '),
      );
  });

  test('reversals count against the commission they take from', () => {
    assert.equal(saleStatusOf('approved', [c(1, 'paid'), c(2, 'approved', -40, 1)]), 'paid', 'partly taken back');
    assert.equal(saleStatusOf('approved', [c(1, 'paid'), c(2, 'approved', -100, 1)]), 'reversed', 'taken back in full');
    assert.equal(saleStatusOf('approved', [c(1, 'paid'), c(2, 'paid', -60, 1), c(3, 'approved', -40, 1)]), 'reversed');
    assert.equal(
      saleStatusOf('approved', [c(1, 'paid'), c(2, 'declined', -100, 1)]),
      'paid',
      'a declined reversal takes nothing',
    );
    assert.equal(
      saleStatusOf('approved', [c(1, 'approved', 0)]),
      'approved',
      'a zero commission without reversals stays',
    );
  });
});
