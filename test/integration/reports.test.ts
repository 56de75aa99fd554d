import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { api, tokenFor, setupOwner, OWNER, request, Agent } from '../helpers/http.js';

describe('reports (SPEC §9) from the rollups', () => {
  let app: TestApp;
  let owner: ReturnType<typeof api>;
  let shoes: { id: number };
  let ann: { id: number; refId: string };

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    ann = (
      await owner.post('/affiliates', {
        name: 'Ann',
        email: 'ann@example.com',
        refId: 'ann',
        password: 'ann-password-1',
      })
    ).body;
    shoes = (await owner.post('/campaigns', { name: 'Shoes', productIds: ['sku-1'], approval: 'auto' })).body;
    await owner.post(`/campaigns/${shoes.id}/payouts`, {
      kind: 'general',
      title: '10%',
      type: 'CPS',
      affiliateCommission: { value: 10, unit: 'percent' },
    });
    const clicks = [];
    for (let i = 0; i < 4; i++)
      clicks.push(
        await request(app.url, 'POST', '/t/click', {
          body: { url: `https://shop.example/?a_aid=ann&a_cid=${shoes.id}` },
        }),
      );
    await request(app.url, 'POST', '/t/sale', {
      body: { orderId: 'R-1', totalCost: 200, productId: 'sku-1', visitorId: clicks[0]!.body.visitorId },
    });
  });
  after(() => app.close());

  test('by campaign: clicks, sales, revenue, commissions and the derived figures', async () => {
    const res = await owner.get('/reports?groupBy=campaign');
    assert.equal(res.status, 200);
    assert.equal(res.body.groupBy, 'campaign');
    const row = res.body.rows.find((r: { key: number }) => r.key === shoes.id);
    assert.ok(row, JSON.stringify(res.body.rows));
    assert.equal(row.label, 'Shoes');
    assert.equal(row.clicks, 4);
    assert.equal(row.uniqueClicks, 4);
    assert.equal(row.sales, 1);
    assert.equal(row.conversions, 1);
    assert.equal(row.revenue, 200);
    assert.equal(row.commissions, 20);
    assert.equal(row.commissionsApproved, 20);
    assert.equal(row.commissionsPending, 0);
    assert.equal(row.profit, 180);
    assert.equal(row.roi, 900);
    assert.equal(row.cr, 25);
    assert.equal(row.epc, 50);
  });

  test('by day and by affiliate, with a filter', async () => {
    const byDay = await owner.get(`/reports?groupBy=day&campaignId=${shoes.id}`);
    assert.equal(byDay.status, 200);
    assert.equal(byDay.body.rows.length, 1);
    assert.equal(byDay.body.rows[0].clicks, 4);
    const byAffiliate = await owner.get(`/reports?groupBy=affiliate&affiliateId=${ann.id}`);
    assert.equal(byAffiliate.body.rows[0].label, 'Ann');
    assert.equal(byAffiliate.body.rows[0].sales, 1);
  });

  test('CSV export has a header and one line per row', async () => {
    const res = await fetch(`${app.url}/api/v1/reports?groupBy=campaign&format=csv`, {
      headers: { authorization: `Bearer ${await tokenFor(app.url, OWNER.email, OWNER.password)}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
    const lines = (await res.text()).trim().split('\n');
    assert.equal(
      lines[0],
      'key,label,clicks,uniqueClicks,impressions,conversions,sales,revenue,cost,profit,roi,cr,epc,commissions,commissionsPending,commissionsApproved',
    );
    assert.ok(
      lines.some((l) => l.startsWith(`${shoes.id},Shoes,4,4,`)),
      lines.join('\n'),
    );
  });

  test('bad input is a 422 naming the field; affiliates may not read reports', async () => {
    const bad = await owner.get('/reports?groupBy=planet');
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.details[0].field, 'groupBy');
    const reversed = await owner.get('/reports?from=2026-11-10&to=2026-11-01');
    assert.equal(reversed.status, 422);
    assert.equal(reversed.body.error.details[0].field, 'from');
    const notADate = await owner.get('/reports?from=yesterday');
    assert.equal(notADate.body.error.details[0].field, 'from');
    const affiliate = api(app.url, await tokenFor(app.url, 'ann@example.com', 'ann-password-1'));
    assert.equal((await affiliate.get('/reports')).status, 403);
  });

  test('the admin reports page shows the table and links the CSV', async () => {
    const agent = await (async () => {
      const { Agent } = await import('../helpers/http.js');
      const a = new Agent(app.url);
      await a.get('/admin/login');
      await a.post('/admin/login', { email: OWNER.email, password: OWNER.password });
      return a;
    })();
    const page = await agent.get('/admin/reports?groupBy=campaign');
    assert.equal(page.status, 200);
    assert.match(page.text, /<td title="Shoes"><a class="drill" href="[^"]*">Shoes<\/a><\/td><td>4<\/td>/);
    assert.match(page.text, /format(=|&#x3D;)csv/);
  });

  describe('the admin reports page', () => {
    let agent: Agent;
    before(async () => {
      agent = new Agent(app.url);
      await agent.get('/admin/login');
      await agent.post('/admin/login', { email: OWNER.email, password: OWNER.password });
    });

    test('the form as a browser sends it: empty filters mean all, for every grouping', async () => {
      for (const groupBy of [
        'day',
        'campaign',
        'affiliate',
        'banner',
        'flow',
        'landing',
        'offer',
        'source',
        'country',
      ]) {
        const page = await agent.get(`/admin/reports?groupBy=${groupBy}&from=&to=&campaignId=`);
        assert.equal(page.status, 200);
        assert.doesNotMatch(page.text, /flash-error/, `${groupBy}: ${page.text.match(/flash-error[^<]*<[^<]*/)?.[0]}`);
        assert.match(page.text, new RegExp(`<option value="${groupBy}" selected`), `${groupBy} stays chosen`);
      }
      const byCampaign = await agent.get('/admin/reports?groupBy=campaign&from=&to=&campaignId=');
      assert.match(
        byCampaign.text,
        /<td title="Shoes"><a class="drill"[^>]*>Shoes<\/a><\/td>/,
        'grouped by campaign, not by day',
      );
    });

    test('a bad filter is shown, not silently replaced', async () => {
      const page = await agent.get('/admin/reports?groupBy=campaign&from=yesterday');
      assert.equal(page.status, 200);
      assert.match(page.text, /flash-error[^>]*>[^<]*from/);
      assert.match(page.text, /<option value="campaign" selected/, 'the rest of the form still applies');
    });

    test('the table headers are words, not field names', async () => {
      const page = await agent.get('/admin/reports?groupBy=campaign');
      const headers = [...page.text.matchAll(/<th[^>]*>(.*?)<\/th>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ''));
      assert.ok(headers.includes('Campaign'), headers.join(' | '));
      for (const word of ['Clicks', 'Unique clicks', 'Conversions', 'Revenue', 'Pending commissions'])
        assert.ok(headers.includes(word), `${word} in ${headers.join(' | ')}`);
      for (const field of ['uniqueClicks', 'commissionsPending', 'label', 'epc'])
        assert.ok(!headers.includes(field), `${field} in ${headers.join(' | ')}`);
    });

    test('the chart is server-rendered SVG with axes, labels and a title per point', async () => {
      const page = await agent.get('/admin/reports?groupBy=day');
      const svg = /<svg[^>]*class="chart[^"]*"[\s\S]*?<\/svg>/.exec(page.text)?.[0];
      assert.ok(svg, 'a chart');
      assert.match(svg, /class="axis x"/);
      assert.match(svg, /class="axis y"/);
      assert.match(svg, /<text[^>]*>Clicks<\/text>/, 'the y axis is labelled');
      const today = new Date().toISOString().slice(0, 10);
      assert.match(svg, new RegExp(`<title>${today}: 4 clicks, 1 conversion`), 'a title per point');
      assert.match(svg, new RegExp(`<text[^>]*>${today}</text>`), 'the x axis names the day');
      assert.doesNotMatch(page.text, /<script/, 'no client script');
    });

    test('the dashboard chart has the same axes and labels', async () => {
      const page = await agent.get('/admin');
      const svg = /<svg[^>]*class="chart[^"]*"[\s\S]*?<\/svg>/.exec(page.text)?.[0];
      assert.ok(svg, 'a chart');
      assert.match(svg, /class="axis x"/);
      assert.match(svg, /class="axis y"/);
      const today = new Date().toISOString().slice(0, 10);
      assert.match(svg, new RegExp(`<title>${today}: 4 clicks, 1 conversion`));
      assert.match(svg, /stroke-dasharray/, 'the previous period dashed');
    });
  });
});
