import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor, type Agent } from '../helpers/http.js';
import { created, assertError, assertFieldError } from '../helpers/assert.js';
import { campaignWithPayout, referredSale } from '../helpers/programme.js';

/** Everyday commission work (SPEC §13): revert an approved commission; act on every matching one. */
describe('commissions: revert to declined, select all matching', () => {
  let app: TestApp;
  let a: ReturnType<typeof api>;
  let browser: Agent;
  let campaign: number;
  const aff: Record<string, number> = {};
  let seq = 0;

  async function sale(ref: string, total = 100) {
    const { sale: res } = await referredSale(app.url, ref, campaign, `EV-${++seq}`, total);
    return res.body.commissions[0].id as number;
  }

  before(async () => {
    app = await startTestApp();
    browser = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaign = await campaignWithPayout(a, { name: 'Main', approval: 'manual' });
    for (const ref of ['ann', 'bob'])
      aff[ref] = created(
        await a.post('/affiliates', { name: ref, email: `${ref}@example.com`, refId: ref, status: 'approved' }),
        ref,
      );
  });
  after(async () => {
    await app.close();
  });

  test('API: an approved commission reverts to declined with its reason, in the audit log and the reports', async () => {
    const id = await sale('ann', 200);
    assert.equal((await a.post(`/commissions/${id}/approve`, {})).status, 200);
    const report = async () => {
      const res = await a.get(`/reports?groupBy=affiliate&affiliateId=${aff.ann}`);
      assert.equal(res.status, 200, res.text);
      return res.body.rows[0] as { commissions: number };
    };
    const before = await report();
    assertFieldError(await a.post(`/commissions/${id}/revert`, {}), 'reason');
    assertFieldError(await a.post(`/commissions/${id}/revert`, { reason: '  ' }), 'reason');
    assertFieldError(await a.post(`/commissions/${id}/revert`, { reason: 'x', why: 'y' }), 'why');
    const res = await a.post(`/commissions/${id}/revert`, { reason: 'order cancelled by the customer' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'declined');
    assert.equal(res.body.statusReason, 'order cancelled by the customer');
    const audit = await a.get(`/audit-log?objectType=commission&objectId=${id}`);
    const entry = audit.body.data.find((e: { action: string }) => e.action === 'commission.declined');
    assert.deepEqual(
      {
        from: entry.details.from,
        to: entry.details.to,
        reason: entry.details.reason,
        reverted: entry.details.reverted,
      },
      { from: 'approved', to: 'declined', reason: 'order cancelled by the customer', reverted: true },
    );
    assert.equal((await report()).commissions, before.commissions - 20, 'the reports no longer count it');
    assertError(await a.post(`/commissions/${id}/revert`, { reason: 'again' }), 409, 'conflict');
    const pending = await sale('ann');
    assertError(await a.post(`/commissions/${pending}/revert`, { reason: 'not approved' }), 409, 'conflict');
    assertError(await a.post('/commissions/999999/revert', { reason: 'x' }), 404, 'not_found');
  });

  test('an approved commission in a payout batch cannot be reverted', async () => {
    const id = await sale('bob', 50);
    await a.post(`/commissions/${id}/approve`, {});
    const batch = created(await a.post('/payout-batches', {}), 'batch');
    const res = await a.post(`/commissions/${id}/revert`, { reason: 'too late' });
    assertError(res, 409, 'conflict');
    assert.match(res.body.error.message, /payout batch/);
    assert.equal((await a.delete(`/payout-batches/${batch}`)).status, 204);
  });

  test('admin: the revert page asks for the reason, and the queue shows it', async () => {
    const id = await sale('ann', 30);
    await a.post(`/commissions/${id}/approve`, {});
    const queue = await browser.get('/admin/commissions?status=approved');
    assert.match(queue.text, new RegExp(`href="/admin/commissions/${id}/revert\\?back=`));
    const page = await browser.get(`/admin/commissions/${id}/revert`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<label>Reason <input name="reason" required/);
    const missing = await browser.post(`/admin/commissions/${id}/revert`, { reason: '' });
    assert.equal(missing.status, 422);
    assert.match(missing.text, /is required/);
    assert.equal((await a.get(`/commissions/${id}`)).body.status, 'approved', 'nothing changed');
    const done = await browser.post(`/admin/commissions/${id}/revert`, {
      reason: 'fraudulent order',
      back: '/admin/commissions',
    });
    assert.equal(done.status, 302);
    const shown = await browser.get('/admin/commissions?status=declined');
    assert.match(shown.text, new RegExp(`data-commission="${id}"[\\s\\S]*?fraudulent order`));
  });

  test('select all matching: a confirmation with the count, then every matching pending commission, on every page', async () => {
    // 60 pending for Bob (more than one page of 50), 2 for Ann.
    const bobs = new Set<number>();
    for (let i = 0; i < 60; i++) bobs.add(await sale('bob', 10));
    const anns = [await sale('ann', 10), await sale('ann', 10)];
    const page = await browser.get(`/admin/commissions?status=pending&affiliateId=${aff.bob}`);
    assert.match(page.text, /All <strong>60<\/strong> pending commission/);
    const fields = {
      status: 'pending',
      affiliateId: String(aff.bob),
      action: 'approve',
      reason: 'checked',
      back: '/admin/commissions',
    };
    const ask = await browser.post('/admin/commissions/bulk-matching', fields);
    assert.equal(ask.status, 200);
    assert.match(ask.text, /Approve all 60 pending commissions matching these filters\?/);
    const mine = await a.get(`/commissions?affiliateId=${aff.bob}&status=pending&perPage=200`);
    assert.equal(mine.body.pagination.total, 60, 'nothing changed before confirming');
    const done = await browser.post('/admin/commissions/bulk-matching', { ...fields, confirm: 'yes' });
    assert.equal(done.status, 302);
    const after = await a.get(`/commissions?affiliateId=${aff.bob}&perPage=200`);
    const approvedNow = (after.body.data as Array<{ id: number; status: string }>).filter((c) => bobs.has(c.id));
    assert.equal(approvedNow.length, 60);
    assert.ok(approvedNow.every((c) => c.status === 'approved'));
    for (const id of anns)
      assert.equal((await a.get(`/commissions/${id}`)).body.status, 'pending', "Ann's are untouched");
    // Decline all of Ann's pending ones.
    const decline = { status: 'pending', affiliateId: String(aff.ann), action: 'decline', back: '/admin/commissions' };
    assert.match(
      (await browser.post('/admin/commissions/bulk-matching', decline)).text,
      /Decline all \d+ pending commissions?/,
    );
    assert.equal((await browser.post('/admin/commissions/bulk-matching', { ...decline, confirm: 'yes' })).status, 302);
    for (const id of anns) assert.equal((await a.get(`/commissions/${id}`)).body.status, 'declined');
  });
});
