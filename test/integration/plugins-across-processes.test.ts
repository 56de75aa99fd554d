import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME_LINUX, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { startReceiver, type Receipt, type Receiver } from '../helpers/receiver.js';
import { verifySignature } from '../../server/services/signature.js';
import { approvedAffiliate, campaignWithPayout } from '../helpers/programme.js';

/*
 * SPEC §12, §16: plugin activation and plugin settings are configuration, so a change made on one
 * server process reaches every other process on the same database within its polling interval.
 * Two service containers share one database here; the changes are made on one and the outcome
 * is watched on the other.
 */

type Api = ReturnType<typeof api>;

/** Generous: the other process polls every second; a slow machine must not fail the test. */
const DEADLINE_MS = 20_000;

/** Calls `fn` until it gives a value, or fails naming `what` after the deadline. */
async function until<T>(what: string, fn: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await fn();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe(`plugin state reaches another process on the same database (${dialectName()})`, () => {
  let one: TestApp;
  let other: TestApp;
  let a: Api;
  let receiver: Receiver;
  let campaign: number;
  let order = 0;

  const click = (app: TestApp) =>
    request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=wes&a_cid=${campaign}` },
      headers: { 'user-agent': CHROME_LINUX },
    });

  /** A referred sale on `app`: one commission, so one commission.created event. */
  async function saleOn(app: TestApp): Promise<void> {
    const c = await click(app);
    assert.equal(c.status, 200, c.text);
    const res = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: `XP-${process.pid}-${++order}`, totalCost: 30, visitorId: c.body.visitorId },
      headers: { 'user-agent': CHROME_LINUX },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.commissions.length, 1, res.text);
  }

  const webhookRows = async () =>
    Number(
      ((await one.services.db('outbox').where({ channel: 'webhook' }).count({ n: '*' }).first()) as { n: number }).n,
    );

  const commissionEvents = (list: Receipt[]) => list.filter((r) => r.headers['x-affix-event'] === 'commission.created');
  /** Webhook requests the receiver got whose signature verifies with `secret`. */
  const signedWith = (secret: string): Receipt[] =>
    commissionEvents(receiver.receipts).filter((r) => {
      const header = r.headers['x-affix-signature'];
      return typeof header === 'string' && verifySignature(header, r.body, [secret], Date.now()).ok;
    });

  before(async () => {
    // The receiver listens on 127.0.0.1.
    const env = { AFFIX_ALLOW_PRIVATE_TARGETS: 'true' };
    one = await startTestApp({ env });
    other = await startTestApp({ env, database: one.target, outbox: { pollMs: 20, backoff: () => 50 } });
    // Only the other process delivers: what it sends shows the plugin state it applies.
    other.services.outboxWorker.start();
    await setupOwner(one.url);
    a = api(one.url, await tokenFor(one.url, OWNER.email, OWNER.password));
    receiver = await startReceiver();
    campaign = await campaignWithPayout(
      a,
      { name: 'Shared', approval: 'auto' },
      { title: 'Fixed', type: 'CPS', affiliateCommission: { value: 3, unit: 'fixed' } },
    );
    await approvedAffiliate(a, 'Wes', 'wes');
    // The other process knows the campaign before the plugin changes start.
    await until('the other process sees the campaign', async () => {
      const c = await click(other);
      return c.body.campaignId === campaign ? true : null;
    });
  });
  after(async () => {
    await receiver.close();
    await other.close();
    await one.close();
  });

  test('webhooks activated, their secret rotated, then deactivated on one process: the other follows', async () => {
    const first = 'first-secret-0123456789';
    const second = 'second-secret-9876543210';
    const on = await a.patch('/plugins/webhooks', {
      active: true,
      settings: { urls: [`${receiver.url}/hooks`], secret: first, events: [] },
    });
    assert.equal(on.status, 200, on.text);

    await until('the other process sends webhooks signed with the first secret', async () => {
      await saleOn(other);
      await new Promise((r) => setTimeout(r, 150));
      return signedWith(first).length ? true : null;
    });

    assert.equal((await a.patch('/plugins/webhooks', { settings: { secret: second } })).status, 200);
    await until('the other process signs with the rotated secret', async () => {
      receiver.receipts.length = 0;
      await saleOn(other);
      await new Promise((r) => setTimeout(r, 150));
      return signedWith(second).length ? true : null;
    });
    assert.equal(signedWith(first).length, 0, 'the old secret signs nothing once the new one applies');

    assert.equal((await a.patch('/plugins/webhooks', { active: false })).status, 200);
    await until('a sale on the other process queues no webhook', async () => {
      const before = await webhookRows();
      await saleOn(other);
      return (await webhookRows()) === before ? true : null;
    });
  });

  test('fraud protection activated on one process declines clicks on the other, and deactivated stops', async () => {
    const settings = await a.patch('/settings', { fraud: { blockedIps: ['127.0.0.1'], blockedIpsAction: 'decline' } });
    assert.equal(settings.status, 200, settings.text);
    try {
      assert.equal((await a.patch('/plugins/fraud-protection', { active: true })).status, 200);
      const declined = await until('a click from the blocked IP is declined on the other process', async () => {
        const c = await click(other);
        assert.equal(c.status, 200, c.text);
        return c.body.status === 'declined' ? c.body : null;
      });
      assert.equal(declined.status, 'declined');

      assert.equal((await a.patch('/plugins/fraud-protection', { active: false })).status, 200);
      await until('clicks are no longer declined on the other process', async () => {
        const c = await click(other);
        return c.body.status !== 'declined' ? true : null;
      });
    } finally {
      await a.patch('/settings', { fraud: { blockedIps: [] } });
    }
  });
});
