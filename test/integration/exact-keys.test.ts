import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created, assertFieldError } from '../helpers/assert.js';
import { approvedAffiliate } from '../helpers/programme.js';

/*
 * SPEC §10a / issue 8.4: keys that identify events compare exactly, byte for byte, on both
 * databases (MariaDB's default collation is case- and accent-insensitive, so `CaseOrder-XY` and
 * `caseorder-xy`, or `café` and `cafe`, were one order there). Only coupon codes, campaign aliases
 * and domain hosts compare without case — and account e-mail addresses — the same on both.
 */

type Api = ReturnType<typeof api>;

/** The same id with the case of every letter swapped. */
const swapCase = (s: string) =>
  s.replace(/[a-z]/gi, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));

describe(`exact keys on both databases (SPEC §10a) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let key: string;
  let shop: number;
  let ann: number;
  let ip = 0;

  const sale = (body: Record<string, unknown>) =>
    request(app.url, 'POST', '/t/sale', { body, headers: { 'user-agent': CHROME } });

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    key = app.services.settings.get().postbackKey;
    shop = created(await a.post('/campaigns', { name: 'Shop', approval: 'auto' }), 'campaign');
    ann = await approvedAffiliate(a, 'Ann', 'ann');
    const paid = created(await a.post('/campaigns', { name: 'Paid', alias: 'exact-paid' }), 'campaign');
    created(
      await a.post(`/campaigns/${paid}/flows`, {
        name: 'Offer',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
      }),
      'flow',
    );
  });
  after(async () => {
    await app?.close();
  });

  describe('orders', () => {
    for (const [first, second] of [
      ['CaseOrder-XY', 'caseorder-xy'],
      ['café', 'cafe'],
      ['Straße', 'STRASSE'],
      ['ﬁ-1', 'fi-1'],
    ]) {
      test(`"${first}" then "${second}" are two orders, each with its sale`, async () => {
        const one = await sale({ orderId: first, totalCost: 10, campaignId: shop });
        assert.equal(one.status, 201, one.text);
        const two = await sale({ orderId: second, totalCost: 20, campaignId: shop });
        assert.equal(two.status, 201, `a different order, not a duplicate: ${two.text}`);
        assert.notEqual(two.body.saleId, one.body.saleId);
        assert.equal(two.body.duplicate, undefined);
        // The same order again is the duplicate of its own sale.
        const again = await sale({ orderId: second, totalCost: 20, campaignId: shop });
        assert.equal(again.status, 200);
        assert.equal(again.body.saleId, two.body.saleId);
      });
    }

    test('a refund by order id refunds exactly that order', async () => {
      await sale({ orderId: 'Refund-Me', totalCost: 100, campaignId: shop });
      const other = await sale({ orderId: 'refund-me', totalCost: 50, campaignId: shop });
      const res = await a.post(`/sales/refund-me/refund`, { type: 'refund' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.saleId, other.body.saleId);
      assert.equal(res.body.amount, 50);
    });
  });

  describe('clicks, visitors and conversions', () => {
    async function clickSubid(): Promise<string> {
      const res = await request(app.url, 'GET', '/exact-paid', {
        headers: { 'user-agent': CHROME, 'x-forwarded-for': `10.44.0.${++ip}` },
      });
      assert.equal(res.status, 302, res.text);
      return new URL(res.headers.get('location')!).searchParams.get('s')!;
    }

    test('a postback naming a subid in another case finds no click', async () => {
      const subid = await clickSubid();
      assert.match(subid, /[a-z]/i);
      const wrong = await request(app.url, 'GET', `/postback/${key}?subid=${swapCase(subid)}&payout=1`);
      assert.equal(wrong.status, 404, wrong.text);
      const right = await request(app.url, 'GET', `/postback/${key}?subid=${subid}&payout=1`);
      assert.equal(right.status, 200, right.text);
    });

    test('tids that differ only in case are two conversions', async () => {
      const subid = await clickSubid();
      const first = await request(app.url, 'GET', `/postback/${key}?subid=${subid}&status=rebill&payout=2&tid=Tx-A`);
      const second = await request(app.url, 'GET', `/postback/${key}?subid=${subid}&status=rebill&payout=3&tid=tx-a`);
      assert.equal(first.status, 200, first.text);
      assert.equal(second.status, 200, second.text);
      assert.equal(second.body.duplicate, false);
      assert.notEqual(second.body.conversionId, first.body.conversionId);
    });

    test("a visitor id in another case is another visitor: the sale is not the first visitor's", async () => {
      const click = await request(app.url, 'POST', '/t/click', {
        body: { url: `https://shop.example/?a_aid=ann&a_cid=${shop}` },
        headers: { 'user-agent': CHROME },
      });
      const visitorId = click.body.visitorId as string;
      assert.match(visitorId, /[a-z]/i);
      const stranger = await sale({ orderId: 'V-1', totalCost: 5, visitorId: swapCase(visitorId) });
      assert.equal(stranger.status, 201, stranger.text);
      assert.equal(stranger.body.affiliateId, null, stranger.text);
      const same = await sale({ orderId: 'V-2', totalCost: 5, visitorId });
      assert.equal(same.body.affiliateId, ann);
      assert.equal(same.body.matchedBy, 'cookie');
    });

    test('product ids that differ only in case are two products', async () => {
      const upper = created(await a.post('/campaigns', { name: 'Upper', productIds: ['SKU-Z', 'sku-z'] }), 'campaign');
      const res = await sale({ orderId: 'P-1', totalCost: 5, productId: 'sku-z' });
      assert.equal(res.body.campaignId, upper);
      assert.equal(res.body.matchedBy, 'product');
      const stored = await a.get(`/campaigns/${upper}`);
      assert.deepEqual([...stored.body.productIds].sort(), ['SKU-Z', 'sku-z']);
    });
  });

  describe('what compares without case, the same on both', () => {
    test('coupon codes', async () => {
      created(await a.post('/coupons', { code: 'SPRING', affiliateId: ann, campaignId: shop }), 'coupon');
      const dup = await a.post('/coupons', { code: 'spring', affiliateId: ann, campaignId: shop });
      assert.ok(dup.status === 409 || dup.status === 422, dup.text);
      const res = await sale({ orderId: 'C-1', totalCost: 5, coupon: 'Spring' });
      assert.equal(res.body.matchedBy, 'coupon');
      assert.equal(res.body.affiliateId, ann);
    });

    test('campaign aliases', async () => {
      created(await a.post('/campaigns', { name: 'Promo', alias: 'Promo' }), 'campaign');
      assertFieldError(await a.post('/campaigns', { name: 'promo', alias: 'promo' }), 'alias');
    });

    test('domain hosts', async () => {
      created(await a.post('/domains', { host: 'Track.Example.com' }), 'domain');
      const dup = await a.post('/domains', { host: 'track.example.COM' });
      assertFieldError(dup, 'host');
    });

    test('account e-mail addresses', async () => {
      const res = await a.post('/users', {
        email: 'Mia.Manager@Example.com',
        password: 'manager-password-1',
        role: 'manager',
      });
      assert.equal(res.status, 201, res.text);
      assert.ok(await tokenFor(app.url, 'mia.manager@example.COM', 'manager-password-1'));
      const dup = await a.post('/users', {
        email: 'MIA.manager@example.com',
        password: 'manager-password-2',
        role: 'manager',
      });
      assertFieldError(dup, 'email');
    });

    test('refIds are unique without case', async () => {
      assertFieldError(await a.post('/affiliates', { name: 'ANN', email: 'ann2@example.com', refId: 'ANN' }), 'refId');
    });
  });
});
