import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayBefore } from '../../server/services/daily-summary.js';

test('the day before is a calendar day, across month, year and leap-day boundaries', () => {
  assert.equal(dayBefore('2026-12-02'), '2026-12-01');
  assert.equal(dayBefore('2026-03-01'), '2026-02-28');
  assert.equal(dayBefore('2028-03-01'), '2028-02-29');
  assert.equal(dayBefore('2027-01-01'), '2026-12-31');
  // The day after a DST change is still one calendar day on: days are compared as dates, not as 24 h.
  assert.equal(dayBefore('2026-03-30'), '2026-03-29');
});
