import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { launchBrowser, personUserAgent, describeInBrowser, poll } from '../helpers/browser.js';
import { fixtureText } from '../helpers/fixtures.js';
import { enableIntegrations, sendShopify } from '../helpers/integrations.js';

/*
 * On a Shopify store the snippet writes the visitor id into the cart attribute affix_vid
 * (SPEC §14), which Shopify copies into the order's note_attributes: the orders/paid webhook then
 * carries the visitor. Here a page that looks like a Shopify storefront (window.Shopify, the
 * Ajax cart endpoint /cart/update.js, the `cart` cookie) in a real browser.
 */

type Api = ReturnType<typeof api>;

interface CartUpdate {
  attributes: Record<string, string>;
  cartCookie: string | null;
}

describeInBrowser('the snippet on a Shopify store', () => {
  let app: TestApp;
  let store: Server;
  let browser: Browser;
  let owner: Api;
  let trackerUrl: string;
  let storeUrl: string;
  let campaignId: number;
  let annId: number;
  let cartSeq = 0;
  const updates: CartUpdate[] = [];

  const page = (shopify: boolean) => `<!doctype html>
<html><head><meta charset="utf-8"><title>Affix test store</title>
${shopify ? `<script>window.Shopify = { shop: 'affix-test.myshopify.com', routes: { root: '/' } };</script>` : ''}
<script async src="${trackerUrl}/snippet.js"></script>
<script>window.affix = window.affix || function () { (affix.q = affix.q || []).push(arguments) };</script>
</head><body><h1>Store</h1></body></html>`;

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => resolve(body));
    });

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    trackerUrl = `http://track.affix.localhost:${new URL(app.url).port}`;
    store = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://store');
      if (req.method === 'POST' && url.pathname === '/cart/update.js') {
        const form = new URLSearchParams(await readBody(req));
        const cookie = /(?:^|;\s*)cart=([^;]*)/.exec(req.headers.cookie ?? '')?.[1] ?? null;
        const attributes: Record<string, string> = {};
        for (const [k, v] of form) {
          const m = /^attributes\[(.+)\]$/.exec(k);
          if (m?.[1]) attributes[m[1]] = v;
        }
        updates.push({ attributes, cartCookie: cookie });
        // Like Shopify: the first cart update creates the cart and its cookie.
        const token = cookie ?? `c1-cart${++cartSeq}`;
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': `cart=${token}; Path=/` });
        res.end(JSON.stringify({ token, attributes, items: [] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page(url.pathname !== '/plain'));
    });
    await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
    storeUrl = `http://shop.affix.localhost:${(store.address() as AddressInfo).port}`;

    const campaign = await owner.post('/campaigns', { name: 'Shopify store', destinationUrl: `${storeUrl}/` });
    assert.equal(campaign.status, 201, campaign.text);
    campaignId = campaign.body.id;
    const ann = await owner.post('/affiliates', {
      name: 'Ann',
      email: 'ann@example.com',
      refId: 'ann',
      status: 'approved',
    });
    assert.equal(ann.status, 201, ann.text);
    annId = ann.body.id;
    await enableIntegrations(owner);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (store) {
      store.closeAllConnections();
      await new Promise((r) => store.close(r));
    }
    await app?.close();
  });

  /** A fresh visitor whose page counts the calls to /cart/update.js the moment they are made. */
  async function visitor(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ userAgent: personUserAgent(browser) });
    await context.addInitScript(() => {
      const w = window as unknown as { __cartCalls: number; fetch: typeof fetch };
      const real = w.fetch.bind(window);
      w.__cartCalls = 0;
      w.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
        if (String(input instanceof Request ? input.url : input).includes('/cart/update.js')) w.__cartCalls++;
        return real(input, init);
      };
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    return { context, page, errors };
  }
  const loaded = (p: Page) => p.waitForFunction(() => (window as unknown as { affix?: { v?: number } }).affix?.v === 1);
  const visitorIdIn = (p: Page) =>
    p.evaluate(() => (window as unknown as { affix: (c: string) => Promise<string | null> }).affix('visitorId'));
  /** The calls made so far, once the snippet has run (it tags the cart as it loads). */
  const cartCalls = async (p: Page) => {
    await loaded(p);
    return p.evaluate(() => (window as unknown as { __cartCalls: number }).__cartCalls);
  };

  test('writes the visitor id into the cart attribute affix_vid once per visitor and cart', async () => {
    const { context, page, errors } = await visitor();
    try {
      const before = updates.length;
      await page.goto(`${storeUrl}/?a_aid=ann&a_cid=${campaignId}`);
      await loaded(page);
      const vid = await poll('the visitor id', () => visitorIdIn(page));
      const update = await poll('the cart update', async () => updates.slice(before)[0]);
      assert.deepEqual(update.attributes, { affix_vid: vid });
      assert.equal(update.cartCookie, null, 'the first update creates the cart');
      await poll('the update to be answered', async () =>
        (await page.evaluate(() => localStorage.getItem('affix_cart'))) ? true : null,
      );

      await page.reload();
      assert.equal(await cartCalls(page), 0, 'the same visitor and cart: not again');
      await page.goto(`${storeUrl}/products/mug`);
      assert.equal(await cartCalls(page), 0);
      assert.equal(updates.length, before + 1);

      // After a checkout Shopify starts a new cart: it gets the attribute too.
      await context.addCookies([{ name: 'cart', value: 'c1-after-checkout', url: storeUrl }]);
      await page.reload();
      assert.equal(await cartCalls(page), 1, 'a new cart is tagged');
      const second = await poll('the second cart update', async () => updates.slice(before)[1]);
      assert.deepEqual(second, { attributes: { affix_vid: vid }, cartCookie: 'c1-after-checkout' });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a store that is not Shopify gets no cart request', async () => {
    const { context, page, errors } = await visitor();
    try {
      await page.goto(`${storeUrl}/plain?a_aid=ann&a_cid=${campaignId}`);
      await poll('the visitor id', () => visitorIdIn(page));
      assert.equal(await cartCalls(page), 0);
      await page.reload();
      assert.equal(await cartCalls(page), 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('GDPR mode: no cart attribute before consent; withdrawing consent clears it', async () => {
    assert.equal((await owner.patch('/settings', { gdprMode: true })).status, 200);
    const { context, page, errors } = await visitor();
    try {
      const before = updates.length;
      await page.goto(`${storeUrl}/?a_aid=ann&a_cid=${campaignId}`);
      assert.equal(await cartCalls(page), 0, 'nothing before consent');
      await page.evaluate(() =>
        (window as unknown as { affix: (c: string, v: boolean) => void }).affix('consent', true),
      );
      const vid = await poll('the visitor id', () => visitorIdIn(page));
      const tagged = await poll('the cart update', async () => updates.slice(before)[0]);
      assert.deepEqual(tagged.attributes, { affix_vid: vid });
      await poll('the update to be answered', async () =>
        (await page.evaluate(() => localStorage.getItem('affix_cart'))) ? true : null,
      );
      await page.evaluate(() =>
        (window as unknown as { affix: (c: string, v: boolean) => void }).affix('consent', false),
      );
      const cleared = await poll('the clearing update', async () => updates.slice(before)[1]);
      assert.deepEqual(cleared.attributes, { affix_vid: '' });
      await poll('the marker removed', async () =>
        (await page.evaluate(() => localStorage.getItem('affix_cart'))) === null ? true : null,
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      assert.equal((await owner.patch('/settings', { gdprMode: false })).status, 200);
    }
  });

  test('the cart attribute reaches the sale: orders/paid with it is attributed to the affiliate', async () => {
    const { context, page } = await visitor();
    try {
      const before = updates.length;
      await page.goto(`${storeUrl}/?a_aid=ann&a_cid=${campaignId}`);
      const update = await poll('the cart update', async () => updates.slice(before)[0]);
      const vid = update.attributes.affix_vid as string;
      // Shopify copies the cart's attributes into the order's note_attributes.
      const orderId = `82098291194615${String(process.pid % 10000).padStart(4, '0')}`;
      const payload = fixtureText('shopify/orders-paid.json')
        .replaceAll('820982911946154508', orderId)
        .replace('vIsItOr_0123456789abcdef', vid);
      const res = await sendShopify(app.url, 'orders/paid', payload, `hook-${orderId}`);
      assert.equal(res.status, 200, res.text);
      const [sale] = (await owner.get(`/sales?orderId=${orderId}`)).body.data;
      assert.equal(sale.visitorId, vid);
      assert.equal(sale.affiliateId, annId);
      assert.equal(sale.campaignId, campaignId);
    } finally {
      await context.close();
    }
  });
});
