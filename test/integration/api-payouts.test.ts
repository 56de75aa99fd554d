import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError, assertPage, ids } from '../helpers/assert.js';

type Api = ReturnType<typeof api>;

describe('/api/v1/campaigns/:id/payouts', () => {
  let app: TestApp;
  let a: Api;
  let campaign: number;
  let otherCampaign: number;
  let ann: number;
  let bob: number;
  let base: string;

  const cps = (over: Record<string, unknown> = {}) => ({
    kind: 'general',
    title: 'Standard',
    type: 'CPS',
    affiliateCommission: { value: 10, unit: 'percent' },
    ...over,
  });

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaign = (await a.post('/campaigns', { name: 'Payout campaign' })).body.id;
    otherCampaign = (await a.post('/campaigns', { name: 'Other campaign' })).body.id;
    ann = (await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com' })).body.id;
    bob = (await a.post('/affiliates', { name: 'Bob', email: 'bob@example.com' })).body.id;
    base = `/campaigns/${campaign}/payouts`;
  });
  after(async () => {
    await app.close();
  });

  test('a campaign starts without payouts', async () => {
    assertPage(await a.get(base), { page: 1, perPage: 50, total: 0 });
  });

  test('create → 201 with the object, read, PATCH, DELETE → 204 then 404', async () => {
    const created = await a.post(base, {
      kind: 'general',
      title: 'Sales 12.5%',
      type: 'CPS',
      affiliateCommission: { value: 12.5, unit: 'percent' },
      merchantCommission: { value: 2, unit: 'fixed' },
      goal: { productIds: ['SKU-1'], categories: ['shoes'] },
      tiers: [
        { value: 5, unit: 'percent' },
        { value: 1, unit: 'fixed' },
      ],
    });
    assert.equal(created.status, 201, created.text);
    const p = created.body;
    assert.equal(typeof p.id, 'number');
    assert.equal(p.campaignId, campaign);
    assert.equal(p.kind, 'general');
    assert.equal(p.title, 'Sales 12.5%');
    assert.equal(p.type, 'CPS');
    assert.equal(p.actionCode, null);
    assert.equal(p.rawClicks, false);
    assert.deepEqual(p.affiliateCommission, { value: 12.5, unit: 'percent' });
    assert.deepEqual(p.merchantCommission, { value: 2, unit: 'fixed' });
    assert.deepEqual(p.goal, { productIds: ['SKU-1'], categories: ['shoes'], countries: [] });
    assert.deepEqual(p.tiers, [
      { value: 5, unit: 'percent' },
      { value: 1, unit: 'fixed' },
    ]);
    assert.equal(p.couponCode, null);
    assert.deepEqual(p.affiliateIds, []);
    assert.equal(p.archived, false);
    assert.deepEqual((await a.get(`${base}/${p.id}`)).body, p);

    const patched = await a.patch(`${base}/${p.id}`, {
      title: 'Sales 15%',
      affiliateCommission: { value: '15', unit: 'percent' },
      goal: null,
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.title, 'Sales 15%');
    assert.deepEqual(patched.body.affiliateCommission, { value: 15, unit: 'percent' });
    assert.equal(patched.body.goal, null);
    assert.deepEqual(patched.body.merchantCommission, { value: 2, unit: 'fixed' }, 'fields left out keep their values');
    assert.deepEqual(patched.body.tiers, p.tiers);
    assert.deepEqual((await a.get(`${base}/${p.id}`)).body, patched.body);

    assert.equal((await a.delete(`${base}/${p.id}`)).status, 204);
    assertError(await a.get(`${base}/${p.id}`), 404, 'not_found');
    assertError(await a.delete(`${base}/${p.id}`), 404, 'not_found');
  });

  test('a payout that has paid commissions is not deleted (409); it can be archived', async () => {
    const shop = (await a.post('/campaigns', { name: 'Payout history campaign' })).body.id as number;
    const p = await a.post(`/campaigns/${shop}/payouts`, cps());
    assert.equal(p.status, 201, p.text);
    const sale = await a.post('/sales', {
      orderId: `HIST-${process.pid}`,
      totalCost: 100,
      campaignId: shop,
      affiliateId: ann,
    });
    assert.equal(sale.status, 201, sale.text);
    const paid = await a.get(`/commissions/${sale.body.commissions[0]?.id}`);
    assert.equal(paid.body.payoutId, p.body.id, paid.text);
    assertError(await a.delete(`/campaigns/${shop}/payouts/${p.body.id}`), 409, 'conflict');
    assert.equal((await a.get(`/campaigns/${shop}/payouts/${p.body.id}`)).status, 200);
    const archived = await a.patch(`/campaigns/${shop}/payouts/${p.body.id}`, { archived: true });
    assert.equal(archived.status, 200, archived.text);
    assert.equal(archived.body.archived, true);
  });

  test('a merchant commission defaults to nothing', async () => {
    const res = await a.post(base, cps());
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.merchantCommission, { value: 0, unit: 'fixed' });
    await a.delete(`${base}/${res.body.id}`);
  });

  test('unknown ids are 404, also through another campaign', async () => {
    const p = await a.post(base, cps({ title: 'Mine' }));
    assertError(await a.get(`${base}/999999`), 404, 'not_found');
    assertError(await a.patch(`${base}/999999`, { title: 'x' }), 404, 'not_found');
    assertError(await a.delete(`${base}/999999`), 404, 'not_found');
    assertError(await a.get('/campaigns/999999/payouts'), 404, 'not_found');
    assertError(await a.post('/campaigns/999999/payouts', cps()), 404, 'not_found');
    const other = `/campaigns/${otherCampaign}/payouts/${p.body.id}`;
    assertError(await a.get(other), 404, 'not_found');
    assertError(await a.patch(other, { title: 'Hijacked' }), 404, 'not_found');
    assertError(await a.delete(other), 404, 'not_found');
    assert.equal((await a.get(`${base}/${p.body.id}`)).body.title, 'Mine');
    await a.delete(`${base}/${p.body.id}`);
  });

  test('amounts round-trip as decimals with at most 4 places', async () => {
    const cases: Array<[number | string, number]> = [
      [12.3456, 12.3456],
      ['12.3456', 12.3456],
      [0.00005, 0.0001],
      ['0.00004', 0],
      [1.23455, 1.2346],
      ['1e2', 100],
      [0.1, 0.1],
      [99999999.9999, 99999999.9999],
    ];
    for (const [value, expected] of cases) {
      const res = await a.post(base, cps({ title: `fixed ${value}`, affiliateCommission: { value, unit: 'fixed' } }));
      assert.equal(res.status, 201, `${value}: ${res.text}`);
      assert.equal(res.body.affiliateCommission.value, expected, String(value));
      assert.equal(
        (await a.get(`${base}/${res.body.id}`)).body.affiliateCommission.value,
        expected,
        `${value} after a read`,
      );
      await a.delete(`${base}/${res.body.id}`);
    }
  });

  describe('the rules of SPEC §6.1', () => {
    test('CPA without actionCode is 422 actionCode; with one it is accepted', async () => {
      assertFieldError(
        await a.post(base, cps({ type: 'CPA', affiliateCommission: { value: 5, unit: 'fixed' } })),
        'actionCode',
      );
      const ok = await a.post(
        base,
        cps({ type: 'CPA', actionCode: 'signup', affiliateCommission: { value: 5, unit: 'fixed' } }),
      );
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.body.actionCode, 'signup');
      assertFieldError(await a.patch(`${base}/${ok.body.id}`, { actionCode: null }), 'actionCode');
      assertFieldError(await a.patch(`${base}/${ok.body.id}`, { type: 'CPS' }), 'actionCode');
      assert.equal((await a.get(`${base}/${ok.body.id}`)).body.type, 'CPA', 'a refused PATCH changes nothing');
      await a.delete(`${base}/${ok.body.id}`);
    });

    test('a percentage on PPC or CPM is 422 affiliateCommission.unit', async () => {
      for (const type of ['PPC', 'CPM']) {
        assertFieldError(
          await a.post(base, cps({ type, affiliateCommission: { value: 5, unit: 'percent' } })),
          'affiliateCommission.unit',
        );
        assertFieldError(
          await a.post(
            base,
            cps({
              type,
              affiliateCommission: { value: 1, unit: 'fixed' },
              merchantCommission: { value: 1, unit: 'percent' },
            }),
          ),
          'merchantCommission.unit',
        );
      }
      const ppc = await a.post(
        base,
        cps({ type: 'PPC', rawClicks: true, affiliateCommission: { value: 0.05, unit: 'fixed' } }),
      );
      assert.equal(ppc.status, 201, ppc.text);
      assert.equal(ppc.body.rawClicks, true);
      assertFieldError(
        await a.patch(`${base}/${ppc.body.id}`, { affiliateCommission: { value: 10, unit: 'percent' } }),
        'affiliateCommission.unit',
      );
      await a.delete(`${base}/${ppc.body.id}`);
      assertFieldError(await a.post(base, cps({ rawClicks: true })), 'rawClicks');
    });

    test('a percentage over 100 or a negative amount is 422', async () => {
      assertFieldError(
        await a.post(base, cps({ affiliateCommission: { value: 100.0001, unit: 'percent' } })),
        'affiliateCommission.value',
      );
      assertFieldError(
        await a.post(base, cps({ affiliateCommission: { value: 150, unit: 'percent' } })),
        'affiliateCommission.value',
      );
      assertFieldError(
        await a.post(base, cps({ affiliateCommission: { value: -1, unit: 'fixed' } })),
        'affiliateCommission.value',
      );
      assertFieldError(
        await a.post(base, cps({ affiliateCommission: { value: '-0.5', unit: 'percent' } })),
        'affiliateCommission.value',
      );
      assertFieldError(
        await a.post(base, cps({ merchantCommission: { value: -3, unit: 'fixed' } })),
        'merchantCommission.value',
      );
      assertFieldError(await a.post(base, cps({ tiers: [{ value: -1, unit: 'fixed' }] })), 'tiers.0.value');
      assertFieldError(await a.post(base, cps({ tiers: [{ value: 101, unit: 'percent' }] })), 'tiers.0.value');
      const hundred = await a.post(base, cps({ affiliateCommission: { value: 100, unit: 'percent' } }));
      assert.equal(hundred.status, 201, '100% is allowed');
      await a.delete(`${base}/${hundred.body.id}`);
    });

    test('a personal payout names its affiliates; a general payout names none', async () => {
      assertFieldError(await a.post(base, cps({ kind: 'personal' })), 'affiliateIds');
      assertFieldError(await a.post(base, cps({ kind: 'personal', affiliateIds: [] })), 'affiliateIds');
      assertFieldError(await a.post(base, cps({ kind: 'general', affiliateIds: [ann] })), 'affiliateIds');
      assertFieldError(await a.post(base, cps({ kind: 'personal', affiliateIds: [ann, 999999] })), 'affiliateIds');
      const personal = await a.post(base, cps({ kind: 'personal', affiliateIds: [bob, ann, ann] }));
      assert.equal(personal.status, 201, personal.text);
      assert.deepEqual([...personal.body.affiliateIds].sort(), [ann, bob].sort(), 'each affiliate once');
      assertFieldError(await a.patch(`${base}/${personal.body.id}`, { kind: 'general' }), 'affiliateIds');
      const general = await a.patch(`${base}/${personal.body.id}`, { kind: 'general', affiliateIds: [] });
      assert.equal(general.status, 200, general.text);
      assert.deepEqual(general.body.affiliateIds, []);
      await a.delete(`${base}/${personal.body.id}`);
    });

    test('a couponCode on a general payout, or on one naming two affiliates, is 422', async () => {
      assertFieldError(await a.post(base, cps({ couponCode: 'GENERAL10' })), 'couponCode');
      assertFieldError(
        await a.post(base, cps({ kind: 'personal', affiliateIds: [ann, bob], couponCode: 'TWO10' })),
        'couponCode',
      );
      assert.equal((await a.get('/coupons?q=GENERAL10')).body.pagination.total, 0);
      assert.equal((await a.get('/coupons?q=TWO10')).body.pagination.total, 0);
    });
  });

  describe('payout coupons', () => {
    test('a personal payout with couponCode creates its coupon; changing and deleting the payout follows', async () => {
      const p = await a.post(
        base,
        cps({ kind: 'personal', title: 'Ann coupon', affiliateIds: [ann], couponCode: 'ANN20' }),
      );
      assert.equal(p.status, 201, p.text);
      assert.equal(p.body.couponCode, 'ANN20');

      const coupons = await a.get('/coupons?q=ann20');
      assert.equal(coupons.body.pagination.total, 1);
      const [coupon] = coupons.body.data;
      assert.equal(coupon.code, 'ANN20');
      assert.equal(coupon.payoutId, p.body.id);
      assert.equal(coupon.affiliateId, ann);
      assert.equal(coupon.campaignId, campaign);

      assertFieldError(await a.post('/coupons', { code: 'ann20', affiliateId: bob }), 'code');

      const renamed = await a.patch(`${base}/${p.body.id}`, { couponCode: 'ANN25' });
      assert.equal(renamed.status, 200, renamed.text);
      const after = await a.get(`/coupons?q=ann2`);
      assert.deepEqual(
        after.body.data.map((c: { code: string; payoutId: number }) => [c.code, c.payoutId]),
        [['ANN25', p.body.id]],
        'the coupon follows the new code',
      );

      assert.equal((await a.delete(`${base}/${p.body.id}`)).status, 204);
      assert.equal((await a.get('/coupons?q=ann2')).body.pagination.total, 0, 'the payout coupon goes with its payout');
    });

    test('a payout coupon code must not belong to another payout or affiliate', async () => {
      const bobCoupon = await a.post('/coupons', { code: 'BOBSCODE', affiliateId: bob });
      assertFieldError(
        await a.post(base, cps({ kind: 'personal', affiliateIds: [ann], couponCode: 'bobscode' })),
        'couponCode',
      );
      const first = await a.post(base, cps({ kind: 'personal', affiliateIds: [ann], couponCode: 'ANNONLY' }));
      assert.equal(first.status, 201);
      assertFieldError(
        await a.post(base, cps({ kind: 'personal', affiliateIds: [ann], couponCode: 'annonly' })),
        'couponCode',
      );
      assert.equal(
        (await a.get(`/coupons/${bobCoupon.body.id}`)).body.payoutId,
        null,
        'Bob keeps his coupon untouched',
      );
      await a.delete(`${base}/${first.body.id}`);
      await a.delete(`/coupons/${bobCoupon.body.id}`);
    });

    test('an existing coupon of the same affiliate is linked instead of duplicated', async () => {
      const own = await a.post('/coupons', { code: 'ANNEXISTING', affiliateId: ann });
      const p = await a.post(base, cps({ kind: 'personal', affiliateIds: [ann], couponCode: 'AnnExisting' }));
      assert.equal(p.status, 201, p.text);
      const coupons = await a.get('/coupons?q=annexisting');
      assert.equal(coupons.body.pagination.total, 1);
      assert.equal(coupons.body.data[0].id, own.body.id);
      assert.equal(coupons.body.data[0].payoutId, p.body.id);
      await a.delete(`${base}/${p.body.id}`);
    });
  });

  describe('list, pagination and filters', () => {
    const made: Record<string, number> = {};
    before(async () => {
      const rows = {
        gen: cps({ title: 'General CPS' }),
        cpa: cps({
          title: 'Signup',
          type: 'CPA',
          actionCode: 'signup',
          affiliateCommission: { value: 3, unit: 'fixed' },
        }),
        ann: cps({ title: 'Ann only', kind: 'personal', affiliateIds: [ann] }),
        old: cps({ title: 'Old', type: 'LIFETIME', archived: true }),
      };
      for (const [key, body] of Object.entries(rows)) {
        const res = await a.post(base, body);
        assert.equal(res.status, 201, res.text);
        made[key] = res.body.id;
      }
      // A payout of another campaign must never appear below.
      await a.post(`/campaigns/${otherCampaign}/payouts`, cps({ title: 'Elsewhere' }));
    });

    test('pages of one, and only this campaign', async () => {
      const all = await a.get(base);
      assertPage(all, { page: 1, perPage: 50, total: 4 });
      assert.deepEqual(
        ids(all),
        Object.values(made).sort((x, y) => x - y),
      );
      const p2 = await a.get(`${base}?perPage=1&page=2`);
      assertPage(p2, { page: 2, perPage: 1, total: 4 });
      assert.equal(p2.body.data.length, 1);
      assert.notEqual(p2.body.data[0].id, (await a.get(`${base}?perPage=1&page=1`)).body.data[0].id);
    });

    test('each filter narrows the list', async () => {
      assert.deepEqual(ids(await a.get(`${base}?kind=personal`)), [made.ann]);
      assert.deepEqual(ids(await a.get(`${base}?type=CPA`)), [made.cpa]);
      assert.deepEqual(ids(await a.get(`${base}?affiliateId=${ann}`)), [made.ann]);
      assert.deepEqual(ids(await a.get(`${base}?affiliateId=${bob}`)), []);
      assert.deepEqual(ids(await a.get(`${base}?archived=true`)), [made.old]);
      assert.equal((await a.get(`${base}?archived=false`)).body.pagination.total, 3);
      assert.deepEqual(ids(await a.get(`${base}?kind=general&type=CPS`)), [made.gen]);
    });

    test('unknown enum values in filters are 422', async () => {
      assertFieldError(await a.get(`${base}?kind=bogus`), 'kind');
      assertFieldError(await a.get(`${base}?type=cps`), 'type');
      assertFieldError(await a.get(`${base}?affiliateId=x`), 'affiliateId');
    });
  });

  describe('bad input', () => {
    test('wrong types, unknown enums and object values are 422 naming the field', async () => {
      assertFieldError(await a.post(base, cps({ title: 99 })), 'title');
      assertFieldError(await a.post(base, cps({ title: { $gt: '' } })), 'title');
      assertFieldError(await a.post(base, cps({ kind: 'secret' })), 'kind');
      assertFieldError(await a.post(base, cps({ type: 'CPL' })), 'type');
      assertFieldError(
        await a.post(base, cps({ affiliateCommission: { value: 5, unit: 'percentage' } })),
        'affiliateCommission.unit',
      );
      assertFieldError(
        await a.post(base, cps({ affiliateCommission: { value: 'ten', unit: 'fixed' } })),
        'affiliateCommission.value',
      );
      assertFieldError(
        await a.post(base, cps({ affiliateCommission: { value: { $gt: 0 }, unit: 'fixed' } })),
        'affiliateCommission.value',
      );
      assertFieldError(await a.post(base, cps({ affiliateCommission: 5 })), 'affiliateCommission');
      assertFieldError(await a.post(base, cps({ affiliateCommission: undefined })), 'affiliateCommission');
      assertFieldError(
        await a.post(base, cps({ affiliateCommission: { value: 1e300, unit: 'fixed' } })),
        'affiliateCommission.value',
      );
      assertFieldError(await a.post(base, cps({ affiliateIds: ['ann'], kind: 'personal' })), 'affiliateIds.0');
      assertFieldError(await a.post(base, cps({ rawClicks: 'yes' })), 'rawClicks');
      assertFieldError(await a.post(base, cps({ goal: { productIds: 'SKU-1' } })), 'goal.productIds');
    });

    test('oversized strings are 422', async () => {
      assertFieldError(await a.post(base, cps({ title: 't'.repeat(300) })), 'title');
      assertFieldError(
        await a.post(
          base,
          cps({ type: 'CPA', actionCode: 'a'.repeat(70), affiliateCommission: { value: 1, unit: 'fixed' } }),
        ),
        'actionCode',
      );
      assertFieldError(
        await a.post(base, cps({ kind: 'personal', affiliateIds: [ann], couponCode: 'C'.repeat(70) })),
        'couponCode',
      );
    });

    test('malformed JSON is 400 and a body over 100 kb is 413', async () => {
      assertError(await a.raw('POST', base, undefined, { raw: '{"kind":"general"' }), 400, 'invalid_json');
      const productIds = Array.from({ length: 1000 }, (_, i) => `SKU-${i}-${'x'.repeat(100)}`);
      assertError(await a.post(base, cps({ goal: { productIds } })), 413, 'payload_too_large');
    });

    test('a goal list too large to store is 422 naming it', async () => {
      const productIds = Array.from({ length: 1000 }, (_, i) => `SKU-${i}-${'x'.repeat(70)}`);
      assertFieldError(await a.post(base, cps({ goal: { productIds } })), 'goal.productIds');
      assertFieldError(await a.post(base, cps({ goal: { categories: productIds } })), 'goal.categories');
    });

    test('refused requests created nothing', async () => {
      assert.equal((await a.get(base)).body.pagination.total, 4);
    });
  });

  test('SQL-looking values are stored and returned as plain text', async () => {
    const title = "x'; DROP TABLE payouts; --";
    const res = await a.post(base, cps({ title, goal: { categories: ["' OR 1=1 --"] } }));
    assert.equal(res.status, 201, res.text);
    const read = await a.get(`${base}/${res.body.id}`);
    assert.equal(read.body.title, title);
    assert.deepEqual(read.body.goal, { productIds: [], categories: ["' OR 1=1 --"], countries: [] });
    assert.equal((await a.get(base)).body.pagination.total, 5, 'the table is still there');
    await a.delete(`${base}/${res.body.id}`);
  });

  test('every change is in the audit log with the actor email', async () => {
    const p = await a.post(base, cps({ title: 'Audited' }));
    await a.patch(`${base}/${p.body.id}`, { title: 'Audited 2' });
    await a.delete(`${base}/${p.body.id}`);
    const log = await a.get(`/audit-log?objectType=payout&objectId=${p.body.id}`);
    const entries = log.body.data as Array<{ action: string; actor: string }>;
    assert.deepEqual(entries.map((e) => e.action).sort(), ['payout.created', 'payout.deleted', 'payout.updated']);
    for (const e of entries) assert.equal(e.actor, OWNER.email);
  });
});
