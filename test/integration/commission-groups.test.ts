import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type Agent, type JsonResponse } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

/*
 * SPEC §14: commission groups (API and admin page), personal payouts naming them, payout goals
 * by country, and the coupon recognition switch.
 */

type Api = ReturnType<typeof api>;
const DE_IP = '85.214.132.117';
const US_IP = '8.8.8.8';

describe('commission groups, goals by country, coupon recognition', () => {
  let app: TestApp;
  let owner: Api;
  let admin: Agent;
  let campaign: number;
  let ann: number;
  let bob: number;
  let cat: number;
  let seq = 0;
  const order = () => `CG-${process.pid}-${++seq}`;

  async function visitor(ref: string, ip = US_IP, campaignId = campaign): Promise<string> {
    const res = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=${ref}&a_cid=${campaignId}` },
      headers: { 'user-agent': CHROME, 'x-forwarded-for': ip },
    });
    assert.equal(res.status, 200, res.text);
    return res.body.visitorId as string;
  }
  const sale = (body: Record<string, unknown>, ip = US_IP) =>
    request(app.url, 'POST', '/t/sale', {
      body: { orderId: order(), ...body },
      headers: { 'user-agent': CHROME, 'x-forwarded-for': ip },
    });
  const amounts = (res: JsonResponse) => (res.body.commissions as Array<{ amount: number }>).map((c) => c.amount);

  before(async () => {
    app = await startTestApp();
    admin = await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaign = created(await owner.post('/campaigns', { name: 'Groups', approval: 'auto' }), 'campaign');
    const aff = async (name: string) =>
      created(
        await owner.post('/affiliates', {
          name,
          email: `${name.toLowerCase()}@example.com`,
          refId: name.toLowerCase(),
          status: 'approved',
        }),
        name,
      );
    ann = await aff('Ann');
    bob = await aff('Bob');
    cat = await aff('Cat');
    created(
      await owner.post(`/campaigns/${campaign}/payouts`, {
        kind: 'general',
        title: 'Everyone 5%',
        type: 'CPS',
        affiliateCommission: { value: 5, unit: 'percent' },
      }),
      'general payout',
    );
  });
  after(async () => {
    await app?.close();
  });

  test('CRUD of /api/v1/commission-groups, strict and validated', async () => {
    const res = await owner.post('/commission-groups', { name: 'VIP', affiliateIds: [ann, bob] });
    const id = created(res, 'group');
    assert.deepEqual(
      res.body.affiliateIds,
      [ann, bob].sort((a, b) => a - b),
    );
    assert.equal(res.body.name, 'VIP');
    const list = await owner.get('/commission-groups?q=VI');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.data.map((g: any) => g.id),
      [id],
    );
    assert.deepEqual((await owner.get(`/commission-groups?affiliateId=${cat}`)).body.data, []);
    const patched = await owner.patch(`/commission-groups/${id}`, { affiliateIds: [bob] });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body.affiliateIds, [bob]);
    assert.equal(patched.body.name, 'VIP');

    const unknownKey = await owner.post('/commission-groups', { name: 'X', affiliateIDs: [ann] });
    assert.equal(unknownKey.status, 422);
    assert.match(unknownKey.text, /affiliateIDs/);
    const missing = await owner.post('/commission-groups', { name: 'X', affiliateIds: [999_999] });
    assert.equal(missing.status, 422);
    assert.match(missing.text, /affiliateIds/);
    assert.equal((await owner.post('/commission-groups', { affiliateIds: [] })).status, 422, 'name required');
    assert.equal((await owner.post('/commission-groups', { name: 'X', affiliateIds: 'ann' })).status, 422);
    assert.equal((await owner.get('/commission-groups?colour=red')).status, 422, 'unknown filter');
    assert.equal((await owner.get('/commission-groups/999999')).status, 404);
    const anon = await request(app.url, 'GET', '/api/v1/commission-groups');
    assert.equal(anon.status, 401);

    assert.equal((await owner.delete(`/commission-groups/${id}`)).status, 204);
    assert.equal((await owner.get(`/commission-groups/${id}`)).status, 404);
  });

  test('a personal payout naming a group applies to every member, and follows membership changes', async () => {
    const group = created(await owner.post('/commission-groups', { name: 'Partners', affiliateIds: [ann] }), 'group');
    const payout = await owner.post(`/campaigns/${campaign}/payouts`, {
      kind: 'personal',
      title: 'Partners 20%',
      type: 'CPS',
      commissionGroupIds: [group],
      affiliateCommission: { value: 20, unit: 'percent' },
    });
    const payoutId = created(payout, 'personal payout');
    assert.deepEqual(payout.body.commissionGroupIds, [group]);
    assert.deepEqual(payout.body.affiliateIds, []);

    assert.deepEqual(amounts(await sale({ totalCost: 100, visitorId: await visitor('ann') })), [20]);
    assert.deepEqual(amounts(await sale({ totalCost: 100, visitorId: await visitor('bob') })), [5], 'not a member');
    assert.equal((await owner.patch(`/commission-groups/${group}`, { affiliateIds: [ann, bob] })).status, 200);
    assert.deepEqual(amounts(await sale({ totalCost: 100, visitorId: await visitor('bob') })), [20], 'now a member');

    const badGroup = await owner.post(`/campaigns/${campaign}/payouts`, {
      kind: 'personal',
      title: 'x',
      type: 'CPS',
      commissionGroupIds: [999_999],
      affiliateCommission: { value: 1, unit: 'percent' },
    });
    assert.equal(badGroup.status, 422);
    assert.match(badGroup.text, /commissionGroupIds/);
    const general = await owner.post(`/campaigns/${campaign}/payouts`, {
      kind: 'general',
      title: 'x',
      type: 'CPS',
      commissionGroupIds: [group],
      affiliateCommission: { value: 1, unit: 'percent' },
    });
    assert.equal(general.status, 422);
    assert.match(general.text, /commissionGroupIds/);

    // The group is all the payout names: deleting it would leave the payout applying to nobody.
    const refused = await owner.delete(`/commission-groups/${group}`);
    assert.equal(refused.status, 409, refused.text);
    assert.equal(
      (await owner.patch(`/campaigns/${campaign}/payouts/${payoutId}`, { affiliateIds: [cat] })).status,
      200,
    );
    assert.equal((await owner.delete(`/commission-groups/${group}`)).status, 204);
    const after = await owner.get(`/campaigns/${campaign}/payouts/${payoutId}`);
    assert.deepEqual(after.body.commissionGroupIds, []);
    assert.deepEqual(amounts(await sale({ totalCost: 100, visitorId: await visitor('bob') })), [5]);
    assert.deepEqual(amounts(await sale({ totalCost: 100, visitorId: await visitor('cat') })), [20]);
    // It has paid commissions: archived, as a payout with history is (DELETE answers 409).
    assert.equal((await owner.patch(`/campaigns/${campaign}/payouts/${payoutId}`, { archived: true })).status, 200);
  });

  test('the admin page lists, creates, edits and deletes (after a confirmation) without JavaScript', async () => {
    const page = await admin.get('/admin/commission-groups');
    assert.equal(page.status, 200);
    assert.match(page.text, /<h1>Commission groups<\/h1>/);
    assert.match(page.text, /<label>Name <input name="name"/);
    assert.match(page.text, new RegExp(`<input type="checkbox" name="affiliateIds" value="${ann}"`));

    const invalid = await admin.post('/admin/commission-groups', { name: '', affiliateIds: [String(ann)] });
    assert.equal(invalid.status, 422, invalid.text.slice(0, 300));
    const made = await admin.post('/admin/commission-groups', {
      name: 'Admin made',
      affiliateIds: [String(ann), String(cat)],
    });
    assert.equal(made.status, 302, made.text.slice(0, 300));
    const listed = (await owner.get('/commission-groups?q=Admin')).body.data[0];
    assert.deepEqual(listed.affiliateIds, [ann, cat]);
    const list = await admin.get('/admin/commission-groups');
    assert.match(list.text, /Admin made/);
    assert.match(list.text, /Ann, Cat/);

    const edit = await admin.get(`/admin/commission-groups/${listed.id}`);
    assert.equal(edit.status, 200);
    assert.match(edit.text, new RegExp(`value="${cat}" checked`));
    const saved = await admin.post(`/admin/commission-groups/${listed.id}`, {
      name: 'Renamed',
      affiliateIds: [String(bob)],
    });
    assert.equal(saved.status, 302, saved.text.slice(0, 300));
    const read = await owner.get(`/commission-groups/${listed.id}`);
    assert.equal(read.body.name, 'Renamed');
    assert.deepEqual(read.body.affiliateIds, [bob]);

    const ask = await admin.post(`/admin/commission-groups/${listed.id}/delete`, {});
    assert.equal(ask.status, 200, 'a confirmation page first');
    assert.match(ask.text, /Delete the commission group “Renamed”\?/);
    assert.equal((await owner.get(`/commission-groups/${listed.id}`)).status, 200, 'nothing deleted yet');
    const confirmed = await admin.post(`/admin/commission-groups/${listed.id}/delete`, { confirm: 'yes' });
    assert.equal(confirmed.status, 302, confirmed.text.slice(0, 300));
    assert.equal((await owner.get(`/commission-groups/${listed.id}`)).status, 404);

    // A group that is all a personal payout names is not deleted: the page says why.
    const sole = created(await owner.post('/commission-groups', { name: 'Sole', affiliateIds: [ann] }), 'group');
    const payout = created(
      await owner.post(`/campaigns/${campaign}/payouts`, {
        kind: 'personal',
        title: 'Sole group payout',
        type: 'CPS',
        commissionGroupIds: [sole],
        affiliateCommission: { value: 1, unit: 'percent' },
      }),
      'payout',
    );
    const refused = await admin.post(`/admin/commission-groups/${sole}/delete`, { confirm: 'yes' });
    assert.equal(refused.status, 302);
    const after = await admin.get(refused.location ?? '/admin/commission-groups');
    assert.match(after.text, new RegExp(`only thing personal payout ${payout} names`));
    assert.equal((await owner.get(`/commission-groups/${sole}`)).status, 200, 'still there');
    // It has paid commissions: archived, as a payout with history is (DELETE answers 409).
    assert.equal((await owner.patch(`/campaigns/${campaign}/payouts/${payout}`, { archived: true })).status, 200);
    await owner.delete(`/commission-groups/${sole}`);
  });

  test('the payout form takes RECURRING, recurring months, countries and commission groups, and keeps them on edit', async () => {
    const group = created(await owner.post('/commission-groups', { name: 'Form group', affiliateIds: [ann] }), 'group');
    const tab = await admin.get(`/admin/campaigns/${campaign}/payouts`);
    assert.match(tab.text, /<option value="RECURRING"/);
    assert.match(tab.text, new RegExp(`name="commissionGroupIds"[^>]*>\\s*<option value="${group}"`));
    const fields = {
      kind: 'personal',
      type: 'RECURRING',
      title: 'Form recurring',
      recurringMonths: '6',
      'affiliateCommission.value': '15',
      'affiliateCommission.unit': 'percent',
      'merchantCommission.unit': 'fixed',
      'goal.countries': 'de, at',
      commissionGroupIds: [String(group)],
    };
    const made = await admin.post(`/admin/campaigns/${campaign}/payouts`, fields);
    assert.equal(made.status, 302, made.text.slice(0, 500));
    const list = (await owner.get(`/campaigns/${campaign}/payouts?type=RECURRING`)).body.data as any[];
    const p = list.find((x) => x.title === 'Form recurring');
    assert.ok(p, JSON.stringify(list));
    assert.equal(p.recurringMonths, 6);
    assert.deepEqual(p.commissionGroupIds, [group]);
    assert.deepEqual(p.goal.countries, ['DE', 'AT']);
    const edit = await admin.get(`/admin/campaigns/${campaign}/payouts/${p.id}`);
    assert.match(edit.text, /name="goal.countries" value="DE AT"/);
    assert.match(edit.text, /name="recurringMonths"[^>]*value="6"/);
    const saved = await admin.post(`/admin/campaigns/${campaign}/payouts/${p.id}`, {
      ...fields,
      title: 'Renamed recurring',
      'goal.countries': 'DE AT',
      recurringMonths: '',
    });
    assert.ok([302, 303].includes(saved.status), saved.text.slice(0, 500));
    const read = (await owner.get(`/campaigns/${campaign}/payouts/${p.id}`)).body;
    assert.equal(read.title, 'Renamed recurring');
    assert.deepEqual(read.goal.countries, ['DE', 'AT'], 'editing keeps the countries');
    assert.equal(read.recurringMonths, null, 'empty = while the subscription lasts');
    assert.deepEqual(read.commissionGroupIds, [group]);
    const wrong = await admin.post(`/admin/campaigns/${campaign}/payouts`, { ...fields, type: 'CPS' });
    assert.equal(wrong.status, 422);
    assert.match(wrong.text, /applies only to RECURRING payouts/);
    assert.equal((await owner.delete(`/campaigns/${campaign}/payouts/${p.id}`)).status, 204);
  });

  test("goal.countries: the click's GeoIP country, else the sale's country field", async () => {
    const res = await owner.post(`/campaigns/${campaign}/payouts`, {
      kind: 'general',
      title: 'DACH 12%',
      type: 'CPS',
      goal: { countries: ['de', 'AT', 'CH'] },
      affiliateCommission: { value: 12, unit: 'percent' },
    });
    const payoutId = created(res, 'country payout');
    assert.deepEqual(res.body.goal, { productIds: [], categories: [], countries: ['DE', 'AT', 'CH'] });

    assert.deepEqual(amounts(await sale({ totalCost: 100, visitorId: await visitor('cat', DE_IP) })), [12]);
    assert.deepEqual(amounts(await sale({ totalCost: 100, visitorId: await visitor('cat', US_IP) })), [5]);
    // The click's country wins over the field; without a click country the field counts.
    assert.deepEqual(
      amounts(await sale({ totalCost: 100, visitorId: await visitor('cat', US_IP), country: 'DE' })),
      [5],
    );
    const byField = await owner.post('/sales', {
      orderId: order(),
      totalCost: 100,
      campaignId: campaign,
      affiliateId: 'cat',
      country: 'at',
    });
    assert.equal(byField.status, 201, byField.text);
    assert.deepEqual(amounts(byField), [12]);
    const sim = await owner.post('/simulate/sale', {
      orderId: order(),
      totalCost: 100,
      campaignId: campaign,
      affiliateId: 'cat',
      country: 'CH',
    });
    assert.match((sim.body.payoutExplanation as string[]).join('\n'), /goal names the country of the visitor \(CH\)/);

    const bad = await owner.post(`/campaigns/${campaign}/payouts`, {
      kind: 'general',
      title: 'x',
      type: 'CPS',
      goal: { countries: ['Germany'] },
      affiliateCommission: { value: 1, unit: 'percent' },
    });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /goal\.countries\.0/);
    const badField = await sale({ totalCost: 100, country: 'Deutschland' });
    assert.equal(badField.status, 201, 'a tracking event is kept without the bad field');
    assert.equal(badField.body.warnings[0].field, 'country');
    // It has paid commissions: archived, as a payout with history is (DELETE answers 409).
    assert.equal((await owner.patch(`/campaigns/${campaign}/payouts/${payoutId}`, { archived: true })).status, 200);
  });

  test('couponCampaignRecognition (default true): off, a coupon names the affiliate but not the campaign', async () => {
    const other = created(await owner.post('/campaigns', { name: 'Coupon home', approval: 'auto' }), 'campaign');
    created(await owner.post('/coupons', { code: 'ANNSAVE', affiliateId: ann, campaignId: other }), 'coupon');
    assert.equal((await owner.get('/settings')).body.couponCampaignRecognition, true);
    const on = await sale({ totalCost: 100, coupon: 'annsave', campaignId: campaign });
    assert.equal(on.body.matchedBy, 'coupon');
    assert.equal(on.body.campaignId, other);

    assert.equal((await owner.patch('/settings', { couponCampaignRecognition: false })).status, 200);
    const off = await sale({ totalCost: 100, coupon: 'ANNSAVE', campaignId: campaign });
    assert.equal(off.body.matchedBy, 'campaign');
    assert.equal(off.body.campaignId, campaign);
    assert.equal(off.body.affiliateId, ann);
    assert.deepEqual(amounts(off), [5]);
    const stored = await owner.get(`/sales/${off.body.saleId}`);
    assert.match((stored.body.explanation as string[]).join('\n'), /couponCampaignRecognition\) is off/);
    assert.equal((await owner.patch('/settings', { couponCampaignRecognition: 'no' })).status, 422);

    // The settings form carries the switch.
    const form = await admin.get('/admin/settings');
    assert.match(form.text, /name="couponCampaignRecognition"(?! checked)/);
    assert.equal((await owner.patch('/settings', { couponCampaignRecognition: true })).status, 200);
    assert.match((await admin.get('/admin/settings')).text, /name="couponCampaignRecognition" checked/);
  });
});
