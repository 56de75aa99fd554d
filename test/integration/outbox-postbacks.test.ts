import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { created } from '../helpers/assert.js';
import { approvedAffiliate, campaignWithPayout } from '../helpers/programme.js';

type Api = ReturnType<typeof api>;

describe(`affiliate postbacks through the outbox (SPEC §3, §7.6) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let receiver: Receiver;
  let campaign: number;
  let order = 0;

  /** A click on the affiliate's link, then a sale by the same visitor (unsigned sales ignore affiliateId). */
  const sale = async (refId: string, orderId: string, totalCost: number) => {
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop/?a_aid=${refId}&a_cid=${campaign}` },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(click.status, 200, click.text);
    const res = await request(app.url, 'POST', '/t/sale', {
      body: { orderId, totalCost, visitorId: click.body.visitorId },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(res.status, 201, res.text);
    return res.body as { affiliateId: number; commissions: Array<{ id: number; amount: number; status: string }> };
  };
  const outboxRows = async () => (await app.services.db('outbox').orderBy('id')) as Array<Record<string, unknown>>;

  before(async () => {
    // Fast polling and back-off so the real worker retries within the test.
    // The receiver listens on 127.0.0.1.
    app = await startTestApp({
      env: { AFFIX_ALLOW_PRIVATE_TARGETS: 'true' },
      outbox: { pollMs: 20, backoff: () => 50 },
    });
    app.services.outboxWorker.start();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    receiver = await startReceiver();
    campaign = await campaignWithPayout(
      a,
      { name: 'Postbacks', approval: 'auto' },
      { title: 'Ten percent', type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } },
    );
    created(
      await a.post('/affiliates', {
        name: 'Pat Postback',
        email: 'pat@example.com',
        refId: 'pat',
        status: 'approved',
        postbackUrl: `${receiver.url}/pb?c={commission}&o={order_id}&s={status}`,
      }),
      'affiliate',
    );
    await approvedAffiliate(a, 'Quiet Quinn', 'quinn');
  });
  after(async () => {
    await receiver.close();
    await app.close();
  });
  beforeEach(() => {
    receiver.receipts.length = 0;
    receiver.failNext(0);
  });

  test('an affiliate with a postbackUrl gets a GET with the macros filled after a sale', async () => {
    const orderId = `PB-${++order}`;
    const res = await sale('pat', orderId, 80);
    assert.equal(res.commissions.length, 1);
    assert.equal(res.commissions[0]!.amount, 8);
    assert.equal(res.commissions[0]!.status, 'approved');

    await waitFor(() => receiver.ok().length === 1, 5000, 'the postback');
    const got = receiver.ok()[0]!;
    assert.equal(got.method, 'GET');
    assert.equal(got.path, `/pb?c=8&o=${orderId}&s=approved`);
    assert.equal(got.body, '', 'a GET carries no body');
    const row = (await outboxRows()).find((r) => String(r.id) === got.headers['x-affix-delivery'])!;
    assert.ok(row, 'X-Affix-Delivery names the outbox row');
    assert.equal(row.channel, 'affiliate_postback');
    assert.equal(row.event, 'commission.created');
    await waitFor(
      async () => (await outboxRows()).find((r) => r.id === row.id)?.status === 'delivered',
      2000,
      'delivered',
    );
  });

  test('macro values are URL-encoded', async () => {
    const orderId = `PB ${++order}&x=1`;
    await sale('pat', orderId, 10);
    await waitFor(() => receiver.ok().length === 1, 5000, 'the postback');
    const url = new URL(receiver.ok()[0]!.path, 'http://x');
    assert.equal(url.searchParams.get('o'), orderId);
    assert.equal(url.searchParams.get('x'), null, 'an order id cannot add parameters');
  });

  test('a postback the affiliate’s server refuses is retried until it is accepted, once', async () => {
    receiver.failNext(2);
    await sale('pat', `PB-${++order}`, 50);
    await waitFor(() => receiver.ok().length === 1, 5000, 'the postback after two failures');
    await new Promise((r) => setTimeout(r, 200)); // a few more polls: nothing more is sent
    assert.equal(receiver.receipts.length, 3);
    assert.equal(
      new Set(receiver.receipts.map((r) => r.headers['x-affix-delivery'])).size,
      1,
      'the same row each time',
    );
    const id = receiver.ok()[0]!.headers['x-affix-delivery'];
    const row = (await outboxRows()).find((r) => String(r.id) === id)!;
    assert.equal(row.status, 'delivered');
    assert.equal(Number(row.attempts), 3);
  });

  test('no postback for an affiliate without a postbackUrl', async () => {
    const before = (await outboxRows()).length;
    const res = await sale('quinn', `PB-${++order}`, 30);
    assert.equal(res.commissions.length, 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await outboxRows()).length, before, 'nothing queued (no webhooks plugin active either)');
    assert.equal(receiver.receipts.length, 0);
  });
});
