import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type Agent } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import { approvedAffiliate, campaignWithPayout } from '../helpers/programme.js';

/** Everyday admin (SPEC §13): a sale entered by hand, and per-affiliate figures on its page. */
describe('admin: manual sale and per-affiliate figures', () => {
  let app: TestApp;
  let a: ReturnType<typeof api>;
  let browser: Agent;
  let campaign: number;
  let ann: number;

  before(async () => {
    app = await startTestApp();
    browser = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaign = await campaignWithPayout(a, { name: 'Main', approval: 'manual' });
    ann = await approvedAffiliate(a, 'Ann', 'ann');
    created(await a.post('/coupons', { code: 'ANN10', affiliateId: ann, campaignId: campaign }), 'coupon');
  });
  after(async () => {
    await app.close();
  });

  test('a sale added by hand goes through matching and payouts like an API sale', async () => {
    const form = await browser.get('/admin/sales/new');
    assert.equal(form.status, 200);
    assert.match(form.text, /<label>Order number <input name="orderId"/);
    const bad = await browser.post('/admin/sales/new', { orderId: 'PHONE-1', totalCost: '-5', currency: 'USD' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /field-error[^>]*>must not be negative/);
    const unknown = await browser.post('/admin/sales/new', { orderId: 'PHONE-1', totalCost: '10', currency: 'XYZ' });
    assert.equal(unknown.status, 422, 'an unknown currency is refused, not guessed');
    // By coupon: matched to Ann without naming her.
    const res = await browser.post('/admin/sales/new', {
      orderId: 'PHONE-1',
      totalCost: '250.00',
      currency: 'USD',
      coupon: 'ann10',
      campaignId: String(campaign),
    });
    assert.equal(res.status, 302, res.text.slice(0, 500));
    assert.match(res.location ?? '', /^\/admin\/sales\/\d+$/);
    const sale = (await a.get('/sales?orderId=PHONE-1')).body.data[0];
    assert.equal(sale.affiliateId, ann);
    assert.equal(sale.matchedBy, 'coupon');
    const commissions = await a.get(`/commissions?saleId=${sale.id}`);
    assert.equal(commissions.body.data[0].amount, 25);
    assert.equal(commissions.body.data[0].status, 'pending', "the campaign's manual approval applies");
    // The same order again is the same sale.
    const again = await browser.post('/admin/sales/new', {
      orderId: 'PHONE-1',
      totalCost: '250',
      affiliateId: 'ann',
      campaignId: String(campaign),
    });
    assert.equal(again.location, `/admin/sales/${sale.id}`);
    assert.equal((await a.get('/sales?orderId=PHONE-1')).body.pagination.total, 1);
    // Naming the affiliate directly.
    const named = await browser.post('/admin/sales/new', {
      orderId: 'PHONE-2',
      totalCost: '40',
      affiliateId: 'ann',
      campaignId: String(campaign),
    });
    assert.equal(named.status, 302, named.text.slice(0, 300));
    assert.equal((await a.get('/sales?orderId=PHONE-2')).body.data[0].affiliateId, ann);
  });

  test('the affiliate page shows its last 30 days: clicks, sales and commissions by status', async () => {
    // An affiliate of its own with two sales added by hand, as the test above adds Ann's.
    const bea = await approvedAffiliate(a, 'Bea', 'bea');
    for (const [orderId, totalCost] of [
      ['PAGE-1', 250],
      ['PAGE-2', 40],
    ] as const)
      assert.equal(
        (await a.post('/sales', { orderId, totalCost, affiliateId: 'bea', campaignId: campaign })).status,
        201,
      );
    for (let i = 0; i < 3; i++)
      await request(app.url, 'POST', '/t/click', {
        body: { url: `https://shop.example/?a_aid=bea&a_cid=${campaign}` },
        headers: { 'user-agent': CHROME, 'x-forwarded-for': `10.9.0.${i + 1}` },
      });
    await app.services.writers.clicks.drain();
    const pending = (await a.get(`/commissions?affiliateId=${bea}&status=pending`)).body.data as Array<{ id: number }>;
    assert.equal(pending.length, 2);
    assert.equal((await a.post(`/commissions/${pending[0]!.id}/approve`, {})).status, 200);
    const page = await browser.get(`/admin/affiliates/${bea}`);
    assert.equal(page.status, 200);
    const figure = (name: string) => new RegExp(`data-figure="${name}">([^<]+)<`).exec(page.text)?.[1];
    assert.equal(figure('clicks'), '3');
    assert.equal(figure('sales'), '2');
    assert.match(figure('earned') ?? '', /29\.00/);
    const status = (s: string) => new RegExp(`data-status="${s}"><a[^>]*>(\\d+)<`).exec(page.text)?.[1];
    assert.equal(status('pending'), '1');
    assert.equal(status('approved'), '1');
    assert.equal(status('paid'), '0');
    assert.equal(status('declined'), '0');
  });
});
