import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor, type Agent } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

/*
 * A LIFETIME payout needs the lifetime-commissions plugin, which starts inactive (issue 9.7):
 * saving a LIFETIME payout activates it, and the API answer and the admin's message say so —
 * a LIFETIME payout never silently pays only once.
 */

type Api = ReturnType<typeof api>;

const decode = (html: string) =>
  html
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

describe(`saving a LIFETIME payout activates lifetime-commissions (issue 9.7) on ${dialectName()}`, () => {
  let app: TestApp;
  let owner: Agent;
  let a: Api;
  let campaign: number;
  let ann: number;
  let order = 0;

  const pluginActive = async () => (await a.get('/plugins/lifetime-commissions')).body.active as boolean;
  const deactivate = async () => {
    assert.equal((await a.patch('/plugins/lifetime-commissions', { active: false })).status, 200);
    assert.equal(await pluginActive(), false);
  };
  const lifetimePayout = (title: string) => ({
    kind: 'general',
    title,
    type: 'LIFETIME',
    affiliateCommission: { value: 10, unit: 'percent' },
  });
  const sale = (body: Record<string, unknown>) =>
    request(app.url, 'POST', '/t/sale', { body: { orderId: `L-${++order}`, totalCost: 100, ...body } });

  before(async () => {
    app = await startTestApp();
    owner = await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    ann = created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
    campaign = created(await a.post('/campaigns', { name: 'Subscriptions', approval: 'auto' }), 'campaign');
  });
  after(async () => {
    await app?.close();
  });

  test('API: creating one activates the plugin and says so; the customer is then bound for later sales', async () => {
    assert.equal(await pluginActive(), false, 'inactive on a fresh install');
    const res = await a.post(`/campaigns/${campaign}/payouts`, lifetimePayout('Lifetime 10 %'));
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.type, 'LIFETIME');
    assert.deepEqual(res.body.notices, [
      'The lifetime-commissions plugin was activated: a LIFETIME payout binds each customer to the affiliate of their first sale and pays on every later sale.',
    ]);
    assert.equal(await pluginActive(), true);

    const again = await a.post(`/campaigns/${campaign}/payouts`, {
      ...lifetimePayout('Another'),
      kind: 'personal',
      affiliateIds: [ann],
    });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.body.notices, undefined, 'nothing to say when the plugin is already active');

    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=ann&a_cid=${campaign}` },
    });
    const first = await sale({ visitorId: click.body.visitorId, customerId: 'cust-7' });
    assert.equal(first.body.commissions.length, 1, first.text);
    const later = await sale({ customerId: 'cust-7' });
    assert.equal(later.body.matchedBy, 'lifetime', later.text);
    assert.equal(later.body.affiliateId, ann);
    assert.equal(later.body.commissions.length, 1, 'the later sale pays too');
  });

  test('API: changing a payout to LIFETIME activates the plugin too', async () => {
    await deactivate();
    const id = created(
      await a.post(`/campaigns/${campaign}/payouts`, { ...lifetimePayout('Was CPS'), type: 'CPS' }),
      'payout',
    );
    const res = await a.patch(`/campaigns/${campaign}/payouts/${id}`, { type: 'LIFETIME' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.notices?.length, 1, res.text);
    assert.match(res.body.notices[0], /lifetime-commissions plugin was activated/);
    assert.equal(await pluginActive(), true);
  });

  test('admin form: saving a LIFETIME payout activates the plugin and the page says so', async () => {
    await deactivate();
    const fields = {
      kind: 'general',
      title: 'Lifetime from the form',
      type: 'LIFETIME',
      'affiliateCommission.value': '7',
      'affiliateCommission.unit': 'percent',
      'merchantCommission.unit': 'fixed',
    };
    const res = await owner.post(`/admin/campaigns/${campaign}/payouts`, fields);
    assert.equal(res.status, 302, decode(res.text).slice(0, 500));
    const page = decode((await owner.get(res.location!)).text);
    assert.match(page, /Payout “Lifetime from the form” created\./);
    assert.match(page, /The lifetime-commissions plugin was activated: a LIFETIME payout binds each customer/);
    assert.equal(await pluginActive(), true);

    await deactivate();
    const payouts = await a.get(`/campaigns/${campaign}/payouts?perPage=100`);
    const edited = (payouts.body.data as Array<{ id: number; title: string }>).find(
      (p) => p.title === 'Lifetime from the form',
    )!;
    const saved = await owner.post(`/admin/campaigns/${campaign}/payouts/${edited.id}`, {
      ...fields,
      title: 'Renamed',
    });
    assert.equal(saved.status, 302, decode(saved.text).slice(0, 500));
    const next = decode((await owner.get(saved.location!)).text);
    assert.match(next, /Payout saved\. The lifetime-commissions plugin was activated/);
    assert.equal(await pluginActive(), true);
  });
});
