import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { TestSmtp, linkIn } from '../helpers/smtp.js';
import { waitFor } from '../helpers/receiver.js';
import { hashToken } from '../../server/services/accounts.js';

/*
 * Mail through the outbox over a real SMTP server on loopback (SPEC §13): sign-up verification,
 * password reset followed through real HTTP, a mail server that is down, template edits, and
 * the admin without SMTP_URL.
 */

const PASSWORD = 'portal password 123';
const NEW_PASSWORD = 'a brand new password';

async function mailRows(app: TestApp, template?: string) {
  const q = app.services.db('outbox').where({ channel: 'mail' });
  if (template) q.where({ event: template });
  return (await q.orderBy('id')) as Array<{ id: number; event: string; url: string; status: string; attempts: number }>;
}

describe('mail over SMTP (SPEC §13)', () => {
  const smtp = new TestSmtp();
  let app: TestApp;
  let owner: Agent;
  let staffmade: Promise<void> | undefined;
  /** The affiliate staffmade@aff.example with a portal password, made by staff (by the second test, or here). */
  const staffmadeAffiliate = () =>
    (staffmade ??= (async () => {
      const token = await tokenFor(app.url, OWNER.email, OWNER.password);
      const res = await api(app.url, token).post('/affiliates', {
        name: 'Staffmade',
        email: 'staffmade@aff.example',
        password: PASSWORD,
      });
      assert.equal(res.status, 201, res.text);
    })());

  before(async () => {
    await smtp.start();
    app = await startTestApp({
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Example Shop <affiliates@shop.example>' },
      outbox: { pollMs: 50, backoff: () => 300, timeoutMs: 2000 },
    });
    // Links in mails use PUBLIC_URL: here the app itself.
    app.services.config.publicUrl = app.url;
    app.services.outboxWorker.start();
    owner = await setupOwner(app.url);
  });
  after(async () => {
    await app.close();
    await smtp.stop();
  });

  test('portal sign-up: verification link, the merchant alert, and no sign-in before the link is followed', async () => {
    const email = 'vera@aff.example';
    const agent = new Agent(app.url);
    await agent.get('/portal/signup');
    const res = await agent.post('/portal/signup', { name: 'Vera', email, password: PASSWORD });
    assert.equal(res.status, 302, res.text.slice(0, 300));
    const verify = await smtp.waitFor(email, /Confirm your e-mail address/);
    assert.match(verify.from?.text ?? '', /affiliates@shop\.example/);
    const received = await smtp.waitFor(email, /We received your application/);
    assert.ok(received.html, 'the mail has an HTML part');
    const alert = await smtp.waitFor(OWNER.email, /New affiliate sign-up: Vera/);
    assert.match(alert.text ?? '', /vera@aff\.example/);

    const early = await agent.post('/portal/login', { email, password: PASSWORD, next: '/portal' });
    assert.equal(early.status, 403);
    assert.match(early.text, /not confirmed yet/);
    const apiEarly = await request(app.url, 'POST', '/api/v1/auth/token', { body: { email, password: PASSWORD } });
    assert.equal(apiEarly.status, 403);

    const link = linkIn(verify, '/portal/verify');
    const followed = await fetch(link.toString());
    assert.equal(followed.status, 200);
    assert.match(await followed.text(), /data-verified/);
    const again = await fetch(link.toString());
    assert.equal(again.status, 400, 'the link works once');

    const signin = await agent.post('/portal/login', { email, password: PASSWORD, next: '/portal' });
    assert.equal(signin.status, 302, signin.text.slice(0, 300));
  });

  test('affiliates created by staff count as verified', async () => {
    const token = await tokenFor(app.url, OWNER.email, OWNER.password);
    const res = await api(app.url, token).post('/affiliates', {
      name: 'Staffmade',
      email: 'staffmade@aff.example',
      password: PASSWORD,
    });
    assert.equal(res.status, 201, res.text);
    staffmade = Promise.resolve();
    await tokenFor(app.url, 'staffmade@aff.example', PASSWORD);
  });

  test('password reset: same 202 for unknown addresses, a working link, every old session ends, single use', async () => {
    await staffmadeAffiliate();
    const email = 'staffmade@aff.example';
    const oldToken = await tokenFor(app.url, email, PASSWORD);
    const agent = new Agent(app.url);
    await agent.get('/portal/login');
    assert.equal((await agent.post('/portal/login', { email, password: PASSWORD, next: '/portal' })).status, 302);

    const t0 = performance.now();
    const known = await request(app.url, 'POST', '/api/v1/auth/password-reset', { body: { email } });
    const t1 = performance.now();
    const unknown = await request(app.url, 'POST', '/api/v1/auth/password-reset', {
      body: { email: 'nobody@nowhere.example' },
    });
    const t2 = performance.now();
    assert.equal(known.status, 202);
    assert.equal(unknown.status, 202);
    assert.equal(known.text, unknown.text, 'the same body');
    assert.ok(t1 - t0 >= 240 && t2 - t1 >= 240, 'both take the floor time');
    assert.ok(Math.abs(t1 - t0 - (t2 - t1)) < 300, `similar time: ${t1 - t0} vs ${t2 - t1} ms`);
    assert.equal(
      (await mailRows(app)).filter((r) => r.url.includes('nowhere')).length,
      0,
      'no mail to an unknown address',
    );

    const mail = await smtp.waitFor(email, /Reset your .* password/);
    const link = linkIn(mail, '/portal/reset-password');
    const page = await fetch(link.toString());
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Choose a new password/);
    const token = link.searchParams.get('token') ?? '';

    const short = await request(app.url, 'POST', '/api/v1/auth/password-reset/confirm', {
      body: { token, password: 'short' },
    });
    assert.equal(short.status, 422);
    assert.equal(short.body.error.details[0].field, 'password');

    const done = await request(app.url, 'POST', '/api/v1/auth/password-reset/confirm', {
      body: { token, password: NEW_PASSWORD },
    });
    assert.equal(done.status, 200, done.text);
    assert.equal((await api(app.url, oldToken).get('/me')).status, 401, 'the old API token ends');
    const portal = await agent.get('/portal');
    assert.equal(portal.status, 302, 'the old session ends');
    await tokenFor(app.url, email, NEW_PASSWORD);

    const reused = await request(app.url, 'POST', '/api/v1/auth/password-reset/confirm', {
      body: { token, password: 'yet another password' },
    });
    assert.equal(reused.status, 400);
    assert.match(reused.body.error.message, /already been used/);
    await tokenFor(app.url, email, NEW_PASSWORD);
  });

  test('one reset link used twice at once: exactly one succeeds', async () => {
    const token = await tokenFor(app.url, OWNER.email, OWNER.password);
    const email = 'race@aff.example';
    assert.equal(
      (await api(app.url, token).post('/affiliates', { name: 'Race', email, password: PASSWORD })).status,
      201,
    );
    await request(app.url, 'POST', '/api/v1/auth/password-reset', { body: { email } });
    const link = linkIn(await smtp.waitFor(email, /Reset your/), '/portal/reset-password');
    const confirm = (password: string) =>
      request(app.url, 'POST', '/api/v1/auth/password-reset/confirm', {
        body: { token: link.searchParams.get('token'), password },
      });
    const answers = await Promise.all([confirm('first new password'), confirm('second new password')]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 400]);
    const winner = answers[0]!.status === 200 ? 'first new password' : 'second new password';
    await tokenFor(app.url, email, winner);
  });

  test('expired and forged reset tokens: 400, nothing changed', async () => {
    const email = OWNER.email;
    assert.equal((await request(app.url, 'POST', '/api/v1/auth/password-reset', { body: { email } })).status, 202);
    const mail = await smtp.waitFor(email, /Reset your .* password/);
    const link = linkIn(mail, '/reset-password');
    const token = link.searchParams.get('token') ?? '';
    const page = await fetch(link.toString());
    assert.equal(page.status, 200, 'the staff link /reset-password works');

    await app.services
      .db('account_tokens')
      .where({ token_hash: hashToken(token) })
      .update({ expires_at: Date.now() - 1 });
    const expired = await request(app.url, 'POST', '/api/v1/auth/password-reset/confirm', {
      body: { token, password: NEW_PASSWORD },
    });
    assert.equal(expired.status, 400);
    assert.match(expired.body.error.message, /expired/);
    const forged = await request(app.url, 'POST', '/api/v1/auth/password-reset/confirm', {
      body: { token: 'A'.repeat(43), password: NEW_PASSWORD },
    });
    assert.equal(forged.status, 400);
    assert.match(forged.body.error.message, /not valid/);
    const unknownKey = await request(app.url, 'POST', '/api/v1/auth/password-reset/confirm', {
      body: { token, password: NEW_PASSWORD, extra: 1 },
    });
    assert.equal(unknownKey.status, 422);
    await tokenFor(app.url, OWNER.email, OWNER.password);
  });

  test('a mail server that is down: mails stay queued and are delivered when it returns', async () => {
    await staffmadeAffiliate();
    await smtp.stop();
    const email = 'staffmade@aff.example';
    const token = await tokenFor(app.url, OWNER.email, OWNER.password);
    const found = (await app.services.db('affiliates').where({ email }).first('id')) as { id: number };
    // Declined then approved again: two review mails while the server is down.
    assert.equal((await api(app.url, token).post(`/affiliates/${found.id}/decline`)).status, 200);
    assert.equal((await api(app.url, token).post(`/affiliates/${found.id}/approve`)).status, 200);
    const deadline = Date.now() + 10_000;
    let rows = await mailRows(app, 'affiliate.approved');
    while (Date.now() < deadline && !rows.some((r) => r.attempts >= 2)) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await mailRows(app, 'affiliate.approved');
    }
    const row = rows.at(-1)!;
    assert.equal(row.status, 'pending', 'still queued');
    assert.ok(row.attempts >= 2, `tried again: ${row.attempts}`);
    const before = smtp.messages.length;
    await smtp.start();
    await smtp.waitFor(email, /Welcome to the .* affiliate programme/);
    await smtp.waitFor(email, /Your application to/);
    assert.ok(smtp.messages.length >= before + 2);
    const after = await mailRows(app, 'affiliate.approved');
    assert.equal(after.at(-1)!.status, 'delivered');
  });

  test('the Mail page lists sent mails; account mails keep their link out of the API', async () => {
    // Mails of its own to list: Mia, made pending by staff, is approved (a welcome) and resets her password.
    const staff = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const mia = await staff.post('/affiliates', {
      name: 'Mia',
      email: 'mia@aff.example',
      password: PASSWORD,
      status: 'pending',
    });
    assert.equal(mia.status, 201, mia.text);
    assert.equal((await staff.post(`/affiliates/${mia.body.id}/approve`)).status, 200);
    const reset = await request(app.url, 'POST', '/api/v1/auth/password-reset', { body: { email: 'mia@aff.example' } });
    assert.equal(reset.status, 202);
    await waitFor(
      async () =>
        (await mailRows(app)).filter((r) => r.url.includes('mia@aff.example') && r.status === 'delivered').length >= 2,
      10_000,
      "Mia's mails delivered",
    );
    const page = await owner.get('/admin/mail?status=delivered');
    assert.equal(page.status, 200);
    assert.match(page.text, /account\.password_reset/);
    assert.match(page.text, /Welcome to the/);
    assert.doesNotMatch(page.text, /data-mail-off/);
    const token = await tokenFor(app.url, OWNER.email, OWNER.password);
    const list = await api(app.url, token).get('/outbox?channel=mail');
    assert.equal(list.status, 200);
    const resetMail = list.body.data.find((m: { event: string }) => m.event === 'account.password_reset');
    assert.ok(resetMail);
    assert.doesNotMatch(resetMail.body, /token=/, 'a manager cannot read another account’s reset link');
  });

  test('a mailbox the server refuses (550): failed for good, shown with the answer, and can be sent again', async () => {
    const token = await tokenFor(app.url, OWNER.email, OWNER.password);
    const res = await api(app.url, token).post('/affiliates', {
      name: 'Bo',
      email: 'bounce@aff.example',
      status: 'pending',
    });
    assert.equal(res.status, 201);
    assert.equal((await api(app.url, token).post(`/affiliates/${res.body.id}/approve`)).status, 200);
    const deadline = Date.now() + 10_000;
    let row = (await mailRows(app, 'affiliate.approved')).find((r) => r.url.includes('bounce'));
    while (Date.now() < deadline && row?.status !== 'failed') {
      await new Promise((r) => setTimeout(r, 100));
      row = (await mailRows(app, 'affiliate.approved')).find((r) => r.url.includes('bounce'));
    }
    assert.equal(row?.status, 'failed');
    assert.equal(row?.attempts, 1, 'a 5xx answer is not tried again');
    const page = await owner.get('/admin/mail?status=failed');
    assert.match(page.text, /bounce@aff\.example/);
    assert.match(page.text, /No such mailbox/);
    const again = await owner.post(`/admin/mail/${row!.id}/retry`, {});
    assert.equal(again.status, 302);
    const requeued = (await app.services.db('outbox').where({ id: row!.id }).first()) as { status: string };
    assert.ok(['pending', 'failed'].includes(requeued.status));
    const audit = await app.services.db('audit_log').where({ action: 'outbox.retried' }).first();
    assert.ok(audit, 'the retry is audited');
  });

  test('reset and verification pages: a forged or missing token is a 400 page, nothing changes', async () => {
    for (const path of [
      '/portal/reset-password?token=forged-token-that-is-long-enough',
      '/reset-password',
      '/portal/verify?token=x',
    ]) {
      const res = await fetch(app.url + path);
      assert.equal(res.status, 400, path);
      assert.match(await res.text(), /data-token-refused/, path);
    }
    const agent = new Agent(app.url);
    await agent.get('/admin/forgot-password');
    const posted = await agent.post('/admin/reset-password', { token: 'B'.repeat(43), password: NEW_PASSWORD });
    assert.equal(posted.status, 400);
    assert.match(posted.text, /This link is not valid/);
    await tokenFor(app.url, OWNER.email, OWNER.password);
    const form = await agent.post('/admin/forgot-password', { email: 'nobody@nowhere.example' });
    assert.equal(form.status, 202);
    assert.match(form.text, /data-reset-requested/);
  });

  test('templates: a syntax error is refused with its line; an edit is used and previewed; switched off, nothing is sent', async () => {
    await owner.get('/admin/settings/emails');
    const edit = await owner.get('/admin/settings/emails/affiliate.approved');
    assert.equal(edit.status, 200);
    assert.match(edit.text, /data-preview/);
    const bad = await owner.post('/admin/settings/emails/affiliate.approved', {
      enabled: 'on',
      subject: 'Hi',
      text: 'line one\nline two {{#if affiliate.name}}\nline three',
      html: '<p>x</p>',
      action: 'save',
    });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /text: line 3/);
    const preview = await owner.post('/admin/settings/emails/affiliate.approved', {
      enabled: 'on',
      subject: 'Approved, {{affiliate.name}}!',
      text: 'Welcome {{affiliate.name}}',
      html: '<p>Welcome {{affiliate.name}}</p>',
      action: 'preview',
    });
    assert.equal(preview.status, 200);
    assert.match(preview.text, /Approved, Ann Example!/);
    const saved = await owner.post('/admin/settings/emails/affiliate.approved', {
      enabled: 'on',
      subject: 'Approved, {{affiliate.name}}!',
      text: 'Welcome {{affiliate.name}}',
      html: '<p>Welcome {{affiliate.name}}</p>',
      action: 'save',
    });
    assert.equal(saved.status, 302, saved.text.slice(0, 400));
    const token = await tokenFor(app.url, OWNER.email, OWNER.password);
    const created = await api(app.url, token).post('/affiliates', {
      name: 'Tess',
      email: 'tess@aff.example',
      status: 'pending',
    });
    assert.equal(created.status, 201);
    await api(app.url, token).post(`/affiliates/${created.body.id}/approve`);
    const mail = await smtp.waitFor('tess@aff.example', /Approved, Tess!/);
    assert.equal(mail.text?.trim(), 'Welcome Tess');

    const off = await owner.post('/admin/settings/emails/affiliate.declined', {
      subject: 'x',
      text: 'x',
      html: 'x',
      action: 'save',
    });
    assert.equal(off.status, 302);
    await new Promise((r) => setTimeout(r, 1100));
    await api(app.url, token).post(`/affiliates/${created.body.id}/decline`);
    assert.equal((await mailRows(app, 'affiliate.declined')).filter((r) => r.url.includes('tess')).length, 0);
  });
});

describe('mail without SMTP_URL', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('mails are kept as not_sent, the admin says e-mail is off, sign-up still signs in', async () => {
    const owner = await setupOwner(app.url);
    const dash = await owner.get('/admin');
    assert.match(dash.text, /data-mail-off/);
    assert.equal(
      (await request(app.url, 'POST', '/api/v1/auth/password-reset', { body: { email: OWNER.email } })).status,
      202,
    );
    const rows = await mailRows(app, 'account.password_reset');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'not_sent');
    const page = await owner.get('/admin/mail?status=not_sent');
    assert.match(page.text, /account\.password_reset/);
    // Paginated: a second mail waits on the next page.
    await request(app.url, 'POST', '/api/v1/auth/password-reset', { body: { email: 'x@nowhere.example' } });
    await owner.post('/admin/staff/invite', { email: 'pat@shop.example', role: 'manager' });
    const first = await owner.get('/admin/mail?perPage=1');
    assert.equal([...first.text.matchAll(/data-mail="/g)].length, 1);
    assert.match(first.text, /rel="next"/);
    assert.match((await owner.get('/admin/mail?perPage=1&page=2')).text, /rel="prev"/);
    const bad = await request(app.url, 'POST', '/api/v1/auth/password-reset', { body: { email: { $ne: 1 } } });
    assert.equal(bad.status, 422);

    // A sign-up needs no verification while no mail can carry the link.
    const agent = new Agent(app.url);
    await agent.get('/portal/signup');
    await agent.post('/portal/signup', { name: 'Nora', email: 'nora@aff.example', password: PASSWORD });
    await agent.get('/portal/login');
    const signin = await agent.post('/portal/login', {
      email: 'nora@aff.example',
      password: PASSWORD,
      next: '/portal',
    });
    assert.equal(signin.status, 302, signin.text.slice(0, 300));

    // An invitation shows its link to the owner instead.
    const invited = await owner.post('/admin/staff/invite', { email: 'sam@shop.example', role: 'manager' });
    assert.equal(invited.status, 200);
    const link = (/data-invite-link>[^]*?<code>([^<]+)<\/code>/.exec(invited.text)?.[1] ?? '')
      .replace(/&#x3D;/g, '=')
      .replace(/&amp;/g, '&');
    assert.match(link, /\/reset-password\?token=[\w-]+&invite=1$/);
    // Without PUBLIC_URL the link names localhost:PORT; the path is what matters here.
    const accept = await fetch(link.replace(/^https?:\/\/[^/]+/, app.url));
    assert.equal(accept.status, 200);
  });
});
