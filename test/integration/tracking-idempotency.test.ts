import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import { approvedAffiliate, campaignWithPayout } from '../helpers/programme.js';

type Api = ReturnType<typeof api>;

describe('duplicate orders (SPEC §5.4)', () => {
  let app: TestApp;
  let a: Api;
  let shoes: number;
  let hats: number;
  let ann: number;

  const sale = (body: unknown) => request(app.url, 'POST', '/t/sale', { body, headers: { 'user-agent': CHROME } });
  const rowsOf = (campaignId: number, orderId: string) =>
    app.services.db('sales').where({ campaign_id: campaignId, order_id: orderId }).orderBy('id') as Promise<
      Array<{
        id: number | string;
        status: string;
        duplicate_of: number | string | null;
        order_key: string | null;
        decline_reason: string | null;
      }>
    >;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    shoes = created(await a.post('/campaigns', { name: 'Shoes', productIds: ['sku-shoe', 'sku-tie'] }), 'campaign');
    hats = created(await a.post('/campaigns', { name: 'Hats', productIds: ['sku-tie'] }), 'campaign');
    ann = created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
    created(await a.post('/coupons', { code: 'SPRING', affiliateId: ann, campaignId: shoes }), 'coupon');
  });
  after(async () => {
    await app.close();
  });

  test('50 concurrent posts of one order → exactly one sale, the same saleId everywhere', async () => {
    const body = { orderId: 'CONC-1', totalCost: 120.5, coupon: 'SPRING' };
    const results = await Promise.all(Array.from({ length: 50 }, () => sale(body)));
    for (const r of results) assert.ok(r.status === 200 || r.status === 201, `${r.status} ${r.text}`);
    const ids = new Set(results.map((r) => r.body.saleId));
    assert.equal(ids.size, 1, `saleIds: ${[...ids].join(', ')}`);
    assert.equal(results.filter((r) => r.status === 201).length, 1, 'one request created it');
    assert.equal(results.filter((r) => r.body.duplicate === true).length, 49);
    for (const r of results) {
      assert.equal(r.body.campaignId, shoes);
      assert.equal(r.body.affiliateId, ann);
      assert.equal(r.body.matchedBy, 'coupon');
    }
    const rows = await rowsOf(shoes, 'CONC-1');
    assert.equal(rows.length, 1);
    assert.equal(Number(rows[0]?.id), [...ids][0]);
  });

  test('50 concurrent posts matched by a random product tie also store one sale', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => sale({ orderId: 'CONC-2', totalCost: 10, productId: 'sku-tie' })),
    );
    const ids = new Set(results.map((r) => r.body.saleId));
    assert.equal(ids.size, 1, 'the tie-break is seeded by the order, so retries pick the same campaign');
    const campaignId = results[0]?.body.campaignId as number;
    assert.ok([shoes, hats].includes(campaignId));
    assert.equal((await rowsOf(campaignId, 'CONC-2')).length, 1);
    assert.equal((await rowsOf(campaignId === shoes ? hats : shoes, 'CONC-2')).length, 0);
  });

  test('a repeat answers the original result (duplicate: true) and creates nothing', async () => {
    const first = await sale({ orderId: 'REPEAT-1', totalCost: 30, coupon: 'SPRING' });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.duplicate, undefined);
    const again = await sale({ orderId: 'REPEAT-1', totalCost: 9999, coupon: 'spring', data1: 'changed' });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.saleId, first.body.saleId);
    assert.equal(again.body.matchedBy, first.body.matchedBy);
    assert.equal(again.body.campaignId, first.body.campaignId);
    assert.equal(again.body.affiliateId, first.body.affiliateId);
    assert.equal(again.body.status, first.body.status);
    assert.deepEqual(again.body.commissions, first.body.commissions);
    const rows = await rowsOf(shoes, 'REPEAT-1');
    assert.equal(rows.length, 1);
    assert.equal((await a.get(`/sales/${first.body.saleId}`)).body.totalCost, 30, 'the original is unchanged');
    // The same order through the API is the same order.
    const api2 = await a.post('/sales', { orderId: 'REPEAT-1', totalCost: 30, coupon: 'SPRING' });
    assert.equal(api2.status, 200, api2.text);
    assert.equal(api2.body.saleId, first.body.saleId);
  });

  test('the same orderId in another campaign, or as an action, is another event', async () => {
    const inShoes = await sale({ orderId: 'SHARED-1', totalCost: 5, campaignId: shoes });
    const inHats = await sale({ orderId: 'SHARED-1', totalCost: 5, campaignId: hats });
    assert.equal(inShoes.status, 201);
    assert.equal(inHats.status, 201);
    assert.notEqual(inShoes.body.saleId, inHats.body.saleId);
    const act = await request(app.url, 'POST', '/t/action', {
      body: { actionCode: 'signup', orderId: 'SHARED-1', campaignId: shoes },
    });
    assert.equal(act.status, 201, act.text);
    const act2 = await request(app.url, 'POST', '/t/action', {
      body: { actionCode: 'signup', orderId: 'SHARED-1', campaignId: shoes },
    });
    assert.equal(act2.status, 200);
    assert.equal(act2.body.duplicate, true);
    assert.equal(act2.body.saleId, act.body.saleId);
    const lead = await request(app.url, 'POST', '/t/action', {
      body: { actionCode: 'lead', orderId: 'SHARED-1', campaignId: shoes },
    });
    assert.equal(lead.status, 201);
    assert.notEqual(lead.body.saleId, act.body.saleId);
  });

  test("duplicateOrders = 'decline': a repeat also stores a declined copy pointing at the original", async () => {
    const patched = await a.patch('/settings', { duplicateOrders: 'decline' });
    assert.equal(patched.status, 200, patched.text);
    try {
      const first = await sale({ orderId: 'AUDIT-1', totalCost: 40, campaignId: shoes });
      assert.equal(first.status, 201, first.text);
      const again = await sale({ orderId: 'AUDIT-1', totalCost: 40, campaignId: shoes });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.duplicate, true);
      assert.equal(again.body.saleId, first.body.saleId, 'the answer is still the original');
      const rows = await rowsOf(shoes, 'AUDIT-1');
      assert.equal(rows.length, 2);
      const copy = rows.find((r) => Number(r.id) !== first.body.saleId);
      assert.equal(copy?.status, 'declined');
      assert.equal(Number(copy?.duplicate_of), first.body.saleId);
      assert.equal(copy?.order_key, null);
      assert.match(copy?.decline_reason ?? '', new RegExp(`duplicate of sale ${first.body.saleId}`));
      const listed = await a.get('/sales?orderId=AUDIT-1');
      assert.equal(listed.body.pagination.total, 2);
      assert.ok(
        (listed.body.data as Array<{ duplicateOf: number | null }>).some((s) => s.duplicateOf === first.body.saleId),
      );

      // Concurrent repeats: still one real sale; each repeat is logged as a declined copy.
      const burst = await Promise.all(
        Array.from({ length: 10 }, () => sale({ orderId: 'AUDIT-2', totalCost: 1, campaignId: shoes })),
      );
      assert.equal(new Set(burst.map((r) => r.body.saleId)).size, 1);
      const auditRows = await rowsOf(shoes, 'AUDIT-2');
      assert.equal(auditRows.filter((r) => r.duplicate_of === null).length, 1);
      assert.equal(auditRows.filter((r) => r.duplicate_of !== null && r.status === 'declined').length, 9);
    } finally {
      await a.patch('/settings', { duplicateOrders: 'ignore' });
    }
    const later = await sale({ orderId: 'AUDIT-1', totalCost: 40, campaignId: shoes });
    assert.equal(later.body.duplicate, true);
    assert.equal((await rowsOf(shoes, 'AUDIT-1')).length, 2, "back to 'ignore': no more copies");
  });

  test('a retry of a stored order is answered with it even when a fraud rule would drop the request', async () => {
    assert.equal((await a.patch('/plugins/fraud-protection', { active: true })).status, 200);
    assert.equal(
      (await a.patch('/settings', { fraud: { duplicateOrderSeconds: 600, duplicateOrderAction: 'drop' } })).status,
      200,
    );
    const droppedSales = async () =>
      (
        (await app.services.db('dropped_counts').where({ kind: 'sale', reason: 'duplicateOrder' })) as Array<{
          count: number | string;
        }>
      ).reduce((n, r) => n + Number(r.count), 0);
    try {
      const ip = { 'x-forwarded-for': '203.0.113.44', 'user-agent': CHROME };
      const first = await request(app.url, 'POST', '/t/sale', {
        body: { orderId: 'FRAUD-1', totalCost: 10, campaignId: shoes },
        headers: ip,
      });
      assert.equal(first.status, 201, first.text);
      const retry = await request(app.url, 'POST', '/t/sale', {
        body: { orderId: 'FRAUD-1', totalCost: 10, campaignId: shoes },
        headers: ip,
      });
      assert.equal(retry.status, 200, retry.text);
      assert.equal(retry.body.duplicate, true);
      assert.equal(retry.body.saleId, first.body.saleId);
      assert.equal(retry.body.status, first.body.status);
      // Another order from the same IP within the window is dropped: not stored, counted.
      const before = await droppedSales();
      const other = await request(app.url, 'POST', '/t/sale', {
        body: { orderId: 'FRAUD-2', totalCost: 10, campaignId: shoes },
        headers: ip,
      });
      assert.equal(other.status, 200, other.text);
      assert.equal(other.body.saleId, null);
      assert.equal(other.body.status, 'declined');
      assert.equal((await rowsOf(shoes, 'FRAUD-2')).length, 0);
      assert.equal(await droppedSales(), before + 1);
    } finally {
      await a.patch('/settings', { fraud: { duplicateOrderSeconds: 0 } });
      await a.patch('/plugins/fraud-protection', { active: false });
    }
  });

  test('a sale that fails after its insert undoes only itself: the rest of its batch is stored once, with its commissions and rollups', async () => {
    const socks = await campaignWithPayout(a, { name: 'Socks', productIds: ['sku-sock'] });
    const bob = await approvedAffiliate(a, 'Bob', 'bob');
    created(await a.post('/coupons', { code: 'SOCKS', affiliateId: bob, campaignId: socks }), 'coupon');
    // The commission listener fails on one commission (10% of 66.60), after its sale was inserted.
    const outbox = app.services.outbox;
    const listener = outbox.onEvent;
    outbox.onEvent = async (trx, event, payload) => {
      if ((payload.commission as { amount?: number } | undefined)?.amount === 6.66) throw new Error('refused');
      await listener?.(trx, event, payload);
    };
    try {
      const orders: Array<[string, number]> = [
        ['BATCH-0', 10],
        ['BATCH-1', 66.6],
        ['BATCH-2', 20],
        ['BATCH-0', 10],
      ];
      // Sent together, so they share the writer's batches.
      const results = await Promise.all(
        orders.map(([orderId, totalCost]) => sale({ orderId, totalCost, coupon: 'SOCKS' })),
      );
      const of = (orderId: string) => results.filter((_, i) => orders[i]![0] === orderId);
      assert.deepEqual(
        of('BATCH-0')
          .map((r) => r.status)
          .sort(),
        [200, 201],
        of('BATCH-0')
          .map((r) => r.text)
          .join(),
      );
      assert.equal(of('BATCH-0').filter((r) => r.body.duplicate === true).length, 1);
      assert.ok(of('BATCH-1')[0]!.status >= 500, of('BATCH-1')[0]!.text);
      assert.equal(of('BATCH-2')[0]!.status, 201, of('BATCH-2')[0]!.text);
      assert.equal((await rowsOf(socks, 'BATCH-0')).length, 1);
      assert.equal((await rowsOf(socks, 'BATCH-1')).length, 0, 'nothing of the failed sale is kept');
      assert.equal((await rowsOf(socks, 'BATCH-2')).length, 1);
      const commissions = (await app.services.db('commissions').where({ campaign_id: socks })) as Array<{
        sale_id: number | string;
        amount: number | string;
      }>;
      const saleIds = [of('BATCH-0').find((r) => r.status === 201)!.body.saleId, of('BATCH-2')[0]!.body.saleId];
      assert.deepEqual(commissions.map((c) => Number(c.sale_id)).sort(), saleIds.map(Number).sort());
      const stats = (await app.services.db('daily_stats').where({ campaign_id: socks })) as Array<
        Record<string, number | string>
      >;
      const sum = (column: string) => stats.reduce((n, r) => n + Number(r[column]), 0);
      assert.equal(sum('sales'), 2, 'the rollup counts the two stored sales once each');
      assert.equal(
        sum('commissions'),
        commissions.reduce((n, c) => n + Number(c.amount), 0),
      );
      assert.equal(sum('revenue'), (10 + 20) * 10_000);
    } finally {
      outbox.onEvent = listener;
    }
  });
});
