import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError } from '../helpers/assert.js';

type Api = ReturnType<typeof api>;

const MASKED = /^••••[A-Za-z0-9_-]{4}$/;
const WEBHOOK_SECRET = 'whsec-0123456789abcdefghij';
const MANAGER = { email: 'max@example.com', password: 'manager password 1' };

/**
 * Secrets are the owner's (SPEC §9 roles): the campaign secret key, the Click API token, the
 * postback key and plugin secrets (the webhook signing secret). Managers see them masked, in
 * the API and the admin pages, cannot regenerate them, and the audit log never holds them.
 */
describe('secrets are owner-only; managers see them masked', () => {
  let app: TestApp;
  let owner: Api;
  let manager: Api;
  let managerBrowser: Agent;
  let ownerBrowser: Agent;
  let campaignId: number;
  let secretKey: string;
  let apiToken: string;
  let postbackKey: string;

  before(async () => {
    app = await startTestApp();
    ownerBrowser = await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    assert.equal((await owner.post('/users', MANAGER)).status, 201);
    manager = api(app.url, await tokenFor(app.url, MANAGER.email, MANAGER.password));
    const created = await owner.post('/campaigns', { name: 'Shoes' });
    assert.equal(created.status, 201, created.text);
    campaignId = created.body.id;
    secretKey = created.body.secretKey;
    apiToken = created.body.apiToken;
    assert.ok(secretKey.length >= 16 && apiToken.length >= 16, 'the owner sees the real values');
    postbackKey = (await owner.get('/settings')).body.postbackKey;
    assert.ok(postbackKey.length >= 16);
    const hook = await owner.patch('/plugins/webhooks', { settings: { secret: WEBHOOK_SECRET } });
    assert.equal(hook.status, 200, hook.text);
    managerBrowser = new Agent(app.url);
    await managerBrowser.get('/admin/login');
    assert.equal((await managerBrowser.post('/admin/login', MANAGER)).status, 302);
  });
  after(async () => {
    await app.close();
  });

  const masks = (value: unknown, secret: string) => {
    assert.equal(typeof value, 'string');
    assert.match(value as string, MASKED);
    assert.notEqual(value, secret);
    assert.equal((value as string).slice(-4), secret.slice(-4), 'the last 4 characters tell which one is set');
  };

  test('campaigns through the API: secretKey and apiToken masked for a manager (read, list, create, update)', async () => {
    const one = await manager.get(`/campaigns/${campaignId}`);
    assert.equal(one.status, 200);
    masks(one.body.secretKey, secretKey);
    masks(one.body.apiToken, apiToken);
    const list = await manager.get('/campaigns?perPage=200');
    const listed = (list.body.data as Array<{ id: number; secretKey: string; apiToken: string }>).find(
      (c) => c.id === campaignId,
    )!;
    masks(listed.secretKey, secretKey);
    masks(listed.apiToken, apiToken);
    const patched = await manager.patch(`/campaigns/${campaignId}`, { name: 'Shoes & boots' });
    assert.equal(patched.status, 200, patched.text);
    masks(patched.body.secretKey, secretKey);
    const made = await manager.post('/campaigns', { name: 'Manager made' });
    assert.equal(made.status, 201);
    assert.match(made.body.secretKey, MASKED);
    assert.match(made.body.apiToken, MASKED);
    const real = (await owner.get(`/campaigns/${made.body.id}`)).body;
    assert.notEqual(real.secretKey, made.body.secretKey);
    assert.equal(real.secretKey.slice(-4), made.body.secretKey.slice(-4));
  });

  test('managers cannot regenerate secrets; the owner can', async () => {
    assertError(await manager.post(`/campaigns/${campaignId}/regenerate-secret-key`), 403, 'forbidden');
    assertError(await manager.post(`/campaigns/${campaignId}/regenerate-api-token`), 403, 'forbidden');
    assertError(await manager.post('/settings/regenerate-postback-key'), 403, 'forbidden');
    const same = (await owner.get(`/campaigns/${campaignId}`)).body;
    assert.equal(same.secretKey, secretKey, 'unchanged');
    assert.equal(same.apiToken, apiToken, 'unchanged');
    for (const path of [
      `/admin/campaigns/${campaignId}/regenerate-secret-key`,
      `/admin/campaigns/${campaignId}/regenerate-api-token`,
      '/admin/settings/regenerate-postback-key',
    ]) {
      const res = await managerBrowser.post(path, {});
      assert.equal(res.status, 403, path);
    }
    const still = (await owner.get(`/campaigns/${campaignId}`)).body;
    assert.equal(still.secretKey, secretKey);
    assert.equal(still.apiToken, apiToken);
    assert.equal((await owner.get('/settings')).body.postbackKey, postbackKey);
  });

  test('settings and plugins through the API: the postback key and the webhook secret masked for a manager', async () => {
    const settings = await manager.get('/settings');
    assert.equal(settings.status, 200);
    masks(settings.body.postbackKey, postbackKey);
    const plugins = await manager.get('/plugins');
    const webhooks = (plugins.body.data as Array<{ name: string; settings: Record<string, unknown> }>).find(
      (p) => p.name === 'webhooks',
    )!;
    masks(webhooks.settings.secret, WEBHOOK_SECRET);
    masks((await manager.get('/plugins/webhooks')).body.settings.secret, WEBHOOK_SECRET);
    assert.equal((await owner.get('/plugins/webhooks')).body.settings.secret, WEBHOOK_SECRET, 'the owner sees it');
  });

  test('admin pages show a manager masked secrets and no regenerate buttons', async () => {
    const campaign = await managerBrowser.get(`/admin/campaigns/${campaignId}`);
    assert.equal(campaign.status, 200);
    for (const secret of [secretKey, apiToken]) assert.ok(!campaign.text.includes(secret), 'no secret on the page');
    assert.ok(campaign.text.includes(`••••${secretKey.slice(-4)}`));
    assert.doesNotMatch(campaign.text, /regenerate-secret-key|regenerate-api-token/);
    const settings = await managerBrowser.get('/admin/settings');
    assert.equal(settings.status, 200);
    assert.ok(!settings.text.includes(postbackKey), 'no postback key on the page');
    assert.ok(settings.text.includes(`••••${postbackKey.slice(-4)}`));
    const plugins = await managerBrowser.get('/admin/plugins');
    assert.equal(plugins.status, 200);
    assert.ok(!plugins.text.includes(WEBHOOK_SECRET), 'no webhook secret on the page');

    // The owner's pages show them (control).
    const ownerCampaign = await ownerBrowser.get(`/admin/campaigns/${campaignId}`);
    assert.ok(ownerCampaign.text.includes(secretKey) && ownerCampaign.text.includes(apiToken));
    assert.match(ownerCampaign.text, /regenerate-secret-key/);
    assert.ok((await ownerBrowser.get('/admin/settings')).text.includes(postbackKey));
    assert.ok((await ownerBrowser.get('/admin/plugins')).text.includes(WEBHOOK_SECRET));
  });

  test('the audit log never holds a secret', async () => {
    assert.equal((await owner.post('/settings/regenerate-postback-key')).status, 200);
    const fresh = (await owner.get('/settings')).body.postbackKey as string;
    const regenerated = await owner.post(`/campaigns/${campaignId}/regenerate-secret-key`);
    assert.equal(regenerated.status, 200);
    const log = await manager.get('/audit-log?perPage=200');
    assert.equal(log.status, 200);
    const text = JSON.stringify(log.body);
    for (const secret of [fresh, postbackKey, WEBHOOK_SECRET, regenerated.body.secretKey, secretKey, apiToken])
      assert.ok(!text.includes(secret), `the audit log holds a secret: ${secret.slice(0, 4)}…`);
    assert.match(text, /plugin\.updated/);
    assert.match(text, /settings\.updated/);
  });
});
