import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME_LINUX, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import { campaignWithPayout } from '../helpers/programme.js';

/*
 * Reviews that run at the same time (SPEC §6.3, §16): parallel approvals and declines of
 * different commissions, and bulk reviews that overlap, all answer 2xx and leave every
 * commission, its audit entry and the day's rollup in the state the answers describe.
 */

type Api = ReturnType<typeof api>;

let seq = 0;

describe(`parallel commission reviews on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let campaign: number;
  const refs = ['ann', 'bob', 'cat'];

  /** `n` pending commissions (one sale each, by turns from three affiliates). */
  async function pendingCommissions(n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const click = await request(app.url, 'POST', '/t/click', {
        body: { url: `https://shop.example/?a_aid=${refs[i % refs.length]}&a_cid=${campaign}` },
        headers: { 'user-agent': CHROME_LINUX },
      });
      assert.equal(click.status, 200, click.text);
      const sale = await request(app.url, 'POST', '/t/sale', {
        body: { orderId: `PAR-${++seq}`, totalCost: 10 + i, visitorId: click.body.visitorId },
        headers: { 'user-agent': CHROME_LINUX },
      });
      assert.equal(sale.status, 201, sale.text);
      assert.equal(sale.body.commissions.length, 1, sale.text);
      assert.equal(sale.body.commissions[0].status, 'pending');
      out.push(sale.body.commissions[0].id as number);
    }
    return out;
  }

  const statuses = async (ids: number[]) =>
    new Map(
      (
        (await app.services.db('commissions').whereIn('id', ids).select('id', 'status')) as Array<{
          id: number;
          status: string;
        }>
      ).map((r) => [Number(r.id), r.status]),
    );

  /** The day rollup's commissions equal the commissions still earned (not declined). */
  async function assertRollupMatches(): Promise<void> {
    const db = app.services.db;
    const rolled = (await db('daily_stats').where({ campaign_id: campaign }).sum({ s: 'commissions' }).first()) as {
      s: number | string | null;
    };
    const earned = (await db('commissions')
      .where({ campaign_id: campaign })
      .whereNot('status', 'declined')
      .sum({ s: 'amount' })
      .first()) as { s: number | string | null };
    assert.equal(Number(rolled.s ?? 0), Number(earned.s ?? 0), 'the rollup counts exactly the earned commissions');
  }

  const auditCount = async (action: string, ids: number[]) =>
    Number(
      (
        (await app.services
          .db('audit_log')
          .where({ action, object_type: 'commission' })
          .whereIn('object_id', ids.map(String))
          .count({ n: '*' })
          .first()) as { n: number | string }
      ).n,
    );

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaign = await campaignWithPayout(a, { name: 'Reviewed', approval: 'manual' });
    for (const ref of refs) {
      created(
        await a.post('/affiliates', { name: ref, email: `${ref}@example.com`, refId: ref, status: 'approved' }),
        'affiliate',
      );
    }
  });
  after(async () => {
    await app.close();
  });

  test('30 parallel approvals of different commissions all answer 200 and approve each once', async () => {
    const ids = await pendingCommissions(30);
    const answers = await Promise.all(ids.map((id) => a.post(`/commissions/${id}/approve`, {})));
    for (const [i, res] of answers.entries()) {
      assert.equal(res.status, 200, `commission ${ids[i]}: ${res.status} ${res.text.slice(0, 300)}`);
      assert.equal(res.body.status, 'approved');
    }
    for (const [id, status] of await statuses(ids)) assert.equal(status, 'approved', `commission ${id}`);
    assert.equal(await auditCount('commission.approved', ids), ids.length, 'one audit entry per approval');
    await assertRollupMatches();
  });

  test('parallel approvals and declines mixed answer 200 each and end as asked', async () => {
    const ids = await pendingCommissions(30);
    const action = (i: number) => (i % 2 ? 'decline' : 'approve');
    const answers = await Promise.all(
      ids.map((id, i) => a.post(`/commissions/${id}/${action(i)}`, { reason: `parallel ${i}` })),
    );
    for (const [i, res] of answers.entries()) {
      assert.equal(res.status, 200, `commission ${ids[i]}: ${res.status} ${res.text.slice(0, 300)}`);
    }
    const after = await statuses(ids);
    for (const [i, id] of ids.entries()) {
      assert.equal(after.get(id), action(i) === 'approve' ? 'approved' : 'declined', `commission ${id}`);
    }
    await assertRollupMatches();
  });

  test('overlapping bulk approvals and declines in parallel: 200 each, every commission moved by exactly one', async () => {
    const ids = await pendingCommissions(36);
    // Six bulks of 12 over 36 ids: each id is in two bulks, some listed backwards, approve and decline mixed.
    const bulks = Array.from({ length: 6 }, (_, b) => {
      const slice = Array.from({ length: 12 }, (_, k) => ids[(b * 6 + k) % ids.length]!);
      return { ids: b % 3 === 1 ? slice.reverse() : slice, action: b % 2 ? 'decline' : 'approve' };
    });
    const answers = await Promise.all(
      bulks.map((body) => a.post('/commissions/bulk', { ...body, reason: 'bulk in parallel' })),
    );
    const movedBy = new Map<number, string[]>();
    for (const [b, res] of answers.entries()) {
      assert.equal(res.status, 200, `bulk ${b}: ${res.status} ${res.text.slice(0, 300)}`);
      const { updated, skipped } = res.body as { updated: number[]; skipped: Array<{ id: number; reason: string }> };
      assert.equal(updated.length + skipped.length, 12, `bulk ${b} answers for each of its ids`);
      for (const s of skipped) assert.match(s.reason, /status is (approved|declined)/, `bulk ${b} skipped ${s.id}`);
      for (const id of updated) movedBy.set(id, [...(movedBy.get(id) ?? []), bulks[b]!.action]);
    }
    const after = await statuses(ids);
    for (const id of ids) {
      const by = movedBy.get(id) ?? [];
      assert.equal(by.length, 1, `commission ${id} was moved by exactly one bulk (${by.join(', ')})`);
      assert.equal(after.get(id), by[0] === 'approve' ? 'approved' : 'declined', `commission ${id}`);
    }
    const approved = ids.filter((id) => after.get(id) === 'approved');
    const declined = ids.filter((id) => after.get(id) === 'declined');
    assert.equal(await auditCount('commission.approved', approved), approved.length);
    assert.equal(await auditCount('commission.declined', declined), declined.length);
    await assertRollupMatches();
  });
});
