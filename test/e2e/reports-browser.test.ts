import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { launchBrowser, describeInBrowser } from '../helpers/browser.js';
import { GROUP_BY } from '../../server/services/reports.js';

/*
 * The Reports page in Chromium at 1280 px: the form as it comes (All campaigns, no dates) is
 * submitted with each grouping, the table is grouped that way with words as headings, and the
 * page never gets wider than the window.
 */

describeInBrowser('the reports page in a browser', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    const owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    await owner.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann', status: 'approved' });
    const shop = (
      await owner.post('/campaigns', {
        name: 'A campaign with a rather long name for the first column of the table',
        productIds: ['sku-1'],
        approval: 'auto',
      })
    ).body as { id: number };
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=ann&a_cid=${shop.id}` },
    });
    await request(app.url, 'POST', '/t/sale', {
      body: { orderId: 'W-1', totalCost: 1234567.89, productId: 'sku-1', visitorId: click.body.visitorId },
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
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

  test('each grouping from the form as it comes, with word headings, within 1280 px', async () => {
    for (const groupBy of GROUP_BY) {
      await page.goto(`${app.url}/admin/reports`);
      await page.locator('select[name="groupBy"]').selectOption(groupBy);
      await Promise.all([page.waitForURL(/groupBy=/), page.getByRole('button', { name: 'Show' }).click()]);
      const url = new URL(page.url());
      assert.equal(url.searchParams.get('groupBy'), groupBy);
      assert.equal(url.searchParams.get('campaign'), '', 'the form sent "All campaigns" as an empty value');
      assert.equal(await page.locator('.flash-error').count(), 0, `${groupBy}: no error`);
      assert.equal(await page.locator('select[name="groupBy"]').inputValue(), groupBy);
      const rows = await page.locator('table.report tbody tr').count();
      if (['day', 'campaign', 'affiliate', 'banner'].includes(groupBy)) {
        assert.ok(rows > 0, `${groupBy}: rows`);
        const headings = await page.locator('table.report th').allInnerTexts();
        assert.ok(!headings.some((h) => /[a-z][A-Z]/.test(h)), `${groupBy}: ${headings.join(' | ')}`);
        assert.ok(await page.locator('svg.chart-plot .axis.x text').count(), `${groupBy}: an x axis with labels`);
      }
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 1280, `${groupBy}: the page is ${width} px wide`);
    }
  });
});
