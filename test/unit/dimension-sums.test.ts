import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DimensionSums, dimensionDeltas } from '../../server/store/daily-stats.js';

const key = { day: '2026-12-04', campaign_id: 3, flow_id: 7 };

test('a batch of clicks gives each (day, campaign, flow, dimension, value) one row, with the summed counters', () => {
  const sums = new DimensionSums();
  sums.add(
    key,
    [
      ['country', 'DE'],
      ['device', 'mobile'],
    ],
    { clicks: 1, unique_clicks: 1, cost: 500 },
  );
  sums.add(
    key,
    [
      ['country', 'DE'],
      ['device', 'desktop'],
    ],
    { clicks: 1, unique_clicks: 0, cost: 500 },
  );
  sums.add({ ...key, flow_id: 8 }, [['country', 'DE']], { clicks: 0, unique_clicks: 0, cost: 500 });
  const rows = sums.rows().map((r) => [r.flow_id, r.dimension, r.value, r.clicks, r.unique_clicks, r.cost]);
  assert.deepEqual(
    rows.sort((a, b) => String(a).localeCompare(String(b))),
    [
      [7, '*', '', 2, 1, 1000],
      [7, 'country', 'DE', 2, 1, 1000],
      [7, 'device', 'desktop', 1, 0, 500],
      [7, 'device', 'mobile', 1, 1, 500],
      [8, '*', '', 0, 0, 500],
      [8, 'country', 'DE', 0, 0, 500],
    ].sort((a, b) => String(a).localeCompare(String(b))),
  );
  assert.equal(sums.size, 6);
});

test('the merged rows are the per-click rows summed, and stay exact past 2^53', () => {
  const sums = new DimensionSums();
  const values: Array<[string, string]> = [
    ['hour', '09'],
    ['sub_id_1', 'a|b'],
  ];
  const perClick: ReturnType<typeof dimensionDeltas> = [];
  for (let i = 0; i < 3; i++) {
    const counters = { clicks: 1, cost: Number.MAX_SAFE_INTEGER };
    sums.add(key, values, counters);
    perClick.push(...dimensionDeltas(key, values, counters));
  }
  for (const row of sums.rows()) {
    const same = perClick.filter((d) => d.dimension === row.dimension && d.value === row.value);
    assert.equal(same.length, 3);
    assert.equal(row.clicks, 3);
    assert.equal(BigInt(row.cost as unknown as bigint), 3n * BigInt(Number.MAX_SAFE_INTEGER));
  }
});
