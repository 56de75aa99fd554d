import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { api, tokenFor } from '../helpers/http.js';
import { describeInBrowser, launchBrowser, personUserAgent, poll } from '../helpers/browser.js';
import { createDemoStore, storePort } from '../../storefront-snippet/demo/server.js';

/*
 * Onboarding in Chromium (SPEC §13): set up with the demo store's URL, and watch the dashboard's
 * getting-started checklist tick itself as the demo store loads the snippet, an affiliate link is
 * clicked, a sale is made, and its commission is approved in the queue.
 */

describeInBrowser('getting-started checklist in a browser', () => {
  let app: TestApp;
  let store: Server;
  let browser: Browser;
  let admin: Page;
  let trackerUrl: string;
  let storeUrl: string;

  before(async () => {
    app = await startTestApp();
    trackerUrl = `http://track.affix.localhost:${new URL(app.url).port}`;
    store = await createDemoStore({ trackerUrl, port: 0, currency: 'EUR' });
    storeUrl = `http://shop.affix.localhost:${storePort(store)}`;
    browser = await launchBrowser();
    admin = await (await browser.newContext()).newPage();
  });
  after(async () => {
    await browser?.close();
    if (store) {
      store.closeAllConnections();
      await new Promise((r) => store.close(r));
    }
    await app?.close();
  });

  const steps = async () => {
    await admin.goto(`${trackerUrl}/admin`);
    if (!(await admin.locator('[data-checklist]').count())) return null;
    return Object.fromEntries(
      await admin
        .locator('[data-checklist] li')
        .evaluateAll((items) => items.map((li) => [li.getAttribute('data-step'), li.getAttribute('data-done')])),
    ) as Record<string, string>;
  };

  test('setup with the store URL, then snippet, click, sale and approval each tick their step', async () => {
    await admin.goto(`${trackerUrl}/admin`);
    assert.equal(new URL(admin.url()).pathname, '/admin/setup');
    await admin.getByLabel('Your name').fill('Olivia Owner');
    await admin.getByLabel('Email').fill('owner@example.com');
    await admin.getByLabel('Password').fill('correct horse battery');
    await admin.getByLabel('Your store’s address').fill(`${storeUrl}/`);
    await admin.getByLabel('Base currency').fill('EUR');
    await admin.getByRole('button', { name: 'Create owner account' }).click();
    await admin.waitForURL(`${trackerUrl}/admin`);
    assert.deepEqual(await steps(), { snippet: 'no', click: 'no', sale: 'no', approved: 'no' });
    assert.equal(await admin.getByRole('link', { name: 'Put the snippet on your store' }).count(), 1);

    // The programme: a campaign paying 10% with manual approval, and an affiliate.
    const owner = api(app.url, await tokenFor(app.url, 'owner@example.com', 'correct horse battery'));
    const campaign = await owner.post('/campaigns', {
      name: 'Store',
      approval: 'manual',
      destinationUrl: `${storeUrl}/`,
    });
    assert.equal(campaign.status, 201, campaign.text);
    const payout = await owner.post(`/campaigns/${campaign.body.id}/payouts`, {
      kind: 'general',
      title: '10%',
      type: 'CPS',
      affiliateCommission: { value: 10, unit: 'percent' },
    });
    assert.equal(payout.status, 201, payout.text);
    assert.equal(
      (await owner.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann', status: 'approved' }))
        .status,
      201,
    );

    // A shopper: the demo store loads the snippet (from the store's origin).
    const shopper = await (await browser.newContext({ userAgent: personUserAgent(browser) })).newPage();
    await shopper.goto(`${storeUrl}/`);
    await shopper.waitForFunction(() => (window as unknown as { affix?: { v?: number } }).affix?.v === 1);
    assert.deepEqual(await steps(), { snippet: 'yes', click: 'no', sale: 'no', approved: 'no' });
    assert.match(await admin.locator('[data-step="snippet"]').innerText(), new RegExp(`loaded from ${storeUrl}`));
    await admin.goto(`${trackerUrl}/admin/integration`);
    assert.match(await admin.locator('[data-tracking-status]').innerText(), /Tracking installed/);

    // The affiliate's link, then a purchase in the demo store.
    await shopper.goto(`${trackerUrl}/r?a_aid=ann&a_cid=${campaign.body.id}`);
    await shopper.waitForURL(new RegExp(`^${storeUrl}/`));
    await poll('the click', async () => ((await steps())?.click === 'yes' ? true : null));
    await shopper.goto(`${storeUrl}/`);
    await shopper.locator('form[data-product] button').first().click();
    await shopper.waitForURL(`${storeUrl}/cart`);
    await shopper.getByRole('button', { name: 'Place order' }).click();
    await shopper.waitForURL(/\/thank-you\//);
    await poll('the sale', async () => ((await steps())?.sale === 'yes' ? true : null));
    assert.deepEqual(await steps(), { snippet: 'yes', click: 'yes', sale: 'yes', approved: 'no' });

    // The merchant approves the commission in the queue: the last step ticks and the list goes.
    await admin.getByRole('link', { name: 'Approve the first commission' }).click();
    await admin
      .getByRole('button', { name: /^Approve commission \d+$/ })
      .first()
      .click();
    await admin.waitForLoadState();
    assert.equal(await steps(), null, 'all four done: the checklist is gone');
  });
});
