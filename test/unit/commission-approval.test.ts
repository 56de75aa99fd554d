import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { commissionStatusFor } from '../../server/domain/sale-status.js';

describe('commissionStatusFor', () => {
  test("the campaign's own approval decides", () => {
    assert.equal(commissionStatusFor('auto', 'manual'), 'approved');
    assert.equal(commissionStatusFor('manual', 'auto'), 'pending');
  });

  test('a campaign without its own approval follows defaultApproval', () => {
    assert.equal(commissionStatusFor(null, 'auto'), 'approved');
    assert.equal(commissionStatusFor(null, 'manual'), 'pending');
    assert.equal(commissionStatusFor(undefined, 'auto'), 'approved');
    assert.equal(commissionStatusFor(undefined, 'manual'), 'pending');
  });
});
