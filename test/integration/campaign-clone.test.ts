import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';

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
});
