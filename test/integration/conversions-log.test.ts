import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, Agent, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';

/*
 * SPEC §15: GET /api/v1/conversions (filters, pagination, CSV), the admin Conversions log, and
 * the Clicks log showing a campaign-URL click's flow, landing, offer, sub ids, cost and
 * uniqueness flags.
 */

describe(`the conversions log and the campaign-URL clicks log on ${dialectName()}`, () => {
  let app: TestApp;
  let owner: ReturnType<typeof api>;
  let agent: Agent;
  let campaignId = 0;
  const subids: string[] = [];

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const ok = (res: JsonResponse) => {
      assert.ok(res.status === 200 || res.status === 201, res.text);
      return res.body.id as number;
    };
    campaignId = ok(await owner.post('/campaigns', { name: 'Push', alias: 'push', costModel: 'CPC', costValue: 0.25 }));
    ok(
      await owner.post(`/campaigns/${campaignId}/flows`, {
        name: 'Main flow',
        type: 'default',
        landings: [{ url: 'https://lp.example/one?s={subid}', weight: 100 }],
        offers: [{ url: 'https://offer.example/x?s={subid}', weight: 100 }],
      }),
    );
    for (let i = 0; i < 3; i++) {
      const res = await request(app.url, 'GET', `/push?sub_id_1=zone${i}&sub_id_2=banner`, {
        headers: { 'user-agent': CHROME, 'x-forwarded-for': `10.8.0.${i + 1}` },
      });
      assert.equal(res.status, 302, res.text);
      subids.push(new URL(res.headers.get('location')!).searchParams.get('s')!);
    }
    const key = app.services.settings.get().postbackKey;
    const post = async (q: string) => {
      const res = await request(app.url, 'GET', `/postback/${key}?${q}`);
      assert.equal(res.status, 200, res.text);
    };
    await post(`subid=${subids[0]}&status=sale&payout=12.50&tid=T-1`);
    await post(`subid=${subids[1]}&status=lead`);
    await post(`subid=${subids[2]}&status=sale&payout=3&tid=T-3`);
    agent = new Agent(app.url);
    await agent.get('/admin/login');
    await agent.post('/admin/login', { email: OWNER.email, password: OWNER.password });
  });
  after(() => app?.close());

  test('GET /api/v1/conversions lists, filters and pages', async () => {
    const all = await owner.get('/conversions');
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.pagination.total, 3);
    const sales = await owner.get(`/conversions?status=sale&campaignId=${campaignId}`);
    assert.deepEqual(
      (sales.body.data as Array<{ tid: string; revenue: number }>).map((c) => [c.tid, c.revenue]).sort(),
      [
        ['T-1', 12.5],
        ['T-3', 3],
      ],
    );
    const bySubid = await owner.get(`/conversions?subid=${subids[1]}`);
    assert.equal(bySubid.body.data.length, 1);
    assert.equal(bySubid.body.data[0].status, 'lead');
    const byTid = await owner.get('/conversions?tid=T-3');
    assert.equal(byTid.body.data[0].clickId, subids[2]);
    const page2 = await owner.get('/conversions?perPage=2&page=2');
    assert.equal(page2.body.data.length, 1);
    const today = new Date().toISOString().slice(0, 10);
    assert.equal((await owner.get(`/conversions?from=${today}&to=${today}`)).body.pagination.total, 3);
    assert.equal((await owner.get('/conversions?from=2020-01-01&to=2020-01-02')).body.pagination.total, 0);
  });

  test('bad filters are a 422 naming the parameter', async () => {
    for (const [q, field] of [
      ['status=won', 'status'],
      ['from=2026-02-30', 'from'],
      ['from=2026-03-02&to=2026-03-01', 'from'],
      ['campaignId=x', 'campaignId'],
      ['planet=mars', 'planet'],
    ]) {
      const res = await owner.get(`/conversions?${q}`);
      assert.equal(res.status, 422, `${q}: ${res.text}`);
      assert.equal(res.body.error.details[0].field, field, q);
    }
  });

  test('CSV of the conversions', async () => {
    const res = await fetch(`${app.url}/api/v1/conversions?format=csv&status=sale`, {
      headers: { authorization: `Bearer ${await tokenFor(app.url, OWNER.email, OWNER.password)}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
    const lines = (await res.text()).trim().split('\n');
    assert.match(lines[0]!, /^id,createdAt,updatedAt,clickId,tid,/);
    assert.equal(lines.length, 3);
    assert.ok(
      lines.some((l) => l.includes(`,${subids[0]},T-1,`) && l.includes(',12.5,')),
      lines.join('\n'),
    );
  });

  test('the admin Conversions log shows them with words, and is in the navigation', async () => {
    const page = await agent.get('/admin/conversions?status=sale');
    assert.equal(page.status, 200);
    assert.match(page.text, /<a href="\/admin\/conversions" aria-current="page">Conversions<\/a>/);
    assert.equal([...page.text.matchAll(/data-conversion="/g)].length, 2);
    assert.match(page.text, /Main flow/);
    assert.match(page.text, /12\.50 USD/);
    assert.match(page.text, /format(=|&#x3D;)csv/);
    const bad = await agent.get('/admin/conversions?from=never');
    assert.equal(bad.status, 200);
    assert.match(bad.text, /flash-error[^>]*>[^<]*from/);
  });

  test('the Clicks log shows flow, landing, offer, sub ids, cost and uniqueness of campaign-URL clicks', async () => {
    const page = await agent.get(`/admin/clicks?campaignId=${campaignId}`);
    assert.equal(page.status, 200);
    const row = new RegExp(`<tr data-click="${subids[0]}">[\\s\\S]*?</tr>`).exec(page.text)?.[0];
    assert.ok(row, 'the click is listed');
    assert.match(row, /<strong>Main flow<\/strong>/);
    assert.match(row, /Landing: https:\/\/lp\.example\/one/);
    assert.match(row, /sub_id_1=zone0/);
    assert.match(row, /sub_id_2=banner/);
    assert.match(row, /<td>0\.25<\/td>/);
    assert.match(row, /campaign: yes/);
  });
});
