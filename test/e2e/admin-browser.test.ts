import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROMIUM, describeInBrowser } from '../helpers/browser.js';

/*
 * The admin in a real browser: first-run setup, a campaign with a banner, an affiliate who is
 * approved, and the dashboard counting them. Needs Chromium at /usr/bin/chromium; CI must have it.
 */

const SCREENSHOT = '/tmp/affix-campaign.png';

const count = async (page: Page, name: string) => Number(await page.locator(`[data-count="${name}"]`).innerText());

describeInBrowser('admin in a browser', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  before(async () => {
    app = await startTestApp();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  test('setup, a campaign with a banner, an approved affiliate, and the dashboard counts', async () => {
    // First run: /admin leads to the setup page.
    await page.goto(`${app.url}/admin`);
    assert.equal(new URL(page.url()).pathname, '/admin/setup');
    await page.getByLabel('Your name').fill('Olivia Owner');
    await page.getByLabel('Email').fill('owner@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await page.waitForURL(`${app.url}/admin`);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Dashboard');
    const before = {
      campaigns: await count(page, 'campaigns'),
      affiliates: await count(page, 'affiliates'),
      banners: await count(page, 'banners'),
    };
    assert.deepEqual(
      before,
      { campaigns: 1, affiliates: 0, banners: 0 },
      'a fresh install has only the default campaign',
    );

    // A campaign.
    // The main navigation groups pages into sections; Campaigns is in Programme.
    await page.getByRole('navigation', { name: 'Main' }).getByText('Programme').click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByLabel('Name').fill('Spring sale');
    await page.getByLabel('Type').selectOption('manual');
    await page.getByLabel('Product IDs').fill('sku-1\nsku-2');
    await page.getByLabel('Destination URL').fill('https://shop.example.com/spring');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.waitForURL(/\/admin\/campaigns\/\d+$/);
    const campaignUrl = page.url();
    assert.match(await page.locator('.flash').innerText(), /Campaign “Spring sale” created/);
    assert.equal(
      await page
        .getByRole('navigation', { name: 'Campaign' })
        .getByRole('link', { name: 'Settings' })
        .getAttribute('aria-current'),
      'page',
    );

    // A banner on the Banners tab.
    await page.getByRole('navigation', { name: 'Campaign' }).getByRole('link', { name: 'Banners' }).click();
    assert.match(await page.locator('.empty').innerText(), /No banners yet/);
    await page.getByLabel('Name').fill('Sidebar');
    await page.getByLabel('Type').selectOption('image');
    await page.getByLabel('Content').fill('https://cdn.example.com/sidebar.png');
    await page.getByRole('button', { name: 'Create banner' }).click();
    await page.waitForURL(/\/banners$/);
    assert.match(await page.locator('.flash').innerText(), /Banner “Sidebar” created/);
    assert.equal(await page.locator('table tbody tr').count(), 1);

    // An affiliate who signs up pending, then is approved.
    // Inside its section, the section's own navigation leads there in one click.
    await page.getByRole('navigation', { name: 'Programme' }).getByRole('link', { name: 'Affiliates' }).click();
    await page.getByRole('link', { name: 'New affiliate' }).click();
    await page.getByLabel('Name').fill('Jane Doe');
    await page.getByLabel('Email').fill('jane@example.com');
    await page.getByLabel('Status').selectOption('pending');
    await page.getByRole('button', { name: 'Create affiliate' }).click();
    await page.waitForURL(/\/admin\/affiliates\/\d+$/);
    await page.goto(`${app.url}/admin`);
    assert.equal(await count(page, 'pending'), 1);
    await page.locator('a.card', { hasText: 'waiting for approval' }).click();
    await page.waitForURL(/status=pending/);
    await page
      .getByRole('row', { name: /Jane Doe/ })
      .getByRole('button', { name: 'Approve' })
      .click();
    await page.waitForURL(/status=pending/);
    assert.match(await page.locator('.flash').innerText(), /Affiliate “Jane Doe” approved/);

    // The dashboard counts what was made.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    const afterCounts = {
      campaigns: await count(page, 'campaigns'),
      affiliates: await count(page, 'affiliates'),
      banners: await count(page, 'banners'),
      pending: await count(page, 'pending'),
    };
    assert.deepEqual(afterCounts, { campaigns: 2, affiliates: 1, banners: 1, pending: 0 });

    // A picture of the campaign page, for a person to look at.
    await page.goto(campaignUrl);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(fs.statSync(SCREENSHOT).size > 10_000);
  });
});
