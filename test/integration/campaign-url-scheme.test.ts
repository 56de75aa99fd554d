import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor, type Agent } from '../helpers/http.js';

/*
 * The campaign URL shown to copy (campaign settings, domain page) takes its scheme from
 * PUBLIC_URL, else from the request the admin page came over (X-Forwarded-Proto behind a trusted
 * proxy): a domain served over plain http is not shown as https:// (README, Traffic campaigns).
 */

async function campaignOn(app: TestApp) {
  const agent = await setupOwner(app.url);
  const owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  const domain = await owner.post('/domains', { host: 'track.example.com' });
  assert.equal(domain.status, 201, domain.text);
  const campaign = await owner.post('/campaigns', { name: 'Push', alias: 'spring', domainId: domain.body.id });
  assert.equal(campaign.status, 201, campaign.text);
  return { agent, campaignId: campaign.body.id as number, domainId: domain.body.id as number };
}

/** An admin page over the agent's session, with extra request headers. */
async function page(app: TestApp, agent: Agent, path: string, headers: Record<string, string> = {}) {
  const cookie = [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(app.url + path, { headers: { cookie, accept: 'text/html', ...headers } });
  assert.equal(res.status, 200, path);
  return (await res.text()).replace(/&#x3D;/g, '=');
}

describe(`the campaign URL's scheme on ${dialectName()}`, () => {
  const apps: TestApp[] = [];
  after(async () => {
    for (const app of apps) await app.close();
  });

  test('PUBLIC_URL http://…: the campaign URL is http://', async () => {
    const app = await startTestApp({ env: { PUBLIC_URL: 'http://tracker.example' } });
    apps.push(app);
    const { agent, campaignId, domainId } = await campaignOn(app);
    const settings = await page(app, agent, `/admin/campaigns/${campaignId}`);
    assert.match(settings, /http:\/\/track\.example\.com\/spring/);
    assert.doesNotMatch(settings, /https:\/\/track\.example\.com/);
    // Even when the admin itself is reached over https, PUBLIC_URL decides.
    const proxied = await page(app, agent, `/admin/campaigns/${campaignId}`, { 'x-forwarded-proto': 'https' });
    assert.match(proxied, /http:\/\/track\.example\.com\/spring/);
    const domain = await page(app, agent, `/admin/domains/${domainId}`);
    assert.match(domain, /http:\/\/track\.example\.com\/spring/);
    assert.doesNotMatch(domain, /https:\/\/track\.example\.com/);
  });

  test('PUBLIC_URL https://…: https://', async () => {
    const app = await startTestApp({ env: { PUBLIC_URL: 'https://tracker.example' } });
    apps.push(app);
    const { agent, campaignId, domainId } = await campaignOn(app);
    assert.match(await page(app, agent, `/admin/campaigns/${campaignId}`), /https:\/\/track\.example\.com\/spring/);
    assert.match(await page(app, agent, `/admin/domains/${domainId}`), /https:\/\/track\.example\.com\/spring/);
  });

  test('no PUBLIC_URL: the scheme the admin was reached over', async () => {
    const app = await startTestApp();
    apps.push(app);
    const { agent, campaignId } = await campaignOn(app);
    const plain = await page(app, agent, `/admin/campaigns/${campaignId}`);
    assert.match(plain, /http:\/\/track\.example\.com\/spring/);
    assert.doesNotMatch(plain, /https:\/\/track\.example\.com/);
    const proxied = await page(app, agent, `/admin/campaigns/${campaignId}`, { 'x-forwarded-proto': 'https' });
    assert.match(proxied, /https:\/\/track\.example\.com\/spring/);
  });
});
