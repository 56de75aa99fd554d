import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { visit } from '../helpers/visit.js';
import { created } from '../helpers/assert.js';

/* The Click API runs a paused campaign's parked campaign as its campaign URL does (issue 9.6, SPEC §7.1, §7.7). */

type Api = ReturnType<typeof api>;

describe(`the Click API runs a paused campaign’s parked campaign, as its URL does (issue 9.6) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app?.close();
  });

  test('paused with a parked campaign: both paths run it; with none parked: both answer not found', async () => {
    const domain = created(await a.post('/domains', { host: 'track.example.com' }), 'domain');
    const makeCampaign = async (alias: string, host: string, extra: Record<string, unknown> = {}) => {
      const res = await a.post('/campaigns', { name: alias, alias, domainId: domain, ...extra });
      const id = created(res, 'campaign');
      created(
        await a.post(`/campaigns/${id}/flows`, {
          name: 'Main',
          type: 'default',
          schema: 'redirect',
          url: `https://${host}/?s={subid}`,
        }),
        'flow',
      );
      return { id, token: res.body.apiToken as string };
    };
    const parked = await makeCampaign('parked', 'parked.example');
    const old = await makeCampaign('old', 'old.example', { status: 'paused' });
    const clickApi = async () => {
      const res = await request(
        app.url,
        'GET',
        `/click_api/v3?token=${old.token}&ip=10.9.9.${Math.floor(Math.random() * 200) + 1}&user_agent=Mozilla/5.0&log=1`,
      );
      assert.equal(res.status, 200, res.text);
      return res.body as { info: { campaign_id: number; type: string; url: string | null; sub_id: string | null } };
    };

    assert.equal((await visit(app.url, '/old', { host: 'track.example.com' })).status, 404, 'nothing parked yet');
    const none = await clickApi();
    assert.equal(none.info.type, 'not_found');
    assert.equal(none.info.url, null);

    assert.equal((await a.patch(`/domains/${domain}`, { parkedCampaignId: parked.id })).status, 200);
    const byUrl = await visit(app.url, '/old', { host: 'track.example.com' });
    assert.equal(byUrl.status, 302);
    assert.match(byUrl.location ?? '', /^https:\/\/parked\.example\//);
    const byApi = await clickApi();
    assert.equal(byApi.info.campaign_id, parked.id, 'the parked campaign ran');
    assert.equal(byApi.info.type, 'redirect');
    assert.match(byApi.info.url ?? '', /^https:\/\/parked\.example\//);
    const row = (await app.services.db('clicks').where({ click_id: byApi.info.sub_id }).first()) as
      { campaign_id: number } | undefined;
    assert.equal(row?.campaign_id, parked.id, 'the click belongs to the parked campaign');
  });
});
