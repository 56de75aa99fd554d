import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { launchBrowser, personUserAgent, describeInBrowser, poll } from '../helpers/browser.js';
import { createDemoStore, storePort } from '../../storefront-snippet/demo/server.js';

/*
 * An affiliate's whole journey in a real browser (SPEC §9): it signs up in the portal, the
 * merchant approves it in the admin, it copies its link, a customer follows the link to the
 * demo store and buys, the merchant approves the commission, and the affiliate sees it approved.
 * The store and the tracker are two hosts of one site (shop./track.affix.localhost).
 */

const SCREENSHOT = '/tmp/affix-portal.png';
const AFFILIATE = { name: 'Jane Linker', email: 'jane@affiliates.example', password: 'jane links everything' };

type Api = ReturnType<typeof api>;

describeInBrowser('an affiliate’s journey: sign-up, approval, link, sale, approved commission', () => {
  let app: TestApp;
  let store: Server;
  let browser: Browser;
  let owner: Api;
  let trackerUrl: string;
  let storeUrl: string;
  let defaultCampaign: number;
  const contexts: BrowserContext[] = [];

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    trackerUrl = `http://track.affix.localhost:${new URL(app.url).port}`;
    store = await createDemoStore({ trackerUrl, port: 0 });
    storeUrl = `http://shop.affix.localhost:${storePort(store)}`;

    const settings = await owner.patch('/settings', { affiliateSignup: 'approval', siteUrl: `${storeUrl}/` });
    assert.equal(settings.status, 200, settings.text);
    const campaigns = await owner.get('/campaigns?perPage=200');
    defaultCampaign = (campaigns.body.data as Array<{ id: number; isDefault: boolean }>).find((c) => c.isDefault)!.id;
    const payout = await owner.post(`/campaigns/${defaultCampaign}/payouts`, {
      kind: 'general',
      title: 'Ten percent of every sale',
      type: 'CPS',
      affiliateCommission: { value: 10, unit: 'percent' },
    });
    assert.equal(payout.status, 201, payout.text);
    for (const banner of [
      { name: 'Spring sale text link', type: 'link', content: 'Spring sale: books and shoes' },
      {
        name: 'Spring sale box',
        type: 'html',
        content: '<div class="spring"><a href="{link}">Spring sale — 10% off</a></div>',
      },
    ]) {
      const res = await owner.post('/banners', {
        campaignId: defaultCampaign,
        destinationUrl: `${storeUrl}/`,
        ...banner,
      });
      assert.equal(res.status, 201, res.text);
    }
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    if (store) {
      store.closeAllConnections();
      await new Promise((r) => store.close(r));
    }
    await app?.close();
  });

  /** A separate person: own cookies, a desktop size for readable screenshots. */
  async function person(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({
      userAgent: personUserAgent(browser),
      viewport: { width: 1280, height: 900 },
    });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    return { context, page, errors };
  }

  test('sign up → approved → link → customer buys → commission approved → the affiliate sees it', async () => {
    // 1. The affiliate signs up; sign-ups need the merchant's approval.
    const affiliate = await person();
    const ap = affiliate.page;
    await ap.goto(`${trackerUrl}/portal/signup`);
    await ap.getByLabel('Name').fill(AFFILIATE.name);
    await ap.getByLabel('Email').fill(AFFILIATE.email);
    await ap.getByLabel('Password', { exact: true }).fill(AFFILIATE.password);
    await ap.getByRole('button', { name: 'Create my account' }).click();
    await ap.waitForURL(`${trackerUrl}/portal/login`);
    const thanks = await ap.locator('.flash-success').innerText();
    assert.match(thanks, /waiting for the merchant’s approval/);
    // This tracker has no SMTP_URL: no approval mail can be sent, so none is promised.
    assert.doesNotMatch(thanks, /notified/);

    // Signed in before approval: only the waiting page.
    await ap.getByLabel('Email').fill(AFFILIATE.email);
    await ap.getByLabel('Password').fill(AFFILIATE.password);
    await ap.getByRole('button', { name: 'Sign in' }).click();
    await ap.waitForURL(`${trackerUrl}/portal`);
    assert.equal(await ap.getByRole('heading', { level: 1 }).innerText(), 'Waiting for approval');
    await ap.goto(`${trackerUrl}/portal/links`);
    assert.equal(await ap.locator('input[data-link]').count(), 0);

    // 2. The merchant approves it in the admin.
    const merchant = await person();
    const mp = merchant.page;
    await mp.goto(`${trackerUrl}/admin/login`);
    await mp.getByLabel('Email').fill(OWNER.email);
    await mp.getByLabel('Password').fill(OWNER.password);
    await mp.getByRole('button', { name: 'Sign in' }).click();
    await mp.waitForURL(`${trackerUrl}/admin`);
    await mp.goto(`${trackerUrl}/admin/affiliates?status=pending`);
    const row = mp.locator('tr', { hasText: AFFILIATE.email });
    await row.getByRole('button', { name: 'Approve' }).click();
    await mp.waitForLoadState('load');
    const record = await poll('the approved affiliate', async () => {
      const res = await owner.get(`/affiliates?q=${encodeURIComponent(AFFILIATE.email)}`);
      const a = (res.body.data as Array<{ id: number; refId: string; status: string }>)[0];
      return a?.status === 'approved' ? a : null;
    });

    // 3. The affiliate (already signed in) copies its link from Links & banners.
    await ap.goto(`${trackerUrl}/portal/links`);
    assert.equal(await ap.getByRole('heading', { level: 1 }).innerText(), 'Links & banners');
    const field = ap.locator(`input[data-link="redirect"][data-campaign="${defaultCampaign}"]`);
    assert.equal(await field.getAttribute('readonly'), '');
    await field.click();
    const link = await field.inputValue();
    assert.equal(link, `${trackerUrl}/r?a_aid=${record.refId}`);
    const direct = await ap.locator(`input[data-link="direct"][data-campaign="${defaultCampaign}"]`).inputValue();
    assert.equal(direct, `${storeUrl}/?a_aid=${record.refId}`);
    const bannerLinks = await ap
      .locator('input[data-link="banner"]')
      .evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value));
    assert.equal(bannerLinks.length, 2);
    for (const url of bannerLinks)
      assert.match(url, new RegExp(`^${trackerUrl}/r\\?a_aid=${record.refId}&a_bid=\\d+$`));
    await ap.screenshot({ path: SCREENSHOT, fullPage: true });

    // 4. A customer follows the link to the store and buys.
    const customer = await person();
    const cp = customer.page;
    await cp.goto(link);
    const landed = new URL(cp.url());
    assert.equal(landed.origin, storeUrl);
    assert.ok(landed.searchParams.get('affix_vid'));
    await cp.locator('form[data-product="book-affiliate"] button').click();
    await cp.waitForURL(`${storeUrl}/cart`);
    await cp.getByRole('button', { name: 'Place order' }).click();
    await cp.waitForURL(/\/thank-you\//);
    const orderId = await cp.locator('[data-order-id]').getAttribute('data-order-id');
    assert.ok(orderId);

    // The pending commission shows up in the affiliate's portal.
    const commissionRow = `tr[data-commission]:has(code[data-order="${orderId}"])`;
    const commissionId = await poll('the commission in the portal', async () => {
      await ap.goto(`${trackerUrl}/portal/commissions`);
      const rowHere = ap.locator(commissionRow);
      return (await rowHere.count()) ? rowHere.getAttribute('data-commission') : null;
    });
    assert.equal(await ap.locator(commissionRow).getAttribute('data-status'), 'pending');
    assert.equal(await ap.locator(`${commissionRow} [data-amount]`).innerText(), '2.40 USD', '10% of 24.00');

    // 5. The merchant approves the commission: on the admin's commission queue when it exists, else through the API.
    const queue = await mp.goto(`${trackerUrl}/admin/commissions?status=pending`);
    if (queue?.status() === 200) {
      await mp.locator(`input[type="checkbox"][value="${commissionId}"]`).check();
      await mp
        .getByRole('button', { name: /^Approve/ })
        .first()
        .click();
      await mp.waitForLoadState('load');
    } else {
      const approved = await owner.post(`/commissions/${commissionId}/approve`, { reason: 'checked the order' });
      assert.equal(approved.status, 200, approved.text);
    }

    // 6. The affiliate sees the approved commission with its amount.
    await poll('the approved commission', async () => {
      await ap.goto(`${trackerUrl}/portal/commissions?status=approved`);
      return (await ap.locator(commissionRow).count()) ? true : null;
    });
    assert.equal(await ap.locator(commissionRow).getAttribute('data-status'), 'approved');
    assert.equal(await ap.locator(`${commissionRow} [data-amount]`).innerText(), '2.40 USD');
    await ap.goto(`${trackerUrl}/portal`);
    assert.match(await ap.locator('[data-total="approved"]').innerText(), /2\.40 USD/);
    assert.match(await ap.locator('tr[data-period="Today"] [data-stat="clicks"]').innerText(), /^1$/);
    assert.match(await ap.locator('tr[data-period="Today"] [data-stat="sales"]').innerText(), /^1$/);

    assert.deepEqual([...affiliate.errors, ...merchant.errors, ...customer.errors], []);
  });
});
