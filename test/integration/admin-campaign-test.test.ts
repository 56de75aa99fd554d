import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, Agent, OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { decode } from '../helpers/html.js';

/*
 * The campaign "Test" tab: a dry run of the flow selection (SPEC §7.2) for a given IP, user agent,
 * language and parameters, showing the chosen flow, the URL with macros, the cost and the log of
 * the Click API (§7.7) — without storing anything. Also: the Settings tab shows the campaign URL
 * with the source's parameter template.
 */

const US_IP = '8.8.8.8';
const GB_IP = '81.2.69.160';

/** The inner HTML of the first element carrying `data-<name>`. */
function part(html: string, name: string): string {
  const m = new RegExp(`<(\\w+)[^>]*\\bdata-${name}\\b[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  assert.ok(m, `no element data-${name} in the page`);
  return decode(m[2] ?? '');
}

describe('admin: test a traffic campaign (dry run)', () => {
  let app: TestApp;
  let owner: Agent;
  let campaignId: number;
  let usFlowId: number;
  let defaultFlowId: number;

  const counts = async () => {
    const db = app.services.db;
    const one = async (table: string) =>
      Number(((await db(table).count({ n: '*' }).first()) as { n: number | string }).n);
    return {
      clicks: await one('clicks'),
      marks: await one('uniqueness_marks'),
      bindings: await one('visitor_bindings'),
    };
  };

  before(async () => {
    app = await startTestApp({ env: { PUBLIC_URL: 'https://tracker.example' } });
    owner = await setupOwner(app.url);
    const rest = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const source = await rest.post('/sources', { name: 'PushNet', params: { sub_id_1: 'zoneid', cost: 'cpc' } });
    assert.equal(source.status, 201, source.text);
    const campaign = await rest.post('/campaigns', {
      name: 'Push test',
      alias: 'push-test',
      sourceId: source.body.id,
      costModel: 'CPC',
      costValue: 0.05,
      bindVisitors: 'flows',
    });
    assert.equal(campaign.status, 201, campaign.text);
    campaignId = campaign.body.id;
    const us = await rest.post(`/campaigns/${campaignId}/flows`, {
      name: 'US only',
      type: 'forced',
      filters: [{ name: 'country', mode: 'is', values: ['US'] }],
      schema: 'landings_offers',
      landings: [{ url: 'https://lp.example/us?click={subid}&c={country}&zone={sub_id_1}', weight: 100 }],
      offers: [{ url: 'https://offer.example/us?s={subid}', weight: 100 }],
    });
    assert.equal(us.status, 201, us.text);
    usFlowId = us.body.id;
    const fallback = await rest.post(`/campaigns/${campaignId}/flows`, {
      name: 'Everyone else',
      type: 'default',
      schema: 'redirect',
      url: 'https://offer.example/all?s={subid}',
    });
    assert.equal(fallback.status, 201, fallback.text);
    defaultFlowId = fallback.body.id;
  });
  after(async () => {
    await app?.close();
  });

  test('the Test tab renders its form, with the admin’s own browser as the visitor', async () => {
    const res = await owner.get(`/admin/campaigns/${campaignId}/test`);
    assert.equal(res.status, 200, res.text.slice(0, 500));
    assert.match(res.text, new RegExp(`<a href="/admin/campaigns/${campaignId}/test" aria-current="page">Test</a>`));
    assert.match(res.text, new RegExp(`<form method="post" action="/admin/campaigns/${campaignId}/test"`));
    for (const name of ['ip', 'userAgent', 'acceptLanguage', 'referrer'])
      assert.match(res.text, new RegExp(`<input name="${name}"`));
    assert.match(res.text, /<textarea name="params"/);
    assert.match(res.text, /name="_csrf"/);
    assert.match(res.text, /<input name="ip" [^>]*value="127\.0\.0\.1"/);
    assert.doesNotMatch(res.text, /data-test-result/, 'no result before a run');
    // Every campaign tab links the Test tab.
    const settings = await owner.get(`/admin/campaigns/${campaignId}`);
    assert.match(settings.text, new RegExp(`<a href="/admin/campaigns/${campaignId}/test"\\s*>Test</a>`));
  });

  test('the Settings tab shows the campaign URL with the source’s parameter template', async () => {
    const res = await owner.get(`/admin/campaigns/${campaignId}`);
    assert.equal(res.status, 200);
    const url = part(res.text, 'campaign-url');
    assert.equal(url, 'https://tracker.example/push-test?zoneid={zoneid}&cpc={cpc}');
    assert.match(decode(res.text), /Give this URL to PushNet/);
  });

  test('a US IP picks the forced US flow: landing URL with macros, cost and log — and nothing is stored', async () => {
    const before = await counts();
    const res = await owner.post(`/admin/campaigns/${campaignId}/test`, {
      ip: US_IP,
      userAgent: CHROME,
      acceptLanguage: 'en-US,en;q=0.9',
      referrer: '',
      params: 'zoneid=77\nfoo=bar',
    });
    assert.equal(res.status, 200, decode(res.text).slice(0, 800));
    assert.match(res.text, /data-test-result/);
    assert.match(part(res.text, 'test-flow'), /US only/);
    assert.match(res.text, new RegExp(`/admin/campaigns/${campaignId}/flows/${usFlowId}`));
    assert.equal(part(res.text, 'test-type'), 'landing (302)');
    const url = new URL(part(res.text, 'test-url'));
    assert.equal(url.origin + url.pathname, 'https://lp.example/us');
    assert.equal(url.searchParams.get('c'), 'US');
    assert.equal(url.searchParams.get('zone'), '77');
    assert.match(url.searchParams.get('click') ?? '', /^[A-Za-z0-9_-]{8,32}$/);
    assert.equal(part(res.text, 'test-cost'), '0.0500 USD');
    const log = part(res.text, 'test-log');
    assert.match(log, /flow \d+ "US only" \(forced[^)]*\): filters pass/);
    assert.match(log, /chosen: flow \d+ "US only"/);
    assert.match(log, /landing 1: https:\/\/lp\.example\/us/);
    assert.match(log, /test run: no click stored/);
    assert.match(decode(res.text), /country US/);
    assert.deepEqual(await counts(), before, 'no click, uniqueness mark or binding was stored');
    assert.equal(before.clicks, 0);
    // The campaign URL itself still sees a first visit: the test left no trace of this device.
  });

  test('a GB IP falls through to the default flow; the log says why the US flow was skipped', async () => {
    const res = await owner.post(`/admin/campaigns/${campaignId}/test`, {
      ip: GB_IP,
      userAgent: CHROME,
      acceptLanguage: 'en-GB',
      referrer: 'https://news.example/',
      params: '?zoneid=5&cpc=0.2',
    });
    assert.equal(res.status, 200);
    assert.match(part(res.text, 'test-flow'), /Everyone else/);
    assert.match(res.text, new RegExp(`/admin/campaigns/${campaignId}/flows/${defaultFlowId}`));
    assert.equal(part(res.text, 'test-type'), 'redirect (302)');
    assert.match(part(res.text, 'test-url'), /^https:\/\/offer\.example\/all\?s=[A-Za-z0-9_-]{8,32}$/);
    const log = part(res.text, 'test-log');
    assert.match(log, /"US only"[^\n]*filters fail/);
    assert.match(log, /chosen: flow \d+ "Everyone else" \([^)]*\), the default flow/);
    assert.equal((await counts()).clicks, 0);
  });

  test('bad input is shown on the form with 422; nothing runs', async () => {
    const res = await owner.post(`/admin/campaigns/${campaignId}/test`, {
      ip: 'not-an-ip',
      userAgent: CHROME,
      acceptLanguage: '',
      referrer: '',
      params: 'zoneid=1\njust-a-name',
    });
    assert.equal(res.status, 422);
    const text = decode(res.text);
    assert.match(text, /must be an IPv4 or IPv6 address/);
    assert.match(text, /line 2: write name=value/);
    assert.doesNotMatch(res.text, /data-test-result/);
    assert.match(res.text, /<input name="ip" [^>]*value="not-an-ip"/, 'the values sent are kept');
  });

  test('the form needs the CSRF token and a signed-in merchant', async () => {
    const noCsrf = await owner.post(
      `/admin/campaigns/${campaignId}/test`,
      { ip: US_IP, userAgent: CHROME, params: '' },
      { csrf: false },
    );
    assert.equal(noCsrf.status, 403);
    const wrong = await owner.post(
      `/admin/campaigns/${campaignId}/test`,
      { ip: US_IP, userAgent: CHROME, params: '' },
      { csrf: 'x'.repeat(32) },
    );
    assert.equal(wrong.status, 403);
    const stranger = new Agent(app.url);
    const page = await stranger.get(`/admin/campaigns/${campaignId}/test`);
    assert.equal(page.status, 302);
    assert.match(page.location ?? '', /\/admin\/login/);
    assert.equal((await counts()).clicks, 0);
  });

  test('an unknown campaign is 404', async () => {
    assert.equal((await owner.get('/admin/campaigns/999999/test')).status, 404);
  });

  test('the real campaign URL still stores the click (the dry run is an option, not the default)', async () => {
    const res = await fetch(`${app.url}/push-test?zoneid=9`, {
      redirect: 'manual',
      headers: { 'user-agent': CHROME, 'x-forwarded-for': US_IP },
    });
    assert.equal(res.status, 302);
    assert.match(res.headers.get('location') ?? '', /^https:\/\/lp\.example\/us\?/);
    const after = await counts();
    assert.equal(after.clicks, 1);
    assert.ok(after.bindings >= 1 && after.marks >= 1);
  });
});
