import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME_LINUX, Agent, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { created, assertFieldError } from '../helpers/assert.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { campaignWithPayout } from '../helpers/programme.js';

/*
 * SPEC §10a: outgoing HTTP (affiliate and source postbacks, webhooks) never reaches loopback,
 * private, link-local, CGNAT or multicast addresses, however the URL spells them — refused when
 * the URL is saved, and again at send time on the resolved address — and never follows a
 * redirect. AFFIX_ALLOW_PRIVATE_TARGETS=true lifts the rule for a closed network.
 */

type Api = ReturnType<typeof api>;

/** Internal targets, spelled every way an attacker would try. */
const INTERNAL = [
  'http://169.254.169.254/latest/meta-data/',
  'http://10.0.0.5/pb',
  'http://172.16.3.4/pb',
  'http://192.168.1.1/pb',
  'http://100.64.0.1/pb',
  'http://[::1]:8080/pb',
  'http://0x7f000001/pb',
  'http://2130706433/pb',
  'http://017700000001/pb',
  'http://127.1/pb',
  'http://127.0.0.1:3306/',
  'http://localhost:6379/pb',
  'http://localhost./pb',
  'http://api.localhost/pb',
  'http://[64:ff9b:1::7f00:1]/pb',
  'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/pb',
  'http://0.0.0.0/pb',
  'http://255.255.255.255/pb',
  'http://224.0.0.1/pb',
  'http://[::ffff:127.0.0.1]/pb',
  'http://[::ffff:a9fe:a9fe]/pb',
  'http://[fd00::1]/pb',
  'http://[fe80::1]/pb',
  'http://[ff02::1]/pb',
  'http://[::]/pb',
  'http://[64:ff9b::a00:1]/pb',
];

function assertRefused(res: JsonResponse, field: string, url: string): void {
  assert.equal(res.status, 422, `${url}: ${res.status} ${res.text.slice(0, 300)}`);
  assertFieldError(res, field);
  const detail = (res.body.error.details as Array<{ field: string; message: string }>).find((d) => d.field === field)!;
  assert.match(detail.message, /public address/, `${url}: ${detail.message}`);
}

const decode = (html: string) =>
  html.replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16))).replace(/&amp;/g, '&');

interface Setup {
  app: TestApp;
  a: Api;
  campaign: number;
  receiver: Receiver;
}

async function setUp(env: Record<string, string> = {}): Promise<Setup> {
  const app = await startTestApp({ env, outbox: { pollMs: 20, backoff: () => 50, maxAttempts: 2 } });
  app.services.outboxWorker.start();
  await setupOwner(app.url);
  const a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  const campaign = await campaignWithPayout(
    a,
    { name: 'Postbacks', approval: 'auto' },
    { title: 'Ten percent', type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } },
  );
  return { app, a, campaign, receiver: await startReceiver() };
}

let orders = 0;

/** A click on the affiliate's link and a sale by the same visitor: one commission, one postback. */
async function sale(s: Setup, refId: string): Promise<void> {
  const click = await request(s.app.url, 'POST', '/t/click', {
    body: { url: `https://shop.example/?a_aid=${refId}&a_cid=${s.campaign}` },
    headers: { 'user-agent': CHROME_LINUX },
  });
  assert.equal(click.status, 200, click.text);
  const res = await request(s.app.url, 'POST', '/t/sale', {
    body: { orderId: `SSRF-${process.pid}-${++orders}`, totalCost: 50, visitorId: click.body.visitorId },
    headers: { 'user-agent': CHROME_LINUX },
  });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.commissions.length, 1, res.text);
}

type OutboxRow = { id: number; url: string; status: string; attempts: number; last_error: string | null };
const outboxTo = async (s: Setup, prefix: string) =>
  ((await s.app.services.db('outbox').orderBy('id')) as OutboxRow[]).filter((r) => r.url.startsWith(prefix));

describe(`outgoing HTTP is refused for internal addresses (SPEC §10a) on ${dialectName()}`, () => {
  let s: Setup;
  let annToken: string;
  let ann: number;

  before(async () => {
    s = await setUp();
    ann = created(
      await s.a.post('/affiliates', {
        name: 'Ann',
        email: 'ann@example.com',
        refId: 'ann',
        status: 'approved',
        password: 'ann password 123',
      }),
      'affiliate',
    );
    annToken = await tokenFor(s.app.url, 'ann@example.com', 'ann password 123');
  });
  after(async () => {
    await s.receiver.close();
    await s.app.close();
  });
  beforeEach(() => {
    s.receiver.receipts.length = 0;
  });

  test('PATCH /api/v1/me/affiliate: 422 naming postbackUrl for every internal spelling; nothing stored', async () => {
    const me = api(s.app.url, annToken);
    for (const url of INTERNAL)
      assertRefused(await me.patch('/me/affiliate', { postbackUrl: url }), 'postbackUrl', url);
    assert.equal((await s.a.get(`/affiliates/${ann}`)).body.postbackUrl, null);
  });

  test('the merchant API refuses them too: affiliates (create, patch) and sources (create, patch)', async () => {
    for (const url of INTERNAL) {
      assertRefused(
        await s.a.post('/affiliates', { name: 'X', email: `x${orders++}@example.com`, postbackUrl: url }),
        'postbackUrl',
        url,
      );
      assertRefused(await s.a.patch(`/affiliates/${ann}`, { postbackUrl: url }), 'postbackUrl', url);
      assertRefused(await s.a.post('/sources', { name: 'Net', postbackUrl: url }), 'postbackUrl', url);
    }
    const source = created(await s.a.post('/sources', { name: 'Net' }), 'source');
    for (const url of INTERNAL) {
      assertRefused(await s.a.patch(`/sources/${source}`, { postbackUrl: url }), 'postbackUrl', url);
    }
    assert.equal((await s.a.get(`/sources/${source}`)).body.postbackUrl, null);
  });

  test('webhook URLs (plugin settings) are refused naming urls', async () => {
    for (const url of INTERNAL) {
      const res = await s.a.patch('/plugins/webhooks', { settings: { urls: ['https://hooks.example/in', url] } });
      assertRefused(res, 'urls', url);
    }
    assert.deepEqual((await s.a.get('/plugins/webhooks')).body.settings.urls, []);
  });

  test('the portal form and the admin affiliate form show the error at the postbackUrl field', async () => {
    const portal = new Agent(s.app.url);
    await portal.get('/portal/login');
    const login = await portal.post('/portal/login', { email: 'ann@example.com', password: 'ann password 123' });
    assert.equal(login.status, 302, login.text.slice(0, 300));
    await portal.get('/portal/settings');
    const bad = await portal.post('/portal/settings', { name: 'Ann', postbackUrl: 'http://127.1:8080/pb' });
    assert.equal(bad.status, 422, bad.text.slice(0, 300));
    assert.match(decode(bad.text), /name="postbackUrl"[^]*?role="alert">must be a public address/);

    const owner = new Agent(s.app.url);
    await owner.get('/admin/login');
    const signin = await owner.post('/admin/login', { email: OWNER.email, password: OWNER.password });
    assert.equal(signin.status, 302, signin.text.slice(0, 300));
    await owner.get('/admin/affiliates/new');
    const form = await owner.post('/admin/affiliates/new', {
      name: 'Zed',
      email: 'zed@example.com',
      status: 'approved',
      postbackUrl: 'http://[::1]/pb',
    });
    assert.equal(form.status, 422, form.text.slice(0, 300));
    assert.match(decode(form.text), /role="alert">must be a public address: ::1 is a loopback address/);
    assert.equal((await s.a.get(`/affiliates/${ann}`)).body.postbackUrl, null);
  });

  test('public targets are accepted: a public address, and a name (one that does not resolve yet too)', async () => {
    const me = api(s.app.url, annToken);
    for (const url of ['http://93.184.216.34/pb?c={commission}', 'https://partner.example/pb?o={order_id}']) {
      const res = await me.patch('/me/affiliate', { postbackUrl: url });
      assert.equal(res.status, 200, `${url}: ${res.text}`);
      assert.equal(res.body.postbackUrl, url);
    }
    await me.patch('/me/affiliate', { postbackUrl: null });
  });

  test('a URL stored anyway (written into the database) is refused at send time and never delivered', async () => {
    const port = new URL(s.receiver.url).port;
    for (const url of [`${s.receiver.url}/direct`, `http://localhost:${port}/by-name`]) {
      await s.app.services.db('affiliates').where({ id: ann }).update({ postback_url: url });
      s.app.services.cache.invalidate();
      await sale(s, 'ann');
      await waitFor(async () => (await outboxTo(s, url))[0]?.status === 'failed', 10_000, `the postback to ${url}`);
      const [row] = await outboxTo(s, url);
      assert.equal(Number(row!.attempts), 1, 'refused for good at the first attempt');
      assert.match(row!.last_error ?? '', /127\.0\.0\.1(,| is) a loopback address/, row!.last_error ?? '');
    }
    assert.equal(s.receiver.receipts.length, 0, 'the receiver on 127.0.0.1 got nothing');
    await s.app.services.db('affiliates').where({ id: ann }).update({ postback_url: null });
    s.app.services.cache.invalidate();
  });
});

describe(`AFFIX_ALLOW_PRIVATE_TARGETS=true (a closed network) on ${dialectName()}`, () => {
  let s: Setup;
  let target: Receiver;
  let pat: number;

  before(async () => {
    s = await setUp({ AFFIX_ALLOW_PRIVATE_TARGETS: 'true' });
    target = await startReceiver();
    pat = created(
      await s.a.post('/affiliates', {
        name: 'Pat',
        email: 'pat@example.com',
        refId: 'pat',
        status: 'approved',
        postbackUrl: `${s.receiver.url}/pb?c={commission}`,
      }),
      'affiliate',
    );
  });
  after(async () => {
    await target.close();
    await s.receiver.close();
    await s.app.close();
  });

  test('an internal address may be saved and is delivered', async () => {
    await sale(s, 'pat');
    await waitFor(() => s.receiver.ok().length === 1, 10_000, 'the postback');
    assert.match(s.receiver.ok()[0]!.path, /^\/pb\?c=5/);
  });

  test('a redirect is not followed: the 302 fails the delivery and the other port gets no request', async () => {
    const url = `${s.receiver.url}/moved`;
    assert.equal((await s.a.patch(`/affiliates/${pat}`, { postbackUrl: url })).status, 200);
    s.receiver.receipts.length = 0;
    s.receiver.redirect(`${target.url}/internal-admin`);
    try {
      await sale(s, 'pat');
      await waitFor(async () => (await outboxTo(s, url))[0]?.status === 'failed', 10_000, 'the failed delivery');
    } finally {
      s.receiver.redirect(null);
    }
    const [row] = await outboxTo(s, url);
    assert.match(row!.last_error ?? '', /HTTP 302.*redirects are not followed/, row!.last_error ?? '');
    assert.ok(s.receiver.receipts.length >= 1, 'the redirecting receiver was asked');
    assert.equal(target.receipts.length, 0, 'the redirect target got no request');
  });
});
