import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { builtinPlugins, type BuiltinDeps } from '../../server/plugins/builtins.js';
import { createMultiTier } from '../../server/plugins/multi-tier/index.js';
import type { AffixPlugin } from '../../server/plugins/types.js';
import { created } from '../helpers/assert.js';

/* The multi-tier plugin (SPEC §6.1 tiers, §8) over HTTP. */

type Api = ReturnType<typeof api>;

const SHOP = 'https://shop.example/landing';

function withMultiTier(deps: BuiltinDeps): AffixPlugin[] {
  const base = builtinPlugins(deps);
  return base.some((p) => p.name === 'multi-tier') ? base : [...base, createMultiTier(deps)];
}

let seq = 0;
const order = () => `MT-${process.pid}-${++seq}`;

describe('multi-tier plugin', () => {
  let app: TestApp;
  let a: Api;
  let campaign: number;
  let payoutId: number;
  let grand: number;
  let parent: number;
  let child: number;

  const post = (path: string, body: unknown) =>
    request(app.url, 'POST', path, { body, headers: { 'user-agent': CHROME } });
  async function saleBy(ref: string, campaignId: number, totalCost: number) {
    const click = await post('/t/click', { url: `${SHOP}?a_aid=${ref}&a_cid=${campaignId}` });
    assert.equal(click.body.status, 'unique', click.text);
    const res = await post('/t/sale', { orderId: order(), totalCost, visitorId: click.body.visitorId });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.matchedBy, 'cookie');
    return res;
  }
  const brief = (res: JsonResponse) =>
    (res.body.commissions as Array<{ tier: number; affiliateId: number; amount: number }>).map((c) => [
      c.tier,
      c.affiliateId,
      c.amount,
    ]);
  const affiliate = async (name: string, parentId: number | null) =>
    created(
      await a.post('/affiliates', {
        name,
        email: `${name.toLowerCase()}@example.com`,
        refId: name.toLowerCase(),
        parentId,
      }),
      'affiliate',
    );

  before(async () => {
    app = await startTestApp({ builtins: withMultiTier });
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    grand = await affiliate('Grand', null);
    parent = await affiliate('Parent', grand);
    child = await affiliate('Child', parent);
    campaign = created(await a.post('/campaigns', { name: 'Tiered', approval: 'auto' }), 'campaign');
    payoutId = created(
      await a.post(`/campaigns/${campaign}/payouts`, {
        kind: 'general',
        title: 'Tiered 10%',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
        merchantCommission: { value: 1, unit: 'fixed' },
        tiers: [
          { value: 5, unit: 'percent' },
          { value: 2, unit: 'percent' },
        ],
      }),
      'payout',
    );
  });
  after(async () => {
    await app.close();
  });

  test('inactive: only the affiliate is paid', async () => {
    assert.equal((await a.get('/plugins/multi-tier')).body.active, false);
    const res = await saleBy('child', campaign, 100);
    assert.deepEqual(brief(res), [[1, child, 10]]);
  });

  test('tiers [5 %, 2 %] pay the parent and the grandparent', async () => {
    const on = await a.patch('/plugins/multi-tier', { active: true });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.body.active, true);
    const res = await saleBy('child', campaign, 200);
    assert.deepEqual(brief(res), [
      [1, child, 20],
      [2, parent, 10],
      [3, grand, 4],
    ]);
    assert.ok((res.body.commissions as Array<{ status: string }>).every((c) => c.status === 'approved'));
    const rows = await app.services.db('commissions').where({ sale_id: res.body.saleId }).orderBy('tier');
    assert.deepEqual(
      rows.map((r) => [r.tier, r.affiliate_id, Number(r.amount), Number(r.merchant_amount), r.payout_id]),
      [
        [1, child, 200_000, 10_000, payoutId],
        [2, parent, 100_000, 0, payoutId],
        [3, grand, 40_000, 0, payoutId],
      ],
    );
    assert.equal(
      JSON.parse(rows[1].detail as string).reason,
      `tier 2 of payout ${payoutId} for affiliate ${child}'s parent ${parent}`,
    );
    // The parent's own sale: tier 2 goes to the grandparent, tier 3 to nobody.
    assert.deepEqual(brief(await saleBy('parent', campaign, 100)), [
      [1, parent, 10],
      [2, grand, 5],
    ]);
  });

  test('the simulator shows the tiers too', async () => {
    assert.equal((await a.patch('/plugins/multi-tier', { active: true })).status, 200, 'the plugin on');
    const sim = await a.post('/simulate/sale', {
      orderId: order(),
      totalCost: 100,
      campaignId: campaign,
      affiliateId: 'child',
    });
    assert.deepEqual(
      (sim.body.plannedCommissions as Array<{ tier: number; affiliateId: number; amount: number }>).map((c) => [
        c.tier,
        c.affiliateId,
        c.amount,
      ]),
      [
        [1, child, 10],
        [2, parent, 5],
        [3, grand, 2],
      ],
    );
  });

  test('a declined parent is skipped: the grandparent gets tier 2', async () => {
    assert.equal((await a.patch('/plugins/multi-tier', { active: true })).status, 200, 'the plugin on');
    assert.equal((await a.patch(`/affiliates/${parent}`, { status: 'declined' })).status, 200);
    try {
      const res = await saleBy('child', campaign, 100);
      assert.deepEqual(brief(res), [
        [1, child, 10],
        [2, grand, 5],
      ]);
      const row = await app.services.db('commissions').where({ sale_id: res.body.saleId, tier: 2 }).first();
      const detail = JSON.parse(row.detail as string) as { reason: string; skipped: string[] };
      assert.match(detail.reason, new RegExp(`affiliate ${child}'s grandparent ${grand}$`));
      assert.deepEqual(detail.skipped, [`affiliate ${parent} (level 1) is declined`]);
    } finally {
      assert.equal((await a.patch(`/affiliates/${parent}`, { status: 'approved' })).status, 200);
    }
  });

  test('a loop in parentId set directly in the database does not hang', { timeout: 20_000 }, async () => {
    assert.equal((await a.patch('/plugins/multi-tier', { active: true })).status, 200, 'the plugin on');
    const deep = created(
      await a.post(`/campaigns/${campaign}/payouts`, {
        kind: 'personal',
        title: 'Deep tiers',
        type: 'CPS',
        affiliateIds: [child],
        affiliateCommission: { value: 10, unit: 'percent' },
        tiers: [1, 1, 1, 1, 1].map((value) => ({ value, unit: 'fixed' })),
      }),
      'payout',
    );
    // child → parent → grand → child: the API refuses this, the database does not.
    await app.services.db('affiliates').where({ id: grand }).update({ parent_id: child });
    app.services.cache.invalidate();
    try {
      const res = await saleBy('child', campaign, 100);
      assert.deepEqual(brief(res), [
        [1, child, 10],
        [2, parent, 1],
        [3, grand, 1],
      ]);
      // A → B → A.
      await app.services.db('affiliates').where({ id: parent }).update({ parent_id: child });
      app.services.cache.invalidate();
      const two = await saleBy('child', campaign, 100);
      assert.deepEqual(brief(two), [
        [1, child, 10],
        [2, parent, 1],
      ]);
    } finally {
      await app.services.db('affiliates').where({ id: grand }).update({ parent_id: null });
      await app.services.db('affiliates').where({ id: parent }).update({ parent_id: grand });
      app.services.cache.invalidate();
      assert.equal((await a.patch(`/campaigns/${campaign}/payouts/${deep}`, { archived: true })).status, 200);
    }
    assert.deepEqual(brief(await saleBy('child', campaign, 100)), [
      [1, child, 10],
      [2, parent, 5],
      [3, grand, 2],
    ]);
  });
});
