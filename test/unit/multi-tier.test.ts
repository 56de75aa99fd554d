import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Hooks } from '../../server/plugins/hooks.js';
import { createMultiTier, approvedAncestors, MAX_LEVELS } from '../../server/plugins/multi-tier/index.js';
import { planCommissions, type PayoutDef, type Rate } from '../../server/domain/payouts.js';
import { asUnits, toUnits, ZERO } from '../../server/domain/money.js';
import type { PlannedCommission, TierContext } from '../../server/services/commissions.js';
import type { PluginContext } from '../../server/plugins/types.js';

const u = toUnits;
const pct = (v: number): Rate => ({ value: u(v), unit: 'percent' });

type Status = 'pending' | 'approved' | 'declined';
type Fake = { id: number; refId: string; name: string; status: Status; overwriteCookie: null; parentId: number | null };

function affiliates(list: Array<[id: number, parentId: number | null, status?: Status]>): Map<number, Fake> {
  return new Map(
    list.map(([id, parentId, status]) => [
      id,
      { id, refId: `a${id}`, name: `A${id}`, status: status ?? 'approved', overwriteCookie: null, parentId },
    ]),
  );
}

const PAYOUT: PayoutDef = {
  id: 3,
  campaignId: 1,
  kind: 'general',
  title: 'Tiered',
  type: 'CPS',
  actionCode: null,
  rawClicks: false,
  affiliateCommission: pct(10),
  merchantCommission: { value: ZERO, unit: 'fixed' },
  goal: null,
  couponCode: null,
  tiers: [pct(5), pct(2), pct(1)],
  affiliateIds: [],
  commissionGroupIds: [],
  recurringMonths: null,
};

const errors: unknown[] = [];

async function harness() {
  const hooks = new Hooks({ error: (o: unknown) => errors.push(o) });
  const plugin = createMultiTier();
  const ctx: PluginContext = {
    settings: () => ({}),
    log: { debug() {}, info() {}, warn() {}, error: (o) => errors.push(o) },
  };
  await plugin.register(hooks.forOwner(plugin.name), ctx);
  return {
    plugin,
    run(affiliateId: number, known: Map<number, Fake>, payout: PayoutDef = PAYOUT, total = 1000) {
      const plan = planCommissions(
        [{ productId: null, category: null, totalCost: u(total), quantity: 1 }],
        {
          kind: 'sale',
          actionCode: null,
          affiliateId,
          couponPayoutId: null,
          payouts: [payout],
        },
        null,
      );
      const tierCtx: TierContext = { plan, affiliateId, campaignId: 1, affiliate: (id) => known.get(id) };
      return hooks.applyFilters('commission.tiers', [], tierCtx);
    },
  };
}

const brief = (list: PlannedCommission[]) => list.map((c) => [c.tier, c.affiliateId, c.amount]);

describe('multi-tier plugin: the commission.tiers filter', () => {
  test('a chain of 3 approved parents: tier 2 → parent, 3 → grandparent, 4 → great-grandparent', async () => {
    const h = await harness();
    // 5 → 2 → 9 → 4 → 1
    const known = affiliates([
      [5, 2],
      [2, 9],
      [9, 4],
      [4, 1],
      [1, null],
    ]);
    const out = await h.run(5, known);
    assert.deepEqual(brief(out), [
      [2, 2, u(50)],
      [3, 9, u(20)],
      [4, 4, u(10)],
    ]);
    const first = out[0]!;
    assert.equal(first.merchantAmount, 0);
    assert.equal(first.payoutId, 3);
    assert.equal(first.basis, u(1000));
    assert.deepEqual(first.rate, pct(5));
    assert.equal(first.detail.reason, "tier 2 of payout 3 for affiliate 5's parent 2");
    assert.equal(out[1]!.detail.reason, "tier 3 of payout 3 for affiliate 5's grandparent 9");
    assert.equal(h.plugin.name, 'multi-tier');
  });

  test('a pending parent is skipped: its tier goes to the next approved one up', async () => {
    const h = await harness();
    const known = affiliates([
      [5, 2],
      [2, 9, 'pending'],
      [9, 4],
      [4, 1, 'declined'],
      [1, null],
    ]);
    const out = await h.run(5, known);
    assert.deepEqual(brief(out), [
      [2, 9, u(50)],
      [3, 1, u(20)],
    ]);
    assert.match(String(out[0]!.detail.reason), /tier 2 of payout 3 for affiliate 5's grandparent 9/);
    assert.deepEqual(out[0]!.detail.skipped, ['affiliate 2 (level 1) is pending', 'affiliate 4 (level 3) is declined']);
  });

  test('a loop (A → B → A) stops the walk', async () => {
    const h = await harness();
    const known = affiliates([
      [10, 11],
      [11, 10],
    ]);
    const out = await h.run(10, known);
    assert.deepEqual(brief(out), [[2, 11, u(50)]], 'B is paid once; A (the seller) is never its own ancestor');
    assert.match(approvedAncestors(10, (id) => known.get(id), 3).stop, /loop/);
    // A loop above the seller: 1 → 2 → 3 → 2.
    const upper = affiliates([
      [1, 2],
      [2, 3],
      [3, 2],
    ]);
    assert.deepEqual(brief(await h.run(1, upper)), [
      [2, 2, u(50)],
      [3, 3, u(20)],
    ]);
  });

  test('a missing parent stops the walk', async () => {
    const h = await harness();
    const known = affiliates([
      [5, 2],
      [2, 404],
    ]);
    const out = await h.run(5, known);
    assert.deepEqual(brief(out), [[2, 2, u(50)]]);
    assert.equal(approvedAncestors(5, (id) => known.get(id), 3).stop, 'parent 404 does not exist');
  });

  test('no parent, or a payout without tiers: nothing', async () => {
    const h = await harness();
    assert.deepEqual(await h.run(5, affiliates([[5, null]])), []);
    assert.deepEqual(
      await h.run(
        5,
        affiliates([
          [5, 2],
          [2, null],
        ]),
        { ...PAYOUT, tiers: [] },
      ),
      [],
    );
  });

  test(`at most ${MAX_LEVELS} levels up`, async () => {
    const h = await harness();
    // 0 → 1 → 2 → … → 20, levels 1..9 pending, 10 and above approved.
    const chain: Array<[number, number | null, Status]> = [];
    for (let i = 0; i <= 20; i++) chain.push([i, i < 20 ? i + 1 : null, i >= 1 && i <= 9 ? 'pending' : 'approved']);
    const out = await h.run(0, affiliates(chain));
    assert.deepEqual(brief(out), [[2, 10, u(50)]], 'level 10 is the last one looked at');
    assert.match(approvedAncestors(0, (id) => affiliates(chain).get(id), 3).stop, /after 10 levels/);
  });

  test('keeps entries added by filters that ran before', async () => {
    const h = await harness();
    const hooks = new Hooks({ error: () => {} });
    const early: PlannedCommission = {
      tier: 9,
      affiliateId: 99,
      amount: asUnits(1),
      merchantAmount: ZERO,
      payoutId: null,
      basis: null,
      rate: null,
      detail: {},
    };
    hooks.addFilter('commission.tiers', (v) => [...v, early], 5);
    await createMultiTier().register(hooks.forOwner('multi-tier'), {
      settings: () => ({}),
      log: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const plan = planCommissions(
      [{ productId: null, category: null, totalCost: u(100), quantity: 1 }],
      { kind: 'sale', actionCode: null, affiliateId: 5, couponPayoutId: null, payouts: [PAYOUT] },
      null,
    );
    const known = affiliates([
      [5, 2],
      [2, null],
    ]);
    const out = await hooks.applyFilters('commission.tiers', [], {
      plan,
      affiliateId: 5,
      campaignId: 1,
      affiliate: (id: number) => known.get(id),
    });
    assert.deepEqual(brief(out), [
      [9, 99, 1],
      [2, 2, u(5)],
    ]);
    assert.ok(h);
    assert.deepEqual(errors, []);
  });
});
