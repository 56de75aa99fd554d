import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';

/* SPEC §15: campaign JSON carries `campaignUrl`; POST /api/v1/campaigns/:id/clone copies flows and payouts. */

describe(`campaign URL in the JSON and cloning on ${dialectName()}`, () => {
  let app: TestApp;
  let owner: ReturnType<typeof api>;
  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(() => app?.close());

  test('campaignUrl is the full URL with the source parameter template; a clone has the flows and payouts', async () => {
    const source = await owner.post('/sources', { name: 'Push', params: { sub_id_1: 'zone', cost: 'price' } });
    assert.equal(source.status, 201, source.text);
    const created = await owner.post('/campaigns', { name: 'Push US', alias: 'push-us', sourceId: source.body.id });
    assert.equal(created.status, 201, created.text);
    const url = created.body.campaignUrl as string;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/push-us\?/);
    assert.match(url, /zone=/);
    assert.equal((await owner.get(`/campaigns/${created.body.id}`)).body.campaignUrl, url);
    const id = created.body.id as number;
    assert.equal(
      (
        await owner.post(`/campaigns/${id}/flows`, {
          name: 'Main',
          type: 'default',
          offers: [{ url: 'https://o.example/', weight: 100 }],
        })
      ).status,
      201,
    );
    assert.equal(
      (
        await owner.post(`/campaigns/${id}/payouts`, {
          kind: 'general',
          title: 'CPS',
          type: 'CPS',
          affiliateCommission: { value: 10, unit: 'percent' },
        })
      ).status,
      201,
    );
    const clone = await owner.post(`/campaigns/${id}/clone`, {});
    assert.equal(clone.status, 201, clone.text);
    assert.equal(clone.body.name, 'Push US (copy)');
    assert.notEqual(clone.body.id, id);
    assert.equal(clone.body.campaignUrl, null, 'no alias: aliases are unique');
    const flows = await owner.get(`/campaigns/${clone.body.id}/flows`);
    assert.deepEqual(
      (flows.body.data ?? flows.body).map((f: { name: string }) => f.name),
      ['Main'],
    );
    const payouts = await owner.get(`/campaigns/${clone.body.id}/payouts`);
    assert.equal((payouts.body.data ?? payouts.body).length, 1);
    assert.equal((await owner.post('/campaigns/999999/clone', {})).status, 404);
    assert.equal((await owner.post(`/campaigns/${id}/clone`, { name: 'x' })).status, 422);
  });

  test("the Flows tab shows each flow's figures and moves flows up and down without script", async () => {
    const c = await owner.post('/campaigns', { name: 'Order', alias: 'order-test', costModel: 'CPC', costValue: 0.2 });
    const id = c.body.id as number;
    const flow = async (name: string) =>
      (
        await owner.post(`/campaigns/${id}/flows`, {
          name,
          type: 'regular',
          offers: [{ url: `https://o.example/${name}`, weight: 100 }],
        })
      ).body.id as number;
    const a = await flow('Alpha');
    const b = await flow('Beta');
    await flow('Gamma');
    // Position rotation sends the click to the first regular flow.
    const hit = await request(app.url, 'GET', '/order-test', { headers: { 'x-forwarded-for': '10.6.0.1' } });
    assert.equal(hit.status, 302);
    await app.services.writers.clicks.drain();
    const agent = new Agent(app.url);
    await agent.get('/admin/login');
    await agent.post('/admin/login', { email: OWNER.email, password: OWNER.password });
    const names = (html: string) => [...html.matchAll(/flows\/(\d+)">(Alpha|Beta|Gamma)</g)].map((m) => m[2]);
    let page = await agent.get(`/admin/campaigns/${id}/flows`);
    assert.deepEqual(names(page.text), ['Alpha', 'Beta', 'Gamma']);
    const alphaRow = new RegExp(`flows/${a}">Alpha[\\s\\S]*?</tr>`).exec(page.text)![0];
    assert.match(alphaRow, /data-figure="clicks">1</, 'the flow that took the click shows it');
    assert.match(alphaRow, /0\.20 USD/, 'and its cost');
    assert.doesNotMatch(alphaRow, /Move Alpha up/, 'the first cannot go up');
    const moved = await agent.post(`/admin/campaigns/${id}/flows/${b}/move`, { direction: 'up' });
    assert.equal(moved.status, 302);
    page = await agent.get(`/admin/campaigns/${id}/flows`);
    assert.deepEqual(names(page.text), ['Beta', 'Alpha', 'Gamma']);
    await agent.post(`/admin/campaigns/${id}/flows/${a}/move`, { direction: 'down' });
    page = await agent.get(`/admin/campaigns/${id}/flows`);
    assert.deepEqual(names(page.text), ['Beta', 'Gamma', 'Alpha']);
    assert.doesNotMatch(page.text, /<script/);
  });
});
