import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import { approvedAffiliate } from '../helpers/programme.js';

/*
 * SPEC §14 / issue 9.3: amounts in macros — offer and landing URLs, source postbacks, affiliate
 * postbacks — print with up to 4 decimals and no trailing zeros (`12.345`, `10`), never rounded
 * to 2 places or padded to 4.
 */

type Api = ReturnType<typeof api>;

describe(`amounts in macros (SPEC §14) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let key: string;
  let ip = 0;

  const outboxUrls = async (channel: string) =>
    ((await app.services.db('outbox').where({ channel }).orderBy('id')) as Array<{ url: string }>).map((r) => r.url);
  const visit = async (path: string) => {
    const res = await request(app.url, 'GET', path, {
      headers: { 'user-agent': CHROME, 'x-forwarded-for': `10.55.0.${++ip}` },
    });
    assert.equal(res.status, 302, res.text);
    return new URL(res.headers.get('location')!);
  };

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    key = app.services.settings.get().postbackKey;
    const source = created(
      await a.post('/sources', {
        name: 'Net',
        params: {},
        postbackUrl: 'https://net.example/pb?p={payout}&r={revenue}',
      }),
      'source',
    );
    const offers = (id: number) =>
      a.post(`/campaigns/${id}/flows`, {
        name: 'Offer',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}&cost={cost}', weight: 100 }],
      });
    const cpc = created(
      await a.post('/campaigns', { name: 'CPC', alias: 'cpc', sourceId: source, costModel: 'CPC', costValue: 0.08 }),
      'campaign',
    );
    created(await offers(cpc), 'flow');
    const whole = created(
      await a.post('/campaigns', { name: 'Whole', alias: 'whole', costModel: 'CPC', costValue: 10 }),
      'campaign',
    );
    created(await offers(whole), 'flow');
    const landing = created(
      await a.post('/campaigns', { name: 'Landing', alias: 'landing', costModel: 'CPC', costValue: 1.5 }),
      'campaign',
    );
    created(
      await a.post(`/campaigns/${landing}/flows`, {
        name: 'LP',
        type: 'default',
        landings: [{ url: 'https://lp.example/?s={subid}&cost={cost}', weight: 100 }],
        offers: [{ url: 'https://offer.example/lp?s={subid}&cost={cost}', weight: 100 }],
      }),
      'flow',
    );
    // An affiliate paid a fixed 1.2345 per sale, told by its postback URL.
    const shop = created(
      await a.post('/campaigns', { name: 'Shop', productIds: ['sku-1'], approval: 'auto' }),
      'campaign',
    );
    created(
      await a.post(`/campaigns/${shop}/payouts`, {
        kind: 'general',
        title: 'Fixed',
        type: 'CPS',
        affiliateCommission: { value: 1.2345, unit: 'fixed' },
      }),
      'payout',
    );
    await approvedAffiliate(a, 'Pat', 'pat', { postbackUrl: 'https://pat.example/pb?c={commission}&a={amount}' });
  });
  after(async () => {
    await app?.close();
  });

  test('{cost} in an offer URL: 0.08 and 10, not 0.0800 and 10.0000', async () => {
    assert.equal((await visit('/cpc')).searchParams.get('cost'), '0.08');
    assert.equal((await visit('/whole')).searchParams.get('cost'), '10');
  });

  test('{cost} in a landing URL and in the offer URL after the landing', async () => {
    const lp = await visit('/landing');
    assert.equal(lp.searchParams.get('cost'), '1.5');
    const offer = await request(app.url, 'GET', `/lp/offer?subid=${lp.searchParams.get('s')}`);
    assert.equal(offer.status, 302, offer.text);
    assert.equal(new URL(offer.headers.get('location')!).searchParams.get('cost'), '1.5');
  });

  test('a source postback repeats payout=12.345 as 12.345 and 10 as 10', async () => {
    for (const [payout, expected] of [
      ['12.345', '12.345'],
      ['10', '10'],
      ['0.0001', '0.0001'],
    ]) {
      const subid = (await visit('/cpc')).searchParams.get('s')!;
      const res = await request(app.url, 'GET', `/postback/${key}?subid=${subid}&payout=${payout}`);
      assert.equal(res.status, 200, res.text);
      const urls = await outboxUrls('source_postback');
      assert.equal(urls.at(-1), `https://net.example/pb?p=${expected}&r=${expected}`);
    }
  });

  test('an affiliate postback carries a commission of 1.2345 as 1.2345', async () => {
    const click = await request(app.url, 'POST', '/t/click', { body: { url: 'https://shop.example/?a_aid=pat' } });
    const sale = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: 'MAC-1', totalCost: 99, productId: 'sku-1', visitorId: click.body.visitorId },
    });
    assert.equal(sale.status, 201, sale.text);
    assert.equal(sale.body.commissions[0]?.amount, 1.2345, sale.text);
    assert.equal((await outboxUrls('affiliate_postback')).at(-1), 'https://pat.example/pb?c=1.2345&a=1.2345');
  });
});
