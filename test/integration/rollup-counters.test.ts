import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type Agent, type JsonResponse } from '../helpers/http.js';
import { addDailyStats } from '../../server/store/daily-stats.js';
import { formatMoney } from '../../server/domain/money.js';
import { created } from '../helpers/assert.js';
import { approvedAffiliate } from '../helpers/programme.js';

/*
 * SPEC §10a: no rollup counter can make a later valid event fail or lose it, and no counter
 * silently turns inexact. A bucket of daily_stats / traffic_stats is seeded next to the largest
 * value a BIGINT holds (standing in for about a million maximal sales), then more events land in
 * it: each is acknowledged and stored, and every report reads the exact total.
 */

type Api = ReturnType<typeof api>;

const BIGINT_MAX = 9_223_372_036_854_775_807n;
/** The app's clock: noon of a fixed day, moving with real time, so every event lands in one day. */
const DAY = '2026-01-15';
const NOON = Date.UTC(2026, 0, 15, 12);

/** Units as the exact decimal text a report prints ("922337203685477.5807", "10"). */
function decimal(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const frac = (abs % 10_000n).toString().padStart(4, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / 10_000n}${frac ? `.${frac}` : ''}`;
}

/** The exact number text of `field` in the report row whose key is `key` (JSON.parse would round it). */
function exactField(res: JsonResponse, key: string | number, field: string): string {
  assert.equal(res.status, 200, res.text.slice(0, 300));
  const rows = res.text.slice(res.text.indexOf('"rows"'));
  const keyText = JSON.stringify(key);
  const start = rows.indexOf(`{"key":${keyText},`);
  assert.ok(start >= 0, `no row with key ${keyText} in ${res.text.slice(0, 500)}`);
  const row = rows.slice(start, rows.indexOf('}', start));
  const m = new RegExp(`"${field}":(-?[0-9.eE+]+)`).exec(row);
  assert.ok(m, `no ${field} in ${row}`);
  return m[1]!;
}

describe(`rollup counters that cannot overflow (SPEC §10a) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let owner: Agent;
  let defaultCampaign: number;
  let paid: number;
  let paidFlow: number;
  const t0 = Date.now();

  const report = (query: string) => a.get(`/reports?from=${DAY}&to=${DAY}&${query}`);

  before(async () => {
    app = await startTestApp({ clock: () => NOON + (Date.now() - t0) });
    owner = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    defaultCampaign = (
      (await a.get('/campaigns?perPage=200')).body.data as Array<{ id: number; isDefault: boolean }>
    ).find((c) => c.isDefault)!.id;
    paid = created(await a.post('/campaigns', { name: 'Paid', alias: 'paid', costAuto: false }), 'campaign');
    paidFlow = created(
      await a.post(`/campaigns/${paid}/flows`, {
        name: 'Offer',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
      }),
      'flow',
    );
  });
  after(async () => {
    await app?.close();
  });

  test('maximal sales into a bucket next to the BIGINT limit are all stored, and the report total is exact', async () => {
    const seeded = BIGINT_MAX - 5_000n;
    await app.services.db('daily_stats').insert({
      day: DAY,
      campaign_id: defaultCampaign,
      affiliate_id: 0,
      banner_id: 0,
      sales: 7,
      revenue: seeded.toString(),
    });
    const orders: string[] = [];
    for (let i = 0; i < 3; i++) {
      const orderId = `MAX-${i}`;
      orders.push(orderId);
      const res = await request(app.url, 'POST', '/t/sale', {
        body: { orderId, totalCost: '1000000000' },
        headers: { 'user-agent': CHROME },
      });
      assert.equal(res.status, 201, `sale ${i}: ${res.status} ${res.text.slice(0, 300)}`);
    }
    // A later small sale in the same bucket is still acknowledged and stored.
    const later = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: 'LATER', totalCost: '12.3456' },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(later.status, 201, later.text);
    const stored = await app.services
      .db('sales')
      .whereIn('order_id', [...orders, 'LATER'])
      .count({ n: '*' });
    assert.equal(Number(stored[0]!.n), 4);

    const expected = seeded + 3n * 10_000_000_000_000n + 123_456n;
    for (const groupBy of ['day', 'campaign']) {
      const res = await report(`groupBy=${groupBy}`);
      const key = groupBy === 'day' ? DAY : defaultCampaign;
      assert.equal(exactField(res, key, 'revenue'), decimal(expected), `groupBy=${groupBy}`);
      assert.equal(exactField(res, key, 'sales'), '11');
    }
    // The CSV export prints the same exact total.
    const csv = await a.get(`/reports?from=${DAY}&to=${DAY}&groupBy=day&format=csv`);
    assert.equal(csv.status, 200);
    assert.ok(csv.text.includes(`,${decimal(expected)},`), csv.text);
    // The dashboard and the reports page read the same counters.
    const dashboard = await owner.get('/admin');
    assert.equal(dashboard.status, 200, dashboard.text.slice(0, 300));
    const page = await owner.get(`/admin/reports?from=${DAY}&to=${DAY}&groupBy=day`);
    assert.equal(page.status, 200, page.text.slice(0, 300));
    // People read money to the cent, grouped: every digit of the exact total up to the cents.
    assert.ok(page.text.includes(formatMoney(expected)), 'the reports page prints the exact total');
  });

  test('campaign-URL clicks with a maximal cost into a bucket next to the limit redirect, are stored and cost exactly', async () => {
    const seeded = BIGINT_MAX - 7_000n;
    await app.services.db('daily_stats').insert({
      day: DAY,
      campaign_id: paid,
      affiliate_id: 0,
      banner_id: 0,
      clicks: 2,
      cost: seeded.toString(),
    });
    await app.services.db('traffic_stats').insert({
      day: DAY,
      campaign_id: paid,
      flow_id: paidFlow,
      landing_index: -1,
      offer_index: 0,
      source_id: 0,
      country: '',
      clicks: 2,
      cost: seeded.toString(),
    });
    // Reports by flow read the campaign-URL rollup by dimension value (its totals row `*`).
    await app.services.db('dimension_stats').insert({
      dimension: '*',
      value: '',
      day: DAY,
      campaign_id: paid,
      flow_id: paidFlow,
      clicks: 2,
      cost: seeded.toString(),
    });
    const subids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(app.url, 'GET', '/paid?cost=1000000000', {
        headers: { 'user-agent': CHROME, 'x-forwarded-for': `10.9.0.${i + 1}` },
      });
      assert.equal(res.status, 302, `click ${i}: ${res.status} ${res.text.slice(0, 300)}`);
      subids.push(new URL(res.headers.get('location')!).searchParams.get('s')!);
    }
    const clicks = (await app.services.db('clicks').whereIn('click_id', subids)) as Array<{ cost: number | string }>;
    assert.equal(clicks.length, 3);
    assert.ok(clicks.every((c) => Number(c.cost) === 10_000_000_000_000));
    const expected = decimal(seeded + 3n * 10_000_000_000_000n);
    assert.equal(exactField(await report(`groupBy=campaign&campaignId=${paid}`), paid, 'cost'), expected);
    assert.equal(exactField(await report(`groupBy=campaign&campaignId=${paid}`), paid, 'clicks'), '5');
    assert.equal(exactField(await report(`groupBy=flow&campaignId=${paid}`), paidFlow, 'cost'), expected);
    assert.equal(exactField(await report(`groupBy=flow&campaignId=${paid}`), paidFlow, 'clicks'), '5');
  });

  test('the store adds any delta exactly, however full the bucket, in both directions', async () => {
    const key = { day: '2026-01-10', campaign_id: defaultCampaign, affiliate_id: 0, banner_id: 0 };
    const db = app.services.db;
    const big = Number.MAX_SAFE_INTEGER;
    // Deltas are numbers of units; many of the largest safe ones pass the BIGINT range several times.
    for (let i = 0; i < 2100; i += 300)
      await db.transaction((trx) =>
        addDailyStats(
          trx,
          Array.from({ length: 300 }, () => ({ ...key, revenue: big })),
        ),
      );
    await db.transaction((trx) => addDailyStats(trx, [{ ...key, refunds: 1, revenue: -big }]));
    await db.transaction((trx) => addDailyStats(trx, [{ ...key, revenue: -big }]));
    const expected = BigInt(big) * 2098n;
    const res = await a.get(`/reports?from=2026-01-10&to=2026-01-10&groupBy=day`);
    assert.equal(exactField(res, '2026-01-10', 'revenue'), decimal(expected));

    // One batch past the range on a new key: several new parts at once, with other counters beside.
    const fresh = { ...key, day: '2026-01-11' };
    await db.transaction((trx) =>
      addDailyStats(trx, [
        ...Array.from({ length: 2100 }, () => ({ ...fresh, revenue: big })),
        { ...fresh, cost: 50_000, sales: 1 },
      ]),
    );
    const next = await a.get(`/reports?from=2026-01-11&to=2026-01-11&groupBy=day`);
    assert.equal(exactField(next, '2026-01-11', 'revenue'), decimal(BigInt(big) * 2100n));
    assert.equal(exactField(next, '2026-01-11', 'cost'), '5');
    assert.equal(exactField(next, '2026-01-11', 'sales'), '1');
  });

  test('a PPC accumulator at the limit of exact money keeps taking clicks, in a further row', async () => {
    const ppc = created(await a.post('/campaigns', { name: 'PPC', approval: 'auto' }), 'campaign');
    created(
      await a.post(`/campaigns/${ppc}/payouts`, {
        kind: 'general',
        title: 'Max per click',
        type: 'PPC',
        rawClicks: true,
        affiliateCommission: { value: 1_000_000_000, unit: 'fixed' },
      }),
      'payout',
    );
    await approvedAffiliate(a, 'Pia', 'pia');
    const click = () =>
      request(app.url, 'POST', '/t/click', {
        body: { url: `https://shop.example/?a_aid=pia&a_cid=${ppc}` },
        headers: { 'user-agent': CHROME },
      });
    assert.equal((await click()).status, 200);
    // 900 clicks of 1,000,000,000: the largest exact amount (2^53 units) is one click away.
    await app.services
      .db('commissions')
      .where({ campaign_id: ppc, kind: 'click' })
      .update({ quantity: 900, amount: 900 * 10_000_000_000_000 });
    for (let i = 0; i < 3; i++) {
      const res = await click();
      assert.equal(res.status, 200, `click ${i}: ${res.status} ${res.text.slice(0, 300)}`);
      assert.ok(res.body.clickId);
    }
    const rows = (await app.services.db('commissions').where({ campaign_id: ppc, kind: 'click' })) as Array<{
      quantity: number | string;
      amount: number | string;
    }>;
    assert.equal(
      rows.reduce((n, r) => n + Number(r.quantity), 0),
      903,
    );
    assert.equal(
      rows.reduce((n, r) => n + BigInt(r.amount), 0n),
      903n * 10_000_000_000_000n,
    );
    assert.equal(
      await app.services
        .db('clicks')
        .where({ campaign_id: ppc })
        .count({ n: '*' })
        .first()
        .then((r) => Number((r as { n: unknown }).n)),
      4,
    );
  });

  test('a report over many days of full buckets sums exactly (no overflow of the sum)', async () => {
    const days = ['2026-01-01', '2026-01-02', '2026-01-03'];
    for (const day of days)
      await app.services.db('daily_stats').insert({
        day,
        campaign_id: defaultCampaign,
        affiliate_id: 0,
        banner_id: 0,
        revenue: (BIGINT_MAX - 1n).toString(),
      });
    const res = await a.get(`/reports?from=2026-01-01&to=2026-01-03&groupBy=campaign`);
    assert.equal(exactField(res, defaultCampaign, 'revenue'), decimal(3n * (BIGINT_MAX - 1n)));
  });
});
