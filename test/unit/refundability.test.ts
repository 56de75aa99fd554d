import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRefundable, refundFits, refundRemaining } from '../../server/domain/refundability.js';
import { asUnits } from '../../server/domain/money.js';

// Amounts in units (1/10,000): 1_000_000 is 100.00.
const sale = (over: Partial<Parameters<typeof refundFits>[0]> = {}) => ({
  kind: 'sale',
  status: 'approved',
  totalCost: asUnits(1_000_000),
  refunded: asUnits(0),
  ...over,
});

test('what is left to refund: the amount less what was refunded; none for a sale without an amount', () => {
  assert.equal(refundRemaining(sale({ refunded: asUnits(250_000) })), asUnits(750_000));
  assert.equal(refundRemaining(sale({ totalCost: null })), null);
});

test('the sale page offers a refund while something is left, never for actions or declined sales', () => {
  assert.equal(isRefundable(sale(), 0), true);
  assert.equal(isRefundable(sale({ refunded: asUnits(1_000_000) }), 1), false);
  assert.equal(isRefundable(sale({ kind: 'action' }), 0), false);
  assert.equal(isRefundable(sale({ status: 'declined' }), 0), false);
  assert.equal(isRefundable(null, 0), false);
  // Without an amount: once.
  assert.equal(isRefundable(sale({ totalCost: null }), 0), true);
  assert.equal(isRefundable(sale({ totalCost: null }), 1), false);
});

test('a refund is worth confirming when it asks no more than is left', () => {
  assert.equal(refundFits(sale({ refunded: asUnits(400_000) }), asUnits(600_000)), true);
  assert.equal(refundFits(sale({ refunded: asUnits(400_000) }), asUnits(600_001)), false);
  assert.equal(refundFits(sale({ refunded: asUnits(400_000) }), null), true);
  assert.equal(refundFits(sale({ refunded: asUnits(1_000_000) }), null), false);
  assert.equal(refundFits(sale({ totalCost: null }), asUnits(5_000_000)), true);
  assert.equal(refundFits(sale({ kind: 'action' }), null), false);
  assert.equal(refundFits(sale({ status: 'declined' }), null), false);
});
