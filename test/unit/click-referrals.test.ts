import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  UNIQUE_WINDOW_MS,
  paysClick,
  referClick,
  unreferredClickStatus,
  withStatusOverride,
  type ClickReferral,
} from '../../server/domain/referrals.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 10, 12);

const prev: ClickReferral = {
  visitorId: 'v1',
  campaignId: 3,
  firstAffiliateId: 7,
  firstClickAt: T0,
  lastAffiliateId: 7,
  lastClickAt: T0,
  lastBannerId: 11,
  clicks: 1,
};
const click = (affiliateId: number, at: number, bannerId: number | null = null) => ({
  visitorId: 'v1',
  campaignId: 3,
  affiliateId,
  bannerId,
  at,
});

describe('referClick', () => {
  test("a visitor's first click in the campaign is unique and is both first and last click", () => {
    assert.deepEqual(referClick(undefined, click(7, T0, 11), 30), { status: 'unique', referral: prev });
  });

  test("the same affiliate's link again within a day is raw; the last click moves, the first stays", () => {
    const r = referClick(prev, click(7, T0 + DAY - 1), 30);
    assert.equal(r.status, 'raw');
    assert.deepEqual(r.referral, {
      ...prev,
      lastClickAt: T0 + DAY - 1,
      lastBannerId: null,
      clicks: 2,
    });
  });

  test('exactly one day later the same affiliate counts unique again', () => {
    assert.equal(UNIQUE_WINDOW_MS, DAY);
    assert.equal(referClick(prev, click(7, T0 + DAY), 30).status, 'unique');
  });

  test("another affiliate's link within the day is unique and becomes the last click", () => {
    const r = referClick(prev, click(9, T0 + 1000, 4), 30);
    assert.equal(r.status, 'unique');
    assert.equal(r.referral.firstAffiliateId, 7);
    assert.equal(r.referral.firstClickAt, T0);
    assert.equal(r.referral.lastAffiliateId, 9);
    assert.equal(r.referral.lastBannerId, 4);
    assert.equal(r.referral.clicks, 2);
  });

  test('the first click is kept up to and including windowDays after it, replaced once later', () => {
    const kept = referClick(prev, click(9, T0 + 30 * DAY), 30).referral;
    assert.equal(kept.firstAffiliateId, 7);
    assert.equal(kept.firstClickAt, T0);
    const reset = referClick(prev, click(9, T0 + 30 * DAY + 1), 30).referral;
    assert.equal(reset.firstAffiliateId, 9);
    assert.equal(reset.firstClickAt, T0 + 30 * DAY + 1);
    assert.equal(reset.clicks, 2, 'the click count goes on');
  });

  test('a window of 0 days replaces the first click by any later one', () => {
    assert.equal(referClick(prev, click(9, T0 + 1), 0).referral.firstAffiliateId, 9);
    assert.equal(referClick(prev, click(9, T0), 0).referral.firstAffiliateId, 7);
  });
});

describe('click status rules', () => {
  test('a click without an affiliate is unique only for a new visitor', () => {
    assert.equal(unreferredClickStatus(true), 'unique');
    assert.equal(unreferredClickStatus(false), 'raw');
  });

  test('a campaign-URL override decides unique / raw but never un-declines', () => {
    assert.equal(withStatusOverride('unique', 'raw'), 'raw');
    assert.equal(withStatusOverride('raw', 'unique'), 'unique');
    assert.equal(withStatusOverride('declined', 'unique'), 'declined');
    assert.equal(withStatusOverride('raw', undefined), 'raw');
  });

  test('a PPC payout pays unique clicks, raw ones only with rawClicks, declined never', () => {
    assert.equal(paysClick('unique', false), true);
    assert.equal(paysClick('raw', false), false);
    assert.equal(paysClick('raw', true), true);
    assert.equal(paysClick('declined', true), false);
  });
});
