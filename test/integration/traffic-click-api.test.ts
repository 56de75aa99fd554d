import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { browserUa, IPHONE, CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

/*
 * SPEC §7.7 the Click API: `GET /click_api/v3?token=<apiToken>&ip=..&user_agent=..&language=..`
 * runs the campaign for a visitor of the merchant's own server and answers JSON instead of a
 * redirect.
 */

type Api = ReturnType<typeof api>;

interface ClickApiAnswer {
  info: {
    campaign_id: number | null;
    flow_id: number | null;
    sub_id: string | null;
    type: string;
    url: string | null;
    uniqueness_cookie: string | null;
  };
  headers: string[];
  body?: string;
  log?: string[];
}

describe(`the Click API (SPEC §7.7) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let ipCounter = 0;
  const freshIp = () => {
    ipCounter++;
    return `10.55.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
  };
  let campaign: { id: number; token: string; flows: Record<string, number> };

  const clickApi = (params: Record<string, string>) =>
    request<ClickApiAnswer>(app.url, 'GET', `/click_api/v3?${new URLSearchParams(params).toString()}`);
  const clickRow = async (subid: string | null) => {
    assert.ok(subid, 'a sub_id');
    const row = (await app.services.db('clicks').where({ click_id: subid }).first()) as
      | {
          campaign_id: number;
          flow_id: number;
          ip: string;
          country: string | null;
          user_agent: string;
          device: string | null;
          language: string | null;
          referrer: string | null;
          unique_campaign: number | boolean;
          unique_flow: number | boolean;
          unique_global: number | boolean;
          sub_ids: string | null;
        }
      | undefined;
    assert.ok(row, `a click row for ${subid}`);
    return row;
  };

  async function makeCampaign(body: Record<string, unknown>, flows: Array<Record<string, unknown>>) {
    const res = await a.post('/campaigns', body);
    const id = created(res, 'campaign');
    const ids: Record<string, number> = {};
    for (const f of flows)
      ids[String(f.name)] = created(await a.post(`/campaigns/${id}/flows`, f), `flow ${String(f.name)}`);
    assert.match(String(res.body.apiToken), /^[A-Za-z0-9_-]{16,64}$/, 'the campaign has an API token');
    return { id, token: res.body.apiToken as string, flows: ids };
  }

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaign = await makeCampaign({ name: 'Click API', alias: 'capi' }, [
      {
        name: 'US',
        type: 'forced',
        position: 0,
        schema: 'redirect',
        url: 'https://us.example/?s={subid}',
        filters: [{ name: 'country', values: ['US'] }],
      },
      {
        name: 'Mobile',
        type: 'forced',
        position: 1,
        schema: 'redirect',
        url: 'https://mobile.example/?s={subid}',
        filters: [{ name: 'device', values: ['mobile'] }],
      },
      {
        name: 'German',
        type: 'forced',
        position: 2,
        schema: 'redirect',
        url: 'https://de.example/?s={subid}',
        filters: [{ name: 'language', values: ['de'] }],
      },
      {
        name: 'Zone 7',
        type: 'forced',
        position: 3,
        schema: 'redirect',
        url: 'https://zone.example/?s={subid}&z={sub_id_1}&c={campaign_id}',
        filters: [{ name: 'param', values: ['7'], param: 'zone' }],
      },
      {
        name: 'Closed',
        type: 'forced',
        position: 4,
        schema: 'action',
        action: 'show_text',
        text: 'Come back tomorrow',
        filters: [{ name: 'param', values: ['yes'], param: 'closed' }],
      },
      {
        name: 'Default',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}&z={sub_id_1}', weight: 100 }],
      },
    ]);
  });
  after(async () => {
    await app?.close();
  });

  test('a wrong or missing token is 401', async () => {
    for (const query of [
      '',
      '?token=',
      '?token=not-a-real-token-000000',
      `?token=${campaign.token}x`,
      `?token[]=${campaign.token}`,
    ]) {
      const res = await request(app.url, 'GET', `/click_api/v3${query}`);
      assert.equal(res.status, 401, `${query}: ${res.text}`);
      assert.equal(res.body.error.code, 'unauthorized');
    }
    const before = Number(((await app.services.db('clicks').count({ n: '*' })) as Array<{ n: unknown }>)[0]!.n);
    assert.equal((await clickApi({ token: 'nope', ip: freshIp() })).status, 401);
    assert.equal(
      Number(((await app.services.db('clicks').count({ n: '*' })) as Array<{ n: unknown }>)[0]!.n),
      before,
      'no click stored',
    );
  });

  test('an ip that is not an IPv4 or IPv6 address is 422 naming ip; no click stored', async () => {
    const clicks = async () =>
      Number(((await app.services.db('clicks').count({ n: '*' })) as Array<{ n: unknown }>)[0]!.n);
    const before = await clicks();
    for (const ip of ['not-an-ip', '999.1.1.1', '1.2.3.4, 5.6.7.8', '::1::2']) {
      const res = await clickApi({ token: campaign.token, ip });
      assert.equal(res.status, 422, `${ip}: ${res.text}`);
      assert.equal(
        (res.body as unknown as { error: { details: Array<{ field: string }> } }).error.details[0]?.field,
        'ip',
      );
    }
    assert.equal(await clicks(), before, 'no click stored');
    assert.equal((await clickApi({ token: campaign.token, ip: '2001:4860:4860::8888' })).status, 200);
  });

  test('the answer: info with campaign, flow, sub_id, type, url and uniqueness cookie; a Location header', async () => {
    const res = await clickApi({
      token: campaign.token,
      ip: freshIp(),
      user_agent: CHROME,
      referrer: 'https://news.example/story',
    });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /json/);
    assert.equal(res.headers.get('set-cookie'), null, 'the Click API sets no cookie itself');
    const { info, headers } = res.body;
    assert.deepEqual(
      Object.keys(info).sort(),
      ['campaign_id', 'flow_id', 'sub_id', 'type', 'url', 'uniqueness_cookie'].sort(),
    );
    assert.equal(info.campaign_id, campaign.id);
    assert.equal(info.flow_id, campaign.flows.Default);
    assert.equal(info.type, 'offer');
    assert.match(info.sub_id ?? '', /^[A-Za-z0-9_-]{16,32}$/);
    assert.equal(info.url, `https://offer.example/?s=${info.sub_id}&z=`);
    assert.equal(typeof info.uniqueness_cookie, 'string');
    assert.deepEqual(headers, [`Location: ${info.url}`]);
    assert.equal(res.body.log, undefined, 'no log unless asked');
    const row = await clickRow(info.sub_id);
    assert.equal(row.campaign_id, campaign.id);
    assert.equal(row.flow_id, campaign.flows.Default);
    assert.equal(row.user_agent, CHROME);
    assert.equal(row.referrer, 'https://news.example/story');
  });

  test('log=1 explains each flow’s filters', async () => {
    const res = await clickApi({ token: campaign.token, ip: freshIp(), user_agent: CHROME, log: '1' });
    assert.equal(res.status, 200);
    const log = res.body.log;
    assert.ok(Array.isArray(log) && log.length > 0, 'a log');
    const text = log.join('\n');
    for (const name of ['US', 'Mobile', 'German', 'Zone 7', 'Closed']) {
      const line = log.find((l) => l.includes(`"${name}"`));
      assert.ok(line, `a line about flow ${name}: ${text}`);
      assert.match(line, /filters fail/, `${name}'s filters fail for this visitor`);
    }
    assert.match(text, /country is \[US\]: failed/);
    assert.match(text, /device is \[mobile\]: failed \(desktop\)/);
    assert.match(text, /param zone is \[7\]: failed \(zone=\(absent\)\)/);
    assert.match(text, /chosen: flow \d+ "Default"/);
    assert.ok(
      !('log' in (await clickApi({ token: campaign.token, ip: freshIp(), user_agent: CHROME, log: '0' })).body),
    );
  });

  test('other parameters reach the filters and the macros', async () => {
    const res = await clickApi({
      token: campaign.token,
      ip: freshIp(),
      user_agent: CHROME,
      zone: '7',
      sub_id_1: 'a b&c',
    });
    assert.equal(res.body.info.flow_id, campaign.flows['Zone 7']);
    assert.equal(res.body.info.type, 'redirect');
    const url = new URL(res.body.info.url!);
    assert.equal(url.searchParams.get('z'), 'a b&c');
    assert.equal(url.searchParams.get('c'), String(campaign.id));
    assert.equal(url.searchParams.get('s'), res.body.info.sub_id);
    assert.deepEqual(JSON.parse((await clickRow(res.body.info.sub_id)).sub_ids ?? '{}'), { sub_id_1: 'a b&c' });

    const other = await clickApi({
      token: campaign.token,
      ip: freshIp(),
      user_agent: CHROME,
      zone: '8',
      sub_id_1: 'x',
    });
    assert.equal(other.body.info.flow_id, campaign.flows.Default);
    assert.equal(other.body.info.url, `https://offer.example/?s=${other.body.info.sub_id}&z=x`);

    // The Click API's own parameters are not campaign parameters.
    const own = await clickApi({ token: campaign.token, ip: freshIp(), user_agent: CHROME, log: '7' });
    assert.equal(own.body.info.flow_id, campaign.flows.Default);

    const text = await clickApi({ token: campaign.token, ip: freshIp(), user_agent: CHROME, closed: 'yes' });
    assert.equal(text.body.info.type, 'show_text');
    assert.equal(text.body.info.url, null);
    assert.equal(text.body.body, 'Come back tomorrow');
    assert.deepEqual(text.body.headers, []);
  });

  test('ip, user_agent and language are the visitor’s, used by the filters', async () => {
    const us = await clickApi({ token: campaign.token, ip: '8.8.8.8', user_agent: CHROME });
    assert.equal(us.body.info.flow_id, campaign.flows.US);
    const usRow = await clickRow(us.body.info.sub_id);
    assert.equal(usRow.country, 'US');
    assert.equal(usRow.ip, '8.8.8.8');

    const gb = await clickApi({ token: campaign.token, ip: '81.2.69.160', user_agent: CHROME });
    assert.equal(gb.body.info.flow_id, campaign.flows.Default);
    assert.equal((await clickRow(gb.body.info.sub_id)).country, 'GB');

    const mobile = await clickApi({ token: campaign.token, ip: freshIp(), user_agent: IPHONE });
    assert.equal(mobile.body.info.flow_id, campaign.flows.Mobile);
    assert.equal((await clickRow(mobile.body.info.sub_id)).device, 'mobile');

    const german = await clickApi({
      token: campaign.token,
      ip: freshIp(),
      user_agent: CHROME,
      language: 'de-DE,de;q=0.9,en;q=0.8',
    });
    assert.equal(german.body.info.flow_id, campaign.flows.German);
    assert.equal((await clickRow(german.body.info.sub_id)).language, 'de');
    const english = await clickApi({
      token: campaign.token,
      ip: freshIp(),
      user_agent: CHROME,
      language: 'en-US,en;q=0.9',
    });
    assert.equal(english.body.info.flow_id, campaign.flows.Default);

    // The visitor's address, not the caller's (the X-Forwarded-For of the merchant's server).
    const viaProxy = await request<ClickApiAnswer>(
      app.url,
      'GET',
      `/click_api/v3?${new URLSearchParams({ token: campaign.token, ip: '8.8.8.8', user_agent: CHROME })}`,
      {
        headers: { 'x-forwarded-for': '81.2.69.160' },
      },
    );
    assert.equal(viaProxy.body.info.flow_id, campaign.flows.US);
  });

  test('the returned uniqueness_cookie sent back makes the repeat non-unique', async () => {
    const c = await makeCampaign({ name: 'Click API cookie', uniqueness: 'cookie' }, [
      { name: 'Only', type: 'default', schema: 'redirect', url: 'https://only.example/?s={subid}' },
    ]);
    const first = await clickApi({ token: c.token, ip: freshIp(), user_agent: browserUa(1) });
    const cookie = first.body.info.uniqueness_cookie;
    assert.ok(cookie);
    const row1 = await clickRow(first.body.info.sub_id);
    assert.deepEqual([row1.unique_campaign, row1.unique_flow, row1.unique_global].map(Number), [1, 1, 1]);

    const repeat = await clickApi({
      token: c.token,
      ip: freshIp(),
      user_agent: browserUa(2),
      uniqueness_cookie: cookie,
    });
    const row2 = await clickRow(repeat.body.info.sub_id);
    assert.deepEqual(
      [row2.unique_campaign, row2.unique_flow, row2.unique_global].map(Number),
      [0, 0, 0],
      'the cookie names the same device',
    );

    const stranger = await clickApi({ token: c.token, ip: freshIp(), user_agent: browserUa(3) });
    assert.equal(Number((await clickRow(stranger.body.info.sub_id)).unique_campaign), 1);
    const garbage = await clickApi({
      token: c.token,
      ip: freshIp(),
      user_agent: browserUa(4),
      uniqueness_cookie: `${cookie!.slice(0, -3)}abc`,
    });
    assert.equal(garbage.status, 200, 'a bad cookie is ignored, not an error');
    assert.equal(Number((await clickRow(garbage.body.info.sub_id)).unique_campaign), 1);

    // ip_ua (the default) by the ip and user_agent parameters.
    const device = { ip: freshIp(), user_agent: browserUa(5) };
    const a1 = await clickApi({ token: campaign.token, ...device });
    const a2 = await clickApi({ token: campaign.token, ...device });
    assert.equal(Number((await clickRow(a1.body.info.sub_id)).unique_campaign), 1);
    assert.equal(Number((await clickRow(a2.body.info.sub_id)).unique_campaign), 0);
  });

  test('a paused campaign answers type not_found; a regenerated token replaces the old one', async () => {
    const c = await makeCampaign({ name: 'Click API paused' }, [
      { name: 'Only', type: 'default', schema: 'redirect', url: 'https://only.example/?s={subid}' },
    ]);
    assert.equal((await a.patch(`/campaigns/${c.id}`, { status: 'paused' })).status, 200);
    const res = await clickApi({ token: c.token, ip: freshIp(), user_agent: CHROME, log: '1' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.info.type, 'not_found');
    assert.equal(res.body.info.campaign_id, c.id);
    assert.equal(res.body.info.flow_id, null);
    assert.equal(res.body.info.sub_id, null);
    assert.equal(res.body.info.url, null);
    assert.deepEqual(res.body.headers, ['Status: 404 Not Found']);
    assert.ok(res.body.log!.some((l) => /paused/.test(l)));
    assert.equal((await app.services.db('clicks').where({ campaign_id: c.id })).length, 0);

    assert.equal((await a.patch(`/campaigns/${c.id}`, { status: 'active' })).status, 200);
    const regenerated = await a.post(`/campaigns/${c.id}/regenerate-api-token`);
    assert.equal(regenerated.status, 200, regenerated.text);
    const fresh = regenerated.body.apiToken as string;
    assert.notEqual(fresh, c.token);
    assert.equal(
      (await clickApi({ token: c.token, ip: freshIp(), user_agent: CHROME })).status,
      401,
      'the old token is dead',
    );
    const ok = await clickApi({ token: fresh, ip: freshIp(), user_agent: CHROME });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.info.type, 'redirect');
  });
});
