import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor, type Agent } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

/*
 * A sale's status follows its commissions (issue 9.8; README "Sale status"): every approve,
 * decline, payment and refund updates it, and the API, the admin sale page and the sales list
 * show it.
 */

type Api = ReturnType<typeof api>;

interface SaleAnswer {
  saleId: number;
  orderId: string;
  commissions: Array<{ id: number; tier: number; status: string }>;
}

describe(`a sale's status follows its commissions (issue 9.8) on ${dialectName()}`, () => {
  let app: TestApp;
  let owner: Agent;
  let a: Api;
  let manual: number;
  let auto: number;
  let order = 0;

  /** A sale by Ann (whose parent is Bob): a tier-1 and a tier-2 commission. */
  const sale = async (campaignId: number, totalCost = 100): Promise<SaleAnswer> => {
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=ann&a_cid=${campaignId}` },
    });
    const orderId = `S-${++order}`;
    const res = await request(app.url, 'POST', '/t/sale', {
      body: { orderId, totalCost, visitorId: click.body.visitorId },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.commissions.length, 2, res.text);
    return { ...(res.body as SaleAnswer), orderId };
  };
  const statusOf = async (saleId: number) => {
    const res = await a.get(`/sales/${saleId}`);
    assert.equal(res.status, 200, res.text);
    return res.body.status as string;
  };
  const review = async (commissionId: number, action: 'approve' | 'decline') =>
    assert.equal((await a.post(`/commissions/${commissionId}/${action}`, { reason: 'test' })).status, 200);
  const tier = (s: SaleAnswer, n: number) => s.commissions.find((c) => c.tier === n)!.id;
  const payEverythingApproved = async () => {
    const batch = await a.post('/payout-batches', {});
    assert.equal(batch.status, 201, batch.text);
    assert.equal((await a.post(`/payout-batches/${batch.body.id}/mark-paid`)).status, 200);
  };

  before(async () => {
    app = await startTestApp();
    owner = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    assert.equal((await a.patch('/plugins/multi-tier', { active: true })).status, 200);
    const bob = created(await a.post('/affiliates', { name: 'Bob', email: 'bob@example.com', refId: 'bob' }), 'bob');
    created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann', parentId: bob }), 'ann');
    manual = created(await a.post('/campaigns', { name: 'Manual', approval: 'manual' }), 'campaign');
    auto = created(await a.post('/campaigns', { name: 'Auto', approval: 'auto' }), 'campaign');
    for (const id of [manual, auto])
      created(
        await a.post(`/campaigns/${id}/payouts`, {
          kind: 'general',
          title: '10 %',
          type: 'CPS',
          affiliateCommission: { value: 10, unit: 'percent' },
          tiers: [{ value: 5, unit: 'percent' }],
        }),
        'payout',
      );
  });
  after(async () => {
    await app?.close();
  });

  test('pending → (one approved: still pending) → approved → paid, shown by the API, the list and the sale page', async () => {
    const s = await sale(manual);
    assert.equal(await statusOf(s.saleId), 'pending');
    await review(tier(s, 1), 'approve');
    assert.equal(await statusOf(s.saleId), 'pending', 'one commission still waits for review');
    await review(tier(s, 2), 'approve');
    assert.equal(await statusOf(s.saleId), 'approved');
    await payEverythingApproved();
    assert.equal(await statusOf(s.saleId), 'paid');

    const listed = await a.get('/sales?status=paid');
    assert.equal(listed.status, 200, listed.text);
    assert.ok(
      (listed.body.data as Array<{ id: number }>).some((x) => x.id === s.saleId),
      'the list filters by it',
    );
    const page = await owner.get(`/admin/sales/${s.saleId}`);
    assert.match(page.text, /<span class="badge badge-paid">paid<\/span>/);
    const list = await owner.get('/admin/sales?status=paid');
    assert.match(list.text, new RegExp(`data-sale="${s.saleId}"[\\s\\S]*?badge-paid">paid<`));
  });

  test('all declined → declined (its revenue still counts as recorded); declined and approved → approved', async () => {
    const s = await sale(manual);
    await review(tier(s, 1), 'decline');
    await review(tier(s, 2), 'decline');
    const stored = (await a.get(`/sales/${s.saleId}`)).body;
    assert.equal(stored.status, 'declined');
    assert.equal(stored.recordedStatus, 'pending', 'recorded as pending: the order counts in reports');

    const mixed = await sale(manual);
    await review(tier(mixed, 1), 'approve');
    await review(tier(mixed, 2), 'decline');
    assert.equal(await statusOf(mixed.saleId), 'approved');
  });

  test('bulk approval updates every sale it touches', async () => {
    const s1 = await sale(manual);
    const s2 = await sale(manual);
    const res = await a.post('/commissions/bulk', {
      ids: [...s1.commissions, ...s2.commissions].map((c) => c.id),
      action: 'approve',
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([await statusOf(s1.saleId), await statusOf(s2.saleId)], ['approved', 'approved']);
  });

  test('refunds: full before payment → reversed; partial → unchanged; full after payment → reversed', async () => {
    const unpaid = await sale(auto);
    assert.equal(await statusOf(unpaid.saleId), 'approved', 'auto approval');
    assert.equal((await a.post(`/sales/${unpaid.orderId}/refund`, { type: 'refund' })).status, 200);
    assert.equal(await statusOf(unpaid.saleId), 'reversed');

    const partly = await sale(auto);
    assert.equal((await a.post(`/sales/${partly.orderId}/refund`, { type: 'refund', amount: 40 })).status, 200);
    assert.equal(await statusOf(partly.saleId), 'approved', 'a partial refund leaves the rest approved');

    const paid = await sale(auto);
    await payEverythingApproved();
    assert.equal(await statusOf(paid.saleId), 'paid');
    assert.equal(await statusOf(partly.saleId), 'paid', 'what was left of the partly refunded sale is paid');
    assert.equal((await a.post(`/sales/${paid.orderId}/refund`, { type: 'chargeback' })).status, 200);
    assert.equal(await statusOf(paid.saleId), 'reversed', 'a paid sale taken back in full');
  });

  test('both commissions of a sale approved at once leave it approved (no stale status, no deadlock)', async () => {
    // One sale at a time: parallel reviews of different sales are issue 8.7's (deadlock retries).
    for (let i = 0; i < 5; i++) {
      const s = await sale(manual);
      const answers = await Promise.all(
        s.commissions.map((c) => a.post(`/commissions/${c.id}/approve`, { reason: 'parallel' })),
      );
      assert.deepEqual(
        answers.map((r) => r.status),
        [200, 200],
        answers.map((r) => r.text.slice(0, 200)).join('\n'),
      );
      assert.equal(await statusOf(s.saleId), 'approved');
    }
  });

  test('a sale without commissions keeps the status it was recorded with', async () => {
    const res = await request(app.url, 'POST', '/t/sale', { body: { orderId: `S-${++order}`, totalCost: 10 } });
    assert.equal(res.status, 201, res.text);
    const stored = (await a.get(`/sales/${res.body.saleId}`)).body;
    assert.deepEqual([stored.status, stored.recordedStatus], [res.body.status, res.body.status]);
  });
});
