import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type Agent } from '../helpers/http.js';

const step = (html: string, key: string) =>
  new RegExp(`<li data-step="${key}" data-done="(yes|no)"`).exec(html)?.[1] ?? 'missing';

/** Onboarding (SPEC §13): the checklist ticks itself from real events; "tracking installed". */
describe('onboarding: getting-started checklist and snippet sightings', () => {
  let app: TestApp;
  let a: ReturnType<typeof api>;
  let browser: Agent;

  before(async () => {
    app = await startTestApp();
    browser = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app.close();
  });

  test('snippet loads are kept in memory and written once per interval, not once per request', async () => {
    assert.equal((await a.patch('/settings', { siteUrl: 'https://shop.example/' })).status, 200);
    const before = await browser.get('/admin/integration');
    assert.match(before.text, /Not seen on your store yet/);
    let writes = 0;
    const count = (q: { sql: string }) => {
      if (/system_kv/.test(q.sql) && /insert/i.test(q.sql)) writes++;
    };
    app.services.db.on('query', count);
    try {
      for (let i = 0; i < 200; i++) {
        const res = await request(app.url, 'GET', '/snippet.js', {
          headers: { referer: `https://shop.example/products/${i}?x=1`, accept: '*/*' },
        });
        assert.equal(res.status, 200);
      }
      // A page of another site loads it too (a copy of the tag on a staging site).
      await request(app.url, 'GET', '/snippet.js', { headers: { referer: 'https://staging.example/' } });
      assert.equal(writes, 0, 'nothing written on the request path');
      // Shown already (this process's memory), before any write.
      const page = await browser.get('/admin/integration');
      assert.match(
        page.text,
        /Tracking installed:<\/strong> the snippet was last loaded from your store, <code>https:\/\/shop\.example<\/code>/,
      );
      assert.match(page.text, /data-seen-last>Last loaded from any page: <code>https:\/\/staging\.example<\/code>/);
      await app.services.snippetSeen.flush();
      assert.equal(writes, 1, 'one write for 201 loads');
    } finally {
      app.services.db.removeListener('query', count);
    }
    const stored = await app.services.db('system_kv').where({ key: 'snippet.seen' }).first();
    const value = JSON.parse(stored.value);
    assert.equal(value.store.origin, 'https://shop.example');
    assert.equal(value.last.origin, 'https://staging.example');
  });

  test('the checklist ticks click, sale and approved commission as they happen, then goes away', async () => {
    // The snippet seen on the store, as the test above leaves it.
    assert.equal((await a.patch('/settings', { siteUrl: 'https://shop.example/' })).status, 200);
    const snippet = await request(app.url, 'GET', '/snippet.js', {
      headers: { referer: 'https://shop.example/', accept: '*/*' },
    });
    assert.equal(snippet.status, 200);
    const dash = async () => (await browser.get('/admin')).text;
    let html = await dash();
    assert.match(html, /data-checklist/);
    assert.equal(step(html, 'snippet'), 'yes');
    assert.equal(step(html, 'click'), 'no');
    assert.equal(step(html, 'sale'), 'no');
    assert.equal(step(html, 'approved'), 'no');
    const campaign = await a.post('/campaigns', { name: 'Main', approval: 'manual' });
    await a.post(`/campaigns/${campaign.body.id}/payouts`, {
      kind: 'general',
      title: '10%',
      type: 'CPS',
      affiliateCommission: { value: 10, unit: 'percent' },
    });
    await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann', status: 'approved' });
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=ann&a_cid=${campaign.body.id}` },
      headers: { 'user-agent': CHROME },
    });
    html = await dash();
    assert.equal(step(html, 'click'), 'yes');
    assert.equal(step(html, 'sale'), 'no');
    const sale = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: 'ON-1', totalCost: 50, visitorId: click.body.visitorId },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(sale.status, 201, sale.text);
    html = await dash();
    assert.equal(step(html, 'sale'), 'yes');
    assert.equal(step(html, 'approved'), 'no', 'the commission is pending');
    assert.equal((await a.post(`/commissions/${sale.body.commissions[0].id}/approve`, {})).status, 200);
    html = await dash();
    assert.doesNotMatch(html, /data-checklist/, 'all four done: the list is gone');
  });

  test('without siteUrl the first step says to set it; a load from elsewhere does not tick it', async () => {
    const other = await startTestApp();
    try {
      const b = await setupOwner(other.url);
      await request(other.url, 'GET', '/snippet.js', { headers: { referer: 'https://somewhere.example/' } });
      const html = (await b.get('/admin')).text;
      assert.equal(step(html, 'snippet'), 'no');
      assert.match(html, /Set your store’s URL in Settings/);
      const integration = (await b.get('/admin/integration')).text;
      assert.match(integration, /Set your store's URL in <a href="\/admin\/settings">Settings<\/a>/);
    } finally {
      await other.close();
    }
  });
});
