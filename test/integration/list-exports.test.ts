import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type Agent } from '../helpers/http.js';
import { created, assertError, assertFieldError } from '../helpers/assert.js';
import { campaignWithPayout } from '../helpers/programme.js';

/** Lines of a CSV whose cells hold no quoted commas or line breaks. */
const lines = (text: string) => text.trim().split('\n');
const column = (text: string, name: string) => {
  const [head, ...rest] = lines(text);
  const i = head!.split(',').indexOf(name);
  assert.ok(i >= 0, `no column ${name} in ${head}`);
  return rest.map((l) => l.split(',')[i]);
};

/** CSV exports of affiliates, sales, commissions and clicks with the list's filters (SPEC §13). */
describe('list exports (format=csv)', () => {
  let app: TestApp;
  let a: ReturnType<typeof api>;
  let browser: Agent;
  let campaign: number;
  const aff: Record<string, number> = {};
  const CLICKS = 1_100;

  before(async () => {
    app = await startTestApp();
    browser = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaign = await campaignWithPayout(a, { name: 'Main', approval: 'manual' });
    for (const [ref, status] of [
      ['ann', 'approved'],
      ['bob', 'approved'],
      ['pen', 'pending'],
    ] as const)
      aff[ref] = created(
        await a.post('/affiliates', { name: ref.toUpperCase(), email: `${ref}@example.com`, refId: ref, status }),
        ref,
      );
    // More clicks than one read batch (500): the export must page through them all.
    const visitors: Record<string, string> = {};
    for (let i = 0; i < CLICKS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, CLICKS - i) }, async (_, j) => {
          const ref = (i + j) % 10 === 0 ? 'bob' : 'ann';
          const res = await request(app.url, 'POST', '/t/click', {
            body: { url: `https://shop.example/?a_aid=${ref}&a_cid=${campaign}` },
            headers: { 'user-agent': CHROME, 'x-forwarded-for': `10.1.${(i + j) >> 8}.${(i + j) & 255}` },
          });
          assert.equal(res.status, 200, res.text);
          visitors[ref] ??= res.body.visitorId;
        }),
      );
    }
    for (const [ref, orderId, total] of [
      ['ann', 'EX-1', 100],
      ['ann', 'EX-2', 40],
      ['bob', 'EX-3', 70],
    ] as const) {
      const sale = await request(app.url, 'POST', '/t/sale', {
        body: { orderId, totalCost: total, visitorId: visitors[ref] },
        headers: { 'user-agent': CHROME },
      });
      assert.equal(sale.status, 201, sale.text);
    }
    const bobs = await a.get(`/commissions?affiliateId=${aff.bob}`);
    assert.equal((await a.post(`/commissions/${bobs.body.data[0].id}/approve`, {})).status, 200);
  });
  after(async () => {
    await app.close();
  });

  test('clicks: every matching click, across read batches, streamed (no Content-Length)', async () => {
    const all = await a.get('/clicks?format=csv');
    assert.equal(all.status, 200, all.text.slice(0, 300));
    assert.match(all.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(
      all.headers.get('content-disposition') ?? '',
      /attachment; filename="affix-clicks-\d{4}-\d{2}-\d{2}\.csv"/,
    );
    assert.equal(all.headers.get('content-length'), null, 'written as it is read, not built first');
    assert.equal(all.headers.get('transfer-encoding'), 'chunked');
    const ids = column(all.text, 'id').map(Number);
    assert.equal(ids.length, CLICKS);
    assert.equal(new Set(ids).size, CLICKS, 'no row twice across batches');
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => y - x),
      'newest first',
    );
    const bobs = await a.get(`/clicks?format=csv&affiliateId=${aff.bob}`);
    assert.equal(lines(bobs.text).length - 1, CLICKS / 10);
    assert.ok(column(bobs.text, 'affiliateId').every((v) => v === String(aff.bob)));
  });

  test('sales, commissions and affiliates with filters; unknown filters and formats are 422', async () => {
    const sales = await a.get(`/sales?format=csv&affiliateId=${aff.ann}`);
    assert.deepEqual(column(sales.text, 'orderId').sort(), ['EX-1', 'EX-2']);
    assert.deepEqual(column(sales.text, 'totalCost').sort(), ['100', '40']);
    const approved = await a.get('/commissions?format=csv&status=approved');
    assert.deepEqual(column(approved.text, 'amount'), ['7']);
    assert.deepEqual(column(approved.text, 'affiliateId'), [String(aff.bob)]);
    assert.equal(lines((await a.get('/commissions?format=csv')).text).length - 1, 3);
    const pending = await a.get('/affiliates?format=csv&status=pending');
    assert.deepEqual(column(pending.text, 'refId'), ['pen']);
    assert.match(
      lines(pending.text)[0]!,
      /^id,refId,name,email,status,parentId,website,promotionMethod,payoutMethod,taxId/,
    );
    assertFieldError(await a.get('/sales?format=xml'), 'format');
    assertFieldError(await a.get('/clicks?format=csv&colour=red'), 'colour');
    assert.equal((await a.get('/sales?format=json')).body.pagination.total, 3, 'format=json is the page');
  });

  test('an affiliate cannot export commissions; nobody signed out can export anything', async () => {
    const email = 'exp@example.com';
    created(
      await a.post('/affiliates', { name: 'E', email, password: 'affiliate password 1', status: 'approved' }),
      'e',
    );
    const mine = api(app.url, await tokenFor(app.url, email, 'affiliate password 1'));
    assertError(await mine.get('/commissions?format=csv'), 403, 'forbidden');
    assertError(await api(app.url).get('/clicks?format=csv'), 401, 'unauthorized');
  });

  test("each admin list links to its export with the page's filters, and the link gives the filtered rows", async () => {
    for (const [path, query] of [
      ['/admin/affiliates', 'status=approved'],
      ['/admin/sales', `affiliateId=${aff.ann}`],
      ['/admin/commissions', 'status=approved'],
      ['/admin/clicks', `affiliateId=${aff.bob}`],
    ] as const) {
      const page = await browser.get(`${path}?${query}&page=1`);
      assert.equal(page.status, 200, path);
      const href = /href="([^"]+)" download data-csv/
        .exec(page.text)?.[1]
        ?.replace(/&amp;/g, '&')
        .replace(/&#x3D;/g, '=');
      assert.equal(href, `${path}?${query}&format=csv`, path);
    }
    const sales = await browser.get(`/admin/sales?affiliateId=${aff.ann}&format=csv`);
    assert.deepEqual(column(sales.text, 'orderId').sort(), ['EX-1', 'EX-2']);
    const affiliates = await browser.get('/admin/affiliates?status=approved&format=csv');
    const refs = column(affiliates.text, 'refId');
    assert.ok(refs.includes('ann') && refs.includes('bob') && !refs.includes('pen'), affiliates.text);
    assert.ok(column(affiliates.text, 'status').every((s) => s === 'approved'));
    const clicks = await browser.get(`/admin/clicks?affiliateId=${aff.bob}&format=csv`);
    assert.equal(lines(clicks.text).length - 1, CLICKS / 10);
    const commissions = await browser.get('/admin/commissions?status=approved&format=csv');
    assert.deepEqual(column(commissions.text, 'amount'), ['7']);
  });
});
