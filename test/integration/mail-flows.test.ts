import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, Agent, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { TestSmtp, linkIn } from '../helpers/smtp.js';

/*
 * The mails of the programme's events (SPEC §13) over a real SMTP server: commission approved,
 * payout paid, staff invitations (and the staff page's role changes and removals), and mails
 * queued by one process delivered by the next one on the same database.
 */

let order = 0;

describe('programme and staff mails (SPEC §13)', () => {
  const smtp = new TestSmtp();
  let app: TestApp;
  let owner: Agent;
  let a: ReturnType<typeof api>;
  let campaign: number;

  before(async () => {
    await smtp.start();
    app = await startTestApp({
      env: { SMTP_URL: smtp.url },
      outbox: { pollMs: 50, backoff: () => 300, timeoutMs: 2000 },
    });
    app.services.config.publicUrl = app.url;
    app.services.outboxWorker.start();
    owner = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaign = (await a.post('/campaigns', { name: 'Manual', approval: 'manual' })).body.id;
    await a.post(`/campaigns/${campaign}/payouts`, {
      kind: 'general',
      title: '10%',
      type: 'CPS',
      affiliateCommission: { value: 10, unit: 'percent' },
    });
    await a.post('/affiliates', { name: 'Ann', email: 'ann@aff.example', refId: 'ann', status: 'approved' });
  });
  after(async () => {
    await app.close();
    await smtp.stop();
  });

  test('commission approved and payout paid reach the affiliate; commission.created is off by default', async () => {
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=ann&a_cid=${campaign}` },
      headers: { 'user-agent': CHROME },
    });
    const sale = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: `O-${++order}`, totalCost: 125, visitorId: click.body.visitorId },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(sale.status, 201, sale.text);
    const id = sale.body.commissions[0].id as number;
    assert.equal((await a.post(`/commissions/${id}/approve`)).status, 200);
    const approved = await smtp.waitFor('ann@aff.example', /Commission approved: 12\.50 USD/);
    assert.match(approved.text ?? '', new RegExp(`#${id}`));
    assert.equal(
      (await app.services.db('outbox').where({ channel: 'mail', event: 'commission.created' })).length,
      0,
      'commission.created is off by default',
    );
    const batch = await a.post('/payout-batches', {});
    assert.equal(batch.status, 201, batch.text);
    assert.equal((await a.post(`/payout-batches/${batch.body.id}/mark-paid`)).status, 200);
    const paid = await smtp.waitFor('ann@aff.example', /You have been paid 12\.50 USD/);
    assert.match(paid.text ?? '', new RegExp(`batch #${batch.body.id}`));
  });

  test('merchant.daily_summary: off by default; switched on, the owners get the day before once', async () => {
    assert.equal(await app.services.dailySummary.runOnce(), null, 'off by default');
    const saved = await owner.post('/admin/settings/emails/merchant.daily_summary', {
      enabled: 'on',
      ...(await app.services.mail.template('merchant.daily_summary')).source,
      action: 'save',
    });
    assert.equal(saved.status, 302, saved.text.slice(0, 300));
    const day = await app.services.dailySummary.runOnce();
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    assert.equal(day, yesterday);
    assert.equal(await app.services.dailySummary.runOnce(), null, 'once per day');
    const mail = await smtp.waitFor(OWNER.email, new RegExp(`affiliate summary for ${yesterday}`));
    assert.match(mail.text ?? '', /Clicks:\s+\d+/);
  });

  test('staff: invite by mail, accept through the link, change role, remove with a confirmation, never the last owner', async () => {
    const page = await owner.get('/admin/staff');
    assert.equal(page.status, 200);
    const bad = await owner.post('/admin/staff/invite', { email: 'not-an-address', role: 'manager' });
    assert.equal(bad.status, 422);
    const invited = await owner.post('/admin/staff/invite', { email: 'sam@shop.example', role: 'manager' });
    assert.equal(invited.status, 302, invited.text.slice(0, 300));
    const dup = await owner.post('/admin/staff/invite', { email: 'sam@shop.example', role: 'manager' });
    assert.equal(dup.status, 422);

    const mail = await smtp.waitFor('sam@shop.example', /You are invited/);
    const link = linkIn(mail, '/reset-password');
    assert.equal(link.searchParams.get('invite'), '1');
    // Before accepting, the account cannot sign in with any password.
    assert.equal(
      (
        await request(app.url, 'POST', '/api/v1/auth/token', {
          body: { email: 'sam@shop.example', password: 'any password at all' },
        })
      ).status,
      401,
    );
    const sam = new Agent(app.url);
    const form = await sam.get(link.pathname + link.search);
    assert.equal(form.status, 200);
    assert.match(form.text, /Accept the invitation/);
    const accepted = await sam.post('/admin/reset-password', {
      token: link.searchParams.get('token') ?? '',
      password: 'sam password 123',
    });
    assert.equal(accepted.status, 302, accepted.text.slice(0, 300));
    assert.equal(accepted.location, '/admin/login');
    const samToken = await tokenFor(app.url, 'sam@shop.example', 'sam password 123');
    const samApi = api(app.url, samToken);
    assert.equal((await samApi.get('/me')).body.role, 'manager');

    // A manager cannot manage staff.
    const samAgent = new Agent(app.url);
    await samAgent.get('/admin/login');
    await samAgent.post('/admin/login', { email: 'sam@shop.example', password: 'sam password 123', next: '/admin' });
    assert.equal((await samAgent.post('/admin/staff/invite', { email: 'x@shop.example', role: 'owner' })).status, 403);

    const samId = ((await app.services.db('users').where({ email: 'sam@shop.example' }).first('id')) as { id: number })
      .id;
    const ownerId = ((await app.services.db('users').where({ email: OWNER.email }).first('id')) as { id: number }).id;
    const lastOwner = await owner.post(`/admin/staff/${ownerId}/role`, { role: 'manager' });
    assert.equal(lastOwner.status, 409);
    assert.match(lastOwner.text, /only owner/);
    assert.equal((await owner.post(`/admin/staff/${samId}/role`, { role: 'owner' })).status, 302);
    assert.equal((await samApi.get('/me')).status, 401, 'a role change ends the old tokens');

    const ask = await owner.post(`/admin/staff/${samId}/remove`, {});
    assert.equal(ask.status, 200);
    assert.match(ask.text, /Remove sam@shop\.example from the staff\?/);
    assert.ok(await app.services.db('users').where({ id: samId }).first('id'), 'nothing removed before confirming');
    const removed = await owner.post(`/admin/staff/${samId}/remove`, { confirm: 'yes' });
    assert.equal(removed.status, 302);
    assert.equal(await app.services.db('users').where({ id: samId }).first('id'), undefined);
    const self = await owner.post(`/admin/staff/${ownerId}/remove`, { confirm: 'yes' });
    assert.equal(self.status, 409, 'the last owner cannot be removed');
  });
});

describe('mail survives a restart', () => {
  test('mails queued by one process are delivered by the next one on the same database', async () => {
    const smtp = new TestSmtp();
    await smtp.start();
    const env = { SMTP_URL: smtp.url };
    // The first process queues mail but never delivers (its worker is not running), then stops.
    const first = await startTestApp({ env });
    let second: TestApp | null = null;
    try {
      await setupOwner(first.url);
      assert.equal(
        (await request(first.url, 'POST', '/api/v1/auth/password-reset', { body: { email: OWNER.email } })).status,
        202,
      );
      await first.services.stop();
      assert.equal(smtp.messages.length, 0);
      second = await startTestApp({ env, database: first.target, outbox: { pollMs: 50 } });
      second.services.outboxWorker.start();
      const mail = await smtp.waitFor(OWNER.email, /Reset your .* password/);
      assert.ok(linkIn(mail, '/reset-password').searchParams.get('token'));
    } finally {
      await second?.close();
      await first.close();
      await smtp.stop();
    }
  });
});
