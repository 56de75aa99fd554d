import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { describeInBrowser, launchBrowser, personUserAgent } from '../helpers/browser.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import { approvedAffiliate, campaignWithPayout } from '../helpers/programme.js';

/*
 * Every admin and portal page in Chromium, at a desktop (1280 × 800) and a phone (390 × 844)
 * size: the page never scrolls sideways, the main navigation stays on one row on the desktop,
 * axe-core finds no serious or critical violation, and a screenshot of each is saved under
 * test-output/screens/ for a person to look at. Lists are checked empty (their next step) and
 * filled. One browser, one page per viewport, reused.
 */

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SCREENS = path.resolve('test-output/screens');
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const PORTAL_PASSWORD = 'portal password 123';

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** What each checked page gave, for the summary printed at the end. */
const checked: { page: string; viewport: string; violations: string[] }[] = [];

/** Problems found so far in the current test; each test fails listing all of them. */
let problems: string[] = [];
const softly = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    problems.push((err as Error).message.split('\n')[0]!);
  }
};
function reportProblems(): void {
  const found = problems;
  problems = [];
  assert.deepEqual(found, [], found.join('\n'));
}

async function check(page: Page, viewport: (typeof VIEWPORTS)[number], name: string, url: string): Promise<void> {
  const res = await page.goto(url);
  assert.equal(res?.status(), 200, `${name} (${url}) answers 200`);
  await inspect(page, viewport, name);
}

/** The checks of `check` on the page as it is now (a page reached by a form, say). */
async function inspect(page: Page, viewport: (typeof VIEWPORTS)[number], name: string): Promise<void> {
  const label = `${name} at ${viewport.width}px`;

  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  softly(() =>
    assert.ok(
      widths.scroll <= widths.client,
      `${label}: no sideways page scroll (${widths.scroll} > ${widths.client})`,
    ),
  );

  if (viewport.name === 'desktop') {
    // The main navigation's sections all sit on one row.
    const boxes = await page.$$eval('nav.mainnav.wide > *', (els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return { top: Math.round(r.top), height: Math.round(r.height) };
      }),
    );
    const tops = boxes.map((b) => b.top);
    // One row: every item starts within half an item's height of the others.
    if (boxes.length)
      softly(() =>
        assert.ok(
          Math.max(...tops) - Math.min(...tops) < Math.min(...boxes.map((b) => b.height)) / 2,
          `${label}: navigation on one row (tops ${tops.join(', ')})`,
        ),
      );
  } else {
    const menu = await page.$('details.menu');
    const visible = menu ? await menu.isVisible() : true;
    softly(() => assert.ok(visible, `${label}: a menu button on a small screen`));
  }

  const title = await page.title();
  const icons = (await page.$$('link[rel="icon"]')).length;
  softly(() =>
    assert.ok(
      / · (Affix|Affiliate portal)$/.test(title) && title.length > 10,
      `${label}: title names the page (${title})`,
    ),
  );
  softly(() => assert.equal(icons, 1, `${label}: a favicon`));

  await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: unknown[] }> } })
      .axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  });
  const bad = (violations as AxeViolation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  checked.push({
    page: name,
    viewport: viewport.name,
    violations: (violations as AxeViolation[]).map((v) => `${v.id} (${v.impact})`),
  });
  await page.screenshot({
    path: path.join(SCREENS, `${name.replace(/[^a-z0-9-]+/gi, '-')}-${viewport.width}.png`),
    fullPage: true,
  });
  for (const line of bad.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`,
  ))
    problems.push(`${label}: axe: ${line}`);
}

describeInBrowser('every admin and portal page at desktop and phone sizes', () => {
  let app: TestApp;
  let browser: Browser;
  const admin = new Map<string, { context: BrowserContext; page: Page }>();
  const portal = new Map<string, { context: BrowserContext; page: Page }>();
  let ownerApi: Promise<ReturnType<typeof api>> | undefined;
  let annAffiliate: Promise<number> | undefined;
  let bootsCampaign: Promise<number> | undefined;

  /** Signs the owner in to the admin page of each viewport, through the login form. */
  const signIn = async (): Promise<ReturnType<typeof api>> => {
    await tokenFor(app.url, OWNER.email, OWNER.password).catch(() => setupOwner(app.url));
    for (const viewport of VIEWPORTS) {
      const page = admin.get(viewport.name)!.page;
      await page.goto(`${app.url}/admin/login`);
      await page.getByLabel('Email').fill(OWNER.email);
      await page.getByLabel('Password').fill(OWNER.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${app.url}/admin`);
    }
    return api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  };
  /** The owner's API, the owner signed in to both admin pages (made here when no test before did). */
  const owner = () => (ownerApi ??= signIn());
  /** Ann, an approved affiliate. */
  const ann = () => (annAffiliate ??= owner().then(async (a) => await approvedAffiliate(a, 'Ann Blogger', 'ann')));
  /** A campaign whose commissions wait for approval, with two of Ann's sales waiting: for the queue. */
  const boots = () =>
    (bootsCampaign ??= (async () => {
      const a = await owner();
      await ann();
      const id = await campaignWithPayout(
        a,
        { name: 'Boots', approval: 'manual' },
        { title: '5 per sale', type: 'CPS', affiliateCommission: { value: 5, unit: 'fixed' } },
      );
      const ua = { 'user-agent': personUserAgent(browser) };
      for (const orderId of ['BOOTS-1', 'BOOTS-2']) {
        const c = await request(app.url, 'POST', '/t/click', {
          body: { url: `https://shop.example/?a_aid=ann&a_cid=${id}` },
          headers: ua,
        });
        const s = await request(app.url, 'POST', '/t/sale', {
          body: { orderId, totalCost: 80, visitorId: c.body.visitorId, campaignId: id },
          headers: ua,
        });
        assert.equal(s.status, 201, s.text);
      }
      return id;
    })());

  /** Checks `pages` at both sizes. */
  const each = async (pool: Map<string, { page: Page }>, pages: Record<string, string>): Promise<void> => {
    for (const viewport of VIEWPORTS)
      for (const [name, url] of Object.entries(pages))
        await check(pool.get(viewport.name)!.page, viewport, name, app.url + url);
  };

  before(async () => {
    fs.mkdirSync(SCREENS, { recursive: true });
    app = await startTestApp();
    browser = await launchBrowser();
    for (const viewport of VIEWPORTS) {
      const options = {
        viewport: { width: viewport.width, height: viewport.height },
        userAgent: personUserAgent(browser),
        // axe is injected as a script, which the admin's Content-Security-Policy would refuse.
        bypassCSP: true,
      };
      const adminContext = await browser.newContext(options);
      admin.set(viewport.name, { context: adminContext, page: await adminContext.newPage() });
      const portalContext = await browser.newContext(options);
      portal.set(viewport.name, { context: portalContext, page: await portalContext.newPage() });
    }
  });
  afterEach(() => reportProblems());
  after(async () => {
    const summary = checked.map((c) => `${c.page} @${c.viewport}: ${c.violations.join(', ') || 'no violations'}`);
    fs.mkdirSync(SCREENS, { recursive: true });
    fs.writeFileSync(path.join(SCREENS, 'axe-summary.txt'), summary.join('\n') + '\n');
    await browser?.close();
    await app?.close();
  });

  test('before setup: the setup page', async () => {
    await each(admin, { setup: '/admin/setup' });
  });

  test('a fresh install: every list shows its next step', async () => {
    // The owner is made through the setup form in one context and signed in to the other.
    const desktop = admin.get('desktop')!.page;
    await desktop.goto(`${app.url}/admin/setup`);
    await desktop.getByLabel('Your name').fill('Olivia Owner');
    await desktop.getByLabel('Email').fill(OWNER.email);
    await desktop.getByLabel('Password').fill(OWNER.password);
    await desktop.getByRole('button', { name: 'Create owner account' }).click();
    await desktop.waitForURL(`${app.url}/admin`);
    const phone = admin.get('phone')!.page;
    await phone.goto(`${app.url}/admin/login`);
    await check(phone, VIEWPORTS[1], 'login', `${app.url}/admin/login`);
    await phone.getByLabel('Email').fill(OWNER.email);
    await phone.getByLabel('Password').fill(OWNER.password);
    await phone.getByRole('button', { name: 'Sign in' }).click();
    await phone.waitForURL(`${app.url}/admin`);
    // Both pages are signed in: the tests after this one need not sign in again.
    ownerApi = tokenFor(app.url, OWNER.email, OWNER.password).then((token) => api(app.url, token));

    await each(admin, {
      'dashboard-empty': '/admin',
      'affiliates-empty': '/admin/affiliates',
      'domains-empty': '/admin/domains',
      'sources-empty': '/admin/sources',
      'groups-empty': '/admin/groups',
      'clicks-empty': '/admin/clicks',
      'sales-empty': '/admin/sales',
      'commissions-empty': '/admin/commissions',
      'payout-batches-empty': '/admin/payout-batches',
      'reports-empty': '/admin/reports',
      'conversions-empty': '/admin/conversions',
      'deliveries-empty': '/admin/integrations/deliveries',
    });
  });

  test('every admin page with data', async () => {
    const a = await owner();
    const settings = await a.patch('/settings', { affiliateSignup: 'open' });
    assert.equal(settings.status, 200, settings.text);
    const campaign = created(
      await a.post('/campaigns', {
        name: 'Shoes',
        alias: 'shoes',
        approval: 'auto',
        destinationUrl: 'https://shop.example/',
      }),
      'campaign',
    );
    const payout = created(
      await a.post(`/campaigns/${campaign}/payouts`, {
        kind: 'general',
        title: '10% of sales',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
      }),
      'payout',
    );
    const banner = created(await a.post('/banners', { campaignId: campaign, name: 'Header link' }), 'banner');
    const flow = created(
      await a.post(`/campaigns/${campaign}/flows`, {
        name: 'Main',
        offers: [{ url: 'https://offer.example/', weight: 100 }],
      }),
      'flow',
    );
    const annId = await ann();
    created(await a.post('/coupons', { code: 'ANN10', affiliateId: annId, campaignId: campaign }), 'coupon');
    const domain = created(await a.post('/domains', { host: 'track.shop.example' }), 'domain');
    const source = created(await a.post('/sources', { name: 'PushNet', params: { sub_id_1: 'zoneid' } }), 'source');
    created(await a.post('/groups', { name: 'Summer' }), 'group');

    const ua = { 'user-agent': personUserAgent(browser) };
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=ann&a_cid=${campaign}` },
      headers: ua,
    });
    assert.equal(click.status, 200, click.text);
    const sale = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: 'ORDER-1', totalCost: 120, visitorId: click.body.visitorId },
      headers: ua,
    });
    assert.equal(sale.status, 201, sale.text);
    const saleId = sale.body.saleId as number;
    const batch = created(await a.post('/payout-batches', { minimum: 0 }), 'payout batch');
    const commissionGroup = created(
      await a.post('/commission-groups', { name: 'VIP', affiliateIds: [annId] }),
      'commission group',
    );
    created(await a.post('/api-keys', { name: 'Warehouse', role: 'manager' }), 'API key');
    await boots();

    await each(admin, {
      dashboard: '/admin',
      campaigns: '/admin/campaigns',
      'campaign-new': '/admin/campaigns/new',
      campaign: `/admin/campaigns/${campaign}`,
      'campaign-flows': `/admin/campaigns/${campaign}/flows`,
      flow: `/admin/campaigns/${campaign}/flows/${flow}`,
      'campaign-payouts': `/admin/campaigns/${campaign}/payouts`,
      payout: `/admin/campaigns/${campaign}/payouts/${payout}`,
      'campaign-banners': `/admin/campaigns/${campaign}/banners`,
      banner: `/admin/campaigns/${campaign}/banners/${banner}`,
      'campaign-coupons': `/admin/campaigns/${campaign}/coupons`,
      'campaign-test': `/admin/campaigns/${campaign}/test`,
      affiliates: '/admin/affiliates',
      'affiliate-new': '/admin/affiliates/new',
      affiliate: `/admin/affiliates/${annId}`,
      domains: '/admin/domains',
      domain: `/admin/domains/${domain}`,
      sources: '/admin/sources',
      'source-new': '/admin/sources/new',
      source: `/admin/sources/${source}`,
      groups: '/admin/groups',
      clicks: '/admin/clicks',
      sales: '/admin/sales',
      sale: `/admin/sales/${saleId}`,
      commissions: '/admin/commissions',
      'payout-batches': '/admin/payout-batches',
      'payout-batch': `/admin/payout-batches/${batch}`,
      reports: '/admin/reports',
      conversions: '/admin/conversions',
      settings: '/admin/settings',
      plugins: '/admin/plugins',
      integration: '/admin/integration',
      deliveries: '/admin/integrations/deliveries',
      'sale-new': '/admin/sales/new',
      'commission-groups': '/admin/commission-groups',
      'commission-group': `/admin/commission-groups/${commissionGroup}`,
      mail: '/admin/mail',
      'settings-emails': '/admin/settings/emails',
      'settings-email': '/admin/settings/emails/affiliate.approved',
      staff: '/admin/staff',
      'api-keys': '/admin/api-keys',
    });
  });

  test('the commission queue by keyboard alone, the focus always visible', async () => {
    const campaign = await boots();
    const page = admin.get('desktop')!.page;
    await page.goto(`${app.url}/admin/commissions?status=pending&campaignId=${campaign}`);
    const pending = await page.locator('tr[data-commission]').count();
    assert.equal(pending, 2);
    const first = await page.locator('tr[data-commission]').first().getAttribute('data-commission');

    /** Presses Tab until `matches` holds for the focused element; checks each stop shows its focus. */
    const tabTo = async (what: string, matches: (el: Element) => boolean, key = 'Tab') => {
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press(key);
        const stop = await page.evaluate((src) => {
          const el = document.activeElement;
          if (!el || el === document.body) return { found: false, visible: true, name: 'body' };
          const style = getComputedStyle(el);
          const visible = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
          const test = new Function('el', `return (${src})(el)`) as (el: Element) => boolean;
          return {
            found: test(el),
            visible,
            name: `${el.tagName} ${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30)}`,
          };
        }, matches.toString());
        assert.ok(stop.visible, `focus is visible on ${stop.name}`);
        if (stop.found) return;
      }
      assert.fail(`could not reach ${what} with the keyboard`);
    };

    await page.locator('body').focus();
    await tabTo('the first commission checkbox', (el) => el.getAttribute('name') === 'ids');
    await page.keyboard.press('Space');
    assert.equal(await page.locator(`input[name="ids"][value="${first}"]`).isChecked(), true);
    await tabTo('Approve selected', (el) => el.textContent?.trim() === 'Approve selected', 'Shift+Tab');
    await page.keyboard.press('Enter');
    await page.waitForLoadState('load');
    assert.match(await page.locator('.flash').innerText(), /^Approved 1 commission\./);
    assert.equal(await page.locator('tr[data-commission]').count(), 1, 'one left pending');

    // The other one by its own row button, reached by the keyboard too.
    await page.locator('body').focus();
    await tabTo('a row’s Decline button', (el) =>
      (el.getAttribute('aria-label') ?? '').startsWith('Decline commission'),
    );
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/decline$/);
    // Declining asks first; the question page is checked like every other page.
    await inspect(page, VIEWPORTS[0], 'confirm-decline');
    await page.locator('body').focus();
    await tabTo('the confirming button', (el) => el.textContent?.trim() === 'Decline the commission');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/commissions/);
    assert.match(await page.locator('.flash').innerText(), /declined/);
  });

  test('on a phone the menu opens without JavaScript and leads to every page', async () => {
    await owner();
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      javaScriptEnabled: false,
      storageState: await admin.get('phone')!.context.storageState(),
    });
    try {
      const page = await context.newPage();
      await page.goto(`${app.url}/admin`);
      const menu = page.locator('details.menu');
      assert.equal(await menu.getByRole('link', { name: 'Payout batches' }).isVisible(), false, 'closed at first');
      await menu.locator('summary').click();
      await page.screenshot({ path: path.join(SCREENS, 'menu-open-390.png') });
      await menu.getByRole('link', { name: 'Payout batches' }).click();
      await page.waitForURL(`${app.url}/admin/payout-batches`);
      assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Payout batches');
    } finally {
      await context.close();
    }
  });

  test('every portal page', async () => {
    const a = await owner();
    const settings = await a.patch('/settings', { affiliateSignup: 'open' });
    assert.equal(settings.status, 200, settings.text);
    await each(portal, {
      'portal-signup': '/portal/signup',
      'portal-login': '/portal/login',
      'portal-forgot-password': '/portal/forgot-password',
      'admin-forgot-password': '/admin/forgot-password',
    });
    for (const viewport of VIEWPORTS) {
      const page = portal.get(viewport.name)!.page;
      await page.goto(`${app.url}/portal/signup`);
      await page.getByLabel('Name').fill(`Pat ${viewport.name}`);
      await page.getByLabel('Email').fill(`pat-${viewport.name}@example.com`);
      await page.getByLabel('Password').fill(PORTAL_PASSWORD);
      await page.locator('form button[type="submit"]').last().click();
      await page.waitForURL(/\/portal(\/links)?$/);
    }
    await each(portal, {
      'portal-dashboard': '/portal',
      'portal-links': '/portal/links',
      'portal-coupons': '/portal/coupons',
      'portal-commissions': '/portal/commissions',
      'portal-settings': '/portal/settings',
      'portal-profile': '/portal/profile',
    });
  });
});
