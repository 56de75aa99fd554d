import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type Agent } from '../helpers/http.js';
import { created, assertError } from '../helpers/assert.js';
import { campaignWithPayout } from '../helpers/programme.js';

/** The PayPal Payouts export of a batch and the payout methods on the batch page (SPEC §13). */
describe('payout batches: PayPal export and payout methods', () => {
  let app: TestApp;
  let a: ReturnType<typeof api>;
  let browser: Agent;
  let batchId: number;
  const ids: Record<string, number> = {};
  let seq = 0;

  before(async () => {
    app = await startTestApp();
    browser = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const campaign = await campaignWithPayout(a, { name: 'Auto', approval: 'auto' });
    const people: Array<[string, Record<string, unknown>]> = [
      ['pam', { payoutMethod: 'paypal', payoutDetails: { paypalEmail: 'pam.pays@example.com' } }],
      ['pia', { payoutMethod: 'paypal', payoutDetails: { paypalEmail: 'pia@example.com' } }],
      ['ben', { payoutMethod: 'bank', payoutDetails: { accountName: 'Ben B', iban: 'GB82WEST12345698765432' } }],
      ['nia', {}],
    ];
    for (const [ref, profile] of people) {
      ids[ref] = created(
        await a.post('/affiliates', {
          name: ref.toUpperCase(),
          email: `${ref}@example.com`,
          refId: ref,
          status: 'approved',
          ...profile,
        }),
        ref,
      );
    }
    for (const [ref, total] of [
      ['pam', 123.45],
      ['pia', 10],
      ['ben', 50],
      ['nia', 70],
    ] as const) {
      const click = await request(app.url, 'POST', '/t/click', {
        body: { url: `https://shop.example/?a_aid=${ref}&a_cid=${campaign}` },
        headers: { 'user-agent': CHROME },
      });
      const sale = await request(app.url, 'POST', '/t/sale', {
        body: { orderId: `PP-${++seq}`, totalCost: total, visitorId: click.body.visitorId },
        headers: { 'user-agent': CHROME },
      });
      assert.equal(sale.status, 201, sale.text);
    }
    // Pia's PayPal e-mail is removed after the sale: a PayPal affiliate with no e-mail is flagged, not exported.
    assert.equal((await a.patch(`/affiliates/${ids.pia}`, { payoutDetails: null })).status, 200);
    batchId = created(await a.post('/payout-batches', { note: 'December commissions' }), 'batch');
  });
  after(async () => {
    await app.close();
  });

  test('format=paypal: recipient e-mail, amount, currency, note for PayPal affiliates only, no header row', async () => {
    const res = await a.get(`/payout-batches/${batchId}/csv?format=paypal`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /payout-batch-\d+-paypal\.csv/);
    assert.equal(res.text, 'pam.pays@example.com,12.35,USD,December commissions\n');
    const same = await a.get(`/payout-batches/${batchId}?format=paypal`);
    assert.equal(same.text, res.text);
    // The ordinary CSV still lists everyone, with a header.
    const all = await a.get(`/payout-batches/${batchId}/csv`);
    assert.equal(all.text.split('\n')[0], 'affiliateId,refId,name,email,amount,currency,commissions');
    assert.equal(all.text.trim().split('\n').length, 5);
    assertError(await a.get(`/payout-batches/${batchId}/csv?format=xls`), 422, 'validation_failed');
    assertError(await a.get('/payout-batches/99999/csv?format=paypal'), 404, 'not_found');
  });

  test("the batch JSON and page show each affiliate's payout method and flag missing details", async () => {
    const batch = await a.get(`/payout-batches/${batchId}`);
    const byId = new Map(
      (
        batch.body.items as Array<{ affiliateId: number; payoutMethod: string | null; missingPayoutDetails: string[] }>
      ).map((i) => [i.affiliateId, i]),
    );
    assert.equal(byId.get(ids.pam!)?.payoutMethod, 'paypal');
    assert.deepEqual(byId.get(ids.pam!)?.missingPayoutDetails, []);
    assert.deepEqual(byId.get(ids.pia!)?.missingPayoutDetails, ['paypalEmail']);
    assert.deepEqual(byId.get(ids.ben!)?.missingPayoutDetails, []);
    assert.deepEqual(byId.get(ids.nia!)?.missingPayoutDetails, ['payoutMethod']);

    const page = await browser.get(`/admin/payout-batches/${batchId}`);
    assert.equal(page.status, 200);
    const row = (ref: string) =>
      new RegExp(`<tr data-affiliate="${ids[ref]}">[\\s\\S]*?</tr>`).exec(page.text)?.[0] ?? '';
    assert.match(row('pam'), /PayPal/);
    assert.doesNotMatch(row('pam'), /data-missing/);
    assert.match(row('pia'), /data-missing>missing: paypalEmail/);
    assert.match(row('ben'), /Bank transfer/);
    assert.match(row('ben'), /GB82 WEST 1234 5698 7654 32/);
    assert.match(row('nia'), /not chosen/);
    assert.match(row('nia'), /missing: payoutMethod/);
    assert.match(page.text, /data-missing-count>2 affiliate/);
    assert.match(page.text, /href="\/admin\/payout-batches\/\d+\/csv\?format=paypal"/);
    const file = await browser.get(`/admin/payout-batches/${batchId}/csv?format=paypal`);
    assert.equal(file.text, 'pam.pays@example.com,12.35,USD,December commissions\n');
  });
});
