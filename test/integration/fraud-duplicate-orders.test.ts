import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { visit, paramOf } from '../helpers/visit.js';
import { created } from '../helpers/assert.js';
import { campaignWithPayout } from '../helpers/programme.js';

/*
 * The duplicate-order fraud rule (`fraud.duplicateOrderSeconds`, issue 8.10) applies to storefront
 * orders only, keyed by IP plus visitor (or customer): server-to-server sales from the store's own
 * server and sales paid by a network postback (no shopper IP) are never "repeated orders".
 */

type Api = ReturnType<typeof api>;

describe(`the duplicate-order rule declines only repeated storefront orders (issue 8.10) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let shop: number;
  let order = 0;
  const nextOrder = () => `D-${++order}`;

  const storefront = (ip: string, body: Record<string, unknown>) =>
    request(app.url, 'POST', '/t/sale', {
      body: { orderId: nextOrder(), totalCost: 50, campaignId: shop, ...body },
      headers: { 'x-forwarded-for': ip },
    });

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
    shop = await campaignWithPayout(
      a,
      { name: 'Shop', alias: 'shop', approval: 'auto' },
      { title: '10 %', type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } },
    );
    created(
      await a.post(`/campaigns/${shop}/flows`, {
        name: 'Offer',
        type: 'default',
        schema: 'redirect',
        url: 'https://offer.example/?s={subid}',
      }),
      'flow',
    );
    assert.equal((await a.patch('/plugins/fraud-protection', { active: true })).status, 200);
    const res = await a.patch('/settings', { fraud: { duplicateOrderSeconds: 3600, duplicateOrderAction: 'decline' } });
    assert.equal(res.status, 200, res.text);
  });
  after(async () => {
    await app?.close();
  });

  test('a second storefront order from the same IP and visitor within the window is declined', async () => {
    const first = await storefront('203.0.113.10', { visitorId: 'visitor-aaaaaaaaaaaaaaaa' });
    assert.equal(first.status, 201, first.text);
    assert.notEqual(first.body.status, 'declined');
    const again = await storefront('203.0.113.10', { visitorId: 'visitor-aaaaaaaaaaaaaaaa' });
    assert.equal(again.body.status, 'declined');
    assert.equal(again.body.declineReason, 'another order from 203.0.113.10 within 3600 s');
    const sameCustomer = await storefront('203.0.113.11', { customerId: 'c-1' });
    assert.notEqual(sameCustomer.body.status, 'declined');
    assert.equal((await storefront('203.0.113.11', { customerId: 'c-1' })).body.status, 'declined');
  });

  test('two shoppers behind one IP (an office, a mobile carrier) are not each other’s duplicates', async () => {
    for (const visitorId of ['visitor-bbbbbbbbbbbbbbbb', 'visitor-cccccccccccccccc', 'visitor-dddddddddddddddd']) {
      const res = await storefront('203.0.113.20', { visitorId });
      assert.equal(res.status, 201, res.text);
      assert.notEqual(res.body.status, 'declined', visitorId);
    }
  });

  test('server-to-server sales from the store’s server are never duplicates of each other', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await a.raw(
        'POST',
        '/sales',
        { orderId: nextOrder(), totalCost: 50, campaignId: shop, affiliateId: 'ann' },
        { headers: { 'x-forwarded-for': '198.51.100.5' } },
      );
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, 'approved', `S2S sale ${i + 1}: ${res.body.declineReason}`);
      assert.equal(res.body.commissions.length, 1);
    }
  });

  test('sales paid by network postbacks (no shopper IP) are never duplicates of each other', async () => {
    const key = app.services.settings.get().postbackKey;
    for (let i = 0; i < 3; i++) {
      const landed = await visit(app.url, '/shop?a_aid=ann', { ip: `10.44.0.${i + 1}` });
      const subid = paramOf(landed.location, 's');
      assert.ok(subid, landed.body);
      const pb = await request(app.url, 'GET', `/postback/${key}?subid=${subid}&status=sale&payout=20&tid=T-${i}`);
      assert.equal(pb.status, 200, pb.text);
    }
    const sales = (await app.services.db('sales').where({ source: 'postback' })) as Array<{
      status: string;
      decline_reason: string | null;
    }>;
    assert.equal(sales.length, 3);
    assert.deepEqual(
      sales.map((s) => [s.status, s.decline_reason]),
      [
        ['approved', null],
        ['approved', null],
        ['approved', null],
      ],
    );
  });
});
