import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { api, tokenFor, setupOwner, OWNER, request } from '../helpers/http.js';

/** The worked example of the README ("Payouts and commissions"), so the documentation stays true. */
describe('the README payout example', () => {
  let app: TestApp;
  let owner: ReturnType<typeof api>;
  let shoes: { id: number };

  const order = {
    totalCost: 120,
    fixedCost: 12,
    currency: 'EUR',
    items: [
      { productId: 'sku-1', category: 'boots', totalCost: 100 },
      { productId: 'sku-2', category: 'socks', totalCost: 20 },
    ],
  };

  async function buyThrough(refId: string, orderId: string) {
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=${refId}&a_cid=${shoes.id}` },
    });
    return request(app.url, 'POST', '/t/sale', { body: { ...order, orderId, visitorId: click.body.visitorId } });
  }

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    await owner.patch('/settings', { exchangeRates: { EUR: 1.1 } });
    const ann = (await owner.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' })).body;
    await owner.post('/affiliates', { name: 'Bob', email: 'bob@example.com', refId: 'bob' });
    shoes = (await owner.post('/campaigns', { name: 'Shoes', approval: 'auto' })).body;
    const payouts = [
      { kind: 'general', title: 'Standard 10%', type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } },
      {
        kind: 'general',
        title: 'Boots 15%',
        type: 'CPS',
        affiliateCommission: { value: 15, unit: 'percent' },
        goal: { categories: ['boots'] },
      },
      {
        kind: 'personal',
        title: 'Ann 12%',
        type: 'CPS',
        affiliateCommission: { value: 12, unit: 'percent' },
        affiliateIds: [ann.id],
      },
    ];
    for (const p of payouts) assert.equal((await owner.post(`/campaigns/${shoes.id}/payouts`, p)).status, 201);
  });
  after(() => app.close());

  test('Ann earns 14.256 USD: her personal 12% on each item after its share of the fixed cost', async () => {
    const sale = await buyThrough('ann', 'README-1');
    assert.equal(sale.status, 201, sale.text);
    assert.equal(sale.body.commissions.length, 1);
    assert.equal(sale.body.commissions[0].amount, 14.256);
    assert.equal(sale.body.commissions[0].currency, 'USD');
  });

  test('Bob earns 16.83 USD: the boots goal on sku-1, the standard rate on sku-2', async () => {
    const sale = await buyThrough('bob', 'README-2');
    assert.equal(sale.body.commissions[0].amount, 16.83);
  });
});
