import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { ReportService } from '../../server/services/reports.js';

/*
 * Reports over whole months read the monthly rollup (dimension_stats_monthly) and only the days
 * at the edges from the daily one: the months follow the `timezone` setting's days, and a change
 * of the setting keeps every event on the day (and month) it was counted on.
 */

type Row = Record<string, unknown> & { key: unknown; key2?: unknown; clicks: number };

describe(`reports over whole months (monthly rollup) on ${dialectName()}`, () => {
  let app: TestApp;
  let now = Date.parse('2026-03-31T12:00:00Z');
  let owner: ReturnType<typeof api>;
  let n = 0;

  const click = async (at: string, zone: string) => {
    now = Date.parse(at);
    n++;
    const res = await request(app.url, 'GET', `/mon?sub_id_1=${zone}`, {
      headers: { 'user-agent': CHROME, 'x-forwarded-for': `10.8.0.${n}` },
    });
    assert.equal(res.status, 302, res.text);
  };
  const rows = async (query: string): Promise<Row[]> => {
    const res = await owner.get(`/reports?${query}`);
    assert.equal(res.status, 200, res.text);
    return res.body.rows as Row[];
  };
  const byKey = (list: Row[]) => Object.fromEntries(list.map((r) => [String(r.key), r.clicks]));
  /** The same grouping from the daily rows: day,<dimension> summed over the days. */
  const fromDays = async (dimension: string, from: string, to: string) => {
    const sums: Record<string, number> = {};
    for (const r of await rows(`groupBy=day,${dimension}&from=${from}&to=${to}`))
      sums[String(r.key2)] = (sums[String(r.key2)] ?? 0) + r.clicks;
    return sums;
  };
  const ok = (res: JsonResponse) => {
    assert.ok(res.status === 200 || res.status === 201, res.text);
    return res.body.id as number;
  };

  before(async () => {
    app = await startTestApp({ clock: () => now });
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    ok(await owner.patch('/settings', { timezone: 'Europe/Berlin' }));
    const campaignId = ok(await owner.post('/campaigns', { name: 'Monthly', alias: 'mon' }));
    ok(
      await owner.post(`/campaigns/${campaignId}/flows`, {
        name: 'Default',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
      }),
    );
    await click('2026-03-31T21:59:00Z', 'z1'); // 23:59 on 31 March in Berlin
    await click('2026-03-31T22:00:00Z', 'z2'); // 00:00 on 1 April in Berlin
    await click('2026-04-15T10:00:00Z', 'z1');
    await click('2026-04-30T21:59:00Z', 'z1'); // 23:59 on 30 April
    await click('2026-04-30T22:00:00Z', 'z2'); // 00:00 on 1 May
    await app.services.writers.clicks.drain();
    now = Date.parse('2026-08-01T12:00:00Z');
  });
  after(() => app?.close());

  test('a period is split into whole months and the days at its edges', () => {
    assert.deepEqual(ReportService.monthSegments('2026-04-01', '2026-04-30'), [
      ['dimension_stats_monthly', '2026-04-01', '2026-04-01'],
    ]);
    assert.deepEqual(ReportService.monthSegments('2026-03-31', '2026-06-01'), [
      ['dimension_stats', '2026-03-31', '2026-03-31'],
      ['dimension_stats_monthly', '2026-04-01', '2026-05-01'],
      ['dimension_stats', '2026-06-01', '2026-06-01'],
    ]);
    assert.deepEqual(ReportService.monthSegments('2026-02-02', '2026-03-30'), [
      ['dimension_stats', '2026-02-02', '2026-03-30'],
    ]);
    assert.deepEqual(ReportService.monthSegments('2025-12-15', '2026-02-28'), [
      ['dimension_stats', '2025-12-15', '2025-12-31'],
      ['dimension_stats_monthly', '2026-01-01', '2026-02-01'],
    ]);
  });

  test('whole months count the days of the time zone, as the daily rows do', async () => {
    // April in Berlin: from 00:00 on the 1st (22:00 UTC on 31 March) to 23:59 on the 30th.
    assert.deepEqual(byKey(await rows('groupBy=sub_id_1&from=2026-04-01&to=2026-04-30')), { z1: 2, z2: 1 });
    assert.deepEqual(await fromDays('sub_id_1', '2026-04-01', '2026-04-30'), { z1: 2, z2: 1 });
    // A whole month and a day on either side.
    assert.deepEqual(byKey(await rows('groupBy=sub_id_1&from=2026-03-31&to=2026-05-01')), { z1: 3, z2: 2 });
    const hours = byKey(await rows('groupBy=hour&from=2026-03-01&to=2026-05-31'));
    assert.deepEqual(hours, await fromDays('hour', '2026-03-01', '2026-05-31'));
    assert.deepEqual(hours, { '00': 2, '12': 1, '23': 2 });
    const months = await rows('groupBy=month,sub_id_1&from=2026-03-01&to=2026-05-31');
    assert.deepEqual(
      months.map((r) => `${String(r.key)} ${String(r.key2)} ${r.clicks}`),
      ['2026-03 z1 1', '2026-04 z1 2', '2026-04 z2 1', '2026-05 z2 1'],
    );
    const res = await owner.get('/reports?groupBy=campaign,sub_id_1&from=2026-04-01&to=2026-04-30');
    assert.equal(res.body.totals.clicks, 3);
  });

  test('a time zone change: events keep the day and month they were counted on', async () => {
    await click('2026-06-30T22:30:00Z', 'z3'); // 00:30 on 1 July in Berlin (30 June in UTC)
    await app.services.writers.clicks.drain();
    ok(await owner.patch('/settings', { timezone: 'UTC' }));
    await click('2026-06-30T23:30:00Z', 'z4'); // 30 June in UTC
    await app.services.writers.clicks.drain();
    now = Date.parse('2026-08-01T12:00:00Z');
    assert.deepEqual(byKey(await rows('groupBy=sub_id_1&from=2026-06-01&to=2026-06-30')), { z4: 1 });
    assert.deepEqual(byKey(await rows('groupBy=sub_id_1&from=2026-07-01&to=2026-07-31')), { z3: 1 });
    assert.deepEqual(await fromDays('sub_id_1', '2026-06-01', '2026-07-31'), { z3: 1, z4: 1 });
    const months = await rows('groupBy=month,sub_id_1&from=2026-06-01&to=2026-07-31');
    assert.deepEqual(
      months.map((r) => `${String(r.key)} ${String(r.key2)} ${r.clicks}`),
      ['2026-06 z4 1', '2026-07 z3 1'],
    );
  });
});
