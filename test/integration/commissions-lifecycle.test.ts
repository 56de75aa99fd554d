import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, addStandInWebhook } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError } from '../helpers/assert.js';
import { approvedAffiliate, campaignWithPayout } from '../helpers/programme.js';

type Api = ReturnType<typeof api>;

let seq = 0;
const nextOrder = () => `LC-${process.pid}-${++seq}`;

describe('commission lifecycle: approve, decline, bulk, roles (SPEC §6.3)', () => {
  let app: TestApp;
  let a: Api;
  let manual: number;
  let ppc: number;
  let ann: number;
  let bob: number;
  let annToken: string;

  /** A click by the affiliate's link, then a sale by the same visitor: one commission. */
  async function saleBy(
    refId: string,
    campaignId: number,
    totalCost: number,
  ): Promise<{ saleId: number; commissionId: number }> {
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=${refId}&a_cid=${campaignId}` },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(click.status, 200, click.text);
    const sale = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: nextOrder(), totalCost, visitorId: click.body.visitorId },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(sale.status, 201, sale.text);
    assert.equal(sale.body.commissions.length, 1, sale.text);
    return { saleId: sale.body.saleId, commissionId: sale.body.commissions[0].id };
  }

  const outboxRows = (event: string) =>
    app.services.db('outbox').where({ event }).select('body') as Promise<Array<{ body: string | null }>>;
  const outboxFor = async (event: string, id: number) =>
    (await outboxRows(event)).filter((r) => (JSON.parse(r.body ?? '{}').payload?.commission?.id as number) === id);

  before(async () => {
    app = await startTestApp();
    // A stand-in webhook, so every event writes an outbox row to look at.
    addStandInWebhook(app);
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    manual = await campaignWithPayout(a, { name: 'Manual', approval: 'manual' });
    ppc = await campaignWithPayout(
      a,
      { name: 'Per click', approval: 'manual' },
      { title: '0.25 per click', type: 'PPC', affiliateCommission: { value: 0.25, unit: 'fixed' } },
    );
    ann = await approvedAffiliate(a, 'Ann', 'ann', { password: 'ann password 123' });
    bob = await approvedAffiliate(a, 'Bob', 'bob');
    annToken = await tokenFor(app.url, 'ann@example.com', 'ann password 123');
  });
  after(async () => {
    await app.close();
  });

  test('pending → approved (with audit and outbox) → in a payout batch → paid; later changes are 409', async () => {
    const { saleId, commissionId } = await saleBy('ann', manual, 108);
    const listed = await a.get(`/commissions?saleId=${saleId}`);
    assert.equal(listed.status, 200, listed.text);
    assert.equal(listed.body.data.length, 1);
    const c = listed.body.data[0];
    assert.equal(c.id, commissionId);
    assert.equal(c.status, 'pending');
    assert.equal(c.amount, 10.8);
    assert.equal(c.affiliateId, ann);

    const approved = await a.post(`/commissions/${commissionId}/approve`, { reason: 'order shipped' });
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.body.status, 'approved');
    assert.equal(approved.body.statusReason, 'order shipped');

    const events = await outboxFor('commission.approved', commissionId);
    assert.equal(events.length, 1, 'one commission.approved outbox row');
    const payload = JSON.parse(events[0]!.body!).payload;
    assert.equal(payload.commission.status, 'approved');
    assert.equal(payload.commission.amount, 10.8);
    assert.equal(payload.previousStatus, 'pending');
    assert.equal(payload.reason, 'order shipped');

    const audit = await a.get(`/audit-log?objectType=commission&objectId=${commissionId}`);
    assert.equal(audit.status, 200, audit.text);
    const entry = (
      audit.body.data as Array<{ action: string; actor: string; at: string; details: Record<string, unknown> }>
    ).find((e) => e.action === 'commission.approved');
    assert.ok(entry, JSON.stringify(audit.body.data));
    assert.equal(entry.actor, OWNER.email);
    assert.ok(entry.at && !Number.isNaN(Date.parse(entry.at)));
    assert.equal(entry.details.from, 'pending');
    assert.equal(entry.details.reason, 'order shipped');

    const batch = await a.post('/payout-batches', {});
    assert.equal(batch.status, 201, batch.text);
    const item = (batch.body.items as Array<{ affiliateId: number; commissionIds: number[] }>).find(
      (i) => i.affiliateId === ann,
    );
    assert.ok(item?.commissionIds.includes(commissionId));
    const inBatch = await a.get(`/commissions/${commissionId}`);
    assert.equal(inBatch.body.batchId, batch.body.id);
    assert.equal(inBatch.body.status, 'approved');

    const paid = await a.post(`/payout-batches/${batch.body.id}/mark-paid`);
    assert.equal(paid.status, 200, paid.text);
    const after = await a.get(`/commissions/${commissionId}`);
    assert.equal(after.body.status, 'paid');
    const paidAudit = await a.get(`/audit-log?objectType=commission&objectId=${commissionId}`);
    assert.ok(
      (paidAudit.body.data as Array<{ action: string; actor: string }>).some(
        (e) => e.action === 'commission.paid' && e.actor === OWNER.email,
      ),
    );

    const again = await a.post(`/commissions/${commissionId}/approve`);
    assertError(again, 409, 'conflict');
    assert.match(again.body.error.message, /is paid/);
    assertError(await a.post(`/commissions/${commissionId}/decline`, { reason: 'too late' }), 409, 'conflict');
  });

  test('decline with a reason: stored, audited, outbox commission.declined; approving it then is 409 naming declined', async () => {
    const { commissionId } = await saleBy('bob', manual, 50);
    const declined = await a.post(`/commissions/${commissionId}/decline`, { reason: 'test order' });
    assert.equal(declined.status, 200, declined.text);
    assert.equal(declined.body.status, 'declined');
    assert.equal(declined.body.statusReason, 'test order');
    assert.equal((await outboxFor('commission.declined', commissionId)).length, 1);
    const audit = await a.get(`/audit-log?objectType=commission&objectId=${commissionId}`);
    const entry = (audit.body.data as Array<{ action: string; actor: string; details: { reason?: string } }>).find(
      (e) => e.action === 'commission.declined',
    );
    assert.equal(entry?.actor, OWNER.email);
    assert.equal(entry?.details.reason, 'test order');

    const approve = await a.post(`/commissions/${commissionId}/approve`);
    assertError(approve, 409, 'conflict');
    assert.match(approve.body.error.message, /declined/);
    assert.equal(approve.body.error.details.status, 'declined');
    assertError(await a.post(`/commissions/${commissionId}/decline`), 409, 'conflict');
    assertError(await a.post('/commissions/999999/approve'), 404, 'not_found');
  });

  test('bulk approve: valid ids updated, already-declined and unknown ids skipped with the reason', async () => {
    const one = await saleBy('ann', manual, 20);
    const two = await saleBy('bob', manual, 30);
    const gone = await saleBy('bob', manual, 40);
    assert.equal((await a.post(`/commissions/${gone.commissionId}/decline`)).status, 200);
    const res = await a.post('/commissions/bulk', {
      ids: [one.commissionId, two.commissionId, gone.commissionId, 987654],
      action: 'approve',
      reason: 'weekly review',
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.updated.sort(), [one.commissionId, two.commissionId].sort());
    assert.equal(res.body.skipped.length, 2);
    const skippedGone = res.body.skipped.find((s: { id: number }) => s.id === gone.commissionId);
    assert.match(skippedGone.reason, /declined/);
    const skippedUnknown = res.body.skipped.find((s: { id: number }) => s.id === 987654);
    assert.match(skippedUnknown.reason, /not found/);
    for (const id of [one.commissionId, two.commissionId]) {
      const c = await a.get(`/commissions/${id}`);
      assert.equal(c.body.status, 'approved');
      assert.equal(c.body.statusReason, 'weekly review');
      assert.equal((await outboxFor('commission.approved', id)).length, 1);
    }
    assert.equal((await a.get(`/commissions/${gone.commissionId}`)).body.status, 'declined');

    const declineMany = await a.post('/commissions/bulk', { ids: [one.commissionId], action: 'decline' });
    assert.deepEqual(declineMany.body.updated, []);
    assert.match(declineMany.body.skipped[0].reason, /approved/);
  });

  test('bulk input is validated: ids list (≤ 1000, ids only), action enum, reason length', async () => {
    assertFieldError(await a.post('/commissions/bulk', { ids: [], action: 'approve' }), 'ids');
    assertFieldError(
      await a.post('/commissions/bulk', { ids: Array.from({ length: 1001 }, (_, i) => i + 1), action: 'approve' }),
      'ids',
    );
    assertFieldError(await a.post('/commissions/bulk', { ids: ['1 OR 1=1'], action: 'approve' }), 'ids.0');
    assertFieldError(await a.post('/commissions/bulk', { ids: [1], action: 'pay' }), 'action');
    assertFieldError(
      await a.post('/commissions/bulk', { ids: [1], action: 'approve', reason: 'x'.repeat(256) }),
      'reason',
    );
    assertFieldError(await a.post('/commissions/1/approve', { reason: { $ne: 1 } }), 'reason');
    assertFieldError(await a.get('/commissions?status=bogus'), 'status');
    assertFieldError(await a.get('/commissions?from=yesterday'), 'from');
  });

  test('list: filters, page pagination and totals per status', async () => {
    // A campaign of this test's own: one commission paid, two of Bob's declined.
    const listed = await campaignWithPayout(a, { name: 'Listed', approval: 'manual' });
    const paidOne = await saleBy('ann', listed, 108);
    assert.equal((await a.post(`/commissions/${paidOne.commissionId}/approve`)).status, 200);
    const batch = await a.post('/payout-batches', {});
    assert.equal(batch.status, 201, batch.text);
    assert.equal((await a.post(`/payout-batches/${batch.body.id}/mark-paid`)).status, 200);
    for (let i = 0; i < 2; i++) {
      const { commissionId } = await saleBy('bob', listed, 50);
      assert.equal((await a.post(`/commissions/${commissionId}/decline`, { reason: 'test order' })).status, 200);
    }
    const res = await a.get(`/commissions?campaignId=${listed}&perPage=2`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.length, 2);
    assert.equal(res.body.pagination.perPage, 2);
    const totals = res.body.totals as Record<string, { count: number; amount: number }>;
    assert.deepEqual(Object.keys(totals).sort(), ['approved', 'declined', 'paid', 'pending', 'reversed']);
    const count = Object.values(totals).reduce((n, t) => n + t.count, 0);
    assert.equal(count, res.body.pagination.total);
    assert.equal(totals.paid!.count, 1);
    assert.equal(totals.paid!.amount, 10.8);

    const declined = await a.get(`/commissions?status=declined&affiliateId=${bob}`);
    assert.ok(declined.body.data.length >= 2);
    assert.ok(
      (declined.body.data as Array<{ status: string; affiliateId: number }>).every(
        (c) => c.status === 'declined' && c.affiliateId === bob,
      ),
    );

    const today = new Date().toISOString().slice(0, 10);
    assert.equal(
      (await a.get(`/commissions?from=${today}&to=${today}`)).body.pagination.total,
      (await a.get('/commissions')).body.pagination.total,
    );
    assert.equal((await a.get('/commissions?to=2000-01-01')).body.pagination.total, 0);
  });

  test('an affiliate token sees only its own commissions and cannot approve or decline', async () => {
    // A commission of each affiliate's, to look at.
    await saleBy('ann', manual, 20);
    await saleBy('bob', manual, 20);
    const aff = api(app.url, annToken);
    const mine = await aff.get(`/commissions?affiliateId=${bob}&perPage=200`);
    assert.equal(mine.status, 200, mine.text);
    assert.ok(mine.body.data.length > 0);
    assert.ok(
      (mine.body.data as Array<{ affiliateId: number }>).every((c) => c.affiliateId === ann),
      'the affiliate filter is forced',
    );
    assert.equal(mine.body.data[0].merchantAmount, undefined, 'no merchant cut for affiliates');
    const bobs = (await a.get(`/commissions?affiliateId=${bob}`)).body.data[0];
    assertError(await aff.get(`/commissions/${bobs.id}`), 403, 'forbidden');
    const own = mine.body.data[0];
    assert.equal((await aff.get(`/commissions/${own.id}`)).status, 200);
    const { commissionId } = await saleBy('ann', manual, 10);
    assertError(await aff.post(`/commissions/${commissionId}/approve`), 403, 'forbidden');
    assertError(await aff.post(`/commissions/${commissionId}/decline`), 403, 'forbidden');
    assertError(await aff.post('/commissions/bulk', { ids: [commissionId], action: 'approve' }), 403, 'forbidden');
    assertError(await aff.get('/payout-batches'), 403, 'forbidden');
    assert.equal((await a.get(`/commissions/${commissionId}`)).body.status, 'pending');
    assertError(await api(app.url).get('/commissions'), 401, 'unauthorized');
  });

  test('approving the open PPC accumulator closes it: later clicks start a new commission', async () => {
    const click = () =>
      request(app.url, 'POST', '/t/click', {
        body: { url: `https://shop.example/?a_aid=ann&a_cid=${ppc}` },
        headers: { 'user-agent': CHROME },
      });
    assert.equal((await click()).body.status, 'unique');
    assert.equal((await click()).body.status, 'unique');
    const open = await a.get(`/commissions?campaignId=${ppc}&kind=click`);
    assert.equal(open.body.data.length, 1);
    const row = open.body.data[0];
    assert.equal(row.quantity, 2);
    assert.equal(row.amount, 0.5);
    const stored = await app.services.db('commissions').where({ id: row.id }).first('aggregate_key');
    assert.ok(stored.aggregate_key, 'open accumulator');

    assert.equal((await a.post(`/commissions/${row.id}/approve`)).status, 200);
    const closed = await app.services.db('commissions').where({ id: row.id }).first('aggregate_key', 'quantity');
    assert.equal(closed.aggregate_key, null);

    assert.equal((await click()).body.status, 'unique');
    const after = await a.get(`/commissions?campaignId=${ppc}&kind=click`);
    assert.equal(after.body.data.length, 2, 'a new row for the later click');
    const approvedRow = (after.body.data as Array<{ id: number; quantity: number; status: string }>).find(
      (c) => c.id === row.id,
    );
    assert.equal(approvedRow?.quantity, 2, 'the approved row keeps its clicks');
    assert.equal(approvedRow?.status, 'approved');
    const fresh = (after.body.data as Array<{ id: number; quantity: number; status: string }>).find(
      (c) => c.id !== row.id,
    );
    assert.equal(fresh?.status, 'pending');
    assert.equal(fresh?.quantity, 1);
  });
});
