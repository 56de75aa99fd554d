import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dayIn } from '../../server/domain/time.js';
import { hourIn } from '../../server/domain/report-dimensions.js';

// Whole-hour, half-hour and quarter-hour offsets, and a zone with summer time.
const ZONES = ['UTC', 'Europe/Berlin', 'Asia/Kathmandu', 'Asia/Kolkata', 'America/St_Johns', 'Australia/Eucla'];
const direct = (ms: number, timeZone: string) => ({
  day: new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms),
  hour: new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(ms),
});

test('the day and hour in a zone, remembered per minute, are what Intl says at every instant', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
      fc.array(fc.integer({ min: -120_000, max: 120_000 }), { minLength: 1, maxLength: 8 }),
      fc.constantFrom(...ZONES),
      (start, steps, zone) => {
        let ms = start;
        for (const step of steps) {
          ms += step;
          assert.deepEqual({ day: dayIn(ms, zone), hour: hourIn(ms, zone) }, direct(ms, zone), `${zone} ${ms}`);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('a quarter-hour zone turns its hour at :15 UTC, the minute before answering the hour before', () => {
  const at = Date.UTC(2026, 11, 6, 14, 14, 59, 999);
  assert.equal(hourIn(at, 'Asia/Kathmandu'), '19');
  assert.equal(hourIn(at + 1, 'Asia/Kathmandu'), '20');
  assert.equal(hourIn(at, 'Asia/Kathmandu'), '19');
  assert.equal(dayIn(Date.UTC(2026, 11, 6, 18, 14, 59), 'Asia/Kathmandu'), '2026-12-06');
  assert.equal(dayIn(Date.UTC(2026, 11, 6, 18, 15), 'Asia/Kathmandu'), '2026-12-07');
});
