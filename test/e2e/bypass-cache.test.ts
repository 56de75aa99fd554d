import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { launchBrowser, personUserAgent, describeInBrowser, sleep } from '../helpers/browser.js';

/*
 * Bypass cache (SPEC §7.8) in a real browser. A campaign with bypass cache sends visitors to a
 * local landing page (a node:http server on lp.affix.localhost) with `_subid` and `_ts`; the
 * snippet on that page asks the tracker (track.affix.localhost) whether the subid is older than
 * three minutes and, if so, reloads the page once with a fresh click. The tracker's clock is
 * injected so the test can move it forward instead of waiting.
 */

const MINUTE = 60_000;
interface ClickRow {
  click_id: string;
  campaign_id: number;
  at: number | string;
  landing_url: string | null;
  offer_url: string | null;
  sub_ids: string | null;
  external_id: string | null;
}

describeInBrowser('bypass cache: a cached landing page reloads once with a fresh click', () => {
  /** Added to the real time by the tracker's clock. */
  let offset = 0;
  let app: TestApp;
  let browser: Browser;
  let landing: Server;
  let trackerUrl: string;
  let landingUrl: string;
  let bypassId: number;
  let plainId: number;
  /** Every request the landing server answered, in order. */
  const served: string[] = [];

  before(async () => {
    app = await startTestApp({ clock: () => Date.now() + offset });
    await setupOwner(app.url);
    const owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    trackerUrl = `http://track.affix.localhost:${new URL(app.url).port}`;

    landing = createServer((req, res) => {
      served.push(req.url ?? '');
      if ((req.url ?? '').startsWith('/offer')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Offer</title><h1>Offer</h1>');
        return;
      }
      // A landing page that embeds the snippet, the way the integration page shows it.
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html>
<html><head><meta charset="utf-8"><title>Landing</title>
<script async src="${trackerUrl}/snippet.js"></script>
<script>window.affix = window.affix || function () { (affix.q = affix.q || []).push(arguments) };</script>
</head><body><h1>Spring offer</h1><a id="go" href="#" onclick="affix('offer'); return false">Get it</a></body></html>`);
    });
    await new Promise<void>((r) => landing.listen(0, '127.0.0.1', r));
    landingUrl = `http://lp.affix.localhost:${(landing.address() as AddressInfo).port}`;

    const source = await owner.post('/sources', {
      name: 'Native',
      params: { sub_id_1: 'zone', external_id: 'clickid' },
    });
    assert.equal(source.status, 201, source.text);
    const make = async (alias: string, bypassCache: boolean) => {
      const campaign = await owner.post('/campaigns', { name: alias, alias, bypassCache, sourceId: source.body.id });
      assert.equal(campaign.status, 201, campaign.text);
      assert.equal(campaign.body.bypassCache, bypassCache);
      const flow = await owner.post(`/campaigns/${campaign.body.id}/flows`, {
        name: 'Landing then offer',
        type: 'default',
        schema: 'landings_offers',
        landings: [{ url: `${landingUrl}/landing?s={subid}&z={sub_id_1}#top`, weight: 100 }],
        offers: [{ url: `${landingUrl}/offer?s={subid}`, weight: 100 }],
      });
      assert.equal(flow.status, 201, flow.text);
      return campaign.body.id as number;
    };
    bypassId = await make('lp-cache', true);
    plainId = await make('lp-plain', false);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (landing) {
      landing.closeAllConnections();
      await new Promise((r) => landing.close(r));
    }
    await app?.close();
  });

  const clicksOf = (campaignId: number) =>
    app.services.db('clicks').where({ campaign_id: campaignId }).orderBy('id') as Promise<ClickRow[]>;

  /** A fresh visitor; page errors and the tracker's /t/fresh-click answers are collected. */
  async function visitor(
    opts: { intercept?: boolean } = {},
  ): Promise<{ context: BrowserContext; page: Page; errors: string[]; checks: Array<Record<string, unknown>> }> {
    const context = await browser.newContext({ userAgent: personUserAgent(browser) });
    const page = await context.newPage();
    const errors: string[] = [];
    const checks: Array<Record<string, unknown>> = [];
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    if (opts.intercept === false) {
      // The browser's own request (real CORS); readable only while the page stays.
      page.on('response', (res) => {
        if (res.url().startsWith(`${trackerUrl}/t/fresh-click`))
          void res.json().then(
            (body: Record<string, unknown>) => checks.push({ status: res.status(), ...body }),
            () => checks.push({ status: res.status() }),
          );
      });
      return { context, page, errors, checks };
    }
    // Read through a route: the page may navigate away before its own copy of the answer is read.
    await page.route(`${trackerUrl}/t/fresh-click**`, async (route) => {
      // Playwright fetches from Node, which knows no *.affix.localhost: ask 127.0.0.1 directly.
      const res = await route.fetch({ url: route.request().url().replace(trackerUrl, app.url) });
      let body: Record<string, unknown> = {};
      try {
        body = (await res.json()) as Record<string, unknown>;
      } catch {
        /* not JSON */
      }
      checks.push({ status: res.status(), ...body });
      await route.fulfill({ response: res });
    });
    return { context, page, errors, checks };
  }

  const snippetLoaded = (page: Page) =>
    page.waitForFunction(() => (window as unknown as { affix?: { v?: number } }).affix?.v === 1);
  const landings = () => served.filter((u) => u.startsWith('/landing'));
  const waitFor = async (what: string, fn: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  };

  /** The landing URL and subid of the first visit, kept for the "cached copy" visits. */
  let first: Promise<{ landing: string; subid: string }> | undefined;
  /** The first visit: the one (a) made, or one made here like it when (a) did not run. */
  const firstVisit = () =>
    (first ??= (async () => {
      const { context, page, checks } = await visitor({ intercept: false });
      try {
        await page.goto(`${trackerUrl}/lp-cache?zone=42&clickid=ext-1`);
        await snippetLoaded(page);
        await waitFor('the fresh-click check', () => checks.length === 1);
        return { landing: page.url(), subid: new URL(page.url()).searchParams.get('_subid') ?? '' };
      } finally {
        await context.close();
      }
    })());

  test('(a) a fresh visit through the campaign URL keeps its subid: no reload', async () => {
    const { context, page, errors, checks } = await visitor({ intercept: false });
    try {
      served.length = 0;
      await page.goto(`${trackerUrl}/lp-cache?zone=42&clickid=ext-1`);
      const url = new URL(page.url());
      assert.equal(url.origin + url.pathname, `${landingUrl}/landing`);
      const firstSubid = url.searchParams.get('_subid') ?? '';
      assert.match(firstSubid, /^[A-Za-z0-9_-]{8,32}$/);
      assert.equal(url.searchParams.get('s'), firstSubid, 'the {subid} macro and _subid agree');
      assert.equal(url.searchParams.get('z'), '42');
      const ts = Number(url.searchParams.get('_ts'));
      assert.ok(Math.abs(ts - (Date.now() + offset)) < MINUTE, `_ts is the issue time by the tracker's clock: ${ts}`);
      assert.equal(url.hash, '#top', 'the parameters go before the fragment');
      const firstLanding = page.url();
      first = Promise.resolve({ landing: firstLanding, subid: firstSubid });

      await snippetLoaded(page);
      await waitFor('the fresh-click check', () => checks.length === 1);
      assert.equal(checks[0]?.status, 200);
      assert.equal(checks[0]?.cached, false);
      assert.equal(checks[0]?.url, null);
      await sleep(500);
      assert.equal(page.url(), firstLanding, 'no reload');
      assert.equal(landings().length, 1, 'the landing page was served once');
      assert.equal(checks.length, 1);
      const clicks = await clicksOf(bypassId);
      assert.deepEqual(
        clicks.map((c) => c.click_id),
        [firstSubid],
      );
      assert.ok(clicks[0]?.landing_url?.includes(`_subid=${firstSubid}`));
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('(b) the same landing URL opened with a subid issued more than 3 minutes ago reloads exactly once with a new click', async () => {
    const { landing: firstLanding, subid: firstSubid } = await firstVisit();
    assert.ok(firstLanding, 'a first visit');
    offset += 4 * MINUTE;
    const { context, page, errors, checks } = await visitor();
    try {
      served.length = 0;
      await page.goto(firstLanding);
      await page.waitForURL(/[?&]_rl=1/);
      await page.waitForLoadState('load');
      await snippetLoaded(page);
      await sleep(700);

      const url = new URL(page.url());
      const fresh = url.searchParams.get('_subid') ?? '';
      assert.match(fresh, /^[A-Za-z0-9_-]{8,32}$/);
      assert.notEqual(fresh, firstSubid, 'a new subid');
      assert.equal(url.searchParams.get('s'), fresh, 'the landing macros carry the new subid');
      assert.equal(url.searchParams.get('z'), '42', 'the old click’s parameters were run again');
      assert.equal(url.hash, '#top');
      assert.equal(checks.length, 1, 'only the stale page asked; the reloaded page did not');
      assert.equal(checks[0]?.cached, true);
      assert.equal(checks[0]?.subid, fresh);
      assert.ok(Number(checks[0]?.age) > 3 * MINUTE);
      assert.equal(landings().length, 2, 'the stale page and one reload');
      assert.ok(landings()[1]?.includes(`_subid=${fresh}`));

      const clicks = await clicksOf(bypassId);
      assert.deepEqual(
        clicks.map((c) => c.click_id),
        [firstSubid, fresh],
        'a new click row exists',
      );
      const row = clicks[1]!;
      assert.deepEqual(JSON.parse(row.sub_ids ?? '{}'), { sub_id_1: '42' });
      assert.equal(row.external_id, 'ext-1');
      assert.ok(Math.abs(Number(row.at) - (Date.now() + offset)) < MINUTE);

      // affix('offer') sends the visitor on through /lp/offer with the page's (new) subid.
      served.length = 0;
      await page.click('#go');
      await page.waitForURL(`${landingUrl}/offer?s=${fresh}`);
      const offered = (await clicksOf(bypassId)).find((c) => c.click_id === fresh);
      assert.equal(offered?.offer_url, `${landingUrl}/offer?s=${fresh}`);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('(c) bypass cache off: no parameters on the landing URL, no check and no reload — even for an old subid', async () => {
    const { context, page, errors, checks } = await visitor();
    try {
      served.length = 0;
      await page.goto(`${trackerUrl}/lp-plain?zone=7`);
      const url = new URL(page.url());
      assert.equal(url.origin + url.pathname, `${landingUrl}/landing`);
      assert.equal(url.searchParams.get('_subid'), null);
      assert.equal(url.searchParams.get('_ts'), null);
      const subid = url.searchParams.get('s') ?? '';
      await snippetLoaded(page);
      await sleep(400);
      assert.equal(checks.length, 0, 'nothing to check');

      // A copy of the page carrying an old subid of this campaign: the tracker refuses to reload.
      offset += 4 * MINUTE;
      const stale = `${landingUrl}/landing?s=${subid}&_subid=${subid}&_ts=1`;
      await page.goto(stale);
      await snippetLoaded(page);
      await waitFor('the fresh-click check', () => checks.length === 1);
      await sleep(400);
      assert.equal(checks[0]?.cached, true);
      assert.equal(checks[0]?.url, null);
      assert.match(String(checks[0]?.reason), /bypass cache is off/);
      assert.equal(page.url(), stale, 'no reload');
      assert.equal(landings().length, 2);
      assert.equal((await clicksOf(plainId)).length, 1, 'no new click');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the tracker decides by the stored click time, not by _ts; bad subids are 4xx, never 500', async () => {
    // A young click with a crafted old _ts: not a cached page.
    const res = await fetch(`${app.url}/lp-cache?zone=1`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    const young = new URL(res.headers.get('location') ?? '').searchParams.get('_subid') ?? '';
    const crafted = await request(app.url, 'GET', `/t/fresh-click?subid=${young}&ts=1`);
    assert.equal(crafted.status, 200);
    assert.equal(crafted.body.cached, false);
    assert.equal(crafted.body.url, null);
    assert.equal(crafted.headers.get('cache-control'), 'no-store');

    const before = (await clicksOf(bypassId)).length;
    const unknown = await request(app.url, 'GET', '/t/fresh-click?subid=AAAAAAAAAAAAAAAAAAAA&ts=1');
    assert.equal(unknown.status, 404);
    for (const bad of ['', '?subid=', '?subid=%27%20OR%201%3D1--', '?subid[a]=1', `?subid=${'x'.repeat(200)}`]) {
      const r = await request(app.url, 'GET', `/t/fresh-click${bad}`);
      assert.equal(r.status, 422, `${bad} → ${r.status} ${r.text}`);
      assert.equal(r.body.error.details[0].field, 'subid');
    }
    // CORS for landing pages on other origins.
    const cors = await request(app.url, 'GET', `/t/fresh-click?subid=${young}`, { headers: { origin: landingUrl } });
    assert.equal(cors.headers.get('access-control-allow-origin'), landingUrl);
    assert.equal((await clicksOf(bypassId)).length, before, 'no click from any of these');
  });
});
