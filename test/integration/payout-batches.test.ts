import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError } from '../helpers/assert.js';
import { approvedAffiliate, campaignWithPayout, referredSale } from '../helpers/programme.js';

type Api = ReturnType<typeof api>;

/** RFC 4180 CSV back into rows: quoted fields, doubled quotes, commas and newlines inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

let seq = 0;
const nextOrder = () => `PB-${process.pid}-${++seq}`;

describe('payout batches (SPEC §6.6)', () => {
  let app: TestApp;
  let a: Api;
  let auto: number;
  let ann: number;
  let bob: number;
  let carl: number;

  /** Ann's batch (the minimum 10 leaves Bob's 2.00 out), open, or paid when `paid`. */
  async function annBatch(paid = false): Promise<number> {
    const res = await a.post('/payout-batches', { minimum: 10 });
    assert.equal(res.status, 201, res.text);
    if (paid) assert.equal((await a.post(`/payout-batches/${res.body.id}/mark-paid`)).status, 200);
    return res.body.id as number;
  }

  async function saleBy(refId: string, totalCost: number) {
    const orderId = nextOrder();
    const { sale } = await referredSale(app.url, refId, auto, orderId, totalCost);
    assert.equal(sale.body.commissions[0]?.status, 'approved', sale.text);
    return { orderId, commissionId: sale.body.commissions[0].id as number };
  }

  // Each test starts from the same ledger: Ann's two sales and Bob's one, nothing batched yet.
  beforeEach(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    auto = await campaignWithPayout(a, { name: 'Auto', approval: 'auto' });
    ann = await approvedAffiliate(a, 'Ann "The Closer", Ltd', 'ann', { password: 'ann password 123' });
    bob = await approvedAffiliate(a, 'Bob', 'bob');
    carl = await approvedAffiliate(a, 'Carl', 'carl');
    await saleBy('ann', 300);
    await saleBy('ann', 200.5);
    await saleBy('bob', 20);
  });
  afterEach(async () => {
    await app.close();
  });

  test('preview: per-affiliate totals of approved, unpaid commissions; the minimum leaves small ones for later', async () => {
    const res = await a.get('/payout-batches/preview?minimum=10');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.minimum, 10);
    assert.equal(res.body.currency, 'USD');
    assert.deepEqual(
      (res.body.data as Array<{ affiliateId: number; amount: number; commissions: number; email: string }>).map((i) => [
        i.affiliateId,
        i.amount,
        i.commissions,
        i.email,
      ]),
      [[ann, 50.05, 2, 'ann@example.com']],
    );
    assert.equal(res.body.total, 50.05);
    const bobLine = (res.body.carriedOver as Array<{ affiliateId: number; amount: number; reason: string }>).find(
      (i) => i.affiliateId === bob,
    );
    assert.equal(bobLine?.amount, 2);
    assert.match(bobLine!.reason, /minimum/);

    // Without ?minimum the payoutMinimum setting applies.
    assert.equal((await a.patch('/settings', { payoutMinimum: 60 })).status, 200);
    const bySetting = await a.get('/payout-batches/preview');
    assert.equal(bySetting.body.minimum, 60);
    assert.equal(bySetting.body.data.length, 0);
    assert.equal((await a.patch('/settings', { payoutMinimum: 0 })).status, 200);

    assertFieldError(await a.get('/payout-batches/preview?minimum=-1'), 'minimum');
    assertFieldError(await a.get('/payout-batches/preview?minimum=lots'), 'minimum');
  });

  test('create: 201 with the open batch, its items and the commissions attached', async () => {
    const res = await a.post('/payout-batches', { minimum: 10, note: 'November' });
    assert.equal(res.status, 201, res.text);
    const batch = res.body;
    assert.equal(batch.status, 'open');
    assert.equal(batch.minimum, 10);
    assert.equal(batch.total, 50.05);
    assert.equal(batch.affiliates, 1);
    assert.equal(batch.commissions, 2);
    assert.equal(batch.note, 'November');
    assert.equal(batch.createdBy, OWNER.email);
    assert.equal(batch.paidAt, null);
    assert.equal(batch.items.length, 1);
    assert.deepEqual(
      { ...batch.items[0], commissionIds: batch.items[0].commissionIds.length },
      {
        affiliateId: ann,
        refId: 'ann',
        name: 'Ann "The Closer", Ltd',
        email: 'ann@example.com',
        amount: 50.05,
        commissions: 2,
        commissionIds: 2,
        // Ann gave no payout details (SPEC §13): the batch says so.
        payoutMethod: null,
        payoutDetails: null,
        missingPayoutDetails: ['payoutMethod'],
      },
    );
    const attached = await a.get(`/commissions?batchId=${batch.id}`);
    assert.equal(attached.body.pagination.total, 2);
    assert.ok(
      (attached.body.data as Array<{ affiliateId: number; status: string }>).every(
        (c) => c.affiliateId === ann && c.status === 'approved',
      ),
    );
    const bobs = await a.get(`/commissions?affiliateId=${bob}`);
    assert.equal(bobs.body.data[0].batchId, null, 'below the minimum: not in the batch');

    const after = await a.get('/payout-batches/preview?minimum=0');
    assert.deepEqual(
      (after.body.data as Array<{ affiliateId: number }>).map((i) => i.affiliateId),
      [bob],
      'batched commissions are not offered again',
    );

    const list = await a.get('/payout-batches');
    assert.equal(list.status, 200);
    assert.equal(list.body.pagination.total, 1);
    assert.equal(list.body.data[0].id, batch.id);
    const one = await a.get(`/payout-batches/${batch.id}`);
    assert.equal(one.body.items[0].name, 'Ann "The Closer", Ltd');
    assertError(await a.get('/payout-batches/999'), 404, 'not_found');
    assertFieldError(await a.get('/payout-batches/abc'), 'id');
  });

  test('CSV export: the header and one row per affiliate, parsed back', async () => {
    const paidBatch = await annBatch();
    const res = await request(app.url, 'GET', `/api/v1/payout-batches/${paidBatch}/csv`, {
      token: await tokenFor(app.url, OWNER.email, OWNER.password),
    });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="payout-batch-\d+\.csv"/);
    const rows = parseCsv(res.text);
    assert.deepEqual(rows[0], ['affiliateId', 'refId', 'name', 'email', 'amount', 'currency', 'commissions']);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[1], [String(ann), 'ann', 'Ann "The Closer", Ltd', 'ann@example.com', '50.05', 'USD', '2']);
  });

  test('mark paid: commissions paid (audited), batch paid with paidAt; paid again or deleted → 409', async () => {
    const paidBatch = await annBatch();
    const res = await a.post(`/payout-batches/${paidBatch}/mark-paid`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'paid');
    assert.ok(res.body.paidAt && !Number.isNaN(Date.parse(res.body.paidAt)));
    const commissions = await a.get(`/commissions?batchId=${paidBatch}`);
    assert.ok((commissions.body.data as Array<{ status: string }>).every((c) => c.status === 'paid'));
    const audit = await a.get(`/audit-log?objectType=commission&objectId=${commissions.body.data[0].id}`);
    assert.ok(
      (audit.body.data as Array<{ action: string; actor: string }>).some(
        (e) => e.action === 'commission.paid' && e.actor === OWNER.email,
      ),
    );
    const batchAudit = await a.get(`/audit-log?objectType=payoutBatch&objectId=${paidBatch}`);
    assert.deepEqual((batchAudit.body.data as Array<{ action: string }>).map((e) => e.action).sort(), [
      'payoutBatch.created',
      'payoutBatch.paid',
    ]);

    assertError(await a.post(`/payout-batches/${paidBatch}/mark-paid`), 409, 'conflict');
    const del = await a.delete(`/payout-batches/${paidBatch}`);
    assertError(del, 409, 'conflict');
    assert.match(del.body.error.message, /paid/);
    assert.equal((await a.get(`/payout-batches/${paidBatch}`)).body.status, 'paid');
  });

  test('deleting an open batch releases its commissions for the next one', async () => {
    await annBatch(true);
    const res = await a.post('/payout-batches', { minimum: 0 });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(
      (res.body.items as Array<{ affiliateId: number }>).map((i) => i.affiliateId),
      [bob],
    );
    const del = await a.delete(`/payout-batches/${res.body.id}`);
    assert.equal(del.status, 204, del.text);
    assertError(await a.get(`/payout-batches/${res.body.id}`), 404, 'not_found');
    const bobs = await a.get(`/commissions?affiliateId=${bob}`);
    assert.equal(bobs.body.data[0].batchId, null);
    assert.equal(bobs.body.data[0].status, 'approved');
    const preview = await a.get('/payout-batches/preview?minimum=0');
    assert.deepEqual(
      (preview.body.data as Array<{ affiliateId: number }>).map((i) => i.affiliateId),
      [bob],
    );
  });

  test('a negative total (refund after payment) is carried over, not paid; nothing to pay is 409', async () => {
    await annBatch(true);
    const { orderId } = await saleBy('carl', 100);
    const first = await a.post('/payout-batches', { minimum: 5 });
    assert.equal(first.status, 201, first.text);
    assert.deepEqual(
      (first.body.items as Array<{ affiliateId: number }>).map((i) => i.affiliateId),
      [carl],
    );
    assert.equal((await a.post(`/payout-batches/${first.body.id}/mark-paid`)).status, 200);
    assert.equal((await a.post(`/sales/${orderId}/refund`, { type: 'refund' })).status, 200);

    const preview = await a.get('/payout-batches/preview?minimum=0');
    assert.ok(!(preview.body.data as Array<{ affiliateId: number }>).some((i) => i.affiliateId === carl));
    const carried = (preview.body.carriedOver as Array<{ affiliateId: number; amount: number; reason: string }>).find(
      (i) => i.affiliateId === carl,
    );
    assert.equal(carried?.amount, -10);
    assert.match(carried!.reason, /negative/);

    const withBob = await a.post('/payout-batches', { minimum: 0 });
    assert.equal(withBob.status, 201, withBob.text);
    assert.deepEqual(
      (withBob.body.items as Array<{ affiliateId: number }>).map((i) => i.affiliateId),
      [bob],
      'Carl is not paid a negative amount',
    );
    const carlNegative = (await a.get(`/commissions?affiliateId=${carl}&kind=refund`)).body.data[0];
    assert.equal(carlNegative.batchId, null, 'the negative commission waits for a later batch');

    const none = await a.post('/payout-batches', { minimum: 0 });
    assertError(none, 409, 'conflict');
    assertFieldError(await a.post('/payout-batches', { minimum: -3 }), 'minimum');
    assertFieldError(await a.post('/payout-batches', { note: 'x'.repeat(256) }), 'note');
  });

  test('affiliates and anonymous callers cannot use payout batches', async () => {
    const paidBatch = await annBatch(true);
    const aff = api(app.url, await tokenFor(app.url, 'ann@example.com', 'ann password 123'));
    assertError(await aff.get('/payout-batches'), 403, 'forbidden');
    assertError(await aff.get('/payout-batches/preview'), 403, 'forbidden');
    assertError(await aff.post('/payout-batches', {}), 403, 'forbidden');
    assertError(await aff.get(`/payout-batches/${paidBatch}/csv`), 403, 'forbidden');
    assertError(await aff.post(`/payout-batches/${paidBatch}/mark-paid`), 403, 'forbidden');
    assertError(await aff.delete(`/payout-batches/${paidBatch}`), 403, 'forbidden');
    assertError(await api(app.url).get('/payout-batches'), 401, 'unauthorized');
  });
});
