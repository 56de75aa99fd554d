import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { valueWithoutFlow } from '../../server/store/daily-stats.js';

/*
 * Reports keyed by day or week that neither group nor filter by campaign, group or flow read the
 * rollup over every campaign and flow (dimension_value_stats). Its rows are the sums of the
 * per-campaign rows (dimension_stats) key by key, and its reports give the same rows as the sum of
 * each campaign's report (read from dimension_stats), "(none)" included.
 */

type Row = Record<string, unknown> & { key: unknown; key2?: unknown; clicks: number };

const FIGURES = ['clicks', 'uniqueClicks', 'conversions', 'sales', 'revenue', 'cost'] as const;

describe(`reports over every campaign and flow (dimension_value_stats) on ${dialectName()}`, () => {
  let app: TestApp;
  let now = Date.parse('2026-05-30T10:00:00Z');
  let owner: ReturnType<typeof api>;
  let key = '';
  const campaigns: number[] = [];
  let n = 0;
  /** The click ids of the clicks made before the tests, in order. */
  const subids: string[] = [];

  const ok = (res: JsonResponse) => {
    assert.ok(res.status === 200 || res.status === 201, res.text);
    return res.body.id as number;
  };
  const click = async (at: string, alias: string, params: Record<string, string>) => {
    now = Date.parse(at);
    n++;
    const res = await request(app.url, 'GET', `/${alias}?${new URLSearchParams(params).toString()}`, {
      headers: { 'user-agent': CHROME, 'x-forwarded-for': `10.7.${n % 3}.${n}` },
    });
    assert.equal(res.status, 302, res.text);
    return new URL(res.headers.get('location')!).searchParams.get('s')!;
  };
  const rows = async (query: string): Promise<Row[]> => {
    const res = await owner.get(`/reports?${query}`);
    assert.equal(res.status, 200, res.text);
    return res.body.rows as Row[];
  };
  /** Rows keyed by their keys, figures summed (several campaigns' rows of one key add up). */
  const sumByKeys = (list: Row[], into: Map<string, Record<string, number>> = new Map()) => {
    for (const r of list) {
      const k = `${String(r.key)}|${String(r.key2)}`;
      const have = into.get(k) ?? Object.fromEntries(FIGURES.map((f) => [f, 0]));
      for (const f of FIGURES) have[f] = Math.round(((have[f] ?? 0) + Number(r[f])) * 10_000) / 10_000;
      into.set(k, have);
    }
    return into;
  };
  const sorted = (m: Map<string, Record<string, number>>) =>
    [...m].filter(([, v]) => FIGURES.some((f) => v[f] !== 0)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  before(async () => {
    app = await startTestApp({ clock: () => now });
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    key = app.services.settings.get().postbackKey;
    for (const alias of ['va', 'vb']) {
      const id = ok(await owner.post('/campaigns', { name: alias, alias, costModel: 'CPC', costValue: 0.05 }));
      campaigns.push(id);
      ok(
        await owner.post(`/campaigns/${id}/flows`, {
          name: 'Default',
          type: 'default',
          landings: [
            { url: `https://lp.example/${alias}/1?s={subid}`, weight: 50 },
            { url: `https://lp.example/${alias}/2?s={subid}`, weight: 50 },
          ],
          offers: [
            { url: `https://offer.example/${alias}/1?s={subid}`, weight: 50 },
            { url: `https://offer.example/${alias}/2?s={subid}`, weight: 50 },
          ],
        }),
      );
    }
    for (let i = 0; i < 24; i++) {
      const day = 30 + (i % 3); // 30 and 31 May, 1 June
      const at = `2026-${day > 31 ? '06-01' : `05-${day}`}T${String(6 + (i % 7)).padStart(2, '0')}:15:00Z`;
      const params: Record<string, string> = {};
      if (i % 4 !== 0) params.sub_id_1 = `z${i % 3}`;
      if (i % 5 === 0) params.keyword = `kw ${i % 2}`;
      subids.push(await click(at, i % 2 ? 'va' : 'vb', params));
    }
    await app.services.writers.clicks.drain();
    // Postback conversions on a later day than their clicks, one rejected afterwards.
    now = Date.parse('2026-06-01T18:00:00Z');
    for (const [i, status, payout] of [
      [1, 'sale', '30'],
      [2, 'lead', '0'],
      [5, 'sale', '12.5'],
    ] as const) {
      const res = await request(
        app.url,
        'GET',
        `/postback/${key}?${new URLSearchParams({ subid: subids[i]!, status, payout, tid: `T${i}` }).toString()}`,
      );
      assert.equal(res.status, 200, res.text);
    }
    const res = await request(
      app.url,
      'GET',
      `/postback/${key}?${new URLSearchParams({ subid: subids[5]!, status: 'rejected', tid: 'T5' }).toString()}`,
    );
    assert.equal(res.status, 200, res.text);
    now = Date.parse('2026-06-10T12:00:00Z');
  });
  after(() => app?.close());

  test('each row is the sum of the per-campaign rows of its day, dimension and value', async () => {
    const db = app.services.db;
    const counters = ['clicks', 'unique_clicks', 'conversions', 'sales', 'revenue', 'cost'];
    const sums = new Map<string, Record<string, number>>();
    for (const r of (await db('dimension_stats')) as Array<Record<string, unknown>>) {
      const k = `${String(r.dimension)}|${String(r.day)}|${valueWithoutFlow(String(r.dimension), Number(r.flow_id), String(r.value))}`;
      const have = sums.get(k) ?? Object.fromEntries(counters.map((c) => [c, 0]));
      for (const c of counters) have[c] = (have[c] ?? 0) + Number(r[c]);
      sums.set(k, have);
    }
    const values = new Map<string, Record<string, number>>();
    for (const r of (await db('dimension_value_stats')) as Array<Record<string, unknown>>) {
      const k = `${String(r.dimension)}|${String(r.day)}|${String(r.value)}`;
      const have = values.get(k) ?? Object.fromEntries(counters.map((c) => [c, 0]));
      for (const c of counters) have[c] = (have[c] ?? 0) + Number(r[c]);
      values.set(k, have);
    }
    const order = (m: Map<string, Record<string, number>>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    assert.ok(values.size > 10, `${values.size} rows`);
    assert.deepEqual(order(values), order(sums));
    assert.ok(
      [...values.keys()].some((k) => /^landing\|.*\|\d+:[01]$/.test(k)),
      'landings as flowId:index',
    );
  });

  for (const dimension of ['sub_id_1', 'keyword', 'landing', 'offer', 'hour', 'country', 'device'])
    for (const first of ['day', 'week'])
      test(`groupBy=${first},${dimension}: the same rows as the campaigns' reports added up`, async () => {
        const query = `groupBy=${first},${dimension}&from=2026-05-25&to=2026-06-07`;
        const all = await rows(query);
        assert.ok(all.length > 0);
        const perCampaign = new Map<string, Record<string, number>>();
        for (const id of campaigns) sumByKeys(await rows(`${query}&campaignId=${id}`), perCampaign);
        assert.deepEqual(sorted(sumByKeys(all)), sorted(perCampaign));
        // Days in order, then biggest first (hours in order), "(none)" among them.
        for (let i = 1; i < all.length; i++) {
          const [a, b] = [all[i - 1]!, all[i]!];
          assert.ok(String(a.key) <= String(b.key), `${query}: days in order`);
          if (a.key === b.key && dimension !== 'hour')
            assert.ok(a.clicks >= b.clicks, `${query}: ${JSON.stringify([a, b])} biggest first`);
        }
      });

  test('a value filter and a day filter read the same rows as the campaigns', async () => {
    const flows = (await app.services.db('flows').whereIn('campaign_id', campaigns).select('id')) as Array<{
      id: number;
    }>;
    for (const filter of ['&sub_id_1=z1', `&landing=${flows[0]!.id}:1`, '&day=2026-05-31'])
      for (const groupBy of ['day,country', 'day,sub_id_1', 'country', 'day']) {
        if (filter.startsWith('&landing') && groupBy === 'day,sub_id_1') continue; // two value dimensions: raw
        const query = `groupBy=${groupBy}&from=2026-05-25&to=2026-06-07${filter}`;
        const perCampaign = new Map<string, Record<string, number>>();
        for (const id of campaigns) sumByKeys(await rows(`${query}&campaignId=${id}`), perCampaign);
        assert.deepEqual(sorted(sumByKeys(await rows(query))), sorted(perCampaign), query);
      }
  });

  test('a page of a report is its rows in order, with the totals and row count of them all', async () => {
    // The first sale's click was on 31 May and its conversion on 1 June: rejected, it leaves
    // 1 June a value row whose figures are all zero, which no page counts or shows.
    const rejected = await request(
      app.url,
      'GET',
      `/postback/${key}?${new URLSearchParams({ subid: subids[1]!, status: 'rejected', tid: 'T1' }).toString()}`,
    );
    assert.equal(rejected.status, 200, rejected.text);
    const zeroRows = (await app.services.db('dimension_value_stats').where({
      clicks: 0,
      unique_clicks: 0,
      conversions: 0,
      sales: 0,
      revenue: 0,
      cost: 0,
    })) as unknown[];
    assert.ok(zeroRows.length > 0, 'a value row with no figures left');
    for (const groupBy of [
      'day,sub_id_1',
      'day,keyword',
      'day,hour',
      'day,landing',
      'campaign,sub_id_1',
      'sub_id_1',
      'day',
    ]) {
      const query = `groupBy=${groupBy}&from=2026-05-25&to=2026-06-07`;
      const whole = await owner.get(`/reports?${query}`);
      assert.equal(whole.status, 200, whole.text);
      const all = whole.body.rows as Row[];
      assert.ok(all.length > 2, `${groupBy}: ${all.length} rows`);
      assert.deepEqual(whole.body.pagination, { page: 1, perPage: 10_000, total: all.length, totalPages: 1 });
      for (const perPage of [1, 2, 5]) {
        const seen: Row[] = [];
        const pages = Math.ceil(all.length / perPage);
        for (let page = 1; page <= pages + 1; page++) {
          const res = await owner.get(`/reports?${query}&perPage=${perPage}&page=${page}`);
          assert.equal(res.status, 200, res.text);
          assert.deepEqual(res.body.totals, whole.body.totals, `${groupBy} page ${page}: totals of every row`);
          assert.deepEqual(res.body.pagination, { page, perPage, total: all.length, totalPages: pages });
          const rows = res.body.rows as Row[];
          assert.equal(rows.length, page <= pages ? Math.min(perPage, all.length - (page - 1) * perPage) : 0);
          seen.push(...rows);
        }
        assert.deepEqual(seen, all, `${groupBy} in pages of ${perPage}`);
      }
    }
  });

  test('with compare=previous the previous period is paged the same way', async () => {
    const both = await owner.get(
      '/reports?groupBy=day,sub_id_1&from=2026-06-01&to=2026-06-01&compare=previous&perPage=1&page=2',
    );
    assert.equal(both.status, 200, both.text);
    const current = await owner.get('/reports?groupBy=day,sub_id_1&from=2026-06-01&to=2026-06-01');
    const previous = await owner.get('/reports?groupBy=day,sub_id_1&from=2026-05-31&to=2026-05-31');
    const [now, before] = [current.body.rows as Row[], previous.body.rows as Row[]];
    assert.ok(now.length >= 2 && before.length >= 2, `${now.length} and ${before.length} rows`);
    assert.deepEqual(both.body.rows, now.slice(1, 2));
    assert.deepEqual(both.body.totals, current.body.totals);
    assert.deepEqual(both.body.previous.rows, before.slice(1, 2));
    assert.deepEqual(both.body.previous.totals, previous.body.totals);
    assert.deepEqual(both.body.previous.pagination, {
      page: 2,
      perPage: 1,
      total: before.length,
      totalPages: before.length,
    });
  });

  test('perPage over 10,000 or page 0 is refused naming the parameter', async () => {
    for (const [param, field] of [
      ['perPage=10001', 'perPage'],
      ['perPage=0', 'perPage'],
      ['page=0', 'page'],
      ['page=x', 'page'],
    ]) {
      const res = await owner.get(`/reports?groupBy=day,sub_id_1&${param}`);
      assert.equal(res.status, 422, res.text);
      assert.ok(
        (res.body.error.details as Array<{ field: string }>).some((d) => d.field === field),
        `${param}: ${res.text}`,
      );
    }
  });
});
