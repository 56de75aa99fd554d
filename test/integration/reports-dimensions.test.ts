import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { IPHONE, CHROME, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';

/*
 * SPEC §15 reports by dimension: days and hours in the `timezone` setting across both DST changes
 * of Europe/Berlin, two-level groupings, filters, compare=previous, CSV, and bad input named.
 */

type Row = Record<string, unknown> & { key: unknown; key2?: unknown; clicks: number };

describe(`reports by dimension (SPEC §15) on ${dialectName()}`, () => {
  let app: TestApp;
  let now = Date.parse('2026-03-28T12:00:00Z');
  let owner: ReturnType<typeof api>;
  let campaignId = 0;
  let n = 0;

  const click = async (at: string, params: Record<string, string>, agent = CHROME) => {
    now = Date.parse(at);
    n++;
    const res = await request(app.url, 'GET', `/dst?${new URLSearchParams(params).toString()}`, {
      headers: { 'user-agent': agent, 'x-forwarded-for': `10.9.0.${n}` },
    });
    assert.equal(res.status, 302, res.text);
    return new URL(res.headers.get('location')!).searchParams.get('s')!;
  };
  const rows = async (query: string): Promise<Row[]> => {
    const res = await owner.get(`/reports?${query}`);
    assert.equal(res.status, 200, res.text);
    return res.body.rows as Row[];
  };
  const byKey = (list: Row[]) => Object.fromEntries(list.map((r) => [String(r.key), r.clicks]));

  before(async () => {
    app = await startTestApp({ clock: () => now });
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const ok = (res: JsonResponse) => {
      assert.ok(res.status === 200 || res.status === 201, res.text);
      return res.body.id as number;
    };
    ok(await owner.patch('/settings', { timezone: 'Europe/Berlin' }));
    campaignId = ok(await owner.post('/campaigns', { name: 'DST', alias: 'dst', costModel: 'CPC', costValue: 0.1 }));
    ok(
      await owner.post(`/campaigns/${campaignId}/flows`, {
        name: 'Default',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
      }),
    );
    // Spring forward: 2026-03-29 02:00 CET → 03:00 CEST (UTC+1 → UTC+2).
    await click('2026-03-28T23:30:00Z', { sub_id_1: 'z1' }); // 00:30 on the 29th
    await click('2026-03-29T00:59:00Z', { sub_id_1: 'z1' }); // 01:59 CET
    await click('2026-03-29T01:00:00Z', { sub_id_1: 'z2' }, IPHONE); // 03:00 CEST
    await click('2026-03-29T21:59:00Z', { sub_id_1: 'z2' }); // 23:59 on the 29th
    await click('2026-03-29T22:00:00Z', { sub_id_1: 'z1' }); // 00:00 on the 30th
    // Fall back: 2026-10-25 03:00 CEST → 02:00 CET; 02:30 happens twice.
    await click('2026-10-25T00:30:00Z', { sub_id_1: 'z1' }); // 02:30 CEST
    await click('2026-10-25T01:30:00Z', { sub_id_1: 'z1' }); // 02:30 CET
    await click('2026-10-25T22:59:00Z', { sub_id_1: 'z1' }); // 23:59 CET on the 25th
    await click('2026-10-25T23:00:00Z', { sub_id_1: 'z1' }); // 00:00 on the 26th
    await app.services.writers.clicks.drain();
    now = Date.parse('2026-11-01T12:00:00Z');
  });
  after(() => app?.close());

  test('days follow the time zone through the spring change (a 23-hour day)', async () => {
    assert.deepEqual(byKey(await rows('groupBy=day&from=2026-03-28&to=2026-03-30')), {
      '2026-03-29': 4,
      '2026-03-30': 1,
    });
    // The raw recount (two value dimensions) puts the clicks on the same days.
    const raw = await rows('groupBy=day,device&from=2026-03-28&to=2026-03-30&sub_id_1=z2');
    assert.deepEqual(
      raw.map((r) => [r.key, r.clicks]),
      [
        ['2026-03-29', 1],
        ['2026-03-29', 1],
      ],
    );
  });

  test('hours in the time zone: no 02 on the spring day, two clicks at 02 on the autumn day', async () => {
    assert.deepEqual(byKey(await rows('groupBy=hour&from=2026-03-29&to=2026-03-29')), {
      '00': 1,
      '01': 1,
      '03': 1,
      '23': 1,
    });
    assert.deepEqual(byKey(await rows('groupBy=hour&from=2026-10-25&to=2026-10-25')), { '02': 2, '23': 1 });
    const dayHour = await rows('groupBy=day,hour&from=2026-10-25&to=2026-10-26');
    assert.deepEqual(
      dayHour.map((r) => `${String(r.key)} ${String(r.key2)} ${r.clicks}`),
      ['2026-10-25 02 2', '2026-10-25 23 1', '2026-10-26 00 1'],
    );
    // Hours from the raw clicks (hour with a value filter and another value grouping) agree.
    const raw = await rows('groupBy=hour,device&from=2026-10-25&to=2026-10-25&sub_id_1=z1');
    assert.deepEqual(
      raw.map((r) => [r.key, r.clicks]),
      [
        ['02', 2],
        ['23', 1],
      ],
    );
  });

  test('two levels, filters, week and month, totals', async () => {
    const list = await rows('groupBy=campaign,sub_id_1&from=2026-03-01&to=2026-10-31');
    assert.deepEqual(
      list.map((r) => [r.key, r.key2, r.clicks]),
      [
        [campaignId, 'z1', 7],
        [campaignId, 'z2', 2],
      ],
    );
    const res = await owner.get('/reports?groupBy=sub_id_1&from=2026-03-01&to=2026-10-31&device=mobile');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.totals.clicks, 1);
    assert.equal(res.body.totals.cost, 0.1);
    const months = await rows('groupBy=month&from=2026-03-01&to=2026-10-31&sub_id_1=z1');
    assert.deepEqual(byKey(months), { '2026-03': 3, '2026-10': 4 });
    const weeks = await rows('groupBy=week&from=2026-03-23&to=2026-04-05');
    assert.deepEqual(byKey(weeks), { '2026-03-23': 4, '2026-03-30': 1 });
  });

  test('compare=previous adds the preceding period of equal length', async () => {
    const res = await owner.get('/reports?groupBy=day&from=2026-03-30&to=2026-03-30&compare=previous');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.totals.clicks, 1);
    assert.equal(res.body.previous.from, '2026-03-29');
    assert.equal(res.body.previous.to, '2026-03-29');
    assert.equal(res.body.previous.totals.clicks, 4);
  });

  test('CSV of a two-level report has both keys', async () => {
    const res = await fetch(`${app.url}/api/v1/reports?groupBy=day,sub_id_1&from=2026-03-29&to=2026-03-29&format=csv`, {
      headers: { authorization: `Bearer ${await tokenFor(app.url, OWNER.email, OWNER.password)}` },
    });
    assert.equal(res.status, 200);
    const lines = (await res.text()).trim().split('\n');
    assert.match(lines[0]!, /^key,label,key2,label2,clicks,/);
    assert.ok(lines.includes(lines.find((l) => l.startsWith('2026-03-29,2026-03-29,z1,z1,2,'))!), lines.join('\n'));
  });

  test('bad input is a 422 naming the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['groupBy=planet', 'groupBy'],
      ['groupBy=day,campaign,flow', 'groupBy'],
      ['groupBy=day,day', 'groupBy'],
      ['from=2026-03-10&to=2026-03-01', 'from'],
      ['from=2022-01-01&to=2026-01-01', 'from'],
      ['planet=mars', 'planet'],
      ['sub_id_16=x', 'sub_id_16'],
      ['hour=24', 'hour'],
      ['country=Germany', 'country'],
      ['landing=3', 'landing'],
      ['groupBy=coupon&flow=1', 'groupBy'],
      ['compare=next', 'compare'],
    ];
    for (const [query, field] of cases) {
      const res = await owner.get(`/reports?${query}`);
      assert.equal(res.status, 422, `${query}: ${res.status} ${res.text}`);
      assert.equal(res.body.error.details[0].field, field, `${query}: ${res.text}`);
    }
  });
});
