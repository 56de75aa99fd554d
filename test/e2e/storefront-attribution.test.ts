import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { launchBrowser, personUserAgent, describeInBrowser, sleep, poll } from '../helpers/browser.js';
import { createDemoStore, storePort } from '../../storefront-snippet/demo/server.js';

/*
 * The storefront snippet in a real browser against the demo store (SPEC §4): affiliate links,
 * coupons, GDPR consent, a lost first-party cookie, and a page the snippet must never break.
 * The store and the tracker are two hosts of one site (shop./track.affix.localhost, both on
 * 127.0.0.1), like shop.example.com and track.example.com.
 */

type Api = ReturnType<typeof api>;

interface Sale {
  orderId: string;
  matchedBy: string;
  affiliateId: number | null;
  campaignId: number;
  visitorId: string | null;
  coupon: string | null;
  totalCost: number | null;
  items: Array<{ productId: string; quantity?: number }>;
}

describeInBrowser('storefront attribution in a browser', () => {
  let app: TestApp;
  let store: Server;
  let browser: Browser;
  let owner: Api;
  let trackerUrl: string;
  let storeUrl: string;
  let campaignId: number;
  let bannerId: number;
  const affiliates: Record<string, number> = {};
  /** Extra page servers started by tests, closed at the end. */
  const pages: Server[] = [];

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    trackerUrl = `http://track.affix.localhost:${new URL(app.url).port}`;
    store = await createDemoStore({ trackerUrl, port: 0 });
    storeUrl = `http://shop.affix.localhost:${storePort(store)}`;

    // No campaign lists the store's products, so the visitor's referral (rule 6) decides.
    const campaign = await owner.post('/campaigns', { name: 'Storefront', destinationUrl: `${storeUrl}/` });
    assert.equal(campaign.status, 201, campaign.text);
    campaignId = campaign.body.id;
    for (const name of ['ann', 'cora', 'dan', 'eve', 'finn']) {
      const res = await owner.post('/affiliates', {
        name,
        email: `${name}@example.com`,
        refId: name,
        status: 'approved',
      });
      assert.equal(res.status, 201, res.text);
      affiliates[name] = res.body.id;
    }
    const banner = await owner.post('/banners', {
      campaignId,
      name: 'Home page link',
      type: 'link',
      destinationUrl: `${storeUrl}/`,
    });
    assert.equal(banner.status, 201, banner.text);
    bannerId = banner.body.id;
    const coupon = await owner.post('/coupons', { code: 'SPRING', affiliateId: affiliates.cora, campaignId });
    assert.equal(coupon.status, 201, coupon.text);

    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const server of pages) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    if (store) {
      store.closeAllConnections();
      await new Promise((r) => store.close(r));
    }
    await app?.close();
  });

  /** A fresh visitor: own cookies and storage; page errors and unhandled rejections collected. */
  async function visitor(): Promise<{ context: BrowserContext; page: Page; errors: string[]; clicks: string[] }> {
    const context = await browser.newContext({ userAgent: personUserAgent(browser) });
    const page = await context.newPage();
    const errors: string[] = [];
    const clicks: string[] = [];
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Uncaught/.test(msg.text())) errors.push(`console: ${msg.text()}`);
    });
    page.on('request', (req) => {
      if (req.url().startsWith(`${trackerUrl}/t/click`)) clicks.push(req.url());
    });
    return { context, page, errors, clicks };
  }

  const snippetLoaded = (page: Page) =>
    page.waitForFunction(() => (window as unknown as { affix?: { v?: number } }).affix?.v === 1);
  const visitorIdIn = (page: Page) =>
    page.evaluate(() => (window as unknown as { affix: (c: string) => Promise<string | null> }).affix('visitorId'));

  /** Adds products and checks out; resolves to the order id shown on the thank-you page. */
  async function buy(page: Page, products: string[], coupon = ''): Promise<string> {
    await page.goto(`${storeUrl}/`);
    for (const id of products) {
      await page.locator(`form[data-product="${id}"] button`).click();
      await page.waitForURL(`${storeUrl}/cart`);
      if (id !== products[products.length - 1]) await page.goto(`${storeUrl}/`);
    }
    if (coupon) await page.getByLabel('Coupon code').fill(coupon);
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/\/thank-you\//);
    const orderId = await page.locator('[data-order-id]').getAttribute('data-order-id');
    assert.ok(orderId);
    return orderId;
  }

  const saleOf = (orderId: string) =>
    poll<Sale>(`sale ${orderId}`, async () => {
      const res = await owner.get(`/sales?orderId=${encodeURIComponent(orderId)}`);
      assert.equal(res.status, 200, res.text);
      return (res.body.data as Sale[])[0];
    });

  const clicksOf = async (query: string) => {
    const res = await owner.get(`/clicks?${query}`);
    assert.equal(res.status, 200, res.text);
    return res.body.data as Array<{ visitorId: string; affiliateId: number | null; source: string; status: string }>;
  };

  const cookieNamed = async (context: BrowserContext, url: string, name: string) =>
    (await context.cookies(url)).find((c) => c.name === name);

  test('(a) an affiliate link → the store → a sale attributed to the affiliate by the visitor cookie', async () => {
    const { context, page, errors, clicks } = await visitor();
    try {
      await page.goto(`${trackerUrl}/r?a_aid=ann&a_bid=${bannerId}`);
      const landed = new URL(page.url());
      assert.equal(landed.origin, storeUrl);
      const vid = landed.searchParams.get('affix_vid');
      assert.ok(vid, `the redirect appends affix_vid: ${page.url()}`);
      assert.equal(landed.searchParams.get('a_aid'), 'ann');
      await snippetLoaded(page);
      assert.equal(await visitorIdIn(page), vid, 'the snippet adopts the id the redirect appended');
      assert.equal((await cookieNamed(context, storeUrl, 'affix_vid'))?.value, vid, 'first-party cookie');
      assert.equal(await page.evaluate(() => localStorage.getItem('affix_vid')), vid, 'localStorage fallback');
      const server = await cookieNamed(context, trackerUrl, 'affix_vid');
      assert.equal(server?.value, vid, 'the tracker set its own cookie');
      assert.equal(server?.httpOnly, true);

      const orderId = await buy(page, ['mug-coffee', 'book-affiliate']);
      const sale = await saleOf(orderId);
      assert.equal(sale.matchedBy, 'cookie');
      assert.equal(sale.affiliateId, affiliates.ann);
      assert.equal(sale.campaignId, campaignId);
      assert.equal(sale.visitorId, vid);
      assert.equal(sale.totalCost, 36);
      assert.deepEqual(
        sale.items.map((i) => [i.productId, i.quantity]),
        [
          ['mug-coffee', 1],
          ['book-affiliate', 1],
        ],
      );
      // The redirect recorded the click; the landing page did not send a second one.
      assert.deepEqual(clicks, []);
      const recorded = await clicksOf(`visitorId=${vid}`);
      assert.deepEqual(
        recorded.map((c) => [c.source, c.affiliateId]),
        [['redirect', affiliates.ann]],
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('(b) a coupon without any link → matched by coupon, the coupon’s affiliate', async () => {
    const { context, page, errors, clicks } = await visitor();
    try {
      const orderId = await buy(page, ['shoe-city'], 'spring');
      const sale = await saleOf(orderId);
      assert.equal(sale.matchedBy, 'coupon');
      assert.equal(sale.affiliateId, affiliates.cora);
      assert.equal(sale.campaignId, campaignId);
      assert.equal(sale.coupon, 'spring');
      assert.equal(sale.totalCost, 58.05, 'the store took 10% off 64.50');
      assert.deepEqual(clicks, [], 'no affiliate parameter: no click');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('(c) GDPR mode: no cookie, no storage and no click before consent; after consent the click and the sale count', async () => {
    const on = await owner.patch('/settings', { gdprMode: true });
    assert.equal(on.status, 200, on.text);
    const { context, page, errors, clicks } = await visitor();
    try {
      await page.goto(`${storeUrl}/?a_aid=eve`);
      await snippetLoaded(page);
      assert.equal(await page.evaluate(() => (window as unknown as { affix: { v: number } }).affix.v), 1);
      await sleep(500);
      assert.deepEqual(clicks, [], 'no click before consent');
      assert.deepEqual(await context.cookies([storeUrl, trackerUrl]), [], 'no cookie on either origin before consent');
      assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage before consent');
      assert.equal(await visitorIdIn(page), null);
      assert.deepEqual(await clicksOf(`affiliateId=${affiliates.eve}`), []);

      const vid = await page.evaluate(async () => {
        const affix = (window as unknown as { affix: (c: string, d?: unknown) => Promise<string | null> | undefined })
          .affix;
        affix('consent', true);
        return affix('visitorId');
      });
      assert.ok(vid, 'the click answered a visitor id');
      assert.equal(clicks.length, 1, 'the held click is sent once consent is given');
      const recorded = await clicksOf(`affiliateId=${affiliates.eve}`);
      assert.deepEqual(
        recorded.map((c) => [c.visitorId, c.source]),
        [[vid, 'snippet']],
      );
      assert.equal(
        (await cookieNamed(context, storeUrl, 'affix_vid'))?.value,
        vid,
        'the first-party cookie after consent',
      );
      assert.equal(
        (await cookieNamed(context, trackerUrl, 'affix_vid'))?.value,
        vid,
        'the tracker cookie after consent',
      );

      // The consent is remembered on the next pages of the store.
      const orderId = await buy(page, ['shoe-trail']);
      const sale = await saleOf(orderId);
      assert.equal(sale.matchedBy, 'cookie');
      assert.equal(sale.affiliateId, affiliates.eve);
      assert.equal(sale.visitorId, vid);

      // Withdrawing consent clears the first-party id.
      await page.evaluate(() =>
        (window as unknown as { affix: (c: string, d?: unknown) => void }).affix('consent', false),
      );
      assert.equal(await cookieNamed(context, storeUrl, 'affix_vid'), undefined);
      assert.equal(await page.evaluate(() => localStorage.getItem('affix_vid')), null);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      const off = await owner.patch('/settings', { gdprMode: false });
      assert.equal(off.status, 200, off.text);
    }
  });

  test('(d) the first-party cookie and storage cleared: the tracker’s own cookie still attributes the sale', async () => {
    const { context, page, errors } = await visitor();
    try {
      await page.goto(`${trackerUrl}/r?a_aid=dan&a_cid=${campaignId}`);
      const vid = new URL(page.url()).searchParams.get('affix_vid');
      assert.ok(vid);
      await snippetLoaded(page);
      assert.equal(await visitorIdIn(page), vid);

      await context.clearCookies({ name: 'affix_vid', domain: new URL(storeUrl).hostname });
      await page.evaluate(() => localStorage.clear());
      assert.equal(await cookieNamed(context, storeUrl, 'affix_vid'), undefined);
      assert.equal(
        (await cookieNamed(context, trackerUrl, 'affix_vid'))?.value,
        vid,
        'the tracker cookie is untouched',
      );

      await page.goto(`${storeUrl}/`);
      await snippetLoaded(page);
      assert.equal(await visitorIdIn(page), null, 'the store page no longer knows the visitor');
      const orderId = await buy(page, ['book-affiliate']);
      const sale = await saleOf(orderId);
      assert.equal(sale.matchedBy, 'cookie');
      assert.equal(sale.affiliateId, affiliates.dan);
      assert.equal(sale.visitorId, vid, 'the server took the visitor from its own cookie');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('(e) the snippet never throws into the page: bad calls, unknown commands, an unreachable tracker', async () => {
    const { context, page, errors } = await visitor();
    try {
      // Every tracking call fails at the network level; /snippet.js itself still loads.
      await page.route(`${trackerUrl}/t/**`, (route) => route.abort('connectionrefused'));
      const html = `<!doctype html><html><head>
<script async src="${trackerUrl}/snippet.js"></script>
<script>
  window.affix = window.affix || function () { (affix.q = affix.q || []).push(arguments) };
  affix('sale', 'garbage');
  affix('unknown');
  affix();
  affix('sale', { orderId: 'E-1', totalCost: 5 });
  affix('impression', { bannerId: 1 });
  affix('consent', 'maybe');
  affix('click', 42);
  window.affix.q.push(null);
  window.beforeLoad = true;
</script>
</head><body><p>a page with its own script</p></body></html>`;
      // A page of its own on loopback (a routed page would count as public and be refused loopback requests).
      const garbage = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
      await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
      pages.push(garbage);
      const garbageUrl = `http://shop.affix.localhost:${(garbage.address() as AddressInfo).port}/garbage`;
      await page.goto(`${garbageUrl}?a_aid=ann`);
      await snippetLoaded(page);
      const after = await page.evaluate(async () => {
        const w = window as unknown as { affix: (...args: unknown[]) => unknown; beforeLoad?: boolean };
        const circular: Record<string, unknown> = { orderId: 'E-2' };
        circular.self = circular;
        w.affix('sale', 'garbage');
        w.affix('unknown', { x: 1 });
        w.affix();
        w.affix(null, null);
        w.affix('sale', circular);
        w.affix('action', []);
        w.affix('sale', { orderId: 'E-3', totalCost: 'lots' });
        w.affix('impression', 'x');
        w.affix('click', { campaignId: 'nope' });
        const vid = await w.affix('visitorId');
        await new Promise((r) => setTimeout(r, 300));
        return { ran: true, beforeLoad: w.beforeLoad, vid };
      });
      assert.deepEqual(after, { ran: true, beforeLoad: true, vid: null });
      assert.deepEqual(errors, []);

      // The tracker down altogether: the snippet never loads and the queue stub keeps the page working.
      await page.route(`${trackerUrl}/**`, (route) => route.abort('connectionrefused'));
      await page.goto(`${garbageUrl}?again=1`);
      assert.equal(await page.evaluate(() => (window as unknown as { beforeLoad?: boolean }).beforeLoad), true);
      assert.equal(await page.evaluate(() => (window as unknown as { affix: { q: unknown[] } }).affix.q.length), 8);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('(f) renamed URL parameters: the snippet clicks on the new affiliate parameter name', async () => {
    const renamed = await owner.patch('/settings', { urlParams: { affiliate: 'ref' } });
    assert.equal(renamed.status, 200, renamed.text);
    const { context, page, errors, clicks } = await visitor();
    try {
      await page.goto(`${storeUrl}/?ref=finn`);
      await snippetLoaded(page);
      const vid = await visitorIdIn(page);
      assert.ok(vid);
      assert.equal(clicks.length, 1);
      const recorded = await clicksOf(`affiliateId=${affiliates.finn}`);
      assert.deepEqual(
        recorded.map((c) => [c.visitorId, c.source]),
        [[vid, 'snippet']],
      );
      const orderId = await buy(page, ['mug-coffee']);
      const sale = await saleOf(orderId);
      assert.equal(sale.matchedBy, 'cookie');
      assert.equal(sale.affiliateId, affiliates.finn);

      // The old name no longer counts.
      const other = await visitor();
      try {
        await other.page.goto(`${storeUrl}/?a_aid=finn`);
        await snippetLoaded(other.page);
        await sleep(300);
        assert.deepEqual(other.clicks, []);
      } finally {
        await other.context.close();
      }
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      const back = await owner.patch('/settings', { urlParams: { affiliate: 'a_aid' } });
      assert.equal(back.status, 200, back.text);
    }
  });
});
