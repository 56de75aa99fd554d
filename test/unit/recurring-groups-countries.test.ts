import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  recurringWindowEnd,
  selectPayout,
  withinRecurringMonths,
  type PayoutDef,
  type SaleLine,
  type SelectionContext,
} from '../../server/domain/payouts.js';
import { explainTrace, matchSale, type MatchLookups, type SaleFacts } from '../../server/domain/matching.js';
import { subscriptionReferral } from '../../server/services/sales.js';
import { toUnits, ZERO } from '../../server/domain/money.js';

/* SPEC §14 as pure rules: RECURRING payouts and their window, goals by country, rule 0 'subscription', the coupon switch. */

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
let nextId = 1;
function payout(over: Partial<PayoutDef> = {}): PayoutDef {
  return {
    id: nextId++,
    campaignId: 2,
    kind: 'general',
    title: 'P',
    type: 'CPS',
    actionCode: null,
    rawClicks: false,
    affiliateCommission: { value: toUnits(5), unit: 'fixed' },
    merchantCommission: { value: ZERO, unit: 'fixed' },
    goal: null,
    couponCode: null,
    tiers: [],
    affiliateIds: [],
    commissionGroupIds: [],
    recurringMonths: null,
    ...over,
  };
}
const line: SaleLine = { productId: 'sku-1', category: 'shoes', totalCost: toUnits(100), quantity: 1 };
const ctx = (payouts: PayoutDef[], over: Partial<SelectionContext> = {}): SelectionContext => ({
  kind: 'sale',
  actionCode: null,
  affiliateId: 7,
  couponPayoutId: null,
  payouts,
  ...over,
});

describe('the recurring window', () => {
  test('ends with the day recurringMonths calendar months after the first sale, clamped to the month', () => {
    assert.equal(recurringWindowEnd(Date.parse('2026-01-15T10:00:00Z'), 3), day('2026-04-16'));
    assert.equal(recurringWindowEnd(Date.parse('2026-01-31T10:00:00Z'), 1), day('2026-03-01'), '28 February');
    assert.equal(recurringWindowEnd(Date.parse('2028-01-31T10:00:00Z'), 1), day('2028-03-01'), '29 February');
    assert.equal(recurringWindowEnd(Date.parse('2026-11-30T10:00:00Z'), 14), day('2028-01-31'));
    const first = Date.parse('2026-01-15T10:00:00Z');
    // Stripe bills a renewal an hour or so after the anniversary: the third renewal still pays.
    assert.equal(withinRecurringMonths(first, 3, Date.parse('2026-04-15T11:30:00Z')), true);
    assert.equal(withinRecurringMonths(first, 3, Date.parse('2026-04-16T00:00:00Z')), false);
    assert.equal(withinRecurringMonths(first, null, Date.parse('2036-01-15T00:00:00Z')), true);
  });
});

describe('RECURRING payouts', () => {
  const recurring = payout({ type: 'RECURRING', title: 'Monthly', recurringMonths: 3 });
  const cps = payout({ type: 'CPS', title: 'Once' });

  test('a sale without a subscription: paid once, and the reason says so', () => {
    const s = selectPayout(line, ctx([recurring]));
    assert.equal(s.payout?.id, recurring.id);
    assert.match(s.reason, /RECURRING, but the sale carries no subscriptionId: paid once, as a one-time commission/);
  });

  test('a renewal is paid only by RECURRING payouts, within recurringMonths', () => {
    const first = Date.parse('2026-01-15T10:00:00Z');
    const sub = (at: string) => ({ subscriptionId: 'sub_1', firstSaleAt: first, at: Date.parse(at) });
    const inside = selectPayout(line, ctx([cps, recurring], { subscription: sub('2026-03-15T11:00:00Z') }));
    assert.equal(inside.payout?.id, recurring.id, 'the CPS payout paid the first sale only');
    assert.match(inside.reason, /renewal of subscription sub_1 \(first sale 2026-01-15, paid until 2026-04-15\)/);
    const after = selectPayout(line, ctx([cps, recurring], { subscription: sub('2026-05-15T11:00:00Z') }));
    assert.equal(after.payout, null);
    assert.match(
      after.reason,
      /renewal of subscription sub_1 on 2026-05-15 is past the recurringMonths of payout \d+ "Monthly" \(3 months after the first sale on 2026-01-15, until 2026-04-15\): renewals no longer pay/,
    );
    const onlyCps = selectPayout(line, ctx([cps], { subscription: sub('2026-02-15T11:00:00Z') }));
    assert.equal(onlyCps.payout, null);
    assert.match(onlyCps.reason, /only a RECURRING payout pays renewals/);
  });

  test("a subscription's first sale is paid by CPS or RECURRING payouts like any sale", () => {
    const first = selectPayout(
      line,
      ctx([recurring], { subscription: { subscriptionId: 'sub_1', firstSaleAt: null, at: 0 } }),
    );
    assert.equal(first.payout?.id, recurring.id);
    assert.match(first.reason, /first sale of subscription sub_1/);
  });
});

describe('payout goals by country', () => {
  const de = payout({ title: 'Germany', goal: { productIds: [], categories: [], countries: ['DE', 'AT'] } });
  const shoesFr = payout({
    title: 'Shoes in France',
    goal: { productIds: [], categories: ['shoes'], countries: ['FR'] },
  });
  const plain = payout({ title: 'Everyone' });

  test('a country goal applies only to visitors from its countries; product and category still rank first', () => {
    assert.equal(selectPayout(line, ctx([plain, de], { country: 'DE' })).payout?.id, de.id);
    assert.match(
      selectPayout(line, ctx([plain, de], { country: 'DE' })).reason,
      /goal names the country of the visitor \(DE\)/,
    );
    assert.equal(selectPayout(line, ctx([plain, de], { country: 'US' })).payout?.id, plain.id);
    assert.equal(selectPayout(line, ctx([plain, de], { country: null })).payout?.id, plain.id, 'unknown country');
    assert.equal(selectPayout(line, ctx([plain, de, shoesFr], { country: 'FR' })).payout?.id, shoesFr.id);
    assert.equal(selectPayout(line, ctx([de, shoesFr], { country: 'AT' })).payout?.id, de.id);
    const none = selectPayout(line, ctx([shoesFr], { country: 'IT' }));
    assert.equal(none.payout, null);
    assert.match(none.reason, /the visitor is from IT/);
  });
});

// ---- matching ----------------------------------------------------------------------------------

const campaigns = new Map(
  [1, 2, 3].map((id) => [
    id,
    {
      id,
      name: `C${id}`,
      type: 'public' as const,
      status: 'active' as const,
      isDefault: id === 1,
      cookieDays: null,
      overwriteCookie: null,
    },
  ]),
);
const lookups: MatchLookups = {
  campaign: (id) => campaigns.get(id),
  affiliate: (id) => ({ id, refId: `a${id}`, name: `A${id}`, status: 'approved', overwriteCookie: null }),
  defaultCampaign: () => campaigns.get(1)!,
  invitations: new Map(),
};
const NOW = Date.parse('2026-06-01T12:00:00Z');
const facts = (over: Partial<SaleFacts>): SaleFacts => ({
  lifetime: null,
  couponCode: null,
  coupon: undefined,
  bannerId: undefined,
  banner: undefined,
  campaignId: undefined,
  productIds: [],
  productCampaigns: [],
  referrals: [],
  explicitAffiliateId: undefined,
  explicitAffiliate: undefined,
  signed: false,
  now: NOW,
  ...over,
});
const never = () => {
  throw new Error('random must not be used');
};

describe("rule 0: the subscription's first sale", () => {
  const first = { campaignId: 3, affiliateId: 12, at: Date.parse('2026-05-01T10:00:00Z') };
  const coupon = { code: 'SPRING', affiliateId: 11, campaignId: 2, payoutId: null };

  test('ranks before every rule of §5.2, and names the same affiliate', () => {
    const t = matchSale(
      facts({
        subscription: { subscriptionId: 'sub_9', first, closed: null },
        couponCode: 'SPRING',
        coupon,
        campaignId: 2,
      }),
      lookups,
      { cookieDays: 60, overwriteCookie: false },
      never,
    );
    assert.equal(t.matchedBy, 'subscription');
    assert.equal(t.rule, 0);
    assert.equal(t.campaignId, 3);
    assert.equal(t.affiliate?.affiliateId, 12);
    assert.equal(t.affiliate?.source, 'subscription');
    assert.equal(t.candidates.find((c) => c.name === 'coupon')?.outcome, 'outranked');
  });

  test('past recurringMonths it does not apply, and the explanation says why', () => {
    const closed = 'subscription sub_9 first sold on 2026-05-01 is past the 1 recurringMonths';
    const t = matchSale(
      facts({ subscription: { subscriptionId: 'sub_9', first, closed } }),
      lookups,
      { cookieDays: 60, overwriteCookie: false },
      never,
    );
    assert.equal(t.matchedBy, 'default');
    assert.equal(t.affiliate, null);
    assert.ok(
      explainTrace(t).some((l) => l.includes(closed)),
      explainTrace(t).join('\n'),
    );
  });

  test('subscriptionReferral closes the window after the longest RECURRING payout of the affiliate', () => {
    const record = { subscriptionId: 'sub_9', campaignId: 3, affiliateId: 12, firstSaleId: 1, firstSaleAt: first.at };
    const short = payout({ campaignId: 3, type: 'RECURRING', recurringMonths: 1, title: 'Short' });
    const long = payout({ campaignId: 3, type: 'RECURRING', recurringMonths: 6, kind: 'personal', affiliateIds: [99] });
    const at = Date.parse('2026-07-01T12:00:00Z');
    const r = subscriptionReferral('sub_9', record, [short, long], at);
    assert.match(
      r.closed ?? '',
      /past the 1 recurringMonths of payout \d+ "Short" \(renewals until 2026-06-01\)/,
      'the 6-month payout names another affiliate',
    );
    assert.equal(subscriptionReferral('sub_9', record, [short, { ...long, affiliateIds: [12] }], at).closed, null);
    assert.equal(
      subscriptionReferral('sub_9', record, [payout({ type: 'RECURRING' })], at).closed,
      null,
      'null = while it lasts',
    );
    assert.deepEqual(subscriptionReferral('sub_9', null, [short], at), {
      subscriptionId: 'sub_9',
      first: null,
      closed: null,
    });
  });
});

describe('couponCampaignRecognition', () => {
  const coupon = { code: 'SPRING', affiliateId: 11, campaignId: 2, payoutId: null };
  test('off: the coupon names the affiliate but does not pick the campaign', () => {
    const on = matchSale(
      facts({ couponCode: 'SPRING', coupon, campaignId: 3 }),
      lookups,
      { cookieDays: 60, overwriteCookie: false },
      never,
    );
    assert.equal(on.matchedBy, 'coupon');
    assert.equal(on.campaignId, 2);
    const off = matchSale(
      facts({ couponCode: 'SPRING', coupon, campaignId: 3, couponCampaignRecognition: false }),
      lookups,
      { cookieDays: 60, overwriteCookie: false },
      never,
    );
    assert.equal(off.matchedBy, 'campaign');
    assert.equal(off.campaignId, 3);
    assert.equal(off.affiliate?.affiliateId, 11);
    assert.equal(off.affiliate?.source, 'coupon');
    assert.ok(explainTrace(off).some((l) => /coupon recognition \(couponCampaignRecognition\) is off/.test(l)));
  });
});
