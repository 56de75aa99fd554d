import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { Agent } from '../helpers/http.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { NAV_PAGES } from '../../server/http/admin/nav.js';
import { created } from '../helpers/assert.js';
import { approvedAffiliate, campaignWithPayout } from '../helpers/programme.js';

/*
 * The admin as a finished product: navigation from one list with the current section marked,
 * one name each for payout rules and payout batches, the sign-up link where merchants look for
 * it, fraud rules of an inactive plugin shown disabled with a way to turn it on, flashes that
 * count in words, the match trace with names and links, dates in the merchant's time zone.
 */

const decode = (html: string) =>
  html
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/&#x3D;/g, '=');

/** The flash shown after a redirect. */
async function flashAfter(agent: Agent, res: { status: number; location: string | null; text: string }) {
  assert.equal(res.status, 302, res.text.slice(0, 400));
  const page = await agent.get(res.location!);
  return decode(/class="flash flash-(?:success|error)"[^>]*>([^<]*)</.exec(page.text)?.[1] ?? '');
}

/** The main (desktop) navigation of a page. */
const mainNavOf = (html: string) =>
  /<nav class="mainnav wide" aria-label="Main">([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '';

describe('admin words, navigation and defaults', () => {
  let app: TestApp;
  let owner: Agent;
  let a: ReturnType<typeof api>;
  let shop: Promise<{ shoes: number; ann: number }> | undefined;
  let firstBatch: Promise<number> | undefined;

  /** The campaign Shoes that pays 10% and the affiliate Ann (made once, by the first test that needs them). */
  const shoesAndAnn = () =>
    (shop ??= (async () => {
      const shoes = await campaignWithPayout(a, { name: 'Shoes', approval: 'auto' });
      const ann = await approvedAffiliate(a, 'Ann Blogger', 'ann');
      return { shoes, ann };
    })());
  /** A payout batch: the one the flashes test makes, or one of a sale of its own. */
  const batchId = () =>
    (firstBatch ??= (async () => {
      await sale('BATCH-1', 10);
      return created(await a.post('/payout-batches', { minimum: 0 }), 'payout batch');
    })());

  async function sale(orderId: string, totalCost: number) {
    const { shoes } = await shoesAndAnn();
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=ann&a_cid=${shoes}` },
      headers: { 'user-agent': CHROME },
    });
    const res = await request(app.url, 'POST', '/t/sale', {
      body: { orderId, totalCost, visitorId: click.body.visitorId },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(res.status, 201, res.text);
    return res.body.saleId as number;
  }

  before(async () => {
    app = await startTestApp();
    owner = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app.close();
  });

  test('the navigation comes from one list: every page once, grouped, the current section marked', async () => {
    const html = decode((await owner.get('/admin/commissions')).text);
    const nav = mainNavOf(html);
    for (const p of NAV_PAGES) {
      const links = nav.match(new RegExp(`href="${p.href}"`, 'g')) ?? [];
      assert.equal(links.length, 1, `${p.label} appears once in the main navigation`);
    }
    assert.match(nav, /href="\/admin\/commissions" aria-current="page">Commissions</);
    assert.match(
      nav,
      /<details class="navgroup current" name="mainnav">\s*<summary>Money<span class="visually-hidden"> \(current section\)/,
    );
    assert.equal((nav.match(/aria-current="page"/g) ?? []).length, 1, 'one current page');
    // The section's own row of links, and the phone's menu button.
    assert.match(
      html,
      /<nav class="subnav" aria-label="Money">[\s\S]*?href="\/admin\/payout-batches"[^>]*>Payout batches</,
    );
    assert.match(html, /<details class="menu">\s*<summary>Menu<\/summary>/);
  });

  test('one name each: payout rules on the dashboard and campaign tab, payout batches in the menu', async () => {
    const dashboard = decode((await owner.get('/admin')).text);
    assert.match(dashboard, /data-count="payouts">\d+<\/span><span>payout rules</);
    assert.doesNotMatch(mainNavOf(dashboard), />Payouts</);
    assert.match(mainNavOf(dashboard), /href="\/admin\/payout-batches"[^>]*>Payout batches</);
    const batches = decode((await owner.get('/admin/payout-batches')).text);
    assert.match(batches, /<title>Payout batches · Affix<\/title>/);
    assert.match(batches, /<h1>Payout batches<\/h1>/);
  });

  test('the sign-up link is on the Affiliates page (empty too) and in Settings, and says when sign-up is closed', async () => {
    const url = `${app.url}/portal/signup`;
    const affiliates = decode((await owner.get('/admin/affiliates')).text);
    assert.match(affiliates, /class="empty">No affiliates yet/);
    assert.match(affiliates, new RegExp(`id="signup-url" readonly value="${url}"`));
    assert.match(
      affiliates,
      /<button type="button" class="secondary" data-copy="signup-url" hidden>Copy link<\/button>/,
    );
    assert.match(affiliates, /<script src="\/static\/copy.js" defer><\/script>/);
    const settings = decode((await owner.get('/admin/settings')).text);
    assert.match(settings, new RegExp(`id="signup-url" readonly value="${url}"`));

    assert.equal((await a.patch('/settings', { affiliateSignup: 'closed' })).status, 200);
    const closed = decode((await owner.get('/admin/affiliates')).text);
    assert.match(
      closed,
      /Sign-up is closed: the page turns people away until you open it in <a href="\/admin\/settings#affiliate-signup">/,
    );
    assert.equal((await a.patch('/settings', { affiliateSignup: 'approval' })).status, 200);
    const script = await fetch(`${app.url}/static/copy.js`);
    assert.equal(script.status, 200);
    assert.match(await script.text(), /navigator\.clipboard/);
  });

  test('fraud rules of the inactive plugin are shown disabled with a button that activates it', async () => {
    assert.equal(app.services.plugins.isActive('fraud-protection'), false, 'a new install starts with it off');
    assert.equal(app.services.settings.get().fraud.bots, true, 'its bot rule is ticked by default');
    const page = decode((await owner.get('/admin/settings')).text);
    assert.match(page, /data-fraud-inactive>[\s\S]*?Fraud protection is <strong>off<\/strong>/);
    assert.match(page, /<fieldset class="plugin-settings" disabled>/);
    assert.match(
      page,
      /formaction="\/admin\/plugins\/fraud-protection\/activate" formnovalidate name="back" value="\/admin\/settings">Activate fraud protection</,
    );

    // Saving the form as a browser sends it (the disabled rules absent) keeps the rules as they are.
    const before = app.services.settings.get().fraud;
    const saved = await owner.post('/admin/settings', {
      'urlParams.affiliate': 'a_aid',
      'urlParams.banner': 'a_bid',
      'urlParams.campaign': 'a_cid',
      'urlParams.channel': 'chan',
      'urlParams.data1': 'data1',
      'urlParams.data2': 'data2',
      cookieDays: '61',
      overwriteCookie: 'false',
      baseCurrency: 'USD',
      exchangeRates: '',
      timezone: 'UTC',
      defaultApproval: 'manual',
      affiliateSignup: 'approval',
      duplicateOrders: 'ignore',
      payoutMinimum: '0',
    });
    assert.equal(await flashAfter(owner, saved), 'Settings saved.');
    assert.equal(app.services.settings.get().cookieDays, 61);
    assert.deepEqual(app.services.settings.get().fraud, before, 'the rules were not touched');

    // A mistake elsewhere re-shows the form with the disabled rules as they are stored.
    const wrong = await owner.post('/admin/settings', { cookieDays: '-1', baseCurrency: 'XYZ', timezone: 'UTC' });
    assert.equal(wrong.status, 422);
    const again = decode(wrong.text);
    assert.match(
      again,
      /name="cookieDays"[^>]*>\s*<\/label>[\s\S]*?class="field-error" role="alert">must be 0 or more</,
    );
    assert.match(again, /class="field-error" role="alert">must be an ISO 4217 currency code such as USD or EUR</);
    assert.match(again, /name="fraud.bots" checked/);
    assert.match(again, /<fieldset class="plugin-settings" disabled>/);

    const activate = await owner.post('/admin/plugins/fraud-protection/activate', { back: '/admin/settings' });
    assert.equal(activate.location, '/admin/settings');
    assert.match(await flashAfter(owner, activate), /“Fraud protection” activated/);
    assert.equal(app.services.plugins.isActive('fraud-protection'), true);
    const on = decode((await owner.get('/admin/settings')).text);
    assert.doesNotMatch(on, /data-fraud-inactive/);
    assert.match(on, /<fieldset class="plugin-settings" >/);
    // From the Plugins page it goes back there, as before.
    const off = await owner.post('/admin/plugins/fraud-protection/deactivate', {});
    assert.equal(off.location, '/admin/plugins');
  });

  test('flashes count in words; a partial refund says what it did; the trace names and links', async () => {
    const { shoes, ann } = await shoesAndAnn();
    const partial = await sale('W-1', 100);
    const full = await sale('W-2', 50);

    const cut = await owner.post(`/admin/sales/${partial}/refund`, { amount: '20', type: 'refund', confirm: 'yes' });
    assert.equal(
      await flashAfter(owner, cut),
      'Refund of 20.00 USD recorded: cut 1 commission by 2.00 USD, added 1 negative line.',
    );
    const whole = await owner.post(`/admin/sales/${full}/refund`, { amount: '', type: 'refund', confirm: 'yes' });
    assert.equal(await flashAfter(owner, whole), 'Refund of 50.00 USD recorded: reversed 1 commission.');

    const page = decode((await owner.get(`/admin/sales/${partial}`)).text);
    const explanation = /<ol class="explanation" data-explanation>([\s\S]*?)<\/ol>/.exec(page)?.[1] ?? '';
    assert.match(
      explanation,
      new RegExp(
        `first click of <a href="/admin/affiliates/${ann}" title="affiliate #${ann}">Ann Blogger</a> in <a href="/admin/campaigns/${shoes}" title="campaign #${shoes}">Shoes</a>`,
      ),
    );
    assert.match(page, /<title>Sale W-1 · Affix<\/title>/);

    const batch = await owner.post('/admin/payout-batches', { minimum: '0' });
    assert.match(await flashAfter(owner, batch), /^Payout batch #\d+ created: 1 affiliate, 8\.00 USD\.$/);
    const id = /\/admin\/payout-batches\/(\d+)/.exec(batch.location ?? '')?.[1];
    assert.ok(id, batch.location ?? '');
    firstBatch = Promise.resolve(Number(id));
    const paid = await owner.post(`/admin/payout-batches/${id}/mark-paid`, { confirm: 'yes' });
    assert.match(
      await flashAfter(owner, paid),
      /marked paid: 2 commissions are now paid\./,
      'the commission and its negative line',
    );
  });

  test('page titles name the page and the object', async () => {
    const { shoes, ann } = await shoesAndAnn();
    const batch = await batchId();
    const domain = created(await a.post('/domains', { host: 'go.shop.example' }), 'domain');
    const source = created(await a.post('/sources', { name: 'PushNet', params: {} }), 'source');
    const titles: Record<string, string> = {
      [`/admin/campaigns/${shoes}`]: 'Shoes · Settings · Affix',
      [`/admin/campaigns/${shoes}/payouts`]: 'Shoes · Payout rules · Affix',
      [`/admin/affiliates/${ann}`]: 'Ann Blogger · Affiliates · Affix',
      [`/admin/domains/${domain}`]: 'go.shop.example · Domains · Affix',
      [`/admin/sources/${source}`]: 'PushNet · Sources · Affix',
      [`/admin/payout-batches/${batch}`]: `Payout batch #${batch} · Affix`,
      '/admin/commissions': 'Commissions · Affix',
    };
    for (const [path, title] of Object.entries(titles)) {
      const html = decode((await owner.get(path)).text);
      assert.equal(/<title>([^<]*)<\/title>/.exec(html)?.[1], title, path);
    }
  });

  test('dates are shown in the timezone setting, the zone named', async () => {
    await sale('DATES-1', 10);
    const utc = decode((await owner.get('/admin/sales')).text);
    const at = /<td>(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC<\/td>/.exec(utc)?.[1];
    assert.ok(at, 'a sale date in UTC');
    assert.equal((await a.patch('/settings', { timezone: 'Asia/Kolkata' })).status, 200);
    const local = decode((await owner.get('/admin/sales')).text);
    const shifted = new Date(Date.parse(`${at.replace(' ', 'T')}:00Z`) + 330 * 60_000).toISOString();
    assert.match(local, new RegExp(`<td>${shifted.slice(0, 10)} ${shifted.slice(11, 16)} Asia/Kolkata</td>`));
    await a.patch('/settings', { timezone: 'UTC' });
  });

  test('a favicon, also at /favicon.ico', async () => {
    const html = (await owner.get('/admin')).text;
    assert.match(html, /<link rel="icon" href="\/static\/favicon.svg" type="image\/svg\+xml">/);
    const ico = await fetch(`${app.url}/favicon.ico`, { redirect: 'manual' });
    assert.equal(ico.status, 301);
    assert.equal(ico.headers.get('location'), '/static/favicon.svg');
    const svg = await fetch(`${app.url}/static/favicon.svg`);
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    assert.match(await svg.text(), /^<svg /);
  });
});
