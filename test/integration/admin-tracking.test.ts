import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { api, tokenFor, setupOwner, OWNER, request, type Agent } from '../helpers/http.js';

describe('admin: clicks, sales with their trace, integration page', () => {
  let app: TestApp;
  let agent: Agent;
  let saleId: number;

  before(async () => {
    app = await startTestApp();
    agent = await setupOwner(app.url);
    const owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const shoes = (await owner.post('/campaigns', { name: 'Shoes', productIds: ['sku-1'] })).body;
    const aff = (await owner.post('/affiliates', { name: 'Ann Affiliate', email: 'ann@example.com', refId: 'ann' }))
      .body;
    const other = (await owner.post('/affiliates', { name: 'Bob Blogger', email: 'bob@example.com', refId: 'bob' }))
      .body;
    await owner.post('/coupons', { code: 'SPRING', affiliateId: aff.id, campaignId: shoes.id });
    // Bob's link first, then a coupon of Ann's: the coupon ranks higher than the cookie.
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=${other.refId}` },
    });
    assert.equal(click.status, 200);
    const sale = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: 'A-1001', totalCost: 80, coupon: 'spring', visitorId: click.body.visitorId },
    });
    assert.equal(sale.status, 201);
    assert.equal(sale.body.matchedBy, 'coupon');
    saleId = sale.body.saleId;
  });
  after(() => app.close());

  test('the sale page explains the match in words', async () => {
    const page = await agent.get(`/admin/sales/${saleId}`);
    assert.equal(page.status, 200);
    // The trace names the campaign and affiliate, linked to them.
    assert.match(
      page.text,
      /Matched by coupon \(rule 2\): coupon SPRING → <a href="\/admin\/campaigns\/\d+" title="campaign #\d+">Shoes<\/a>/,
    );
    assert.match(
      page.text,
      /cookie referral: (last|first) click of <a href="\/admin\/affiliates\/\d+" title="affiliate #\d+">[^<]+<\/a> in <a href="\/admin\/campaigns\/\d+"/,
    );
    assert.match(page.text, /ranks higher/);
    assert.match(page.text, /Ann Affiliate/);
  });

  test('the sales list shows the order with its campaign and filters by rule', async () => {
    const list = await agent.get('/admin/sales?matchedBy=coupon');
    assert.equal(list.status, 200);
    assert.match(list.text, /A-1001/);
    const none = await agent.get('/admin/sales?matchedBy=product');
    assert.doesNotMatch(none.text, /A-1001/);
  });

  test('the clicks list shows the click and its status', async () => {
    const list = await agent.get('/admin/clicks');
    assert.equal(list.status, 200);
    assert.match(list.text, /Bob Blogger/);
    assert.match(list.text, /badge-unique/);
    const declined = await agent.get('/admin/clicks?status=declined');
    assert.doesNotMatch(declined.text, /Bob Blogger/);
  });

  test('the clicks list shows campaign-URL clicks with their flow beside affiliate clicks, whatever their trace', async () => {
    const owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const campaign = (await owner.post('/campaigns', { name: 'Push traffic', alias: 'push-now' })).body;
    const flow = await owner.post(`/campaigns/${campaign.id}/flows`, {
      name: 'Everyone',
      type: 'default',
      offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
    });
    assert.equal(flow.status, 201, flow.text);
    const visit = await request(app.url, 'GET', '/push-now', {
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0', 'x-forwarded-for': '81.2.69.160' },
    });
    assert.equal(visit.status, 302, visit.text);
    // Traces no writer produces today (an older or damaged row) must not break the page either.
    const base = (await app.services.db('clicks').where({ campaign_id: campaign.id }).first()) as Record<
      string,
      unknown
    >;
    const { id: _id, ...row } = base;
    for (const [n, trace] of ['{}', 'not json', '{"candidates":"none"}', 'null', '[1,2]'].entries())
      await app.services.db('clicks').insert({ ...row, click_id: `odd-trace-${n}`, trace });

    const list = await agent.get('/admin/clicks');
    assert.equal(list.status, 200, list.text.slice(0, 300));
    assert.match(list.text, /Push traffic/);
    assert.match(list.text, /flow “Everyone”/);
    assert.match(list.text, /Bob Blogger/, 'the affiliate click is still listed');
    assert.match(list.text, /data-click="odd-trace-4"/);
  });

  test('the integration page shows the snippet, a sale call and a signed server call for this tracker', async () => {
    const page = await agent.get('/admin/integration');
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(`${app.url}/snippet.js`));
    assert.match(page.text, /affix\(&#x27;sale&#x27;|affix\('sale'/);
    assert.match(page.text, /X-Affix-Signature: t=\$T,v1=\$SIG/);
    assert.ok(page.text.includes(`${app.url}/api/v1/sales`));
  });

  test('an unknown sale is a 404 page and the pages need a sign-in', async () => {
    assert.equal((await agent.get('/admin/sales/999999')).status, 404);
    const anonymous = await fetch(`${app.url}/admin/sales`, { redirect: 'manual' });
    assert.equal(anonymous.status, 302);
    assert.match(anonymous.headers.get('location') ?? '', /\/admin\/login/);
  });
});

describe('admin: the dashboard counts clicks and sales from the daily rollups', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('a click and a sale show up in today’s row', async () => {
    const agent = await setupOwner(app.url);
    const before = await agent.get('/admin');
    assert.match(before.text, /data-period="Today"><th>Today<\/th><td data-stat="clicks">0<\/td>/);
    const owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    await owner.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' });
    for (let i = 0; i < 3; i++)
      await request(app.url, 'POST', '/t/click', { body: { url: 'https://shop.example/?a_aid=ann' } });
    await request(app.url, 'POST', '/t/sale', { body: { orderId: 'D-1', totalCost: 10 } });
    const after = await agent.get('/admin');
    assert.match(after.text, /data-period="Today"><th>Today<\/th><td data-stat="clicks">3<\/td>/);
    assert.match(after.text, /<td data-stat="sales">1<\/td>/);
    // The chart draws the days as a line with a point (and a tooltip) per day.
    assert.match(after.text, /<circle class="point"[^>]*><title>/);
  });
});
