import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyRate,
  cpmAmount,
  lineBasis,
  planCommissions,
  selectPayout,
  selectTrafficPayout,
  type FixedCost,
  type PayoutDef,
  type Rate,
  type SaleLine,
  type SelectionContext,
} from '../../server/domain/payouts.js';
import { toUnits } from '../../server/domain/money.js';

const u = toUnits;
const pct = (v: number | string): Rate => ({ value: u(v), unit: 'percent' });
const fixed = (v: number | string): Rate => ({ value: u(v), unit: 'fixed' });

let nextId = 1;
function payout(over: Partial<PayoutDef> = {}): PayoutDef {
  return {
    id: nextId++,
    campaignId: 1,
    kind: 'general',
    title: 'Payout',
    type: 'CPS',
    actionCode: null,
    rawClicks: false,
    affiliateCommission: pct(10),
    merchantCommission: fixed(0),
    goal: null,
    couponCode: null,
    tiers: [],
    affiliateIds: [],
    commissionGroupIds: [],
    recurringMonths: null,
    ...over,
  };
}

const AFF = 7;
const OTHER = 8;

function line(over: Partial<SaleLine> = {}): SaleLine {
  return { productId: null, category: null, totalCost: u(100), quantity: 1, ...over };
}

function ctx(payouts: PayoutDef[], over: Partial<SelectionContext> = {}): SelectionContext {
  return { kind: 'sale', actionCode: null, affiliateId: AFF, couponPayoutId: null, payouts, ...over };
}

const goal = (productIds: string[] = [], categories: string[] = []) => ({ productIds, categories });

describe('selectPayout: the steps of SPEC §6.2, each beating the next', () => {
  const shoe = line({ productId: 'sku-1', category: 'shoes' });
  const couponP = payout({
    kind: 'personal',
    title: 'Coupon',
    affiliateIds: [AFF],
    couponCode: 'ANN10',
    affiliateCommission: pct(30),
  });
  const personalGoal = payout({
    kind: 'personal',
    title: 'Personal shoes',
    affiliateIds: [AFF],
    goal: goal(['sku-1']),
  });
  const personalPlain = payout({ kind: 'personal', title: 'Personal', affiliateIds: [AFF] });
  const generalGoal = payout({ title: 'General shoes', goal: goal([], ['shoes']) });
  const generalPlain = payout({ title: 'General' });
  const all = [generalPlain, generalGoal, personalPlain, personalGoal, couponP];

  test('1. the coupon payout, when the sale was matched by its coupon', () => {
    const s = selectPayout(shoe, ctx(all, { couponPayoutId: couponP.id }));
    assert.equal(s.payout?.id, couponP.id);
    assert.equal(s.step, 'coupon');
    assert.match(s.reason, /of the coupon/);
  });

  test('2. personal with a goal matching the item beats personal without goal', () => {
    const s = selectPayout(shoe, ctx(all));
    assert.equal(s.payout?.id, personalGoal.id);
    assert.equal(s.step, 'personal_goal');
    assert.match(
      s.reason,
      /personal payout \d+ "Personal shoes": its goal names the product of product sku-1 \(shoes\)/,
    );
  });

  test('3. personal without goal beats general with a matching goal', () => {
    const s = selectPayout(shoe, ctx([generalPlain, generalGoal, personalPlain]));
    assert.equal(s.payout?.id, personalPlain.id);
    assert.equal(s.step, 'personal');
    assert.match(s.reason, /\(no goal\)/);
  });

  test('a personal goal naming other products does not apply; the plain personal one does', () => {
    const s = selectPayout(
      line({ productId: 'sku-9', category: 'hats' }),
      ctx([generalPlain, generalGoal, personalPlain, personalGoal]),
    );
    assert.equal(s.payout?.id, personalPlain.id);
  });

  test('4. general with a matching goal beats general without goal', () => {
    const s = selectPayout(shoe, ctx([generalPlain, generalGoal]));
    assert.equal(s.payout?.id, generalGoal.id);
    assert.equal(s.step, 'general_goal');
    assert.match(s.reason, /its goal names the category/);
  });

  test('5. general without goal', () => {
    const s = selectPayout(line({ productId: 'sku-2', category: 'hats' }), ctx([generalPlain, generalGoal]));
    assert.equal(s.payout?.id, generalPlain.id);
    assert.equal(s.step, 'general');
  });

  test('personal payouts of another affiliate never apply', () => {
    const s = selectPayout(shoe, ctx([personalGoal, personalPlain, generalPlain], { affiliateId: OTHER }));
    assert.equal(s.payout?.id, generalPlain.id);
  });

  test('no payout → null with a reason', () => {
    const none = selectPayout(shoe, ctx([]));
    assert.equal(none.payout, null);
    assert.equal(none.step, null);
    assert.match(none.reason, /the campaign has no CPS, LIFETIME or RECURRING payout: no commission/);
    const onlyGoals = selectPayout(line({ productId: 'sku-3', category: 'bags' }), ctx([generalGoal]));
    assert.equal(onlyGoals.payout, null);
    assert.match(onlyGoals.reason, /goals name other products, categories or countries/);
  });

  test('a goal naming the product beats one naming its category (also in the general step)', () => {
    const byCategory = payout({ title: 'Shoes category', goal: goal([], ['shoes']) });
    const byProduct = payout({ title: 'SKU-1', goal: goal(['sku-1']) });
    assert.ok(byCategory.id < byProduct.id, 'the category payout is older: the product wins by kind, not by id');
    const s = selectPayout(shoe, ctx([byCategory, byProduct]));
    assert.equal(s.payout?.id, byProduct.id);
    assert.match(s.reason, /names the product/);
    // Personal too.
    const pc = payout({ kind: 'personal', affiliateIds: [AFF], goal: goal([], ['shoes']) });
    const pp = payout({ kind: 'personal', affiliateIds: [AFF], goal: goal(['sku-1']) });
    assert.equal(selectPayout(shoe, ctx([pc, pp])).payout?.id, pp.id);
  });

  test('a couponCode payout never applies unless the sale matched its coupon', () => {
    const onlyCoupon = payout({ kind: 'personal', affiliateIds: [AFF], couponCode: 'ANN10' });
    assert.equal(selectPayout(shoe, ctx([onlyCoupon])).payout, null);
    const s = selectPayout(shoe, ctx([onlyCoupon, generalPlain]));
    assert.equal(s.payout?.id, generalPlain.id);
    // Matched by another coupon (naming a different payout): still not used.
    assert.equal(
      selectPayout(shoe, ctx([onlyCoupon, generalPlain], { couponPayoutId: generalPlain.id })).payout?.id,
      generalPlain.id,
    );
  });

  test('a coupon that only attributes (no payoutId) → the normal selection', () => {
    const s = selectPayout(shoe, ctx(all, { couponPayoutId: null }));
    assert.equal(s.payout?.id, personalGoal.id);
    assert.equal(s.step, 'personal_goal');
  });

  test("a personal coupon payout does not pay an affiliate it does not name (the sale's affiliate came from elsewhere)", () => {
    const s = selectPayout(shoe, ctx([couponP, generalPlain], { couponPayoutId: couponP.id, affiliateId: OTHER }));
    assert.equal(s.payout?.id, generalPlain.id);
    assert.equal(s.step, 'general');
  });

  test('a coupon payout of the wrong type (CPS for an action) falls through to the normal selection', () => {
    const cpa = payout({ type: 'CPA', actionCode: 'signup', affiliateCommission: fixed(2) });
    const s = selectPayout(
      line(),
      ctx([couponP, cpa], { kind: 'action', actionCode: 'signup', couponPayoutId: couponP.id }),
    );
    assert.equal(s.payout?.id, cpa.id);
  });
});

describe('payout types', () => {
  test('CPA by actionCode, case-insensitive; never for sales', () => {
    const signup = payout({ type: 'CPA', actionCode: 'SignUp', affiliateCommission: fixed(2) });
    const lead = payout({ type: 'CPA', actionCode: 'lead', affiliateCommission: fixed(1) });
    assert.equal(
      selectPayout(line(), ctx([lead, signup], { kind: 'action', actionCode: 'signup' })).payout?.id,
      signup.id,
    );
    assert.equal(selectPayout(line(), ctx([lead, signup], { kind: 'action', actionCode: 'LEAD' })).payout?.id, lead.id);
    const none = selectPayout(line(), ctx([lead, signup], { kind: 'action', actionCode: 'download' }));
    assert.equal(none.payout, null);
    assert.match(none.reason, /CPA "download"/);
    assert.equal(selectPayout(line(), ctx([lead, signup])).payout, null, 'a sale is not paid by CPA');
  });

  test('CPS and LIFETIME pay only sales; PPC and CPM never pay sales', () => {
    const cps = payout({ type: 'CPS' });
    const life = payout({ type: 'LIFETIME' });
    const ppc = payout({ type: 'PPC', affiliateCommission: fixed(0.1) });
    const cpm = payout({ type: 'CPM', affiliateCommission: fixed(2) });
    assert.equal(selectPayout(line(), ctx([ppc, cpm, life])).payout?.id, life.id);
    assert.equal(selectPayout(line(), ctx([ppc, cpm, cps])).payout?.id, cps.id);
    assert.equal(selectPayout(line(), ctx([ppc, cpm])).payout, null);
    assert.equal(
      selectPayout(line(), ctx([cps, life, ppc, cpm], { kind: 'action', actionCode: 'signup' })).payout,
      null,
    );
  });

  test('PPC / CPM selection: personal first, then general; coupon payouts never', () => {
    const general = payout({ type: 'PPC', affiliateCommission: fixed(0.1) });
    const personal = payout({ type: 'PPC', kind: 'personal', affiliateIds: [AFF], affiliateCommission: fixed(0.5) });
    const cpm = payout({ type: 'CPM', affiliateCommission: fixed(2) });
    assert.equal(selectTrafficPayout('PPC', AFF, [general, personal, cpm])?.id, personal.id);
    assert.equal(selectTrafficPayout('PPC', OTHER, [general, personal, cpm])?.id, general.id);
    assert.equal(selectTrafficPayout('CPM', AFF, [general, personal, cpm])?.id, cpm.id);
    assert.equal(selectTrafficPayout('CPM', AFF, [general, personal]), null);
    const coupon = payout({ type: 'PPC', kind: 'personal', affiliateIds: [AFF], couponCode: 'X' });
    assert.equal(selectTrafficPayout('PPC', AFF, [coupon]), null);
  });

  test('cpmAmount: the rate is per 1,000 impressions, rounded half-up', () => {
    assert.equal(cpmAmount(u('2.00'), 1500), u('3.00'));
    assert.equal(cpmAmount(u('10.00'), 3), u('0.03'));
    assert.equal(cpmAmount(u('2.00'), 0), 0);
    assert.equal(cpmAmount(u('0.0015'), 1000), u('0.0015'));
    assert.equal(cpmAmount(u('0.0015'), 1), 0, '0.0000015 rounds to 0');
    assert.equal(cpmAmount(u('0.5'), 1), 5, '0.0005 exactly');
    assert.equal(cpmAmount(u('0.05'), 1), 1, '0.00005 rounds half-up to 0.0001');
  });
});

describe('amounts: basis, fixed cost, rates, rounding', () => {
  test('percent of totalCost − fixedCost (an amount)', () => {
    const basis = lineBasis(line({ totalCost: u(120) }), u(120), { kind: 'amount', units: u(20) });
    assert.equal(basis, u(100));
    assert.equal(applyRate(pct(10), basis, 1), u(10));
  });

  test('"N%" fixed cost: a percentage of the line', () => {
    const basis = lineBasis(line({ totalCost: u(200) }), u(200), { kind: 'percent', units: u(10) });
    assert.equal(basis, u(180));
    assert.equal(applyRate(pct(10), basis, 1), u(18));
  });

  test('a fixed cost larger than the total leaves 0, never a negative basis', () => {
    assert.equal(lineBasis(line({ totalCost: u(10) }), u(10), { kind: 'amount', units: u(20) }), 0);
  });

  test('an amount fixed cost is shared among lines in proportion to their totals', () => {
    const fc: FixedCost = { kind: 'amount', units: u(30) };
    assert.equal(lineBasis(line({ totalCost: u(100) }), u(300), fc), u(90));
    assert.equal(lineBasis(line({ totalCost: u(200) }), u(300), fc), u(180));
  });

  test('no totalCost: no basis; a percentage pays 0, a fixed rate still pays', () => {
    assert.equal(lineBasis(line({ totalCost: null }), null, null), null);
    assert.equal(applyRate(pct(10), null, 1), 0);
    assert.equal(applyRate(fixed(5), null, 1), u(5));
  });

  test('rounding half-up to 4 places', () => {
    // 10% of 0.0005 = 0.00005 → 0.0001; 10% of 0.0004 = 0.00004 → 0.0000.
    assert.equal(applyRate(pct(10), u('0.0005'), 1), 1);
    assert.equal(applyRate(pct(10), u('0.0004'), 1), 0);
    // 0.00055 is itself rounded half-up to 0.0006 when parsed; 10% of it → 0.0001.
    assert.equal(u('0.00055'), 6);
    assert.equal(applyRate(pct(10), u('0.00055'), 1), 1);
    // 33.3333% of 100 = 33.3333 exactly; 33.3333% of 0.01 = 0.00333333 → 0.0033.
    assert.equal(applyRate(pct('33.3333'), u(100), 1), u('33.3333'));
    assert.equal(applyRate(pct('33.3333'), u('0.01'), 1), u('0.0033'));
    // 12.5% of 0.0012 = 0.00015 → 0.0002 (half-up, not banker's rounding).
    assert.equal(applyRate(pct('12.5'), u('0.0012'), 1), 2);
    // 7% of 19.99 = 1.3993.
    assert.equal(applyRate(pct(7), u('19.99'), 1), u('1.3993'));
  });

  test('a fixed rate is paid per item × quantity', () => {
    assert.equal(applyRate(fixed('2.50'), u(100), 3), u('7.50'));
    const p = payout({ affiliateCommission: fixed('1.25') });
    const plan = planCommissions(
      [line({ productId: 'a', quantity: 4 }), line({ productId: 'b', quantity: 1 })],
      ctx([p]),
      null,
    );
    assert.equal(plan.tiers[0]?.amount, u('6.25'));
  });
});

describe('planCommissions', () => {
  test('a whole order: one line, the rate on totalCost − fixedCost, the merchant cut beside it', () => {
    const p = payout({ affiliateCommission: pct(10), merchantCommission: pct(2) });
    const plan = planCommissions([line({ totalCost: u(120) })], ctx([p]), { kind: 'amount', units: u(20) });
    assert.equal(plan.tiers.length, 1);
    const t1 = plan.tiers[0]!;
    assert.equal(t1.tier, 1);
    assert.equal(t1.amount, u(10));
    assert.equal(t1.merchantAmount, u(2));
    assert.equal(t1.payoutId, p.id);
    assert.deepEqual([...plan.types], ['CPS']);
  });

  test('multi-item: one commission per tier = the sum over items; different payouts → payoutId null, per-line detail', () => {
    const byProduct = payout({ title: 'SKU-1', goal: goal(['sku-1']), affiliateCommission: pct(20) });
    const byCategory = payout({ title: 'Shoes', goal: goal([], ['shoes']), affiliateCommission: pct(15) });
    const plain = payout({ title: 'Rest', affiliateCommission: pct(5) });
    const lines = [
      line({ productId: 'sku-1', category: 'shoes', totalCost: u(100) }), // product goal: 20 % → 20
      line({ productId: 'sku-2', category: 'shoes', totalCost: u(50) }), // category goal: 15 % → 7.5
      line({ productId: 'sku-3', category: 'hats', totalCost: u('19.99') }), // general: 5 % → 0.9995
    ];
    const plan = planCommissions(lines, ctx([plain, byCategory, byProduct]), null);
    assert.equal(plan.tiers.length, 1, 'one commission, not one per item');
    const t1 = plan.tiers[0]!;
    assert.equal(t1.amount, u('28.4995'));
    assert.equal(t1.payoutId, null, 'items chose different payouts');
    assert.deepEqual(
      t1.lines.map((l) => [l.productId, l.payoutId, l.basis, l.amount]),
      [
        ['sku-1', byProduct.id, u(100), u(20)],
        ['sku-2', byCategory.id, u(50), u('7.5')],
        ['sku-3', plain.id, u('19.99'), u('0.9995')],
      ],
    );
    assert.equal(plan.selections.length, 3);
    assert.deepEqual(
      plan.selections.map((s) => s.step),
      ['general_goal', 'general_goal', 'general'],
    );
  });

  test('multi-item with the same payout on every line → payoutId set; items with no payout earn nothing', () => {
    const shoes = payout({ goal: goal([], ['shoes']), affiliateCommission: pct(10) });
    const plan = planCommissions(
      [
        line({ productId: 'a', category: 'shoes', totalCost: u(40) }),
        line({ productId: 'b', category: 'hats', totalCost: u(60) }),
      ],
      ctx([shoes]),
      null,
    );
    assert.equal(plan.tiers[0]?.amount, u(4));
    assert.equal(plan.tiers[0]?.payoutId, shoes.id);
    assert.equal(plan.tiers[0]?.lines.length, 1);
    assert.equal(plan.selections[1]?.payout, null);
  });

  test('goal by product vs by category across items of one order', () => {
    const catShoes = payout({ goal: goal([], ['shoes']), affiliateCommission: fixed(3) });
    const prodHat = payout({ goal: goal(['hat-1']), affiliateCommission: fixed(1) });
    const plan = planCommissions(
      [
        line({ productId: 'shoe-1', category: 'shoes', quantity: 2 }),
        line({ productId: 'hat-1', category: 'shoes', quantity: 1 }), // product goal beats the category
      ],
      ctx([catShoes, prodHat]),
      null,
    );
    assert.deepEqual(
      plan.tiers[0]?.lines.map((l) => [l.productId, l.payoutId, l.amount]),
      [
        ['shoe-1', catShoes.id, u(6)],
        ['hat-1', prodHat.id, u(1)],
      ],
    );
    assert.equal(plan.tiers[0]?.amount, u(7));
  });

  test('the fixed cost is shared across items before percentages', () => {
    const p = payout({ affiliateCommission: pct(10) });
    const plan = planCommissions(
      [line({ productId: 'a', totalCost: u(100) }), line({ productId: 'b', totalCost: u(300) })],
      ctx([p]),
      { kind: 'amount', units: u(40) },
    );
    // Bases 90 and 270; 10 % → 9 + 27.
    assert.equal(plan.tiers[0]?.amount, u(36));
  });

  test('tiers produce tier 2 and tier 3 plans (no merchant cut on them)', () => {
    const p = payout({ affiliateCommission: pct(10), merchantCommission: fixed(1), tiers: [pct(5), fixed('0.5')] });
    const plan = planCommissions([line({ totalCost: u(200) })], ctx([p]), null);
    assert.deepEqual(
      plan.tiers.map((t) => [t.tier, t.amount, t.merchantAmount, t.payoutId]),
      [
        [1, u(20), u(1), p.id],
        [2, u(10), 0, p.id],
        [3, u('0.5'), 0, p.id],
      ],
    );
  });

  test('tiers over items: tier n sums the tier n of every line', () => {
    const a = payout({ goal: goal(['a']), affiliateCommission: pct(10), tiers: [pct(2)] });
    const b = payout({ goal: goal(['b']), affiliateCommission: pct(10), tiers: [pct(4), fixed(1)] });
    const plan = planCommissions(
      [line({ productId: 'a', totalCost: u(100) }), line({ productId: 'b', totalCost: u(100) })],
      ctx([a, b]),
      null,
    );
    assert.deepEqual(
      plan.tiers.map((t) => [t.tier, t.amount, t.payoutId]),
      [
        [1, u(20), null],
        [2, u(6), null],
        [3, u(1), b.id],
      ],
    );
  });

  test('a percentage without totalCost pays 0 and says why', () => {
    const p = payout({ affiliateCommission: pct(10) });
    const plan = planCommissions([line({ totalCost: null })], ctx([p]), null);
    assert.equal(plan.tiers[0]?.amount, 0);
    assert.match(plan.notes.join(' '), /no totalCost/);
  });

  test('no payout: no tiers, the selection says why', () => {
    const plan = planCommissions([line()], ctx([]), null);
    assert.deepEqual(plan.tiers, []);
    assert.equal(plan.selections[0]?.payout, null);
  });

  test('LIFETIME is reported among the types involved', () => {
    const life = payout({ type: 'LIFETIME' });
    assert.deepEqual([...planCommissions([line()], ctx([life]), null).types], ['LIFETIME']);
  });
});
