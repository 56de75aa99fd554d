import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { created, assertFieldError } from '../helpers/assert.js';
import { approvedAffiliate } from '../helpers/programme.js';

/*
 * SPEC §7.5 conversions by postback (`GET|POST /postback/<postbackKey>`): validation, status words,
 * the allowed status changes, idempotency by tid, rebills, costs by model, the rollups, the
 * source's outgoing postback in the outbox, and paying the click's affiliate (§6).
 */

type Api = ReturnType<typeof api>;

const GB_IP = '81.2.69.160';

type Params = Record<string, string>;
type Send = (params: Params, key?: string) => Promise<JsonResponse>;

interface TrafficRow {
  flow_id: number;
  landing_index: number;
  offer_index: number;
  source_id: number;
  country: string;
  clicks: number | string;
  conversions: number | string;
  sales: number | string;
  revenue: number | string;
  cost: number | string;
}

describe(`conversions by postback (SPEC §7.5) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let key: string;
  let ipCounter = 0;
  let sourceId: number;
  const campaigns: Record<string, { id: number; flowId: number }> = {};

  const GET: Send = (params, k = key) =>
    request(app.url, 'GET', `/postback/${k}?${new URLSearchParams(params).toString()}`);
  const POST: Send = (params, k = key) =>
    request(app.url, 'POST', `/postback/${k}`, {
      raw: new URLSearchParams(params).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  const FORMS: Array<[string, Send]> = [
    ['GET', GET],
    ['POST', POST],
  ];

  /** A click on a campaign URL; returns its subid. */
  async function click(alias: string, query = '', ip?: string): Promise<string> {
    ipCounter++;
    const res = await request(app.url, 'GET', `/${alias}${query}`, {
      headers: {
        'user-agent': CHROME,
        'x-forwarded-for': ip ?? `10.66.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`,
      },
    });
    assert.equal(res.status, 302, `click on ${alias}: ${res.status} ${res.text.slice(0, 200)}`);
    const subid = new URL(res.headers.get('location')!).searchParams.get('s');
    assert.ok(subid);
    return subid;
  }

  const conversions = async (subid: string) =>
    (await app.services.db('conversions').where({ click_id: subid }).orderBy('id')) as Array<{
      id: number;
      status: string;
      previous_status: string | null;
      revenue: number | string;
      revenue_base: number | string;
      cost: number | string;
      tid: string | null;
      sale_id: number | string | null;
      flow_id: number | null;
      landing_index: number | null;
      offer_index: number | null;
      source_id: number | null;
    }>;
  const trafficRows = async (campaignId: number) =>
    (await app.services
      .db('traffic_stats')
      .where({ campaign_id: campaignId })
      .orderBy(['flow_id', 'landing_index', 'offer_index'])) as TrafficRow[];
  const trafficTotals = async (campaignId: number) => {
    const rows = await trafficRows(campaignId);
    const sum = (k: keyof TrafficRow) => rows.reduce((s, r) => s + Number(r[k]), 0);
    return {
      clicks: sum('clicks'),
      conversions: sum('conversions'),
      sales: sum('sales'),
      revenue: sum('revenue'),
      cost: sum('cost'),
    };
  };
  const dailyTotals = async (campaignId: number) => {
    const row = (
      (await app.services
        .db('daily_stats')
        .where({ campaign_id: campaignId })
        .sum({ conversions: 'conversions', revenue: 'revenue', cost: 'cost', clicks: 'clicks' })) as Array<
        Record<string, unknown>
      >
    )[0]!;
    return {
      clicks: Number(row.clicks ?? 0),
      conversions: Number(row.conversions ?? 0),
      revenue: Number(row.revenue ?? 0),
      cost: Number(row.cost ?? 0),
    };
  };
  const outboxFor = async (subid: string) =>
    (await app.services
      .db('outbox')
      .where('channel', 'source_postback')
      .where('url', 'like', `%${subid}%`)
      .orderBy('id')) as Array<{
      id: number;
      event: string;
      channel: string;
      method: string;
      url: string;
      status: string;
    }>;

  async function makeCampaign(alias: string, body: Record<string, unknown>, flow: Record<string, unknown>) {
    const id = created(await a.post('/campaigns', { name: `Campaign ${alias}`, alias, ...body }), 'campaign');
    const flowId = created(
      await a.post(`/campaigns/${id}/flows`, { name: `${alias} flow`, type: 'default', ...flow }),
      'flow',
    );
    campaigns[alias] = { id, flowId };
    return { id, flowId };
  }
  const OFFER_FLOW = { offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }] };

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    key = app.services.settings.get().postbackKey;
    assert.equal((await a.patch('/settings', { exchangeRates: { EUR: 1.1 } })).status, 200);
    sourceId = created(
      await a.post('/sources', {
        name: 'Push network',
        params: { sub_id_1: 'zoneid', external_id: 'clickid' },
        postbackUrl:
          'https://network.example/pb?click={subid}&ext={external_id}&st={status}&p={payout}&cur={currency}&t={tid}&z={sub_id_1}&c={campaign_id}',
      }),
      'source',
    );
    await makeCampaign('pb', { sourceId }, OFFER_FLOW);
    await makeCampaign(
      'pb-lp',
      { sourceId, costModel: 'CPA', costValue: 0.3 },
      {
        landings: [
          { url: 'https://lp.example/1?s={subid}', weight: 0 },
          { url: 'https://lp.example/2?s={subid}', weight: 100 },
        ],
        offers: [
          { url: 'https://offer.example/a?s={subid}', weight: 0 },
          { url: 'https://offer.example/b?s={subid}', weight: 100 },
        ],
      },
    );
    await makeCampaign('pb-rev', { costModel: 'REVSHARE', costValue: 20 }, OFFER_FLOW);
    await makeCampaign('pb-cps', { costModel: 'CPS', costValue: 0.5 }, OFFER_FLOW);
  });
  after(async () => {
    await app?.close();
  });

  describe('the request', () => {
    for (const [form, send] of FORMS) {
      test(`${form}: a wrong key is 401`, async () => {
        const subid = await click('pb');
        // The last character changed (to another one: a random key may end in "x"), and one added.
        const lastChanged = `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;
        for (const k of ['wrong-key-0123456789', lastChanged, `${key}x`]) {
          const res = await send({ subid }, k);
          assert.equal(res.status, 401, `key ${k}`);
          assert.equal(res.body.error.code, 'unauthorized');
        }
        assert.equal((await conversions(subid)).length, 0);
      });

      test(`${form}: an unknown subid is 404 with a JSON reason`, async () => {
        const res = await send({ subid: 'AAAAAAAAAAAAAAAAAAAAAAAA', status: 'sale', payout: '5' });
        assert.equal(res.status, 404);
        assert.equal(res.body.error.code, 'not_found');
        assert.match(res.body.error.message, /subid/i);
      });

      test(`${form}: a missing subid, a bad payout or revenue and an unknown status are 422 naming the field`, async () => {
        const subid = await click('pb');
        assertFieldError(await send({ status: 'sale' }), 'subid');
        assertFieldError(await send({ subid: '', status: 'sale' }), 'subid');
        assertFieldError(await send({ subid, payout: 'abc' }), 'payout');
        assertFieldError(await send({ subid, payout: '-5' }), 'payout');
        assertFieldError(await send({ subid, revenue: '1e3; DROP TABLE clicks' }), 'revenue');
        const status = await send({ subid, status: 'approved', payout: '5' });
        assertFieldError(status, 'status');
        assert.match(status.body.error.message, /approved/);
        assertFieldError(await send({ subid, currency: 'EURO' }), 'currency');
        assertFieldError(await send({ subid, currency: 'XYZ' }), 'currency');
        assert.equal((await conversions(subid)).length, 0, 'nothing stored');
      });
    }

    test('a network that sends no Accept header still gets JSON', async () => {
      const res = await fetch(`${app.url}/postback/${key}?subid=AAAAAAAAAAAAAAAAAAAAAAAA`);
      assert.equal(res.status, 404);
      assert.match(res.headers.get('content-type') ?? '', /json/);
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'not_found');
    });
  });

  describe('statuses', () => {
    for (const [form, send] of FORMS) {
      test(`${form}: the default status is sale; revenue is a synonym of payout`, async () => {
        const subid = await click('pb');
        const res = await send({ subid, revenue: '12.5' });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.status, 'sale');
        assert.equal(res.body.revenue, 12.5);
        assert.equal(res.body.duplicate, false);
        assert.equal(res.body.subid, subid);
        const [row] = await conversions(subid);
        assert.equal(row!.status, 'sale');
        assert.equal(Number(row!.revenue), 125_000);
      });

      test(`${form}: lead_status / sale_status / rejected_status map the network's words`, async () => {
        const subid = await click('pb');
        const words = { lead_status: 'pending', sale_status: 'approved', rejected_status: 'declined' };
        const lead = await send({ subid, status: 'pending', payout: '3', ...words });
        assert.equal(lead.status, 200, lead.text);
        assert.equal(lead.body.status, 'lead');
        const sale = await send({ subid, status: 'APPROVED', payout: '3', ...words });
        assert.equal(sale.body.status, 'sale');
        assert.equal(sale.body.previousStatus, 'lead');
        const rejected = await send({ subid, status: 'declined', ...words });
        assert.equal(rejected.body.status, 'rejected');
        assert.equal((await conversions(subid)).length, 1, 'one conversion changing status');
        const other = await click('pb');
        assert.equal((await send({ subid: other, status: 'approved', sale_status: 'approved' })).body.status, 'sale');
      });
    }

    test('every allowed change: lead→sale, lead→rejected, sale→rejected, rebill→rejected', async () => {
      const cases: Array<[string, string, string | undefined]> = [
        ['lead', 'sale', undefined],
        ['lead', 'rejected', undefined],
        ['sale', 'rejected', 'T-1'],
        ['rebill', 'rejected', 'T-2'],
      ];
      for (const [from, to, tid] of cases) {
        const subid = await click('pb');
        const t: Params = tid ? { tid } : {};
        const first = await GET({ subid, status: from, payout: '10', ...t });
        assert.equal(first.status, 200, `${from}: ${first.text}`);
        const second = await POST({ subid, status: to, ...t });
        assert.equal(second.status, 200, `${from}→${to}: ${second.text}`);
        assert.equal(second.body.status, to);
        assert.equal(second.body.previousStatus, from);
        assert.equal(second.body.conversionId, first.body.conversionId, 'the same conversion');
        const rows = await conversions(subid);
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.status, to);
        assert.equal(rows[0]!.previous_status, from);
      }
    });

    test('refused changes are 409 naming the current status: sale→lead, rejected→sale, sale→rebill with the same tid', async () => {
      const cases: Array<[string, string, string | undefined]> = [
        ['sale', 'lead', undefined],
        ['rejected', 'sale', undefined],
        ['sale', 'rebill', 'T-9'],
        ['rejected', 'lead', 'T-8'],
      ];
      for (const [from, to, tid] of cases) {
        const subid = await click('pb');
        const t: Params = tid ? { tid } : {};
        assert.equal((await GET({ subid, status: from, payout: '10', ...t })).status, 200);
        for (const [form, send] of FORMS) {
          const res = await send({ subid, status: to, payout: '10', ...t });
          assert.equal(res.status, 409, `${form} ${from}→${to}: ${res.text}`);
          assert.equal(res.body.error.code, 'conflict');
          assert.equal(res.body.error.details.currentStatus, from);
          assert.ok(res.body.error.message.includes(from), res.body.error.message);
        }
        const rows = await conversions(subid);
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.status, from, 'unchanged');
      }
    });

    test('a repeat with the same tid is idempotent: duplicate, no second row, reports unchanged', async () => {
      const c = campaigns.pb!;
      const subid = await click('pb');
      const first = await GET({ subid, status: 'sale', payout: '20', tid: 'ORDER-1' });
      assert.equal(first.status, 200);
      assert.equal(first.body.duplicate, false);
      const stats = await trafficTotals(c.id);
      const outbox = await outboxFor(subid);
      for (const send of [GET, POST]) {
        const again = await send({ subid, status: 'sale', payout: '20', tid: 'ORDER-1' });
        assert.equal(again.status, 200);
        assert.equal(again.body.duplicate, true);
        assert.equal(again.body.conversionId, first.body.conversionId);
      }
      assert.equal((await conversions(subid)).length, 1);
      assert.deepEqual(await trafficTotals(c.id), stats, 'reports unchanged');
      assert.deepEqual(await outboxFor(subid), outbox, 'nothing more queued');
    });

    test('the same postback sent several times at once is stored once', async () => {
      const c = campaigns.pb!;
      const subid = await click('pb');
      const before = await trafficTotals(c.id);
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? POST : GET)({ subid, status: 'sale', payout: '8', tid: 'RACE-1' }),
        ),
      );
      for (const res of answers) assert.equal(res.status, 200, res.text);
      assert.equal(
        answers.filter((r) => r.body.duplicate === false).length,
        1,
        'one new conversion, the rest duplicates',
      );
      assert.equal(new Set(answers.map((r) => r.body.conversionId)).size, 1);
      assert.equal((await conversions(subid)).length, 1);
      const after = await trafficTotals(c.id);
      assert.equal(after.revenue - before.revenue, 80_000);
      assert.equal(after.conversions - before.conversions, 1);
      assert.equal((await outboxFor(subid)).length, 1);
    });

    test('a JSON POST body is read like a form', async () => {
      const subid = await click('pb');
      const res = await request(app.url, 'POST', `/postback/${key}`, {
        body: { subid, status: 'lead', payout: 3.25, tid: 'J-1' },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, 'lead');
      assert.equal(res.body.revenue, 3.25);
      const objectValued = await request(app.url, 'POST', `/postback/${key}`, {
        body: { subid: { $ne: null }, status: 'sale' },
      });
      assertFieldError(objectValued, 'subid');
    });

    test('a rebill with a new tid is a second conversion adding revenue; a rebill without tid is 422', async () => {
      const c = campaigns.pb!;
      const subid = await click('pb');
      const before = await trafficTotals(c.id);
      assert.equal((await GET({ subid, status: 'sale', payout: '10', tid: 'SUB-1' })).status, 200);
      const rebill = await POST({ subid, status: 'rebill', payout: '4.5', tid: 'SUB-2' });
      assert.equal(rebill.status, 200, rebill.text);
      assert.equal(rebill.body.status, 'rebill');
      assert.equal(rebill.body.duplicate, false);
      assert.equal((await GET({ subid, status: 'rebill', payout: '4.5', tid: 'SUB-2' })).body.duplicate, true);
      assertFieldError(await GET({ subid, status: 'rebill', payout: '4.5' }), 'tid');
      assertFieldError(await POST({ subid, status: 'rebill', payout: '4.5' }), 'tid');
      const rows = await conversions(subid);
      assert.deepEqual(
        rows.map((r) => [r.status, r.tid, Number(r.revenue)]),
        [
          ['sale', 'SUB-1', 100_000],
          ['rebill', 'SUB-2', 45_000],
        ],
      );
      const after = await trafficTotals(c.id);
      assert.equal(after.revenue - before.revenue, 145_000);
      assert.equal(after.sales - before.sales, 2);
      assert.equal(after.conversions - before.conversions, 2);
    });

    test('a payout in another currency is converted into the base currency for reports', async () => {
      const c = campaigns.pb!;
      const subid = await click('pb');
      const before = await trafficTotals(c.id);
      const res = await GET({ subid, payout: '10', currency: 'eur' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.currency, 'EUR');
      assert.equal(res.body.revenue, 10);
      const [row] = await conversions(subid);
      assert.equal(Number(row!.revenue_base), 110_000);
      assert.equal((await trafficTotals(c.id)).revenue - before.revenue, 110_000);
    });
  });

  describe('reports, costs and the outbox', () => {
    test('a conversion reaches traffic_stats for the click’s campaign, flow, landing, offer and source', async () => {
      const c = campaigns['pb-lp']!;
      const subid = await click('pb-lp', '?zoneid=Z9', GB_IP);
      const lead = await click('pb-lp', '?zoneid=Z9', GB_IP);
      assert.equal((await GET({ subid, payout: '40', tid: 'R-1' })).status, 200);
      assert.equal((await GET({ subid: lead, status: 'lead', payout: '0' })).status, 200);
      const [conv] = await conversions(subid);
      assert.deepEqual(
        [conv!.flow_id, conv!.landing_index, conv!.offer_index, conv!.source_id],
        [c.flowId, 1, 1, sourceId],
      );
      const rows = await trafficRows(c.id);
      assert.equal(rows.length, 1, JSON.stringify(rows));
      const row = rows[0]!;
      assert.deepEqual(
        [row.flow_id, row.landing_index, row.offer_index, row.source_id, row.country].map(String),
        [c.flowId, 1, 1, sourceId, 'GB'].map(String),
      );
      assert.deepEqual(
        [row.clicks, row.conversions, row.sales, row.revenue, row.cost].map(Number),
        [2, 2, 1, 400_000, 6000],
        'CPA 0.30 for each conversion',
      );
      assert.equal(Number(conv!.cost), 3000);
    });

    test('REVSHARE 20% on a $1 sale costs 0.20', async () => {
      const c = campaigns['pb-rev']!;
      const subid = await click('pb-rev');
      assert.equal((await GET({ subid, status: 'sale', payout: '1' })).status, 200);
      const [row] = await conversions(subid);
      assert.equal(Number(row!.cost), 2000);
      assert.equal((await trafficTotals(c.id)).cost, 2000);
    });

    test('CPS costs only a sale: a lead costs nothing until it becomes a sale', async () => {
      const c = campaigns['pb-cps']!;
      const lead = await click('pb-cps');
      assert.equal((await GET({ subid: lead, status: 'lead', payout: '7' })).status, 200);
      assert.equal(Number((await conversions(lead))[0]!.cost), 0);
      assert.equal((await trafficTotals(c.id)).cost, 0);

      const sale = await click('pb-cps');
      assert.equal((await GET({ subid: sale, status: 'sale', payout: '7' })).status, 200);
      assert.equal(Number((await conversions(sale))[0]!.cost), 5000);
      assert.equal((await trafficTotals(c.id)).cost, 5000);

      const upgraded = await POST({ subid: lead, status: 'sale', payout: '7' });
      assert.equal(upgraded.status, 200, upgraded.text);
      assert.equal(Number((await conversions(lead))[0]!.cost), 5000, 'the lead became a sale: CPS cost now');
      assert.equal((await trafficTotals(c.id)).cost, 10_000);

      const rejected = await POST({ subid: sale, status: 'rejected' });
      assert.equal(rejected.status, 200);
      assert.equal(Number((await conversions(sale))[0]!.cost), 0, 'a rejected sale is no sale: no CPS cost');
      const totals = await trafficTotals(c.id);
      assert.equal(totals.cost, 5000);
      assert.equal(totals.sales, 1);
      assert.equal(totals.revenue, 70_000);
    });

    test('the source’s postbackUrl is queued in the outbox with its macros filled', async () => {
      const c = campaigns.pb!;
      const subid = await click('pb', '?zoneid=zone%2042&clickid=EXT-7');
      assert.equal((await POST({ subid, status: 'lead', payout: '2.5', tid: 'Q 1' })).status, 200);
      let rows = await outboxFor(subid);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.channel, 'source_postback');
      assert.equal(rows[0]!.event, 'conversion.created');
      assert.equal(rows[0]!.method, 'GET');
      assert.equal(rows[0]!.status, 'pending');
      assert.equal(
        rows[0]!.url,
        `https://network.example/pb?click=${subid}&ext=EXT-7&st=lead&p=2.5&cur=USD&t=Q%201&z=zone%2042&c=${c.id}`,
      );
      assert.equal((await GET({ subid, status: 'sale', payout: '9', tid: 'Q 1' })).status, 200);
      rows = await outboxFor(subid);
      assert.equal(rows.length, 2, 'the status change is reported too');
      assert.match(rows[1]!.url, /&st=sale&p=9&/);

      const noSource = await click('pb-rev');
      assert.equal((await GET({ subid: noSource, payout: '1' })).status, 200);
      assert.equal((await outboxFor(noSource)).length, 0, 'a campaign without a source queues no source postback');
    });

    test('the conversions, revenue and cost reach daily_stats too', async () => {
      const c = campaigns['pb-lp']!;
      const daily = await dailyTotals(c.id);
      const traffic = await trafficTotals(c.id);
      assert.equal(daily.clicks, traffic.clicks);
      assert.equal(daily.conversions, traffic.conversions);
      assert.equal(daily.revenue, traffic.revenue);
      assert.equal(daily.cost, traffic.cost);
    });
  });

  describe('paying the click’s affiliate (SPEC §7.5, §6)', () => {
    let affiliateId: number;
    let campaignId: number;

    before(async () => {
      affiliateId = await approvedAffiliate(a, 'Ada Affiliate', 'ada');
      campaignId = (await makeCampaign('pb-aff', { approval: 'auto' }, OFFER_FLOW)).id;
      created(
        await a.post(`/campaigns/${campaignId}/payouts`, {
          kind: 'general',
          title: 'Ten percent of sales',
          type: 'CPS',
          affiliateCommission: { value: 10, unit: 'percent' },
        }),
        'CPS payout',
      );
      created(
        await a.post(`/campaigns/${campaignId}/payouts`, {
          kind: 'general',
          title: 'A lead',
          type: 'CPA',
          actionCode: 'lead',
          affiliateCommission: { value: 1.5, unit: 'fixed' },
        }),
        'CPA payout',
      );
    });

    const commissionsOf = async (saleId: number) =>
      (await app.services.db('commissions').where({ sale_id: saleId }).orderBy('id')) as Array<{
        affiliate_id: number;
        amount: number | string;
        status: string;
      }>;

    test('a sale pays the affiliate by the campaign’s CPS payout; rejected reverses it', async () => {
      const subid = await click('pb-aff', '?a_aid=ada');
      const clickRow = (await app.services.db('clicks').where({ click_id: subid }).first()) as {
        affiliate_id: number | null;
      };
      assert.equal(clickRow.affiliate_id, affiliateId, 'the click carries the affiliate');

      const sale = await GET({ subid, status: 'sale', payout: '50', tid: 'ORD-1' });
      assert.equal(sale.status, 200, sale.text);
      const saleId = sale.body.saleId as number;
      assert.equal(typeof saleId, 'number');
      const saleRow = (await app.services.db('sales').where({ id: saleId }).first()) as {
        order_id: string;
        total_cost: number | string;
        kind: string;
        affiliate_id: number;
      };
      assert.equal(saleRow.kind, 'sale');
      assert.equal(saleRow.order_id, 'ORD-1', 'orderId is the tid');
      assert.equal(Number(saleRow.total_cost), 500_000);
      assert.equal(saleRow.affiliate_id, affiliateId);
      let commissions = await commissionsOf(saleId);
      assert.equal(commissions.length, 1);
      assert.equal(commissions[0]!.affiliate_id, affiliateId);
      assert.equal(Number(commissions[0]!.amount), 50_000, '10% of 50');
      assert.equal(commissions[0]!.status, 'approved');

      // A repeat does not pay twice.
      const again = await POST({ subid, status: 'sale', payout: '50', tid: 'ORD-1' });
      assert.equal(again.body.duplicate, true);
      assert.equal(again.body.saleId, saleId);
      assert.equal((await app.services.db('sales').where({ affiliate_id: affiliateId, order_id: 'ORD-1' })).length, 1);

      const rejected = await POST({ subid, status: 'rejected', tid: 'ORD-1' });
      assert.equal(rejected.status, 200, rejected.text);
      assert.equal(rejected.body.saleId, saleId);
      commissions = await commissionsOf(saleId);
      assert.ok(commissions.length >= 1);
      assert.equal(commissions[0]!.status, 'reversed', 'rejected reverses what the sale paid');
    });

    test('a sale without tid is ordered by the subid', async () => {
      const subid = await click('pb-aff', '?a_aid=ada');
      const sale = await GET({ subid, payout: '20' });
      assert.equal(sale.status, 200, sale.text);
      const saleRow = (await app.services.db('sales').where({ id: sale.body.saleId }).first()) as { order_id: string };
      assert.equal(saleRow.order_id, subid);
      assert.equal(Number((await commissionsOf(sale.body.saleId as number))[0]!.amount), 20_000);
    });

    test('a lead records the action lead', async () => {
      const subid = await click('pb-aff', '?a_aid=ada');
      const lead = await POST({ subid, status: 'lead', tid: 'L-1' });
      assert.equal(lead.status, 200, lead.text);
      const saleId = lead.body.saleId as number;
      assert.equal(typeof saleId, 'number');
      const action = (await app.services.db('sales').where({ id: saleId }).first()) as {
        kind: string;
        action_code: string;
        affiliate_id: number;
      };
      assert.equal(action.kind, 'action');
      assert.equal(action.action_code, 'lead');
      assert.equal(action.affiliate_id, affiliateId);
      const commissions = await commissionsOf(saleId);
      assert.equal(commissions.length, 1);
      assert.equal(Number(commissions[0]!.amount), 15_000);
    });

    test('a rejected lead reverses the lead’s commission', async () => {
      const subid = await click('pb-aff', '?a_aid=ada');
      const lead = await GET({ subid, status: 'lead', payout: '2', tid: 'LR-1' });
      const leadSaleId = lead.body.saleId as number;
      assert.equal((await commissionsOf(leadSaleId))[0]!.status, 'approved');
      const rejected = await POST({ subid, status: 'rejected', tid: 'LR-1' });
      assert.equal(rejected.status, 200, rejected.text);
      assert.equal((await commissionsOf(leadSaleId))[0]!.status, 'reversed');
    });

    test('a lead that became a sale and is then rejected reverses both payments', async () => {
      const subid = await click('pb-aff', '?a_aid=ada');
      const lead = await GET({ subid, status: 'lead', tid: 'LS-1' });
      const leadSaleId = lead.body.saleId as number;
      const sale = await GET({ subid, status: 'sale', payout: '40', tid: 'LS-1' });
      assert.equal(sale.status, 200, sale.text);
      const saleId = sale.body.saleId as number;
      assert.notEqual(saleId, leadSaleId);
      assert.equal(Number((await commissionsOf(saleId))[0]!.amount), 40_000);
      const rejected = await POST({ subid, status: 'rejected', tid: 'LS-1' });
      assert.equal(rejected.status, 200, rejected.text);
      assert.equal((await commissionsOf(saleId))[0]!.status, 'reversed', 'the sale’s commission');
      assert.equal((await commissionsOf(leadSaleId))[0]!.status, 'reversed', 'the lead’s commission');
    });

    test('a click without an affiliate pays nobody', async () => {
      const subid = await click('pb-aff');
      const sale = await GET({ subid, payout: '30', tid: 'NOBODY' });
      assert.equal(sale.status, 200);
      assert.equal(sale.body.saleId, null);
      assert.equal((await app.services.db('sales').where({ order_id: 'NOBODY' })).length, 0);
    });
  });
});
