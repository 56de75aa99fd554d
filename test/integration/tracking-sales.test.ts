import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { sign } from '../../server/services/signature.js';
import { created } from '../helpers/assert.js';

type Api = ReturnType<typeof api>;

const SHOP = 'https://shop.example/landing';

function assertFieldError(res: JsonResponse, field: string): void {
  assert.equal(res.status, 422, `expected 422 naming ${field}, got ${res.status}: ${res.text.slice(0, 300)}`);
  assert.equal(res.body.error.code, 'validation_failed');
  const fields = (res.body.error.details as Array<{ field: string }>).map((d) => d.field);
  assert.ok(fields.includes(field), `expected a detail for "${field}", got ${JSON.stringify(fields)}`);
  assert.ok(String(res.body.error.message).includes(field), res.body.error.message);
}

let orderSeq = 0;
const nextOrder = (prefix = 'ORD') => `${prefix}-${process.pid}-${++orderSeq}`;

describe('POST /t/sale, /t/action and /api/v1/sales (SPEC §4.2, §5.2, §5.3)', () => {
  let app: TestApp;
  let a: Api;
  let defaultCampaign: number;
  let shoes: number;
  let hats: number;
  let privateShared: number;
  let publicShared: number;
  let hatBanner: number;
  let ann: number;
  let bob: number;
  let hatsSecret: string;

  const sale = (body: unknown, headers: Record<string, string> = {}) =>
    request(app.url, 'POST', '/t/sale', { body, headers: { 'user-agent': CHROME, ...headers } });
  const action = (body: unknown) => request(app.url, 'POST', '/t/action', { body, headers: { 'user-agent': CHROME } });
  const salesTotal = async () => (await a.get('/sales')).body.pagination.total as number;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    defaultCampaign = (
      (await a.get('/campaigns?perPage=200')).body.data as Array<{ id: number; isDefault: boolean }>
    ).find((c) => c.isDefault)!.id;
    shoes = created(await a.post('/campaigns', { name: 'Shoes', productIds: ['sku-shoe'] }), 'campaign');
    hats = created(await a.post('/campaigns', { name: 'Hats', productIds: ['sku-hat'], approval: 'auto' }), 'campaign');
    privateShared = created(
      await a.post('/campaigns', { name: 'VIP', type: 'private', productIds: ['sku-shared'] }),
      'campaign',
    );
    publicShared = created(
      await a.post('/campaigns', { name: 'Everyone', type: 'public', productIds: ['sku-shared'] }),
      'campaign',
    );
    hatBanner = created(await a.post('/banners', { campaignId: hats, name: 'Hat banner', type: 'link' }), 'banner');
    ann = created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
    bob = created(await a.post('/affiliates', { name: 'Bob', email: 'bob@example.com', refId: 'bob' }), 'affiliate');
    created(await a.post('/coupons', { code: 'SPRING', affiliateId: ann, campaignId: shoes }), 'coupon');
    created(await a.post('/coupons', { code: 'BOBONLY', affiliateId: bob }), 'coupon');
    hatsSecret = (await a.get(`/campaigns/${hats}`)).body.secretKey as string;
    assert.equal(typeof hatsSecret, 'string');
  });
  after(async () => {
    await app.close();
  });

  test('the response is { saleId, matchedBy, campaignId, affiliateId, commissions: [], status }', async () => {
    const res = await sale({ orderId: nextOrder(), totalCost: 50 });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), [
      'affiliateId',
      'campaignId',
      'commissions',
      'matchedBy',
      'saleId',
      'status',
    ]);
    assert.equal(typeof res.body.saleId, 'number');
    assert.equal(res.body.matchedBy, 'default');
    assert.equal(res.body.campaignId, defaultCampaign);
    assert.equal(res.body.affiliateId, null);
    assert.deepEqual(res.body.commissions, []);
    assert.equal(res.body.status, 'pending', 'defaultApproval manual');
  });

  test('attributed by the visitor cookie after a click (matchedBy cookie)', async () => {
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `${SHOP}?a_aid=ann&a_cid=${hats}` },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(click.body.status, 'unique', click.text);
    const vid = click.body.visitorId as string;
    const byBody = await sale({ orderId: nextOrder(), totalCost: 20, visitorId: vid });
    assert.equal(byBody.status, 201, byBody.text);
    assert.equal(byBody.body.matchedBy, 'cookie');
    assert.equal(byBody.body.campaignId, hats);
    assert.equal(byBody.body.affiliateId, ann);
    assert.equal(byBody.body.status, 'approved', "the campaign's auto approval");
    const byCookie = await sale({ orderId: nextOrder(), totalCost: 20 }, { cookie: `affix_vid=${vid}` });
    assert.equal(byCookie.body.matchedBy, 'cookie');
    assert.equal(byCookie.body.affiliateId, ann);
    const stored = await a.get(`/sales/${byCookie.body.saleId}`);
    assert.equal(stored.body.visitorId, vid);
  });

  test('attributed by coupon (case-insensitive) to its campaign and affiliate', async () => {
    const res = await sale({ orderId: nextOrder(), totalCost: 120.5, coupon: 'spring', productId: 'sku-hat' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.matchedBy, 'coupon');
    assert.equal(res.body.campaignId, shoes);
    assert.equal(res.body.affiliateId, ann);
  });

  test('a coupon without campaign attributes only the affiliate', async () => {
    const res = await sale({ orderId: nextOrder(), totalCost: 10, coupon: 'BOBONLY', productId: 'sku-hat' });
    assert.equal(res.body.matchedBy, 'product');
    assert.equal(res.body.campaignId, hats);
    assert.equal(res.body.affiliateId, bob);
  });

  test('attributed by productId (also in items), private before public', async () => {
    const one = await sale({ orderId: nextOrder(), totalCost: 10, productId: 'sku-shoe' });
    assert.equal(one.body.matchedBy, 'product');
    assert.equal(one.body.campaignId, shoes);
    const items = await sale({
      orderId: nextOrder(),
      totalCost: 10,
      items: [{ productId: 'unknown' }, { productId: 'sku-hat', totalCost: 10 }].map((i) => ({ totalCost: 5, ...i })),
    });
    assert.equal(items.status, 201, items.text);
    assert.equal(items.body.matchedBy, 'product');
    assert.equal(items.body.campaignId, hats);
    for (let i = 0; i < 5; i++) {
      const shared = await sale({ orderId: nextOrder(), totalCost: 10, productId: 'sku-shared' });
      assert.equal(shared.body.campaignId, privateShared, 'the private campaign ranks first');
    }
    assert.notEqual(publicShared, privateShared);
  });

  test('attributed by bannerId, by campaignId, else the default campaign', async () => {
    const banner = await sale({
      orderId: nextOrder(),
      totalCost: 10,
      bannerId: hatBanner,
      campaignId: shoes,
      productId: 'sku-shoe',
    });
    assert.equal(banner.body.matchedBy, 'banner');
    assert.equal(banner.body.campaignId, hats);
    const campaign = await sale({
      orderId: nextOrder(),
      totalCost: 10,
      campaignId: String(shoes),
      productId: 'sku-hat',
    });
    assert.equal(campaign.body.matchedBy, 'campaign');
    assert.equal(campaign.body.campaignId, shoes);
    const fallback = await sale({ orderId: nextOrder(), totalCost: 10, productId: 'nothing-lists-this' });
    assert.equal(fallback.body.matchedBy, 'default');
    assert.equal(fallback.body.campaignId, defaultCampaign);
    assert.equal(fallback.body.affiliateId, null);
  });

  test('an unknown currency → 422 naming currency; a malformed one too', async () => {
    assertFieldError(await sale({ orderId: nextOrder(), totalCost: 10, currency: 'XYZ' }), 'currency');
    assertFieldError(await sale({ orderId: nextOrder(), totalCost: 10, currency: '12' }), 'currency');
    assertFieldError(await sale({ orderId: nextOrder(), totalCost: 10, currency: { code: 'EUR' } }), 'currency');
  });

  test('a known currency converts to the base currency (100 EUR at 1.1 → 110)', async () => {
    const patched = await a.patch('/settings', { exchangeRates: { EUR: 1.1 } });
    assert.equal(patched.status, 200, patched.text);
    const res = await sale({ orderId: nextOrder(), totalCost: 100, currency: 'eur' });
    assert.equal(res.status, 201, res.text);
    const stored = await a.get(`/sales/${res.body.saleId}`);
    assert.equal(stored.status, 200, stored.text);
    assert.equal(stored.body.currency, 'EUR');
    assert.equal(stored.body.totalCost, 100);
    assert.equal(stored.body.totalCostBase, 110);
    assert.equal(stored.body.exchangeRate, 1.1);
    const usd = await sale({ orderId: nextOrder(), totalCost: 19.99 });
    assert.equal((await a.get(`/sales/${usd.body.saleId}`)).body.totalCostBase, 19.99);
  });

  test('essential fields: missing orderId, action without actionCode, bad amounts → 422', async () => {
    assertFieldError(await sale({ totalCost: 10 }), 'orderId');
    assertFieldError(await sale({ orderId: '   ', totalCost: 10 }), 'orderId');
    assertFieldError(await sale({ orderId: { $ne: null }, totalCost: 10 }), 'orderId');
    assertFieldError(await action({ orderId: nextOrder() }), 'actionCode');
    assertFieldError(await action({ actionCode: 'sign up!' }), 'actionCode');
    assertFieldError(await sale({ orderId: nextOrder(), totalCost: -5 }), 'totalCost');
    assertFieldError(await sale({ orderId: nextOrder(), totalCost: 'lots' }), 'totalCost');
    const body = await request(app.url, 'POST', '/t/sale', { raw: '[1,2]' });
    assert.equal(body.status, 422, body.text);
    const bad = await request(app.url, 'POST', '/t/sale', { raw: '{"orderId": ' });
    assert.equal(bad.status, 400, bad.text);
  });

  test('POST /t/action records an action', async () => {
    const res = await action({ actionCode: 'signup', orderId: nextOrder('U'), campaignId: shoes });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.campaignId, shoes);
    const stored = await a.get(`/sales/${res.body.saleId}`);
    assert.equal(stored.body.kind, 'action');
    assert.equal(stored.body.actionCode, 'signup');
    const noOrder = await action({ actionCode: 'newsletter' });
    assert.equal(noOrder.status, 201, noOrder.text);
  });

  test('bad optional fields are dropped with warnings; the sale is stored', async () => {
    const res = await sale({
      orderId: nextOrder(),
      totalCost: 30,
      data1: { nested: true },
      data2: 'kept',
      productId: ['sku-shoe'],
      bannerId: 'abc',
      visitorId: 'short',
      channel: 'x'.repeat(500),
      coupon: { code: 'SPRING' },
    });
    assert.equal(res.status, 201, res.text);
    const fields = (res.body.warnings as Array<{ field: string; message: string }>).map((w) => w.field).sort();
    assert.deepEqual(fields, ['bannerId', 'channel', 'coupon', 'data1', 'productId', 'visitorId']);
    const stored = await a.get(`/sales/${res.body.saleId}`);
    assert.equal(stored.body.productId, null);
    assert.deepEqual(stored.body.data, { data2: 'kept' });
    assert.equal(stored.body.totalCost, 30);
    assert.ok(
      (stored.body.trace.notes as string[]).some((n) => n.startsWith('data1 ')),
      'the trace notes the dropped field',
    );
  });

  test('an unknown field nested thousands deep is dropped with a warning; the sale or action is stored', async () => {
    // 10,000 levels in 20 kB: well under the body limit, deeper than a recursive copy can go.
    const deep = '['.repeat(10_000) + '1' + ']'.repeat(10_000);
    const post = (path: string, raw: string, token?: string) =>
      request(app.url, 'POST', path, { raw, token, headers: { 'user-agent': CHROME } });
    const order = nextOrder();
    const res = await post(
      '/t/sale',
      `{"orderId":"${order}","totalCost":5,"x":${deep},"items":[{"productId":"a","totalCost":5,"y":${deep}}]}`,
    );
    assert.equal(res.status, 201, res.text);
    const fields = (res.body.warnings as Array<{ field: string }>).map((w) => w.field).sort();
    assert.deepEqual(fields, ['items.0.y', 'x']);
    assert.equal((await a.get(`/sales/${res.body.saleId}`)).body.totalCost, 5);
    const act = await post('/t/action', `{"actionCode":"lead","orderId":"${nextOrder()}","x":${deep}}`);
    assert.equal(act.status, 201, act.text);
    assert.deepEqual(
      (act.body.warnings as Array<{ field: string }>).map((w) => w.field),
      ['x'],
    );
    // The server-to-server endpoint refuses unknown fields, however deep their value.
    const before = await salesTotal();
    const token = await tokenFor(app.url, OWNER.email, OWNER.password);
    assertFieldError(await post('/api/v1/sales', `{"orderId":"${nextOrder()}","totalCost":5,"x":${deep}}`, token), 'x');
    assert.equal(await salesTotal(), before);
  });

  test('`status` is ignored on /t/sale with a warning', async () => {
    const res = await sale({ orderId: nextOrder(), totalCost: 10, status: 'approved', campaignId: shoes });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, 'pending');
    assert.ok((res.body.warnings as Array<{ field: string }>).some((w) => w.field === 'status'));
    // Ignored means ignored: a value that would be invalid on a signed request does not reject the sale.
    for (const status of ['paid', { $ne: 1 }]) {
      const odd = await sale({ orderId: nextOrder(), totalCost: 10, status, campaignId: shoes });
      assert.equal(odd.status, 201, odd.text);
      assert.equal(odd.body.status, 'pending');
      assert.ok((odd.body.warnings as Array<{ field: string }>).some((w) => w.field === 'status'));
    }
  });

  test('an explicit affiliateId is honoured only when signed', async () => {
    const unsigned = await sale({ orderId: nextOrder(), totalCost: 10, affiliateId: 'bob', campaignId: shoes });
    assert.equal(unsigned.status, 201, unsigned.text);
    assert.equal(unsigned.body.affiliateId, null);
    const signed = await a.post('/sales', {
      orderId: nextOrder(),
      totalCost: 10,
      affiliateId: 'bob',
      campaignId: shoes,
    });
    assert.equal(signed.status, 201, signed.text);
    assert.equal(signed.body.affiliateId, bob);
    const byId = await a.post('/sales', { orderId: nextOrder(), totalCost: 10, affiliateId: String(ann) });
    assert.equal(byId.body.affiliateId, ann);
    const unknown = await a.post('/sales', {
      orderId: nextOrder(),
      totalCost: 10,
      affiliateId: 'ghost',
      campaignId: shoes,
    });
    assert.equal(unknown.status, 201, unknown.text);
    assert.equal(unknown.body.status, 'declined');
    assert.match(unknown.body.declineReason, /unknown affiliate/);
  });

  test('POST /api/v1/sales with the owner token honours status; /api/v1/actions too', async () => {
    const res = await a.post('/sales', { orderId: nextOrder(), totalCost: 10, status: 'approved', campaignId: shoes });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, 'approved');
    assert.equal(res.body.warnings, undefined);
    const declined = await a.post('/sales', { orderId: nextOrder(), totalCost: 10, status: 'declined' });
    assert.equal(declined.body.status, 'declined');
    assertFieldError(await a.post('/sales', { orderId: nextOrder(), totalCost: 10, status: 'paid' }), 'status');
    const act = await a.post('/actions', { actionCode: 'lead', orderId: nextOrder(), status: 'approved' });
    assert.equal(act.status, 201, act.text);
    assert.equal(act.body.status, 'approved');
  });

  describe('X-Affix-Signature', () => {
    const signedPost = (raw: string, header: string, path = '/api/v1/sales') =>
      request(app.url, 'POST', path, { raw, headers: { 'x-affix-signature': header } });
    const unix = () => Math.floor(app.services.clock() / 1000);

    test('a valid signature over the exact raw body honours status and affiliateId', async () => {
      const raw = `{ "orderId": "${nextOrder('S')}", "totalCost": 42.5, "status": "approved",\n  "campaignId": ${hats}, "affiliateId": "bob" }`;
      const res = await signedPost(raw, sign(hatsSecret, raw, unix()));
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, 'approved');
      assert.equal(res.body.affiliateId, bob);
      assert.equal(res.body.campaignId, hats);
      const stored = await a.get(`/sales/${res.body.saleId}`);
      assert.equal(stored.body.source, 'api');
      const act = JSON.stringify({
        actionCode: 'signup',
        orderId: nextOrder('S'),
        campaignId: hats,
        status: 'declined',
      });
      const actRes = await signedPost(act, sign(hatsSecret, act, unix()), '/api/v1/actions');
      assert.equal(actRes.status, 201, actRes.text);
      assert.equal(actRes.body.status, 'declined');
    });

    test('a bad signature → 401', async () => {
      const raw = JSON.stringify({ orderId: nextOrder('S'), totalCost: 10, campaignId: hats });
      const before = await salesTotal();
      const cases = [
        sign('wrong-secret', raw, unix()),
        sign(hatsSecret, raw + ' ', unix()),
        sign(hatsSecret, raw, unix() - 600),
        sign(hatsSecret, raw, unix()).replace('v1=', 'v2='),
        'garbage',
      ];
      for (const header of cases) {
        const res = await signedPost(raw, header);
        assert.equal(res.status, 401, `${header}: ${res.status} ${res.text}`);
        assert.equal(res.body.error.code, 'unauthorized');
      }
      // The signed body must be the one sent: re-serialised JSON does not verify.
      const tampered = await signedPost(
        JSON.stringify({ ...JSON.parse(raw), totalCost: 1000 }),
        sign(hatsSecret, raw, unix()),
      );
      assert.equal(tampered.status, 401);
      const none = await request(app.url, 'POST', '/api/v1/sales', { body: JSON.parse(raw) });
      assert.equal(none.status, 401);
      assert.equal(await salesTotal(), before, 'nothing was stored');
    });

    test('an affiliate token may not record sales', async () => {
      const created = await a.post('/affiliates', {
        name: 'Cy',
        email: 'cy@example.com',
        refId: 'cy',
        password: 'cy-password-123',
      });
      assert.equal(created.status, 201, created.text);
      const token = await tokenFor(app.url, 'cy@example.com', 'cy-password-123');
      const res = await api(app.url, token).post('/sales', { orderId: nextOrder(), totalCost: 10, status: 'approved' });
      assert.equal(res.status, 403, res.text);
    });
  });

  test('POST /api/v1/simulate/sale returns the trace and explanation and saves nothing', async () => {
    const before = await salesTotal();
    const res = await a.post('/simulate/sale', {
      orderId: nextOrder(),
      totalCost: 99,
      coupon: 'SPRING',
      campaignId: hats,
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.saleId, null);
    assert.equal(res.body.matchedBy, 'coupon');
    assert.equal(res.body.campaignId, shoes);
    assert.equal(res.body.affiliateId, ann);
    assert.equal(res.body.trace.matchedBy, 'coupon');
    // Rule 0 (subscription) and rules 1–7 of §5.2.
    assert.ok(Array.isArray(res.body.trace.candidates) && res.body.trace.candidates.length === 8);
    const lines = res.body.explanation as string[];
    assert.ok(
      lines.some((l) => l.includes('coupon SPRING')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.includes('ranks higher')),
      lines.join('\n'),
    );
    assert.equal(await salesTotal(), before);
    // Simulating needs a merchant.
    const anon = await request(app.url, 'POST', '/api/v1/simulate/sale', { body: { orderId: 'x' } });
    assert.equal(anon.status, 401);
    assertFieldError(await a.post('/simulate/sale', { totalCost: 5, currency: 'XYZ', orderId: 'x' }), 'currency');
    assert.equal(await salesTotal(), before);
  });

  test('a simulation picks what the real event picks, for sales and for actions (product ties)', async () => {
    const tieA = created(await a.post('/campaigns', { name: 'Tie A', productIds: ['sku-tie'] }), 'campaign');
    const tieB = created(await a.post('/campaigns', { name: 'Tie B', productIds: ['sku-tie'] }), 'campaign');
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const orderId = nextOrder('TIE');
      const saleBody = { orderId, totalCost: 10, productId: 'sku-tie' };
      const simSale = await a.post('/simulate/sale', saleBody);
      const realSale = await sale(saleBody);
      assert.equal(realSale.status, 201, realSale.text);
      assert.equal(simSale.body.campaignId, realSale.body.campaignId, `sale ${orderId}`);
      const actionBody = { actionCode: 'signup', orderId, productId: 'sku-tie' };
      const simAction = await a.post('/simulate/sale', actionBody);
      assert.equal(simAction.status, 200, simAction.text);
      const realAction = await action(actionBody);
      assert.equal(realAction.status, 201, realAction.text);
      assert.equal(simAction.body.campaignId, realAction.body.campaignId, `action ${orderId}`);
      seen.add(realSale.body.campaignId as number).add(realAction.body.campaignId as number);
    }
    for (const id of seen) assert.ok([tieA, tieB].includes(id));
  });

  test('GET /api/v1/sales lists with trace, explanation and filters', async () => {
    const orderId = nextOrder('LIST');
    const res = await sale({ orderId, totalCost: 77, coupon: 'SPRING' });
    assert.equal(res.status, 201);
    const list = await a.get(`/sales?orderId=${orderId}`);
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.pagination.total, 1);
    const [row] = list.body.data;
    assert.equal(row.id, res.body.saleId);
    assert.equal(row.matchedBy, 'coupon');
    assert.equal(row.trace.matchedBy, 'coupon');
    assert.ok((row.explanation as string[]).some((l) => l.includes('coupon SPRING')));
    // Its own second coupon sale, a sale of Bob's and an action, for the filters below.
    assert.equal((await sale({ orderId: nextOrder('LIST'), totalCost: 5, coupon: 'SPRING' })).status, 201);
    const bobs = await a.post('/sales', {
      orderId: nextOrder('LIST'),
      totalCost: 9,
      campaignId: hats,
      affiliateId: 'bob',
    });
    assert.equal(bobs.status, 201, bobs.text);
    assert.equal((await action({ actionCode: 'signup', orderId: nextOrder('LIST'), campaignId: shoes })).status, 201);
    const byCoupon = await a.get('/sales?matchedBy=coupon&perPage=200');
    assert.ok(byCoupon.body.data.length >= 2);
    assert.ok((byCoupon.body.data as Array<{ matchedBy: string }>).every((s) => s.matchedBy === 'coupon'));
    const byCampaign = await a.get(`/sales?campaignId=${hats}&perPage=200`);
    assert.ok(byCampaign.body.data.length >= 1);
    assert.ok((byCampaign.body.data as Array<{ campaignId: number }>).every((s) => s.campaignId === hats));
    const byAffiliate = await a.get(`/sales?affiliateId=${bob}&perPage=200`);
    assert.ok(byAffiliate.body.data.length >= 1);
    assert.ok((byAffiliate.body.data as Array<{ affiliateId: number }>).every((s) => s.affiliateId === bob));
    const actions = await a.get('/sales?kind=action&perPage=200');
    assert.ok(actions.body.data.length >= 1);
    assert.ok((actions.body.data as Array<{ kind: string }>).every((s) => s.kind === 'action'));
    assert.equal((await a.get('/sales?matchedBy=magic')).status, 422);
    assert.equal((await request(app.url, 'GET', '/api/v1/sales')).status, 401);
  });
});
