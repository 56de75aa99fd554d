import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { approvedAffiliate, campaignWithPayout, referredSale } from '../helpers/programme.js';

type Api = ReturnType<typeof api>;

/** The flash message shown on the page after a redirect. */
async function flashAfter(
  agent: Agent,
  res: { status: number; location: string | null; text: string },
): Promise<string> {
  assert.equal(res.status, 302, res.text.slice(0, 500));
  const page = await agent.get(res.location!);
  assert.equal(page.status, 200);
  return /class="flash flash-(?:success|error)"[^>]*>([^<]*)</.exec(page.text)?.[1] ?? '';
}

let seq = 0;
const nextOrder = () => `AD-${process.pid}-${++seq}`;

describe('admin: commissions queue, refunds on the sale page, payout batches (SPEC §9)', () => {
  let app: TestApp;
  let a: Api;
  let agent: Agent;
  let manual: number;
  let ann: number;

  async function saleBy(refId: string, totalCost: number) {
    const orderId = nextOrder();
    const { sale } = await referredSale(app.url, refId, manual, orderId, totalCost);
    return { orderId, saleId: sale.body.saleId as number, commissionId: sale.body.commissions[0].id as number };
  }

  before(async () => {
    app = await startTestApp();
    agent = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    manual = await campaignWithPayout(a, { name: 'Manual', approval: 'manual' });
    ann = await approvedAffiliate(a, 'Ann Admin', 'ann');
  });
  after(async () => {
    await app.close();
  });

  test('the queue lists commissions with amount, basis, payout, tier, kind, sale link and totals; nav links', async () => {
    const s = await saleBy('ann', 108);
    const page = await agent.get('/admin/commissions');
    assert.equal(page.status, 200, page.text.slice(0, 300));
    assert.match(page.text, new RegExp(`data-commission="${s.commissionId}"`));
    assert.match(page.text, /10\.80 USD/);
    assert.match(page.text, /10% of 108\.00 USD/);
    assert.match(page.text, />10%</, 'the payout title');
    assert.match(page.text, new RegExp(`href="/admin/sales/${s.saleId}"`));
    assert.match(page.text, new RegExp(`name="ids" value="${s.commissionId}"`));
    assert.match(page.text, /data-total="pending">\s*<span class="num">1</);
    assert.match(page.text, /href="\/admin\/commissions"[^>]*aria-current="page"[^>]*>Commissions</);
    assert.match(page.text, /href="\/admin\/payout-batches"[^>]*>Payout batches</);
    const filtered = await agent.get('/admin/commissions?status=approved');
    assert.doesNotMatch(filtered.text, new RegExp(`data-commission="${s.commissionId}"`));
    assert.equal(
      (await agent.get('/admin/commissions?status=bogus&campaignId=x')).status,
      200,
      'nonsense filters are ignored',
    );
    const anonymous = await new Agent(app.url).get('/admin/commissions');
    assert.equal(anonymous.status, 302);
    assert.match(anonymous.location ?? '', /^\/admin\/login/);
  });

  test('bulk approve through the form (with _csrf), with a reason; a declined one is skipped; no token → 403', async () => {
    const one = await saleBy('ann', 20);
    const two = await saleBy('ann', 30);
    const three = await saleBy('ann', 40);
    assert.equal((await a.post(`/commissions/${three.commissionId}/decline`, { reason: 'fraud' })).status, 200);

    const noCsrf = await agent.post(
      '/admin/commissions/bulk',
      { ids: [String(one.commissionId)], action: 'approve' },
      { csrf: false },
    );
    assert.equal(noCsrf.status, 403);
    assert.equal((await a.get(`/commissions/${one.commissionId}`)).body.status, 'pending');

    await agent.get('/admin/commissions');
    const res = await agent.post('/admin/commissions/bulk', {
      ids: [String(one.commissionId), String(two.commissionId), String(three.commissionId)],
      action: 'approve',
      reason: 'checked by hand',
      back: '/admin/commissions?status=pending',
    });
    assert.equal(res.location, '/admin/commissions?status=pending');
    const message = await flashAfter(agent, res);
    assert.match(message, /Approved 2 commissions/);
    assert.match(message, new RegExp(`#${three.commissionId} status is declined`));
    for (const id of [one.commissionId, two.commissionId]) {
      const c = (await a.get(`/commissions/${id}`)).body;
      assert.equal(c.status, 'approved');
      assert.equal(c.statusReason, 'checked by hand');
    }
    const audit = await a.get(`/audit-log?objectType=commission&objectId=${one.commissionId}`);
    assert.ok(
      (audit.body.data as Array<{ action: string; actor: string }>).some(
        (e) => e.action === 'commission.approved' && e.actor === OWNER.email,
      ),
    );

    const none = await agent.post('/admin/commissions/bulk', { action: 'decline', back: '/admin/commissions' });
    assert.match(await flashAfter(agent, none), /Tick at least one/);
    const outside = await agent.post('/admin/commissions/bulk', {
      ids: [String(one.commissionId)],
      action: 'approve',
      back: 'https://evil.example/',
    });
    assert.equal(outside.location, '/admin/commissions', 'no open redirect');
  });

  test('one row: decline with the reason typed in the form', async () => {
    const s = await saleBy('ann', 10);
    const res = await agent.post(`/admin/commissions/${s.commissionId}/decline`, {
      confirm: 'yes',
      reason: 'test order',
      back: '/admin/commissions',
    });
    assert.match(await flashAfter(agent, res), new RegExp(`Commission #${s.commissionId} declined`));
    const c = (await a.get(`/commissions/${s.commissionId}`)).body;
    assert.equal(c.status, 'declined');
    assert.equal(c.statusReason, 'test order');
    const again = await agent.post(`/admin/commissions/${s.commissionId}/approve`, { back: '/admin/commissions' });
    assert.match(await flashAfter(agent, again), /is declined/);
  });

  test('the sale page lists its commissions and refunds; the refund form records a partial refund', async () => {
    const s = await saleBy('ann', 200);
    const before = await agent.get(`/admin/sales/${s.saleId}`);
    assert.equal(before.status, 200);
    assert.match(before.text, new RegExp(`data-commission="${s.commissionId}"`));
    assert.match(before.text, /Refund \/ chargeback/);
    assert.match(before.text, new RegExp(`action="/admin/sales/${s.saleId}/refund"`));

    const bad = await agent.post(`/admin/sales/${s.saleId}/refund`, { amount: '500', type: 'refund' });
    assert.match(await flashAfter(agent, bad), /amount: 500\.00 USD is more than/);
    const text = await agent.post(`/admin/sales/${s.saleId}/refund`, { amount: 'lots', type: 'refund' });
    assert.match(await flashAfter(agent, text), /amount/);

    const res = await agent.post(`/admin/sales/${s.saleId}/refund`, {
      amount: '50',
      type: 'chargeback',
      confirm: 'yes',
    });
    assert.equal(res.location, `/admin/sales/${s.saleId}`);
    assert.match(await flashAfter(agent, res), /Chargeback of 50\.00 USD recorded/);
    const after = await agent.get(`/admin/sales/${s.saleId}`);
    assert.match(after.text, /data-refunds/);
    assert.match(after.text, /chargeback/);
    assert.match(after.text, /-5\.00 USD/, 'the linked negative commission');
    assert.match(after.text, /150\.00 USD left to refund/);
    const children = (
      (await a.get(`/commissions?saleId=${s.saleId}`)).body.data as Array<{
        parentId: number | null;
        amount: number;
        status: string;
      }>
    ).filter((c) => c.parentId === s.commissionId);
    assert.deepEqual(
      children.map((c) => [c.amount, c.status]),
      [[-5, 'pending']],
    );
  });

  test('payout pages: preview with a minimum, create, batch page with CSV link, mark paid; a paid batch cannot be deleted', async () => {
    // An approved commission of Ann's above the minimum, to pay.
    const owed = await saleBy('ann', 100);
    assert.equal((await a.post(`/commissions/${owed.commissionId}/approve`)).status, 200);
    const preview = await agent.get('/admin/payout-batches?minimum=5');
    assert.equal(preview.status, 200);
    assert.match(preview.text, new RegExp(`data-preview[\\s\\S]*data-affiliate="${ann}"`));
    assert.match(preview.text, /Create payout batch/);
    const create = await agent.post('/admin/payout-batches', { minimum: '5', note: 'Admin batch' });
    assert.equal(create.status, 302, create.text.slice(0, 300));
    const batchUrl = create.location!;
    assert.match(batchUrl, /^\/admin\/payout-batches\/\d+$/);
    const page = await agent.get(batchUrl);
    assert.match(page.text, /Admin batch/);
    assert.match(page.text, new RegExp(`data-affiliate="${ann}"`));
    assert.match(page.text, new RegExp(`href="${batchUrl}/csv"`));
    const csv = await agent.get(`${batchUrl}/csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.text, /^affiliateId,refId,name,email,amount,currency,commissions\n/);
    assert.match(csv.text, new RegExp(`\n${ann},ann,Ann Admin,ann@example.com,\\d+\\.\\d{2},USD,\\d+\n`));

    const paid = await agent.post(`${batchUrl}/mark-paid`, { confirm: 'yes' });
    assert.match(await flashAfter(agent, paid), /marked paid/);
    const del = await agent.post(`${batchUrl}/delete`, { confirm: 'yes' });
    assert.match(await flashAfter(agent, del), /cannot be deleted/);
    const list = await agent.get('/admin/payout-batches');
    assert.match(list.text, /data-batches/);
    assert.match(list.text, /badge-approved">paid/);
    assert.equal((await agent.get('/admin/payout-batches/99999')).status, 404);
    const nothing = await agent.post('/admin/payout-batches', { minimum: '1000000' });
    assert.match(await flashAfter(agent, nothing), /nothing to pay/);
  });
});
