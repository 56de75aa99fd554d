import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError, assertPage, ids } from '../helpers/assert.js';

type Api = ReturnType<typeof api>;

describe('/api/v1/coupons', () => {
  let app: TestApp;
  let a: Api;
  let campaign: number;
  let otherCampaign: number;
  let ann: number;
  let bob: number;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaign = (await a.post('/campaigns', { name: 'Coupon campaign' })).body.id;
    otherCampaign = (await a.post('/campaigns', { name: 'Other campaign' })).body.id;
    ann = (await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com' })).body.id;
    bob = (await a.post('/affiliates', { name: 'Bob', email: 'bob@example.com' })).body.id;
  });
  after(async () => {
    await app.close();
  });

  test('the list starts empty', async () => {
    assertPage(await a.get('/coupons'), { page: 1, perPage: 50, total: 0 });
  });

  test('create → 201 with the object, read, PATCH, DELETE → 204 then 404', async () => {
    const created = await a.post('/coupons', { code: 'WELCOME10', affiliateId: ann, campaignId: campaign });
    assert.equal(created.status, 201, created.text);
    const c = created.body;
    assert.equal(typeof c.id, 'number');
    assert.equal(c.code, 'WELCOME10', 'the code keeps the case it was given');
    assert.equal(c.affiliateId, ann);
    assert.equal(c.campaignId, campaign);
    assert.equal(c.payoutId, null);
    assert.equal(c.archived, false);
    assert.deepEqual((await a.get(`/coupons/${c.id}`)).body, c);

    const patched = await a.patch(`/coupons/${c.id}`, { code: 'Welcome20', affiliateId: bob, campaignId: null });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.code, 'Welcome20');
    assert.equal(patched.body.affiliateId, bob);
    assert.equal(patched.body.campaignId, null);
    assert.deepEqual((await a.get(`/coupons/${c.id}`)).body, patched.body);

    assert.equal((await a.delete(`/coupons/${c.id}`)).status, 204);
    assertError(await a.get(`/coupons/${c.id}`), 404, 'not_found');
    assertError(await a.delete(`/coupons/${c.id}`), 404, 'not_found');
  });

  test('unknown ids are 404', async () => {
    assertError(await a.get('/coupons/999999'), 404, 'not_found');
    assertError(await a.patch('/coupons/999999', { code: 'X' }), 404, 'not_found');
    assertError(await a.delete('/coupons/999999'), 404, 'not_found');
  });

  test('codes are unique ignoring case', async () => {
    const first = await a.post('/coupons', { code: 'SPRING', affiliateId: ann });
    assert.equal(first.status, 201);
    assertFieldError(await a.post('/coupons', { code: 'spring', affiliateId: bob }), 'code');
    assertFieldError(await a.post('/coupons', { code: 'SPRING', affiliateId: ann }), 'code');
    assertFieldError(await a.post('/coupons', { code: ' Spring ', affiliateId: bob }), 'code');
    const other = await a.post('/coupons', { code: 'SUMMER', affiliateId: bob });
    assertFieldError(await a.patch(`/coupons/${other.body.id}`, { code: 'sPrInG' }), 'code');
    assert.equal((await a.get(`/coupons/${other.body.id}`)).body.code, 'SUMMER');
    const recased = await a.patch(`/coupons/${first.body.id}`, { code: 'Spring' });
    assert.equal(recased.status, 200, 'a coupon may change the case of its own code');
    assert.equal((await a.get('/coupons?q=spring')).body.pagination.total, 1);
    await a.delete(`/coupons/${first.body.id}`);
    await a.delete(`/coupons/${other.body.id}`);
    const again = await a.post('/coupons', { code: 'spring', affiliateId: bob });
    assert.equal(again.status, 201, 'a deleted code is free again');
    await a.delete(`/coupons/${again.body.id}`);
  });

  test('a coupon with a payout takes the payout campaign, and a mismatch is refused', async () => {
    const payout = await a.post(`/campaigns/${campaign}/payouts`, {
      kind: 'general',
      title: 'Coupon rate',
      type: 'CPS',
      affiliateCommission: { value: 15, unit: 'percent' },
    });
    assert.equal(payout.status, 201, payout.text);
    const c = await a.post('/coupons', { code: 'RATE15', affiliateId: ann, payoutId: payout.body.id });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.body.payoutId, payout.body.id);
    assert.equal(c.body.campaignId, campaign);
    assertFieldError(
      await a.post('/coupons', {
        code: 'RATE16',
        affiliateId: ann,
        payoutId: payout.body.id,
        campaignId: otherCampaign,
      }),
      'payoutId',
    );
    assertFieldError(await a.post('/coupons', { code: 'RATE17', affiliateId: ann, payoutId: 999999 }), 'payoutId');
    await a.delete(`/coupons/${c.body.id}`);
  });

  describe('list, pagination and filters', () => {
    const made: Record<string, number> = {};
    before(async () => {
      const rows = {
        a1: { code: 'ANN-ONE', affiliateId: ann, campaignId: campaign },
        a2: { code: 'ANN-TWO', affiliateId: ann },
        b1: { code: 'BOB-ONE', affiliateId: bob, campaignId: otherCampaign },
        b2: { code: 'BOB-OLD', affiliateId: bob, campaignId: campaign, archived: true },
      };
      for (const [key, body] of Object.entries(rows)) {
        const res = await a.post('/coupons', body);
        assert.equal(res.status, 201, res.text);
        made[key] = res.body.id;
      }
    });

    test('pages of one', async () => {
      assertPage(await a.get('/coupons'), { page: 1, perPage: 50, total: 4 });
      const p2 = await a.get('/coupons?perPage=1&page=2');
      assertPage(p2, { page: 2, perPage: 1, total: 4 });
      assert.equal(p2.body.data.length, 1);
      assert.notEqual(p2.body.data[0].id, (await a.get('/coupons?perPage=1&page=1')).body.data[0].id);
    });

    test('each filter narrows the list', async () => {
      assert.deepEqual(ids(await a.get(`/coupons?affiliateId=${ann}`)), [made.a1, made.a2]);
      assert.deepEqual(ids(await a.get(`/coupons?campaignId=${campaign}`)), [made.a1, made.b2]);
      assert.deepEqual(ids(await a.get(`/coupons?campaignId=${campaign}&archived=false`)), [made.a1]);
      assert.deepEqual(ids(await a.get('/coupons?archived=true')), [made.b2]);
      assert.deepEqual(
        ids(await a.get('/coupons?q=bob-o')),
        [made.b2, made.b1].sort((x, y) => x! - y!),
      );
      assert.deepEqual(
        ids(await a.get('/coupons?q=ONE')),
        [made.a1, made.b1].sort((x, y) => x! - y!),
        'q ignores case',
      );
    });

    test('bad filters are 422', async () => {
      assertFieldError(await a.get('/coupons?affiliateId=ann'), 'affiliateId');
      assertFieldError(await a.get('/coupons?campaignId=0'), 'campaignId');
      assertFieldError(await a.get('/coupons?archived=nope'), 'archived');
    });
  });

  describe('bad input', () => {
    test('wrong types and object values are 422 naming the field', async () => {
      assertFieldError(await a.post('/coupons', { code: 12345, affiliateId: ann }), 'code');
      assertFieldError(await a.post('/coupons', { code: { $gt: '' }, affiliateId: ann }), 'code');
      assertFieldError(await a.post('/coupons', { code: 'OK1', affiliateId: 'ann' }), 'affiliateId');
      assertFieldError(await a.post('/coupons', { code: 'OK1' }), 'affiliateId');
      assertFieldError(await a.post('/coupons', { affiliateId: ann }), 'code');
      assertFieldError(await a.post('/coupons', { code: 'OK1', affiliateId: ann, archived: 'yes' }), 'archived');
    });

    test('oversized or malformed codes are 422', async () => {
      assertFieldError(await a.post('/coupons', { code: 'C'.repeat(70), affiliateId: ann }), 'code');
      assertFieldError(await a.post('/coupons', { code: 'TWO WORDS', affiliateId: ann }), 'code');
      assertFieldError(await a.post('/coupons', { code: '', affiliateId: ann }), 'code');
      assertFieldError(await a.post('/coupons', { code: "x'; DROP TABLE coupons; --", affiliateId: ann }), 'code');
    });

    test('references that do not exist are 422 naming them', async () => {
      assertFieldError(await a.post('/coupons', { code: 'NOAFF', affiliateId: 999999 }), 'affiliateId');
      assertFieldError(
        await a.post('/coupons', { code: 'NOCAMP', affiliateId: ann, campaignId: 999999 }),
        'campaignId',
      );
      const c = await a.post('/coupons', { code: 'MOVEME', affiliateId: ann });
      assertFieldError(await a.patch(`/coupons/${c.body.id}`, { affiliateId: 999999 }), 'affiliateId');
      assert.equal((await a.get(`/coupons/${c.body.id}`)).body.affiliateId, ann);
      await a.delete(`/coupons/${c.body.id}`);
    });

    test('malformed JSON is 400 and a body over 100 kb is 413', async () => {
      assertError(
        await a.raw('POST', '/coupons', undefined, { raw: '{"code": "X", "affiliateId": }' }),
        400,
        'invalid_json',
      );
      assertError(
        await a.post('/coupons', { code: 'BIG', affiliateId: ann, padding: 'p'.repeat(120 * 1024) }),
        413,
        'payload_too_large',
      );
    });

    test('refused requests created nothing', async () => {
      for (const code of ['OK1', 'NOAFF', 'NOCAMP', 'BIG']) {
        assert.equal((await a.get(`/coupons?q=${code}`)).body.pagination.total, 0, code);
      }
    });
  });

  test('SQL-looking search values are plain text, and the table is still there', async () => {
    const res = await a.get(`/coupons?q=${encodeURIComponent("'; DROP TABLE coupons; --")}`);
    assertPage(res, { page: 1, perPage: 50, total: 0 });
    assert.ok((await a.get('/coupons')).body.pagination.total > 0);
  });

  test('every change is in the audit log with the actor email', async () => {
    const c = await a.post('/coupons', { code: 'AUDITED', affiliateId: ann });
    await a.patch(`/coupons/${c.body.id}`, { code: 'AUDITED2' });
    await a.delete(`/coupons/${c.body.id}`);
    const log = await a.get(`/audit-log?objectType=coupon&objectId=${c.body.id}`);
    const entries = log.body.data as Array<{ action: string; actor: string }>;
    assert.deepEqual(entries.map((e) => e.action).sort(), ['coupon.created', 'coupon.deleted', 'coupon.updated']);
    for (const e of entries) assert.equal(e.actor, OWNER.email);
  });
});
