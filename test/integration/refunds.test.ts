import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, addStandInWebhook } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { sign } from '../../server/services/signature.js';
import { created, assertError, assertFieldError } from '../helpers/assert.js';
import { approvedAffiliate, campaignWithPayout, referredSale } from '../helpers/programme.js';

type Api = ReturnType<typeof api>;

interface CommissionJson {
  id: number;
  kind: string;
  status: string;
  amount: number;
  parentId: number | null;
  affiliateId: number;
  campaignId: number;
  tier: number;
  batchId: number | null;
  saleId: number | null;
}

let seq = 0;
const nextOrder = () => `RF-${process.pid}-${++seq}`;

describe('refunds and chargebacks (SPEC §6.4)', () => {
  let app: TestApp;
  let a: Api;
  let manual: number;
  let auto: number;
  let fixed: number;
  let annToken: string;
  let ann: number;
  let bob: number;
  let carl: number;
  let autoSecret: string;

  async function saleBy(refId: string, campaignId: number, totalCost: number, orderId = nextOrder()) {
    const { click, sale } = await referredSale(app.url, refId, campaignId, orderId, totalCost);
    assert.equal(click.status, 200, click.text);
    assert.equal(sale.body.campaignId, campaignId);
    assert.equal(sale.body.commissions.length, 1, sale.text);
    return { orderId, saleId: sale.body.saleId as number, commissionId: sale.body.commissions[0].id as number };
  }
  const refund = (orderId: string, body: unknown, query = '') =>
    a.post(`/sales/${encodeURIComponent(orderId)}/refund${query}`, body);
  const commission = async (id: number) => (await a.get(`/commissions/${id}`)).body as CommissionJson;
  const childrenOf = async (saleId: number, parentId: number) =>
    ((await a.get(`/commissions?saleId=${saleId}&perPage=200`)).body.data as CommissionJson[]).filter(
      (c) => c.parentId === parentId,
    );
  const reversedEvents = async (id: number) =>
    (
      (await app.services.db('outbox').where({ event: 'commission.reversed' }).select('body')) as Array<{
        body: string;
      }>
    )
      .map((r) => JSON.parse(r.body).payload)
      .filter((p) => p.commission.id === id);
  const stats = async (campaignId: number) => {
    const row = (await app.services
      .db('daily_stats')
      .where({ campaign_id: campaignId })
      .sum({ refunds: 'refunds', chargebacks: 'chargebacks', commissions: 'commissions' })
      .first()) as Record<string, number | string | null>;
    return {
      refunds: Number(row.refunds ?? 0),
      chargebacks: Number(row.chargebacks ?? 0),
      commissions: Number(row.commissions ?? 0),
    };
  };

  before(async () => {
    app = await startTestApp();
    addStandInWebhook(app);
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const tenPercent = {
      kind: 'general',
      title: '10%',
      type: 'CPS',
      affiliateCommission: { value: 10, unit: 'percent' },
    };
    manual = created(await a.post('/campaigns', { name: 'Manual', approval: 'manual' }), 'campaign');
    created(await a.post(`/campaigns/${manual}/payouts`, tenPercent), 'payout');
    auto = created(await a.post('/campaigns', { name: 'Auto', approval: 'auto' }), 'campaign');
    created(await a.post(`/campaigns/${auto}/payouts`, tenPercent), 'payout');
    fixed = await campaignWithPayout(
      a,
      { name: 'Fixed', approval: 'auto' },
      { title: '5 flat', type: 'CPS', affiliateCommission: { value: 5, unit: 'fixed' } },
    );
    autoSecret = (await a.get(`/campaigns/${auto}`)).body.secretKey;
    ann = await approvedAffiliate(a, 'Ann', 'ann', { password: 'ann password 123' });
    bob = await approvedAffiliate(a, 'Bob', 'bob');
    carl = await approvedAffiliate(a, 'Carl', 'carl');
    annToken = await tokenFor(app.url, 'ann@example.com', 'ann password 123');
  });
  after(async () => {
    await app.close();
  });

  test('a full refund before payment reverses the pending commission (outbox, audit, sale.refunded, daily refunds)', async () => {
    const before = await stats(manual);
    const s = await saleBy('ann', manual, 100);
    const res = await refund(s.orderId, { type: 'refund' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.saleId, s.saleId);
    assert.equal(res.body.type, 'refund');
    assert.equal(res.body.amount, 100);
    assert.equal(res.body.refundedTotal, 100);
    const affected = res.body.commissions as CommissionJson[];
    assert.equal(affected.length, 1);
    assert.equal(affected[0]!.id, s.commissionId);
    assert.equal(affected[0]!.status, 'reversed');
    assert.equal(affected[0]!.affiliateId, ann);
    assert.equal((await commission(s.commissionId)).status, 'reversed');
    assert.equal((await childrenOf(s.saleId, s.commissionId)).length, 0, 'no negative commission when reversed');

    const events = await reversedEvents(s.commissionId);
    assert.equal(events.length, 1);
    assert.equal(events[0].commission.status, 'reversed');
    assert.equal(events[0].refund.type, 'refund');
    const audit = await a.get(`/audit-log?objectType=commission&objectId=${s.commissionId}`);
    assert.ok(
      (audit.body.data as Array<{ action: string; actor: string }>).some(
        (e) => e.action === 'commission.reversed' && e.actor === OWNER.email,
      ),
    );
    const saleAudit = await a.get(`/audit-log?objectType=sale&objectId=${s.saleId}`);
    assert.ok((saleAudit.body.data as Array<{ action: string }>).some((e) => e.action === 'sale.refund'));

    const stored = await app.services.db('sales').where({ id: s.saleId }).first('refunded');
    assert.equal(Number(stored.refunded), 1_000_000, 'sales.refunded in units');
    const after = await stats(manual);
    assert.equal(after.refunds - before.refunds, 1_000_000);
    assert.equal(after.chargebacks, before.chargebacks);
    assert.equal(after.commissions - before.commissions, 0, 'the reversed commission leaves the commissions total');

    assertError(await refund(s.orderId, { type: 'refund' }), 409, 'conflict');
    assertFieldError(await refund(s.orderId, { type: 'refund', amount: 1 }), 'amount');
  });

  test('a partial refund before payment adds a linked negative commission of the exact proportion', async () => {
    const s = await saleBy('bob', auto, 108);
    assert.equal((await commission(s.commissionId)).amount, 10.8);
    const res = await refund(s.orderId, { amount: 27, type: 'refund' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.amount, 27);
    assert.equal(res.body.refundedTotal, 27);
    const affected = res.body.commissions as CommissionJson[];
    const parent = affected.find((c) => c.id === s.commissionId);
    const negative = affected.find((c) => c.parentId === s.commissionId);
    assert.equal(parent?.status, 'approved', 'the parent stays approved');
    assert.ok(negative, res.text);
    assert.equal(negative.amount, -2.7, '10.80 × 27 / 108');
    assert.equal(negative.kind, 'refund');
    assert.equal(negative.status, 'approved', 'approved like its parent');
    assert.equal(negative.affiliateId, bob);
    assert.equal(negative.campaignId, auto);
    assert.equal(negative.tier, 1);
    assert.equal(negative.saleId, s.saleId);
    const events = await reversedEvents(s.commissionId);
    assert.equal(events.length, 1);
    assert.equal(events[0].reversal.amount, -2.7);

    // The rest of the order: the unpaid commission and its partial reversal both stop counting.
    const rest = await refund(s.orderId, {});
    assertFieldError(rest, 'type');
    const full = await refund(s.orderId, { type: 'refund' });
    assert.equal(full.status, 200, full.text);
    assert.equal(full.body.amount, 81);
    assert.equal(full.body.refundedTotal, 108);
    assert.equal((await commission(s.commissionId)).status, 'reversed');
    assert.equal((await commission(negative.id)).status, 'reversed');
  });

  test('rounding is half-up, and the last refund takes exactly what is left', async () => {
    const s = await saleBy('carl', fixed, 3);
    const first = await refund(s.orderId, { amount: 1, type: 'refund' });
    assert.equal(first.status, 200, first.text);
    const one = (first.body.commissions as CommissionJson[]).find((c) => c.parentId === s.commissionId);
    assert.equal(one?.amount, -1.6667, '5 × 1/3 = 1.66666… → 1.6667');
    // Pay the commission and its reversal, then refund the rest: what is left of 5 is clawed back.
    const batch = await a.post('/payout-batches', {});
    assert.equal(batch.status, 201, batch.text);
    const line = (batch.body.items as Array<{ affiliateId: number; amount: number }>).find(
      (i) => i.affiliateId === carl,
    );
    assert.equal(line?.amount, 3.3333);
    assert.equal((await a.post(`/payout-batches/${batch.body.id}/mark-paid`)).status, 200);
    const second = await refund(s.orderId, { amount: 1, type: 'refund' });
    const two = (second.body.commissions as CommissionJson[]).find(
      (c) => c.parentId === s.commissionId && c.id !== one!.id,
    );
    assert.equal(two?.amount, -1.6667);
    const last = await refund(s.orderId, { type: 'refund' });
    assert.equal(last.status, 200, last.text);
    const three = (last.body.commissions as CommissionJson[]).find(
      (c) => c.parentId === s.commissionId && ![one!.id, two!.id].includes(c.id),
    );
    assert.equal(three?.amount, -1.6666, '5 − 1.6667 − 1.6667');
    assert.equal(three?.status, 'approved');
    assert.equal((await commission(s.commissionId)).status, 'paid', 'a paid commission stays paid');
    // Carl now owes 3.3333: carried over, not paid.
    const preview = await a.get('/payout-batches/preview?minimum=0');
    assert.ok(!(preview.body.data as Array<{ affiliateId: number }>).some((i) => i.affiliateId === carl));
    const carried = (preview.body.carriedOver as Array<{ affiliateId: number; amount: number }>).find(
      (i) => i.affiliateId === carl,
    );
    assert.equal(carried?.amount, -3.3333);
  });

  test('a pending commission partially refunded: the negative is pending and follows the approval', async () => {
    const s = await saleBy('ann', manual, 200);
    const res = await refund(s.orderId, { amount: 50, type: 'refund' });
    const negative = (res.body.commissions as CommissionJson[]).find((c) => c.parentId === s.commissionId);
    assert.equal(negative?.status, 'pending');
    assert.equal(negative?.amount, -5);
    assert.equal((await a.post(`/commissions/${s.commissionId}/approve`)).status, 200);
    assert.equal((await commission(negative!.id)).status, 'approved', 'the reversal is approved with its commission');

    // In bulk, a reversal named beside its commission counts as updated, not skipped.
    const t = await saleBy('ann', manual, 100);
    const partial = await refund(t.orderId, { amount: 10, type: 'refund' });
    const child = (partial.body.commissions as CommissionJson[]).find((c) => c.parentId === t.commissionId)!;
    const bulk = await a.post('/commissions/bulk', {
      ids: [t.commissionId, child.id],
      action: 'decline',
      reason: 'fraud',
    });
    assert.deepEqual(bulk.body, { updated: [t.commissionId, child.id], skipped: [] });
    assert.equal((await commission(child.id)).status, 'declined');
  });

  test('a refund in full of a commission in an open payout batch reverses it: it leaves the batch, which is paid without it', async () => {
    await approvedAffiliate(a, 'Dora', 'dora');
    const dora = Number((await a.get('/affiliates?q=dora')).body.data[0].id);
    const kept = await saleBy('dora', auto, 40);
    const refunded = await saleBy('dora', auto, 50);
    const batch = await a.post('/payout-batches', { minimum: 0 });
    assert.equal(batch.status, 201, batch.text);
    const lineOf = (b: { items: Array<{ affiliateId: number; amount: number; commissionIds: number[] }> }) =>
      b.items.find((i) => i.affiliateId === dora);
    const before = lineOf(batch.body)!;
    assert.deepEqual([...before.commissionIds].sort(), [kept.commissionId, refunded.commissionId].sort());
    const worth = (await commission(refunded.commissionId)).amount;

    const res = await refund(refunded.orderId, { type: 'refund' });
    assert.equal(res.status, 200, res.text);
    const after = await commission(refunded.commissionId);
    assert.equal(after.status, 'reversed');
    assert.equal(after.batchId, null);
    assert.equal((await childrenOf(refunded.saleId, refunded.commissionId)).length, 0, 'no negative commission');
    const open = (await a.get(`/payout-batches/${batch.body.id}`)).body;
    assert.deepEqual(lineOf(open)?.commissionIds, [kept.commissionId]);
    assert.equal(lineOf(open)?.amount, before.amount - worth);
    assert.equal(Math.round((batch.body.total - open.total) * 10_000), Math.round(worth * 10_000));

    assert.equal((await a.post(`/payout-batches/${batch.body.id}/mark-paid`)).status, 200);
    assert.equal(
      (await commission(refunded.commissionId)).status,
      'reversed',
      'marking the batch paid does not pay it',
    );
    assert.equal((await commission(kept.commissionId)).status, 'paid');
  });

  test('an affiliate whose open-batch line falls below the minimum after a refund leaves the batch', async () => {
    await approvedAffiliate(a, 'Eve', 'eve');
    const eve = Number((await a.get('/affiliates?q=eve')).body.data[0].id);
    const small = await saleBy('eve', auto, 40);
    const big = await saleBy('eve', auto, 60);
    const worth = (await commission(small.commissionId)).amount + (await commission(big.commissionId)).amount;
    const batch = await a.post('/payout-batches', { minimum: worth });
    assert.equal(batch.status, 201, batch.text);
    assert.ok((batch.body.items as Array<{ affiliateId: number }>).some((i) => i.affiliateId === eve));
    assert.equal((await refund(big.orderId, { type: 'refund' })).status, 200);
    const open = (await a.get(`/payout-batches/${batch.body.id}`)).body;
    assert.ok(!(open.items as Array<{ affiliateId: number }>).some((i) => i.affiliateId === eve), 'Eve left the batch');
    assert.equal((await commission(small.commissionId)).batchId, null, 'her other commission waits for a later batch');
    assert.equal((await commission(small.commissionId)).status, 'approved');
    assert.equal((await commission(big.commissionId)).status, 'reversed');
    assert.equal(open.affiliates, batch.body.affiliates - 1);
    assert.equal(open.commissions, batch.body.commissions - 2);
    assert.equal((await a.delete(`/payout-batches/${batch.body.id}`)).status, 204);
  });

  test('a refund after payment: a negative approved commission is carried into the next batch, which nets it', async () => {
    const s = await saleBy('bob', auto, 80);
    const setup = await a.post('/payout-batches', {});
    assert.equal(setup.status, 201, setup.text);
    assert.equal((await a.post(`/payout-batches/${setup.body.id}/mark-paid`)).status, 200);
    assert.equal((await commission(s.commissionId)).status, 'paid');

    const res = await refund(s.orderId, { amount: 20, type: 'refund' });
    assert.equal(res.status, 200, res.text);
    const negative = (res.body.commissions as CommissionJson[]).find((c) => c.parentId === s.commissionId);
    assert.equal(negative?.amount, -2);
    assert.equal(negative?.status, 'approved');
    assert.equal(negative?.kind, 'refund');
    assert.equal((await commission(s.commissionId)).status, 'paid');
    assert.equal((await reversedEvents(s.commissionId)).length, 1);

    // Bob earns 3 more; the next batch pays 3 − 2 = 1.
    await saleBy('bob', auto, 30);
    const next = await a.post('/payout-batches', {});
    assert.equal(next.status, 201, next.text);
    const line = (next.body.items as Array<{ affiliateId: number; amount: number; commissionIds: number[] }>).find(
      (i) => i.affiliateId === bob,
    );
    assert.equal(line?.amount, 1);
    assert.ok(line?.commissionIds.includes(negative!.id));
    assert.equal((await commission(negative!.id)).batchId, next.body.id);
    // A full refund of the paid order claws back what is left (8 − 2).
    const full = await refund(s.orderId, { type: 'refund' });
    const rest = (full.body.commissions as CommissionJson[]).find(
      (c) => c.parentId === s.commissionId && c.id !== negative!.id,
    );
    assert.equal(rest?.amount, -6);
  });

  test('a chargeback is reported apart from refunds (daily_stats chargebacks)', async () => {
    const before = await stats(auto);
    const s = await saleBy('ann', auto, 60);
    const res = await refund(s.orderId, { amount: 15, type: 'chargeback' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.type, 'chargeback');
    const negative = (res.body.commissions as CommissionJson[]).find((c) => c.parentId === s.commissionId);
    assert.equal(negative?.kind, 'chargeback');
    assert.equal(negative?.amount, -1.5);
    const after = await stats(auto);
    assert.equal(after.chargebacks - before.chargebacks, 150_000);
    assert.equal(after.refunds, before.refunds, 'not counted as a refund');
    const saleAudit = await a.get(`/audit-log?objectType=sale&objectId=${s.saleId}`);
    assert.ok((saleAudit.body.data as Array<{ action: string }>).some((e) => e.action === 'sale.chargeback'));
    assert.equal((await reversedEvents(s.commissionId))[0].refund.type, 'chargeback');
  });

  test('bad input: unknown order 404; amount too big, negative, zero or text 422; unknown type 422', async () => {
    assertError(await refund('no-such-order', { type: 'refund' }), 404, 'not_found');
    const s = await saleBy('ann', auto, 40);
    const tooBig = await refund(s.orderId, { amount: 40.01, type: 'refund' });
    assertFieldError(tooBig, 'amount');
    assert.match(tooBig.body.error.message, /40\.01/);
    assertFieldError(await refund(s.orderId, { amount: -5, type: 'refund' }), 'amount');
    assertFieldError(await refund(s.orderId, { amount: 0, type: 'refund' }), 'amount');
    assertFieldError(await refund(s.orderId, { amount: 'ten', type: 'refund' }), 'amount');
    assertFieldError(await refund(s.orderId, { amount: '5', type: 'refund' }), 'amount');
    assertFieldError(await refund(s.orderId, { amount: { $gt: 0 }, type: 'refund' }), 'amount');
    assertFieldError(await refund(s.orderId, { type: 'fraud' }), 'type');
    assertFieldError(await refund(s.orderId, { type: 'refund' }, '?campaignId=abc'), 'campaignId');
    const malformed = await a.raw('POST', `/sales/${s.orderId}/refund`, undefined, { raw: '{"type": ' });
    assertError(malformed, 400, 'invalid_json');
    assert.equal((await commission(s.commissionId)).status, 'approved', 'nothing changed');
    const stored = await app.services.db('sales').where({ id: s.saleId }).first('refunded');
    assert.equal(Number(stored.refunded), 0);
  });

  test('an order id in several campaigns needs ?campaignId=, else 409', async () => {
    const orderId = nextOrder();
    const one = await saleBy('ann', auto, 10, orderId);
    const two = await saleBy('bob', manual, 20, orderId);
    const ambiguous = await refund(orderId, { type: 'refund' });
    assertError(ambiguous, 409, 'conflict');
    assert.match(ambiguous.body.error.message, /campaignId/);
    const res = await refund(orderId, { type: 'refund' }, `?campaignId=${manual}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.saleId, two.saleId);
    assert.equal((await commission(two.commissionId)).status, 'reversed');
    assert.equal((await commission(one.commissionId)).status, 'approved');
    assertError(await refund(orderId, { type: 'refund' }, `?campaignId=${fixed}`), 404, 'not_found');
  });

  test('who may refund: a merchant token or the store signature; affiliates 403, nobody 401', async () => {
    const s = await saleBy('ann', auto, 10);
    assertError(await api(app.url, annToken).post(`/sales/${s.orderId}/refund`, { type: 'refund' }), 403, 'forbidden');
    assertError(await api(app.url).post(`/sales/${s.orderId}/refund`, { type: 'refund' }), 401, 'unauthorized');
    const raw = JSON.stringify({ amount: 4, type: 'refund' });
    const unix = Math.floor(app.services.clock() / 1000);
    const badSig = await request(app.url, 'POST', `/api/v1/sales/${s.orderId}/refund`, {
      raw,
      headers: { 'x-affix-signature': sign('wrong', raw, unix) },
    });
    assertError(badSig, 401, 'unauthorized');
    const signed = await request(app.url, 'POST', `/api/v1/sales/${s.orderId}/refund`, {
      raw,
      headers: { 'x-affix-signature': sign(autoSecret, raw, unix) },
    });
    assert.equal(signed.status, 200, signed.text);
    assert.equal(signed.body.refundedTotal, 4);
    const stored = await app.services.db('refunds').where({ sale_id: s.saleId }).first('actor', 'amount', 'type');
    assert.match(stored.actor, /signature/i);
    assert.equal(Number(stored.amount), 40_000);
  });
});
