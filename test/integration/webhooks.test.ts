import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { startReceiver, type Receipt, type Receiver } from '../helpers/receiver.js';
import { builtinPlugins } from '../../server/plugins/builtins.js';
import { createWebhooks, WEBHOOK_EVENTS } from '../../server/plugins/webhooks/index.js';
import { verifySignature } from '../../server/services/signature.js';
import type { OutboxEvent } from '../../server/services/outbox.js';
import { approvedAffiliate, campaignWithPayout } from '../helpers/programme.js';

type Api = ReturnType<typeof api>;

const SECRET = 'whsec_0123456789abcdef';

describe(`webhooks plugin (SPEC §7.6, §4.2, §8) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let one: Receiver;
  let two: Receiver;
  let campaign: number;
  let order = 0;
  // The app's clock: the tests move it to show that retries are signed when they are sent.
  let now = Date.now();
  const clock = () => now;

  const configure = async (settings: Record<string, unknown>, active = true) => {
    const res = await a.patch('/plugins/webhooks', { active, settings });
    assert.equal(res.status, 200, res.text);
  };
  const emit = (event: OutboxEvent, payload: Record<string, unknown>) =>
    app.services.db.transaction((trx) => app.services.outbox.emit(trx, event, payload));
  const deliver = () => app.services.outboxWorker.runOnce();
  const verifies = (r: Receipt, secret = SECRET, at = r.at) =>
    verifySignature(String(r.headers['x-affix-signature'] ?? ''), r.body, [secret], at).ok;
  const webhookRows = async () =>
    (await app.services.db('outbox').where({ channel: 'webhook' }).orderBy('id')) as Array<{
      id: number;
      event: string;
      url: string;
      status: string;
      attempts: number;
      headers: string;
      body: string;
    }>;

  before(async () => {
    // The receivers listen on 127.0.0.1.
    app = await startTestApp({
      env: { AFFIX_ALLOW_PRIVATE_TARGETS: 'true' },
      clock,
      builtins: (deps) => [...builtinPlugins(deps), createWebhooks(deps)],
    });
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    one = await startReceiver({ clock });
    two = await startReceiver({ clock });
    campaign = await campaignWithPayout(
      a,
      { name: 'Hooks', approval: 'auto' },
      { title: 'Fixed', type: 'CPS', affiliateCommission: { value: 5, unit: 'fixed' } },
    );
    await approvedAffiliate(a, 'Wes', 'wes');
  });
  after(async () => {
    await one.close();
    await two.close();
    await app.close();
  });
  beforeEach(async () => {
    await app.services.db('outbox').del();
    for (const r of [one, two]) {
      r.receipts.length = 0;
      r.failNext(0);
    }
    now = Math.max(now, Date.now()); // never backwards
    await configure({ urls: [`${one.url}/hooks/affix`, `${two.url}/in`], secret: SECRET, events: [] });
  });

  test('the plugin is listed with its settings, which are validated', async () => {
    const res = await a.get('/plugins/webhooks');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      (res.body.settingDefs as Array<{ key: string; type: string }>).map((d) => [d.key, d.type]),
      [
        ['urls', 'string[]'],
        ['secret', 'string'],
        ['events', 'string[]'],
      ],
    );
    assert.equal(res.body.active, true);
    assert.equal((await a.patch('/plugins/webhooks', { settings: { urls: 'http://x' } })).status, 422);
  });

  test('a sale’s commission.created is POSTed to every URL, signed, once', async () => {
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop/?a_aid=wes&a_cid=${campaign}` },
      headers: { 'user-agent': CHROME },
    });
    const orderId = `WH-${++order}`;
    const sale = await request(app.url, 'POST', '/t/sale', {
      body: { orderId, totalCost: 40, visitorId: click.body.visitorId },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(sale.status, 201, sale.text);
    const commission = sale.body.commissions[0] as { id: number; amount: number };
    assert.ok(commission);

    const result = await deliver();
    assert.equal(result.delivered, 2, JSON.stringify(result));
    assert.equal(one.ok().length, 1);
    assert.equal(two.ok().length, 1);
    const [got] = one.ok();
    assert.equal(got!.method, 'POST');
    assert.equal(got!.path, '/hooks/affix');
    assert.equal(got!.headers['content-type'], 'application/json');
    assert.equal(got!.headers['x-affix-event'], 'commission.created');
    const body = JSON.parse(got!.body);
    assert.deepEqual(Object.keys(body).sort(), ['createdAt', 'data', 'event', 'id']);
    assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(body.event, 'commission.created');
    assert.equal(new Date(body.createdAt).getTime(), now);
    assert.equal(body.data.commission.id, commission.id);
    assert.equal(body.data.commission.amount, 5);
    assert.equal(body.data.commission.saleId, sale.body.saleId);
    assert.equal(JSON.parse(two.ok()[0]!.body).id, body.id, 'one event id, sent to each URL');

    assert.ok(verifies(got!), 'X-Affix-Signature verifies with the secret');
    assert.ok(verifies(two.ok()[0]!));
    assert.ok(!verifies(got!, 'another-secret'), 'and only with it');
    assert.ok(
      !verifySignature(String(got!.headers['x-affix-signature']), got!.body.replace('5', '6'), [SECRET], got!.at).ok,
      'a changed body fails',
    );

    now += 3_600_000;
    assert.equal((await deliver()).due, 0, 'nothing is sent twice');
    assert.equal(one.receipts.length + two.receipts.length, 2);
  });

  test('a retry an hour later is signed at send time and still verifies; one success per delivery', async () => {
    one.failNext(1);
    await emit('conversion.created', { conversion: { subid: 'abc', status: 'sale' } });
    const first = await deliver();
    assert.deepEqual([first.delivered, first.retried], [1, 1]);
    assert.ok(verifies(one.receipts[0]!), 'the refused first attempt was signed too');

    now += 3_600_000; // far beyond both the back-off and the 5-minute tolerance
    assert.equal((await deliver()).delivered, 1);
    const late = one.ok()[0]!;
    assert.ok(verifies(late), 'the late retry verifies at its delivery time');
    assert.notEqual(late.headers['x-affix-signature'], one.receipts[0]!.headers['x-affix-signature'], 're-signed');
    const stored = (await webhookRows()).find((r) => String(r.id) === late.headers['x-affix-delivery'])!;
    assert.equal(Number(stored.attempts), 2);
    assert.equal(stored.status, 'delivered');
    const writeTime = JSON.parse(stored.headers)['X-Affix-Signature'] as string;
    assert.ok(
      !verifySignature(writeTime, late.body, [SECRET], late.at).ok,
      'the write-time signature alone would have been refused',
    );
    assert.ok(!stored.body.includes(SECRET) && !stored.headers.includes(SECRET), 'the secret is never stored');
    for (const r of [one, two]) assert.ok([...r.okPerDelivery().values()].every((n) => n === 1));
    assert.equal(one.ok().length + two.ok().length, 2);
  });

  test('a new secret applies to webhooks still queued', async () => {
    await emit('commission.approved', { commission: { id: 1 } });
    await configure({ secret: 'rotated-secret' });
    await deliver();
    const got = one.ok()[0]!;
    assert.ok(verifies(got, 'rotated-secret'));
    assert.ok(!verifies(got, SECRET));
  });

  test('the events setting chooses what is sent; empty sends all five', async () => {
    await configure({ events: ['commission.approved', 'conversion.created'] });
    for (const event of WEBHOOK_EVENTS) await emit(event, { n: event });
    assert.deepEqual([...new Set((await webhookRows()).map((r) => r.event))].sort(), [
      'commission.approved',
      'conversion.created',
    ]);
    await deliver();
    assert.deepEqual(
      one
        .ok()
        .map((r) => r.headers['x-affix-event'])
        .sort(),
      ['commission.approved', 'conversion.created'],
    );

    await app.services.db('outbox').del();
    await configure({ events: [] });
    for (const event of WEBHOOK_EVENTS) await emit(event, { n: event });
    const rows = await webhookRows();
    assert.equal(rows.length, 10, 'five events × two URLs');
    assert.deepEqual([...new Set(rows.map((r) => r.event))].sort(), [...WEBHOOK_EVENTS].sort());
  });

  test('no URLs, or the plugin turned off: nothing is queued; bad URLs are skipped', async () => {
    await configure({ urls: [] });
    await emit('commission.created', {});
    assert.equal((await webhookRows()).length, 0);

    // Refused when saved (SPEC §10); a list stored before that rule is still read, and what is not
    // an http(s) URL is skipped at send time.
    const bad = ['ftp://files.example/x', 'not a url', `${two.url}/only`];
    assert.equal((await a.patch('/plugins/webhooks', { settings: { urls: bad } })).status, 422);
    const { db } = app.services;
    const row = (await db('plugins').where({ name: 'webhooks' }).first()) as { settings: string };
    const stored = { ...(JSON.parse(row.settings) as Record<string, unknown>), urls: bad };
    await db('plugins')
      .where({ name: 'webhooks' })
      .update({ settings: JSON.stringify(stored) });
    await app.services.plugins.reload();
    await emit('commission.created', {});
    assert.deepEqual(
      (await webhookRows()).map((r) => r.url),
      [`${two.url}/only`],
    );

    await app.services.db('outbox').del();
    await configure({ urls: [`${one.url}/x`] }, false);
    await emit('commission.created', {});
    assert.equal((await webhookRows()).length, 0);
  });

  test('a webhook queued before the plugin was turned off is still delivered, with its write-time signature', async () => {
    await emit('commission.declined', { commission: { id: 7 } });
    await configure({}, false);
    await deliver();
    const got = one.ok()[0]!;
    assert.ok(got, 'delivered: nothing queued is lost');
    assert.ok(verifies(got), 'a prompt delivery verifies with the write-time signature');
  });

  test('without a secret webhooks go out unsigned', async () => {
    await configure({ secret: '' });
    await emit('commission.reversed', { commission: { id: 3 } });
    await deliver();
    const got = one.ok()[0]!;
    assert.equal(got.headers['x-affix-signature'], undefined);
    assert.equal(got.headers['x-affix-event'], 'commission.reversed');
  });
});
