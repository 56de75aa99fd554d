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

describeInBrowser('report drill-down and the SVG chart in a browser', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let campaignId = 0;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    const owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaignId = (
      await owner.post('/campaigns', { name: 'Push traffic', alias: 'push', costModel: 'CPC', costValue: 0.1 })
    ).body.id as number;
    await owner.post(`/campaigns/${campaignId}/flows`, {
      name: 'Main flow',
      type: 'default',
      offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
    });
    for (const [i, zone] of ['zone7', 'zone7', 'zone9'].entries()) {
      const res = await request(app.url, 'GET', `/push?sub_id_1=${zone}`, {
        headers: {
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0',
          'x-forwarded-for': `10.7.0.${i + 1}`,
        },
      });
      assert.equal(res.status, 302);
    }
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

  test('clicking a row drills into it: campaign → flow → landing, then by sub ID', async () => {
    await page.goto(`${app.url}/admin/reports`);
    await page.locator('select[name="groupBy"]').selectOption('campaign');
    await Promise.all([page.waitForURL(/groupBy=campaign/), page.getByRole('button', { name: 'Show' }).click()]);
    await Promise.all([page.waitForURL(/groupBy=flow/), page.getByRole('link', { name: 'Push traffic' }).click()]);
    let url = new URL(page.url());
    assert.equal(url.searchParams.get('campaign'), String(campaignId), 'the row value became a filter');
    assert.match(await page.locator('.filters').innerText(), /Campaign = /);
    assert.equal(await page.locator('table.report thead th').first().innerText(), 'Flow');
    await Promise.all([page.waitForURL(/groupBy=landing/), page.getByRole('link', { name: 'Main flow' }).click()]);
    url = new URL(page.url());
    assert.ok(url.searchParams.get('flow'), 'the flow is a filter now');
    // Then by sub ID 1 from the form, keeping the filters.
    await page.locator('select[name="groupBy"]').selectOption('sub_id_1');
    await Promise.all([page.waitForURL(/groupBy=sub_id_1/), page.getByRole('button', { name: 'Show' }).click()]);
    const cells = await page.locator('table.report tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(cells, ['zone7', 'zone9']);
    assert.equal(await page.locator('table.report tfoot .totals td').first().innerText(), '3', 'the totals row');
    // Sorting by a column is a link: fewest clicks first.
    const clicksHeading = page.locator('table.report thead a[href*="sort=clicks&"]');
    await Promise.all([page.waitForURL(/sort=clicks&dir=desc/), clicksHeading.click()]);
    await Promise.all([page.waitForURL(/dir=asc/), clicksHeading.click()]);
    assert.deepEqual(await page.locator('table.report tbody tr td:first-child').allInnerTexts(), ['zone9', 'zone7']);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 1280, `the page is ${width} px wide`);
  });

  test('the SVG chart: axes, a tooltip per day, the previous period dashed, no script', async () => {
    await page.goto(`${app.url}/admin/reports?groupBy=day&compare=previous&chart=cost`);
    const svg = page.locator('svg.line-chart');
    assert.equal(await svg.count(), 1);
    assert.ok((await svg.locator('.axis.y text').count()) > 2, 'y axis ticks');
    assert.ok((await svg.locator('.axis.x text').count()) > 2, 'x axis labels');
    assert.equal(await svg.locator('.axis-title').first().innerHTML(), 'Cost (USD)');
    const today = new Date().toISOString().slice(0, 10);
    const titles = await svg.locator('.series-0 circle title').allTextContents();
    assert.equal(titles.length, 30, 'a point per day of the period');
    assert.ok(
      titles.some((t) => t.startsWith(`${today}: 3 clicks`) && t.includes('0.30 USD cost')),
      titles.join('\n'),
    );
    assert.equal(await svg.locator('.previous path').getAttribute('stroke-dasharray'), '6 4');
    assert.equal(await page.locator('script').count(), 0);
    // An empty period draws the axes and says so.
    await page.goto(`${app.url}/admin/reports?groupBy=day&from=2020-01-01&to=2020-01-07`);
    assert.match(await page.locator('svg.line-chart .chart-empty').innerHTML(), /Nothing recorded/);
    // The dashboard draws the same chart.
    await page.goto(`${app.url}/admin?chart=clicks`);
    assert.equal(await page.locator('svg.line-chart .previous path').count(), 1);
  });
});
