import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PERCENT_TYPES, payoutProblems, type PayoutShape } from '../../server/domain/payout-rules.js';

const fixed = { unit: 'fixed' as const };
const percent = { unit: 'percent' as const };

/** A valid general CPS payout; each test changes what it checks. */
const base = (over: Partial<PayoutShape> = {}): PayoutShape => ({
  kind: 'general',
  type: 'CPS',
  actionCode: null,
  rawClicks: false,
  affiliateCommission: percent,
  merchantCommission: fixed,
  couponCode: null,
  tiers: [],
  affiliateIds: [],
  commissionGroupIds: [],
  recurringMonths: null,
  ...over,
});

const fields = (p: PayoutShape) => payoutProblems(p).map((x) => x.field);

describe('payoutProblems (SPEC §6.1)', () => {
  test('valid payouts of every type have no problems', () => {
    assert.deepEqual(fields(base()), []);
    assert.deepEqual(fields(base({ type: 'LIFETIME', tiers: [percent, fixed] })), []);
    assert.deepEqual(fields(base({ type: 'CPA', actionCode: 'signup', affiliateCommission: percent })), []);
    assert.deepEqual(fields(base({ type: 'PPC', affiliateCommission: fixed, rawClicks: true })), []);
    assert.deepEqual(fields(base({ type: 'CPM', affiliateCommission: fixed })), []);
    assert.deepEqual(fields(base({ kind: 'personal', affiliateIds: [1, 2] })), []);
    assert.deepEqual(fields(base({ kind: 'personal', affiliateIds: [7], couponCode: 'SPRING' })), []);
  });

  test('every problem names its field and says what is wrong', () => {
    for (const p of payoutProblems(base({ type: 'CPA', kind: 'personal' }))) {
      assert.equal(typeof p.field, 'string');
      assert.ok(p.message.length > 5, `a readable message for ${p.field}`);
    }
  });

  test('a CPA payout needs an actionCode', () => {
    assert.deepEqual(fields(base({ type: 'CPA', actionCode: null })), ['actionCode']);
    assert.deepEqual(fields(base({ type: 'CPA', actionCode: '' })), ['actionCode']);
  });

  test('an actionCode belongs only to CPA payouts', () => {
    for (const type of ['CPS', 'LIFETIME'] as const) {
      assert.deepEqual(fields(base({ type, actionCode: 'signup' })), ['actionCode'], type);
    }
    assert.deepEqual(fields(base({ type: 'PPC', affiliateCommission: fixed, actionCode: 'x' })), ['actionCode']);
  });

  test('rawClicks applies only to PPC payouts', () => {
    for (const type of ['CPS', 'LIFETIME', 'CPM'] as const) {
      assert.deepEqual(fields(base({ type, affiliateCommission: fixed, rawClicks: true })), ['rawClicks'], type);
    }
    assert.deepEqual(fields(base({ type: 'PPC', affiliateCommission: fixed, rawClicks: true })), []);
  });

  test('percentages only for CPS, LIFETIME, RECURRING and CPA', () => {
    assert.deepEqual([...PERCENT_TYPES].sort(), ['CPA', 'CPS', 'LIFETIME', 'RECURRING']);
    for (const type of ['PPC', 'CPM'] as const) {
      assert.deepEqual(fields(base({ type, affiliateCommission: percent })), ['affiliateCommission.unit'], type);
      assert.deepEqual(
        fields(base({ type, affiliateCommission: fixed, merchantCommission: percent })),
        ['merchantCommission.unit'],
        type,
      );
      assert.deepEqual(
        fields(base({ type, affiliateCommission: fixed, tiers: [fixed, percent] })),
        ['tiers.1.unit'],
        type,
      );
    }
  });

  test('a personal payout names at least one affiliate', () => {
    assert.deepEqual(fields(base({ kind: 'personal', affiliateIds: [] })), ['affiliateIds']);
  });

  test('a general payout names no affiliates', () => {
    assert.deepEqual(fields(base({ kind: 'general', affiliateIds: [3] })), ['affiliateIds']);
  });

  test('a couponCode needs a personal payout naming exactly one affiliate', () => {
    assert.deepEqual(fields(base({ couponCode: 'SPRING' })), ['couponCode']);
    assert.deepEqual(fields(base({ kind: 'personal', affiliateIds: [1, 2], couponCode: 'SPRING' })), ['couponCode']);
    assert.deepEqual(fields(base({ kind: 'general', affiliateIds: [1], couponCode: 'SPRING' })), [
      'affiliateIds',
      'couponCode',
    ]);
  });

  test('several problems are reported together', () => {
    const p = base({ kind: 'personal', type: 'PPC', affiliateCommission: percent, rawClicks: false, actionCode: 'x' });
    assert.deepEqual(fields(p).sort(), ['actionCode', 'affiliateCommission.unit', 'affiliateIds'].sort());
  });
});

describe('payoutProblems: RECURRING and commission groups (SPEC §14)', () => {
  const fields = (p: PayoutShape) => payoutProblems(p).map((x) => x.field);
  test('recurringMonths only on RECURRING payouts', () => {
    assert.deepEqual(fields(base({ type: 'RECURRING', recurringMonths: 12 })), []);
    assert.deepEqual(fields(base({ type: 'CPS', recurringMonths: 12 })), ['recurringMonths']);
  });
  test('a personal payout may name only commission groups; a general one none', () => {
    assert.deepEqual(fields(base({ kind: 'personal', commissionGroupIds: [3] })), []);
    assert.deepEqual(fields(base({ kind: 'personal' })), ['affiliateIds']);
    assert.deepEqual(fields(base({ commissionGroupIds: [3] })), ['commissionGroupIds']);
    assert.deepEqual(fields(base({ kind: 'personal', affiliateIds: [1], commissionGroupIds: [3], couponCode: 'X' })), [
      'couponCode',
    ]);
  });
});
