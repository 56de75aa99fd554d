import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { launchBrowser, describeInBrowser } from '../helpers/browser.js';

/*
 * The confirmation step in Chromium with JavaScript switched off (SPEC §13: it works without
 * it): Delete campaign leads to a page saying what will happen; Cancel keeps the campaign, the
 * page's own button deletes it.
 */

describeInBrowser('deleting a campaign asks first, in a browser without JavaScript', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let campaignId: number;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    const owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaignId = (await owner.post('/campaigns', { name: 'Summer sale' })).body.id as number;
    browser = await launchBrowser();
    page = await (
      await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } })
    ).newPage();
    await page.goto(`${app.url}/admin/login`);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL(`${app.url}/admin`);
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  const exists = async () => Boolean(await app.services.db('campaigns').where({ id: campaignId }).first());

  test('Delete campaign → the consequences → Cancel keeps it → Delete the campaign removes it', async () => {
    await page.goto(`${app.url}/admin/campaigns/${campaignId}`);
    await page.getByRole('button', { name: 'Delete campaign' }).click();
    await page.waitForLoadState();
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Delete the campaign “Summer sale”?');
    assert.match(await page.locator('.confirm').innerText(), /cannot be undone/);
    assert.equal(await exists(), true, 'nothing deleted by the first click');

    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.waitForURL(`${app.url}/admin/campaigns/${campaignId}`);
    assert.equal(await exists(), true, 'Cancel keeps the campaign');

    await page.getByRole('button', { name: 'Delete campaign' }).click();
    await page.waitForLoadState();
    await Promise.all([
      page.waitForURL(`${app.url}/admin/campaigns`),
      page.getByRole('button', { name: 'Delete the campaign' }).click(),
    ]);
    assert.equal(await exists(), false, 'deleted once confirmed');
    assert.match(await page.locator('.flash').innerText(), /Campaign “Summer sale” deleted/);
  });
});
