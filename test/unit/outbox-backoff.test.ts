import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { backoff, BACKOFF_BASE_MS, BACKOFF_CAP_MS } from '../../server/services/outbox-worker.js';

describe('outbox back-off (SPEC §7.6)', () => {
  test('starts at 10 s and doubles after each failed attempt', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoff(n) / 1000),
      [10, 20, 40, 80, 160, 320, 640, 1280],
    );
  });

  test('is capped at one hour', () => {
    assert.equal(backoff(9), 2560_000);
    assert.equal(backoff(10), BACKOFF_CAP_MS);
    assert.equal(backoff(11), 3_600_000);
    assert.equal(backoff(1000), BACKOFF_CAP_MS, 'no overflow to Infinity or NaN');
    assert.equal(backoff(Number.POSITIVE_INFINITY), BACKOFF_CAP_MS);
  });

  test('never waits less than the base, whatever it is given', () => {
    for (const n of [0, -3, 0.5, Number.NaN]) assert.equal(backoff(n), BACKOFF_BASE_MS, String(n));
    assert.equal(backoff(2.9), 20_000, 'whole attempts only');
  });

  test('12 attempts (the default) span about 3.4 hours of waiting', () => {
    let total = 0;
    for (let n = 1; n < 12; n++) total += backoff(n);
    assert.equal(total, (10 + 20 + 40 + 80 + 160 + 320 + 640 + 1280 + 2560 + 3600 + 3600) * 1000);
    assert.ok(total > 3 * 3600_000 && total < 4 * 3600_000);
  });

  test('base and cap can be chosen (tests use milliseconds)', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoff(n, 5, 30)),
      [5, 10, 20, 30, 30],
    );
  });
});
