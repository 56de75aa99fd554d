import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { DIMENSIONS, DAILY as DAILY_DIMENSIONS, SALE_FACTS } from '../../server/domain/report-dimensions.js';
import { toUnits } from '../../server/domain/money.js';
import { ReportService } from '../../server/services/reports.js';
import type { Knex } from 'knex';

/*
 * SPEC §15: the totals of every grouping of the same period are equal to each other and to a
 * recount from the stored events. Random streams of tracking events, postbacks, refunds and
 * reviews go through the real app over HTTP; then every `groupBy` of /api/v1/reports for the
 * stream's day is compared with the others and with a recount from the raw rows.
 *
 * Which groupings cover which events (README, Reports):
 * - `day`, `campaign`, `affiliate`, `banner` (the daily rollup) cover everything: /t/click and /r
 *   clicks, campaign-URL clicks (GET /<alias>), impressions, snippet and API sales and actions,
 *   postback conversions, their costs and every commission.
 * - `flow`, `landing`, `offer`, `source`, `country` (the campaign-URL rollup) cover campaign-URL
 *   clicks and postback conversions only — their clicks, unique clicks, conversions, sales, revenue
 *   and cost; they carry no impressions and no commissions.
 * So clicks, conversions, revenue, cost, commissions… agree within each family, and for a
 * campaign reached only by its campaign URL the two families agree on what both cover.
 *
 * Each run of the property is one fresh day of the app's clock, so runs (and the replays of a
 * shrinking counterexample) never see each other's events.
 */

const DAY_MS = 86_400_000;
/** A stream spans at most this many days (its `nextDay` events move the clock to the next one). */
const MAX_DAYS = 3;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const shiftDay = (day: string, n: number) => dayOf(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);
/** The last day of a day's month. */
const lastOfMonth = (day: string) => {
  const [y, m] = day.split('-').map(Number) as [number, number];
  return dayOf(Date.UTC(y, m, 0));
};
// Runs (and shrinking replays) go day by day from years back: tokens are signed by the real clock and checked by the app's.
const START = Math.floor(Date.now() / DAY_MS - 2000) * DAY_MS + 9 * 3_600_000;
const IPS = ['81.2.69.160', '2.16.1.1', '5.9.0.1', '81.2.69.161', '8.8.4.4'];
const AGENTS = [
  CHROME,
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
];

type Ref = 'ada' | 'bob' | 'pat' | 'nobody';
type Event =
  | { t: 'click'; visitor: number; affiliate: Ref; banner: boolean; via: 'snippet' | 'redirect' }
  | { t: 'impression'; affiliate: Ref }
  | {
      t: 'campaignClick';
      campaign: 0 | 1;
      ip: number;
      affiliate: Ref | null;
      zone: string;
      agent: number;
      sub2: string | null;
      keyword: string | null;
      referrer: string | null;
      language: string | null;
      externalId: string | null;
    }
  | {
      t: 'sale';
      visitor: number;
      cents: number;
      currency: 'USD' | 'EUR';
      product: boolean;
      repeat: boolean;
      coupon: string | null;
    }
  | { t: 'action'; visitor: number; cents: number | null }
  | { t: 'apiSale'; affiliate: Ref; cents: number; status: 'approved' | 'pending' | 'declined' | null }
  | {
      t: 'postback';
      click: number;
      status: 'lead' | 'sale' | 'rebill' | 'rejected';
      tid: number | null;
      cents: number | null;
    }
  | { t: 'refund'; sale: number; kind: 'full' | 'partial' | 'chargeback'; percent: number }
  | { t: 'review'; commission: number; action: 'approve' | 'decline' }
  | { t: 'nextDay' };

// Mostly the approved affiliates; `pat` is pending and `nobody` unknown (their clicks are declined).
const ref = fc.constantFrom<Ref>('ada', 'ada', 'bob', 'pat', 'nobody');
const cents = fc.integer({ min: 0, max: 20_000 });
const event: fc.Arbitrary<Event> = fc.oneof(
  {
    arbitrary: fc.record({
      t: fc.constant('click' as const),
      visitor: fc.nat(3),
      affiliate: ref,
      banner: fc.boolean(),
      via: fc.constantFrom('snippet' as const, 'redirect' as const),
    }),
    weight: 3,
  },
  fc.record({ t: fc.constant('impression' as const), affiliate: ref }),
  {
    arbitrary: fc.record({
      t: fc.constant('sale' as const),
      visitor: fc.nat(3),
      cents,
      currency: fc.constantFrom('USD' as const, 'EUR' as const),
      product: fc.boolean(),
      repeat: fc.boolean(),
      coupon: fc.option(fc.constantFrom('SPRING', 'spring'), { nil: null }),
    }),
    weight: 2,
  },
  fc.record({ t: fc.constant('action' as const), visitor: fc.nat(3), cents: fc.option(cents, { nil: null }) }),
  fc.record({
    t: fc.constant('apiSale' as const),
    affiliate: ref,
    cents,
    status: fc.constantFrom('approved' as const, 'pending' as const, 'declined' as const, null),
  }),
  {
    arbitrary: fc.record({
      t: fc.constant('campaignClick' as const),
      campaign: fc.constantFrom(0 as const, 1 as const),
      ip: fc.nat(IPS.length - 1),
      affiliate: fc.option(ref, { nil: null }),
      zone: fc.constantFrom('z1', 'z2', 'Z1'),
      agent: fc.nat(AGENTS.length - 1),
      sub2: fc.option(fc.constantFrom('a', 'b'), { nil: null }),
      keyword: fc.option(fc.constantFrom('shoes', 'red shoes'), { nil: null }),
      referrer: fc.option(fc.constantFrom('https://www.news.example/x', 'https://blog.example/'), { nil: null }),
      language: fc.option(fc.constantFrom('de-DE,de;q=0.9', 'en-GB'), { nil: null }),
      externalId: fc.option(fc.constantFrom('e1', 'e2', 'e3'), { nil: null }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('postback' as const),
      click: fc.nat(20),
      status: fc.constantFrom('lead' as const, 'sale' as const, 'rebill' as const, 'rejected' as const),
      tid: fc.option(fc.nat(2), { nil: null }),
      cents: fc.option(cents, { nil: null }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('refund' as const),
      sale: fc.nat(20),
      kind: fc.constantFrom('full' as const, 'partial' as const, 'chargeback' as const),
      percent: fc.integer({ min: 1, max: 99 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('review' as const),
      commission: fc.nat(20),
      action: fc.constantFrom('approve' as const, 'decline' as const),
    }),
    weight: 2,
  },
  fc.constant({ t: 'nextDay' as const }),
);

/** The figures both families report, in units (money) and counts. */
const FIGURES = ['clicks', 'uniqueClicks', 'conversions', 'sales', 'revenue', 'cost'] as const;
const DAILY_ONLY = ['impressions', 'commissions', 'commissionsPending', 'commissionsApproved', 'profit'] as const;
const MONEY = new Set(['revenue', 'cost', 'commissions', 'commissionsPending', 'commissionsApproved', 'profit']);
/** Groupings the daily rollup answers (coupon and product: the sales that carry one, the rest under "(none)"). */
const DAILY = DIMENSIONS.filter((d) => DAILY_DIMENSIONS.has(d) || SALE_FACTS.has(d));
/** Groupings of campaign-URL clicks and postback conversions. */
const TRAFFIC = DIMENSIONS.filter((d) => !DAILY.includes(d));
/** Two-level groupings: day, campaign or flow first with every other dimension, and pairs of others. */
const PAIRS: Array<[string, string]> = [
  ...(['day', 'campaign', 'flow'] as const).flatMap((first) =>
    DIMENSIONS.filter((d) => d !== first && !(first === 'flow' && SALE_FACTS.has(d))).map(
      (d) => [first, d] as [string, string],
    ),
  ),
  ['country', 'device'],
  ['sub_id_1', 'hour'],
  ['affiliate', 'country'],
  ['coupon', 'campaign'],
  ['week', 'affiliate'],
  ['landing', 'sub_id_1'],
  ['external_id', 'day'],
  ['month', 'group'],
  ['browser', 'flow'],
];
/** The family of a grouping: the daily one when every dimension is the daily rollup's. */
const familyOf = (dims: readonly string[]) => (dims.every((d) => DAILY.includes(d as never)) ? 'daily' : 'campaignUrl');
type Totals = Record<string, number>;

describe(`every grouping of a report reconciles with the others and with the raw rows (SPEC §15) on ${dialectName()}`, () => {
  let app: TestApp;
  let now = START;
  let run = 0;
  /** The owner's API client of the current run (a token is signed per run: hashing a password is slow). */
  let owner: ReturnType<typeof api>;
  const ids = { shop: 0, traffic: [0, 0] as [number, number], banner: 0 };

  before(async () => {
    app = await startTestApp({ clock: () => now });
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const ok = (res: JsonResponse, what: string) => {
      assert.ok(res.status === 200 || res.status === 201, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
      return res.body.id as number;
    };
    ok(await owner.patch('/settings', { exchangeRates: { EUR: 1.1 }, siteUrl: 'https://shop.example/' }), 'settings');
    for (const [refId, status] of [
      ['ada', 'approved'],
      ['bob', 'approved'],
      ['pat', 'pending'],
    ] as const)
      ok(
        await owner.post('/affiliates', { name: refId, email: `${refId}@example.com`, refId, status }),
        `affiliate ${refId}`,
      );
    ids.shop = ok(await owner.post('/campaigns', { name: 'Shop', productIds: ['sku-1'], approval: 'manual' }), 'shop');
    ids.banner = ok(
      await owner.post('/banners', { campaignId: ids.shop, name: 'Hat', destinationUrl: 'https://shop.example/hat' }),
      'banner',
    );
    const payout = (campaignId: number, body: Record<string, unknown>) =>
      owner.post(`/campaigns/${campaignId}/payouts`, { kind: 'general', title: String(body.type), ...body });
    ok(await payout(ids.shop, { type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } }), 'CPS');
    ok(
      await payout(ids.shop, { type: 'CPA', actionCode: 'signup', affiliateCommission: { value: 2, unit: 'fixed' } }),
      'CPA',
    );
    ok(await payout(ids.shop, { type: 'PPC', affiliateCommission: { value: 0.05, unit: 'fixed' } }), 'PPC');
    ok(await payout(ids.shop, { type: 'CPM', affiliateCommission: { value: 3, unit: 'fixed' } }), 'CPM');

    const sourceId = ok(await owner.post('/sources', { name: 'Push', params: { sub_id_1: 'zone' } }), 'source');
    const traffic: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      [
        'rc-cpc',
        { sourceId, costModel: 'CPC', costValue: 0.05, approval: 'auto' },
        {
          offers: [
            { url: 'https://offer.example/a?s={subid}', weight: 50 },
            { url: 'https://offer.example/b?s={subid}', weight: 50 },
          ],
        },
      ],
      [
        'rc-cpa',
        { costModel: 'CPA', costValue: 0.3, approval: 'manual' },
        {
          landings: [{ url: 'https://lp.example/?s={subid}', weight: 100 }],
          offers: [{ url: 'https://offer.example/c?s={subid}', weight: 100 }],
        },
      ],
    ];
    for (const [i, [alias, body, flow]] of traffic.entries()) {
      const id = ok(await owner.post('/campaigns', { name: alias, alias, ...body }), alias);
      ids.traffic[i] = id;
      ok(await owner.post(`/campaigns/${id}/flows`, { name: 'Default', type: 'default', ...flow }), 'flow');
      ok(
        await owner.post(`/campaigns/${id}/flows`, {
          name: 'GB',
          type: 'forced',
          filters: [{ name: 'country', mode: 'is', values: ['GB'] }],
          offers: [{ url: 'https://offer.example/gb?s={subid}', weight: 100 }],
        }),
        'forced flow',
      );
      ok(await payout(id, { type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } }), 'CPS');
      ok(
        await payout(id, { type: 'CPA', actionCode: 'lead', affiliateCommission: { value: 1.5, unit: 'fixed' } }),
        'CPA',
      );
    }
  });
  after(() => app?.close());

  /** Plays one stream of events from a fresh day (at most MAX_DAYS days); answers its days. */
  async function play(events: Event[]): Promise<string[]> {
    run++;
    now = START + run * MAX_DAYS * DAY_MS;
    const days = [dayOf(now)];
    const key = app.services.settings.get().postbackKey;
    const visitors = new Map<number, string>();
    const subids: string[] = [];
    const orders: Array<{ orderId: string; campaignId: number }> = [];
    let lastOrder: string | null = null;
    const aff = (r: Ref) => `a_aid=${r}`;
    let n = 0;
    for (const e of events) {
      now += 1000;
      n++;
      const orderId = `R${run}-${n}`;
      switch (e.t) {
        case 'nextDay': {
          if (days.length < MAX_DAYS) {
            now += DAY_MS;
            days.push(dayOf(now));
          }
          break;
        }
        case 'click': {
          const query = `${aff(e.affiliate)}&a_cid=${ids.shop}${e.banner ? `&a_bid=${ids.banner}` : ''}`;
          const visitorId = visitors.get(e.visitor);
          if (e.via === 'snippet') {
            const res = await request(app.url, 'POST', '/t/click', {
              body: { url: `https://shop.example/?${query}`, ...(visitorId ? { visitorId } : {}) },
            });
            assert.equal(res.status, 200, res.text);
            visitors.set(e.visitor, res.body.visitorId as string);
          } else {
            const res = await request(app.url, 'GET', `/r?${query}`, {
              headers: visitorId ? { cookie: `affix_vid=${visitorId}` } : {},
            });
            assert.ok(res.status === 302 || res.status === 404, `${res.status} ${res.text}`);
            const vid = /affix_vid=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
            if (vid) visitors.set(e.visitor, vid);
          }
          break;
        }
        case 'impression': {
          const res = await fetch(`${app.url}/t/impression?${aff(e.affiliate)}&a_bid=${ids.banner}`);
          assert.equal(res.status, 200);
          await res.arrayBuffer();
          break;
        }
        case 'campaignClick': {
          const alias = e.campaign === 0 ? 'rc-cpc' : 'rc-cpa';
          const query = new URLSearchParams({
            zone: e.zone,
            ...(e.affiliate ? { a_aid: e.affiliate } : {}),
            ...(e.sub2 ? { sub_id_2: e.sub2 } : {}),
            ...(e.keyword ? { keyword: e.keyword } : {}),
            ...(e.externalId ? { external_id: e.externalId } : {}),
          });
          const res = await request(app.url, 'GET', `/${alias}?${query.toString()}`, {
            headers: {
              'user-agent': AGENTS[e.agent]!,
              'x-forwarded-for': IPS[e.ip]!,
              ...(e.referrer ? { referer: e.referrer } : {}),
              ...(e.language ? { 'accept-language': e.language } : {}),
            },
          });
          assert.equal(res.status, 302, res.text);
          const subid = new URL(res.headers.get('location')!).searchParams.get('s');
          assert.ok(subid);
          subids.push(subid);
          break;
        }
        case 'sale': {
          const id: string = e.repeat && lastOrder ? lastOrder : orderId;
          const visitorId = visitors.get(e.visitor);
          const res = await request(app.url, 'POST', '/t/sale', {
            body: {
              orderId: id,
              totalCost: e.cents / 100,
              currency: e.currency,
              ...(e.product ? { productId: 'sku-1' } : {}),
              ...(e.coupon ? { coupon: e.coupon } : {}),
              ...(visitorId ? { visitorId } : {}),
            },
          });
          assert.ok(res.status === 200 || res.status === 201, res.text);
          if (res.body.saleId) orders.push({ orderId: id, campaignId: res.body.campaignId as number });
          lastOrder = id;
          break;
        }
        case 'action': {
          const visitorId = visitors.get(e.visitor);
          const res = await request(app.url, 'POST', '/t/action', {
            body: {
              actionCode: 'signup',
              orderId,
              ...(e.cents === null ? {} : { totalCost: e.cents / 100 }),
              ...(visitorId ? { visitorId } : {}),
            },
          });
          assert.ok(res.status === 200 || res.status === 201, res.text);
          break;
        }
        case 'apiSale': {
          const res = await owner.post('/sales', {
            orderId,
            totalCost: e.cents / 100,
            campaignId: ids.shop,
            affiliateId: e.affiliate,
            ...(e.status ? { status: e.status } : {}),
          });
          assert.ok(res.status === 200 || res.status === 201, res.text);
          if (res.body.saleId) orders.push({ orderId, campaignId: ids.shop });
          break;
        }
        case 'postback': {
          if (!subids.length) break;
          const subid = subids[e.click % subids.length]!;
          const params = new URLSearchParams({ subid, status: e.status });
          if (e.tid !== null) params.set('tid', `${subid}-T${e.tid}`);
          if (e.cents !== null) params.set('payout', (e.cents / 100).toFixed(2));
          const res = await request(app.url, 'GET', `/postback/${key}?${params.toString()}`);
          // Refused changes (409) and a rebill without tid (422) are part of the stream too.
          assert.ok([200, 409, 422].includes(res.status), res.text);
          if (res.status === 200 && res.body.saleId && (e.status === 'sale' || e.status === 'rebill'))
            orders.push({ orderId: params.get('tid') ?? subid, campaignId: res.body.campaignId as number });
          break;
        }
        case 'refund': {
          if (!orders.length) break;
          const o = orders[e.sale % orders.length]!;
          let amount: number | undefined;
          if (e.kind !== 'full') {
            const sale = (await app.services
              .db('sales')
              .where({ campaign_id: o.campaignId, order_id: o.orderId })
              .whereNotNull('order_key')
              .first('total_cost', 'refunded')) as { total_cost: number | string | null; refunded: number | string };
            const left = Number(sale.total_cost ?? 0) - Number(sale.refunded);
            amount = Math.max(1, Math.floor((left * e.percent) / 100)) / 10_000;
          }
          const res = await owner.raw(
            'POST',
            `/sales/${encodeURIComponent(o.orderId)}/refund?campaignId=${o.campaignId}`,
            { type: e.kind === 'chargeback' ? 'chargeback' : 'refund', ...(amount ? { amount } : {}) },
          );
          // Nothing left to refund, an action, a declined sale: refused, and nothing changes.
          assert.ok([200, 409, 422].includes(res.status), res.text);
          break;
        }
        case 'review': {
          const pending = await owner.get('/commissions?status=pending&perPage=100');
          assert.equal(pending.status, 200, pending.text);
          const list = pending.body.data as Array<{ id: number }>;
          if (!list.length) break;
          const c = list[e.commission % list.length]!;
          const res = await owner.post(`/commissions/${c.id}/${e.action}`, {});
          assert.ok([200, 409].includes(res.status), res.text);
          break;
        }
      }
    }
    await app.services.writers.clicks.drain();
    await app.services.writers.impressions.drain();
    return days;
  }

  /** The rows of one grouping of the report for `from`..`to`. */
  async function reportRows(groupBy: string, from: string, to: string, filter = '') {
    const res = await owner.get(`/reports?groupBy=${groupBy}&from=${from}&to=${to}${filter}`);
    assert.equal(res.status, 200, res.text);
    return res.body.rows as Array<Record<string, number>>;
  }

  /** The totals of one grouping of the report for `from`..`to`, in units and counts. */
  async function reportTotals(groupBy: string, from: string, to: string, filter = ''): Promise<Totals> {
    const rows = await reportRows(groupBy, from, to, filter);
    const out: Totals = {};
    for (const k of [...FIGURES, ...DAILY_ONLY]) {
      out[k] = 0;
      for (const r of rows) out[k] += MONEY.has(k) ? toUnits(r[k] ?? 0) : Number(r[k] ?? 0);
    }
    return out;
  }

  /**
   * The same figures counted again from the raw rows of the days `fromDay`..`toDay`: events by the
   * time they arrived, a conversion (whatever its status became) by the day it arrived, a
   * commission by its report day (README, Reports).
   */
  async function recount(fromDay: string, toDay: string, campaignId?: number) {
    const db = app.services.db;
    const from = Date.parse(`${fromDay}T00:00:00Z`);
    const to = Date.parse(`${toDay}T00:00:00Z`) + DAY_MS;
    const scoped = <T extends { where: (...a: never[]) => T }>(q: T, column = 'campaign_id') =>
      campaignId === undefined ? q : (q.where as (c: string, v: number) => T)(column, campaignId);
    const clicks = (await scoped(db('clicks').whereBetween('at', [from, to - 1]))) as Array<Record<string, unknown>>;
    const sales = (await scoped(db('sales').whereBetween('at', [from, to - 1]))) as Array<Record<string, unknown>>;
    const conversions = (await scoped(db('conversions').whereBetween('created_at', [from, to - 1]))) as Array<
      Record<string, unknown>
    >;
    const commissions = (await scoped(db('commissions').whereBetween('day', [fromDay, toDay]))) as Array<
      Record<string, unknown>
    >;
    const impressions = (await scoped(db('impression_counts').whereBetween('day', [fromDay, toDay]))) as Array<
      Record<string, unknown>
    >;
    const num = (v: unknown) => Number(v ?? 0);
    const sum = <T>(rows: T[], f: (r: T) => number) => rows.reduce((s, r) => s + f(r), 0);
    const live = clicks.filter((c) => c.status !== 'declined');
    const traffic = clicks.filter((c) => c.flow_id !== null);
    const converted = conversions.filter((c) => c.status !== 'rejected');
    const conversionSales = conversions.filter((c) => c.status === 'sale' || c.status === 'rebill');
    const counted = sales.filter((s) => s.source !== 'postback' && s.status !== 'declined');
    const earned = commissions.filter((c) => ['pending', 'approved', 'paid'].includes(c.status as string));
    const conversionCost = sum(conversions, (c) => num(c.cost));
    const byPostback = {
      conversions: converted.length,
      sales: conversionSales.length,
      revenue: sum(conversionSales, (c) => num(c.revenue_base)),
    };
    const daily: Totals = {
      clicks: live.length,
      uniqueClicks: clicks.filter((c) => c.status === 'unique').length,
      conversions: counted.length + byPostback.conversions,
      sales: counted.filter((s) => s.kind === 'sale').length + byPostback.sales,
      revenue: sum(counted, (s) => num(s.total_cost_base)) + byPostback.revenue,
      cost: sum(clicks, (c) => num(c.cost)) + conversionCost,
      impressions: sum(impressions, (i) => num(i.raw)),
      commissions: sum(earned, (c) => num(c.amount)),
      commissionsPending: sum(
        earned.filter((c) => c.status === 'pending'),
        (c) => num(c.amount),
      ),
      commissionsApproved: sum(
        earned.filter((c) => c.status === 'approved'),
        (c) => num(c.amount),
      ),
    };
    daily.profit = daily.revenue! - daily.cost! - daily.commissions!;
    const campaignUrl: Totals = {
      clicks: traffic.filter((c) => c.status !== 'declined').length,
      uniqueClicks: traffic.filter((c) => c.status === 'unique').length,
      ...byPostback,
      cost: sum(traffic, (c) => num(c.cost)) + conversionCost,
    };
    return { daily, campaignUrl };
  }

  const pick = (t: Totals, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, t[k]]));

  /** Every grouping of `from`..`to` against the others and the raw rows. */
  async function checkPeriod(from: string, to: string, withPairs: boolean): Promise<void> {
    const period = `${from}..${to}`;
    const { daily, campaignUrl } = await recount(from, to);
    for (const groupBy of DAILY) {
      const rows = await reportRows(groupBy, from, to);
      // No payout is paid in these streams: a row's commissions are its pending and approved ones.
      for (const r of rows)
        assert.equal(
          toUnits(r.commissions ?? 0),
          toUnits(r.commissionsPending ?? 0) + toUnits(r.commissionsApproved ?? 0),
          `${period} groupBy=${groupBy} row ${JSON.stringify(r)}`,
        );
      const t = await reportTotals(groupBy, from, to);
      assert.deepEqual(pick(t, [...FIGURES, ...DAILY_ONLY]), daily, `${period} groupBy=${groupBy} vs the raw rows`);
    }
    for (const groupBy of TRAFFIC) {
      const t = await reportTotals(groupBy, from, to);
      assert.deepEqual(pick(t, FIGURES), campaignUrl, `${period} groupBy=${groupBy} vs the raw rows`);
    }
    if (withPairs) {
      for (const [first, second] of PAIRS) {
        const groupBy = `${first},${second}`;
        const t = await reportTotals(groupBy, from, to);
        const family = familyOf([first, second]);
        const keys = family === 'daily' ? [...FIGURES, ...DAILY_ONLY] : FIGURES;
        assert.deepEqual(
          pick(t, keys),
          pick(family === 'daily' ? daily : campaignUrl, keys),
          `${period} groupBy=${groupBy} vs the raw rows`,
        );
      }
      // Each flow's rows of flow,<dimension> add up to the flow's row of groupBy=flow.
      const byFlow = new Map((await reportRows('flow', from, to)).map((r) => [String(r.key), r]));
      for (const second of ['sub_id_1', 'hour', 'device', 'keyword', 'referrer_domain']) {
        const sums = new Map<string, number>();
        for (const r of await reportRows(`flow,${second}`, from, to))
          sums.set(String(r.key), (sums.get(String(r.key)) ?? 0) + Number(r.clicks));
        for (const [flow, r] of byFlow)
          assert.equal(sums.get(flow) ?? 0, Number(r.clicks), `${period} flow ${flow}: flow,${second} vs flow`);
      }
      // A value as a filter gives that value's row, whichever rollup or recount answers.
      for (const r of await reportRows('sub_id_1', from, to)) {
        if (r.key === null) continue;
        const filter = `&sub_id_1=${encodeURIComponent(String(r.key))}`;
        for (const groupBy of ['day', 'campaign', 'country', 'device,hour']) {
          const t = await reportTotals(groupBy, from, to, filter);
          assert.equal(t.clicks, Number(r.clicks), `${period} groupBy=${groupBy}${filter} clicks`);
          assert.equal(t.conversions, Number(r.conversions), `${period} groupBy=${groupBy}${filter} conversions`);
          assert.equal(t.revenue, toUnits(r.revenue ?? 0), `${period} groupBy=${groupBy}${filter} revenue`);
        }
      }
    }
    // A campaign reached only by its campaign URL: both families count the same events.
    for (const campaignId of ids.traffic) {
      const byDay = await reportTotals('day', from, to, `&campaignId=${campaignId}`);
      const byFlow = await reportTotals('flow', from, to, `&campaignId=${campaignId}`);
      assert.deepEqual(pick(byFlow, FIGURES), pick(byDay, FIGURES), `${period} campaign ${campaignId}: flow vs day`);
      const raw = (await recount(from, to, campaignId)).daily;
      assert.deepEqual(pick(byDay, FIGURES), pick(raw, FIGURES), `${period} campaign ${campaignId} vs the raw rows`);
    }
  }

  /** Every monthly rollup row (per campaign and flow, and over all) is the sum of the daily rows of its month, key by key. */
  async function checkMonthly(): Promise<void> {
    const db = app.services.db;
    const sums = (table: string, month: Knex.Raw | string) =>
      db(table)
        .select({ month }, 'campaign_id', 'flow_id', 'dimension', 'value')
        .sum({ clicks: 'clicks', unique_clicks: 'unique_clicks', conversions: 'conversions', sales: 'sales' })
        .sum({ revenue: 'revenue', cost: 'cost' })
        .groupBy([month as string, 'campaign_id', 'flow_id', 'dimension', 'value'])
        .orderBy([{ column: 'month' }, 'campaign_id', 'flow_id', 'dimension', 'value']);
    const month =
      dialectName() === 'sqlite' ? db.raw(`substr(day, 1, 7) || '-01'`) : db.raw(`CONCAT(LEFT(day, 7), '-01')`);
    const norm = (rows: Array<Record<string, unknown>>) => rows.map((r) => Object.values(r).map(String).join('|'));
    assert.deepEqual(norm(await sums('dimension_stats_monthly', 'day')), norm(await sums('dimension_stats', month)));
    // And over every campaign and flow: each month's row is the sum of its days' rows.
    const valueSums = (table: string, month: Knex.Raw | string) =>
      db(table)
        .select({ month }, 'dimension', 'value')
        .sum({ clicks: 'clicks', unique_clicks: 'unique_clicks', conversions: 'conversions', sales: 'sales' })
        .sum({ revenue: 'revenue', cost: 'cost' })
        .groupBy([month as string, 'dimension', 'value'])
        .orderBy([{ column: 'month' }, 'dimension', 'value']);
    const monthlyValues = norm(await valueSums('dimension_value_stats_monthly', 'day'));
    assert.deepEqual(monthlyValues, norm(await valueSums('dimension_value_stats', month)));
  }

  /**
   * The whole stream's period, and each of its days on its own; then the stream's whole months
   * (read from the monthly rollup) and those months with a day on either side (monthly rows
   * inside, daily rows at the edges).
   */
  async function check(days: string[]): Promise<void> {
    // Two-level groupings and filters over the whole stream; one level on each of its days too.
    await checkPeriod(days[0]!, days[days.length - 1]!, true);
    if (days.length > 1) for (const day of days) await checkPeriod(day, day, false);
    const first = `${days[0]!.slice(0, 7)}-01`;
    const last = lastOfMonth(days[days.length - 1]!);
    assert.ok(ReportService.monthSegments(first, last).some(([table]) => table === 'dimension_stats_monthly'));
    await checkPeriod(first, last, true);
    await checkPeriod(shiftDay(first, -1), shiftDay(last, 1), false);
    await checkMonthly();
  }

  test('random streams of events: every grouping gives the same totals as the raw rows', async () => {
    assert.deepEqual([...DAILY, ...TRAFFIC].sort(), [...DIMENSIONS].sort(), 'every dimension is checked');
    const outcome = await fc.check(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 40, size: 'max' }), async (events) => {
        await check(await play(events));
      }),
      // A fixed seed and size in the suite; SEED=… RUNS=… explore further by hand.
      { seed: Number(process.env.SEED ?? 20261202), numRuns: Number(process.env.RUNS ?? 12) },
    );
    // The counterexample and the assertion it broke (fast-check's own message names only the first).
    if (outcome.failed) assert.fail(`${fc.defaultReportMessage(outcome)}\n${String(outcome.errorInstance)}`);
  });
});
