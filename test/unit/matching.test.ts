import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DAY_MS,
  matchClick,
  matchCampaignUrlClick,
  matchSale,
  chooseReferral,
  referralInWindow,
  pickProductCampaign,
  explainTrace,
  type AffiliateFacts,
  type BannerFacts,
  type CampaignFacts,
  type ClickFacts,
  type CouponFacts,
  type GlobalCookieSettings,
  type MatchLookups,
  type MatchTrace,
  type ReferralFacts,
  type SaleFacts,
} from '../../server/domain/matching.js';

// ---- a small fake world ------------------------------------------------------------------------

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

function campaign(id: number, over: Partial<CampaignFacts> = {}): CampaignFacts {
  return {
    id,
    name: `C${id}`,
    type: 'public',
    status: 'active',
    isDefault: false,
    cookieDays: null,
    overwriteCookie: null,
    ...over,
  };
}

function affiliate(id: number, over: Partial<AffiliateFacts> = {}): AffiliateFacts {
  return { id, refId: `ref${id}`, name: `A${id}`, status: 'approved', overwriteCookie: null, ...over };
}

/**
 * Campaigns 1 (default), 2..9; affiliates 10..19 (approved), 20 pending, 21 declined.
 */
function world(
  extra: { campaigns?: CampaignFacts[]; affiliates?: AffiliateFacts[]; invitations?: Map<number, Set<number>> } = {},
): MatchLookups & {
  campaigns: Map<number, CampaignFacts>;
  affiliates: Map<number, AffiliateFacts>;
} {
  const campaigns = new Map<number, CampaignFacts>();
  campaigns.set(1, campaign(1, { isDefault: true, name: 'Default' }));
  for (let id = 2; id <= 9; id++) campaigns.set(id, campaign(id));
  for (const c of extra.campaigns ?? []) campaigns.set(c.id, c);
  const affiliates = new Map<number, AffiliateFacts>();
  for (let id = 10; id <= 19; id++) affiliates.set(id, affiliate(id));
  affiliates.set(20, affiliate(20, { status: 'pending' }));
  affiliates.set(21, affiliate(21, { status: 'declined' }));
  for (const a of extra.affiliates ?? []) affiliates.set(a.id, a);
  return {
    campaigns,
    affiliates,
    campaign: (id) => campaigns.get(id),
    affiliate: (id) => affiliates.get(id),
    defaultCampaign: () => campaigns.get(1) as CampaignFacts,
    invitations: extra.invitations ?? new Map(),
  };
}

const GLOBAL: GlobalCookieSettings = { cookieDays: 60, overwriteCookie: false };
const banner = (id: number, campaignId: number): BannerFacts => ({ id, campaignId, name: `B${id}` });

function clickFacts(over: Partial<ClickFacts> = {}): ClickFacts {
  return {
    forcedCampaignId: undefined,
    campaignParam: undefined,
    bannerParam: undefined,
    banner: undefined,
    affiliateParam: undefined,
    affiliate: undefined,
    ...over,
  };
}

function saleFacts(over: Partial<SaleFacts> = {}): SaleFacts {
  return {
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
  };
}

const ref = (campaignId: number, first: [number, number], last: [number, number] = first): ReferralFacts => ({
  campaignId,
  firstAffiliateId: first[0],
  firstClickAt: first[1],
  lastAffiliateId: last[0],
  lastClickAt: last[1],
});

const never = () => {
  throw new Error('random must not be used here');
};

const cand = (t: MatchTrace, rule: number) => {
  const c = t.candidates.find((x) => x.rule === rule);
  assert.ok(c, `no candidate for rule ${rule}`);
  return c;
};

function assertOutranked(t: MatchTrace, loserRule: number, winnerRule: number): void {
  const loser = cand(t, loserRule);
  assert.equal(loser.outcome, 'outranked', `rule ${loserRule} should be outranked: ${JSON.stringify(loser)}`);
  assert.match(
    loser.detail,
    new RegExp(`rule ${winnerRule} \\(`),
    `the outranked rule names the winner: ${loser.detail}`,
  );
  assert.match(loser.detail, /ranks higher/);
}

// ---- clicks (SPEC §5.1) ------------------------------------------------------------------------

describe('matchClick (SPEC §5.1)', () => {
  const w = world();
  const aff = w.affiliates.get(10);

  test('rule 1 alone: the forced campaignId', () => {
    const t = matchClick(clickFacts({ forcedCampaignId: 3, affiliateParam: 'ref10', affiliate: aff }), w);
    assert.equal(t.matchedBy, 'forced');
    assert.equal(t.rule, 1);
    assert.equal(t.campaignId, 3);
    assert.equal(t.declineReason, null);
    assert.equal(t.affiliate?.affiliateId, 10);
    assert.equal(t.affiliate?.source, 'link');
  });

  test('rule 2 alone: the a_cid parameter (numeric text)', () => {
    const t = matchClick(clickFacts({ campaignParam: '4', affiliateParam: 'ref10', affiliate: aff }), w);
    assert.equal(t.matchedBy, 'campaign');
    assert.equal(t.campaignId, 4);
    assert.equal(t.declineReason, null);
  });

  test("rule 3 alone: a_bid → the banner's campaign", () => {
    const t = matchClick(
      clickFacts({ bannerParam: '77', banner: banner(77, 5), affiliateParam: 'ref10', affiliate: aff }),
      w,
    );
    assert.equal(t.matchedBy, 'banner');
    assert.equal(t.campaignId, 5);
    assert.match(cand(t, 3).detail, /banner 77/);
  });

  test('rule 4 alone: the default campaign', () => {
    const t = matchClick(clickFacts({ affiliateParam: 'ref10', affiliate: aff }), w);
    assert.equal(t.matchedBy, 'default');
    assert.equal(t.rule, 4);
    assert.equal(t.campaignId, 1);
    for (const r of [1, 2, 3]) assert.equal(cand(t, r).outcome, 'not_applicable');
  });

  const all = clickFacts({
    forcedCampaignId: 2,
    campaignParam: 3,
    bannerParam: 9,
    banner: banner(9, 4),
    affiliateParam: 'ref10',
    affiliate: aff,
  });

  test('rule 1 beats rule 2 (and 3, 4)', () => {
    const t = matchClick(all, w);
    assert.equal(t.campaignId, 2);
    assert.equal(t.matchedBy, 'forced');
    assertOutranked(t, 2, 1);
    assertOutranked(t, 3, 1);
    assertOutranked(t, 4, 1);
    assert.ok(
      t.notes.some((n) => /banner 9 belongs to campaign 4/.test(n)),
      JSON.stringify(t.notes),
    );
  });

  test('rule 2 beats rule 3', () => {
    const t = matchClick({ ...all, forcedCampaignId: undefined }, w);
    assert.equal(t.campaignId, 3);
    assert.equal(cand(t, 1).outcome, 'not_applicable');
    assertOutranked(t, 3, 2);
    assertOutranked(t, 4, 2);
  });

  test('rule 3 beats rule 4', () => {
    const t = matchClick({ ...all, forcedCampaignId: undefined, campaignParam: undefined }, w);
    assert.equal(t.campaignId, 4);
    assertOutranked(t, 4, 3);
  });

  test('an unknown campaign parameter falls through as invalid', () => {
    for (const bad of ['999', 'abc', "1' OR '1'='1", { $gt: 1 }, -3, 1.5]) {
      const t = matchClick(
        clickFacts({
          campaignParam: bad,
          bannerParam: '9',
          banner: banner(9, 4),
          affiliateParam: 'ref10',
          affiliate: aff,
        }),
        w,
      );
      assert.equal(cand(t, 2).outcome, 'invalid', JSON.stringify(bad));
      assert.equal(t.matchedBy, 'banner');
      assert.equal(t.campaignId, 4);
      assert.equal(t.declineReason, null, 'an unknown campaign parameter is not a reason to decline');
    }
    const forced = matchClick(clickFacts({ forcedCampaignId: 12345, affiliateParam: 'ref10', affiliate: aff }), w);
    assert.equal(cand(forced, 1).outcome, 'invalid');
    assert.equal(forced.campaignId, 1);
  });

  test('an unknown banner → declineReason', () => {
    const t = matchClick(
      clickFacts({ bannerParam: '555', banner: undefined, affiliateParam: 'ref10', affiliate: aff }),
      w,
    );
    assert.equal(cand(t, 3).outcome, 'invalid');
    assert.equal(t.campaignId, 1);
    assert.match(t.declineReason ?? '', /unknown banner/);
  });

  test('an unknown affiliate → declineReason', () => {
    const t = matchClick(clickFacts({ affiliateParam: 'nobody', affiliate: undefined }), w);
    assert.equal(t.affiliate, null);
    assert.equal(t.affiliateCandidates[0]?.outcome, 'invalid');
    assert.match(t.declineReason ?? '', /unknown affiliate "nobody"/);
  });

  test('a pending or declined affiliate → declineReason (the affiliate is still recorded)', () => {
    for (const [id, status] of [
      [20, 'pending'],
      [21, 'declined'],
    ] as const) {
      const t = matchClick(clickFacts({ affiliateParam: `ref${id}`, affiliate: w.affiliates.get(id) }), w);
      assert.equal(t.affiliate?.affiliateId, id);
      assert.match(t.declineReason ?? '', new RegExp(`affiliate ${id} is ${status}`));
    }
  });

  test('no affiliate parameter: not declined, no affiliate', () => {
    const t = matchClick(clickFacts({}), w);
    assert.equal(t.affiliate, null);
    assert.equal(t.declineReason, null);
  });

  test('a paused campaign → declineReason', () => {
    const pw = world({ campaigns: [campaign(6, { status: 'paused', name: 'Paused' })] });
    const t = matchClick(
      clickFacts({ campaignParam: 6, affiliateParam: 'ref10', affiliate: pw.affiliates.get(10) }),
      pw,
    );
    assert.equal(t.campaignId, 6);
    assert.match(t.declineReason ?? '', /paused/);
  });
});

// ---- sales (SPEC §5.2) -------------------------------------------------------------------------

describe('matchSale (SPEC §5.2)', () => {
  const w = world({ campaigns: [campaign(7, { type: 'private' }), campaign(8, { type: 'manual' })] });
  const coupon = (code: string, affiliateId: number, campaignId: number | null): CouponFacts => ({
    code,
    affiliateId,
    campaignId,
    payoutId: null,
  });
  const lifetime = (affiliateId: number, campaignId: number | null) => ({
    affiliateId,
    campaignId,
    detail: `lifetime customer of affiliate ${affiliateId}`,
  });
  const recent = NOW - DAY_MS;

  // One fact per rule, each pointing at a different campaign / affiliate.
  const R: Record<number, Partial<SaleFacts>> = {
    1: { lifetime: lifetime(11, 2) },
    2: { couponCode: 'SPRING', coupon: coupon('SPRING', 12, 3) },
    3: { bannerId: 40, banner: banner(40, 4) },
    4: { campaignId: 5 },
    5: { productIds: ['sku-1'], productCampaigns: [campaign(6)] },
    6: { referrals: [ref(9, [13, recent])] },
  };
  const EXPECTED: Record<number, { name: string; campaignId: number }> = {
    1: { name: 'lifetime', campaignId: 2 },
    2: { name: 'coupon', campaignId: 3 },
    3: { name: 'banner', campaignId: 4 },
    4: { name: 'campaign', campaignId: 5 },
    5: { name: 'product', campaignId: 6 },
    6: { name: 'cookie', campaignId: 9 },
    7: { name: 'default', campaignId: 1 },
  };
  const run = (...rules: number[]) =>
    matchSale(saleFacts(Object.assign({}, ...rules.map((r) => R[r]))), w, GLOBAL, () => 0);

  for (let rule = 1; rule <= 7; rule++) {
    test(`rule ${rule} alone (${EXPECTED[rule]!.name})`, () => {
      const t = run(...(rule === 7 ? [] : [rule]));
      assert.equal(t.matchedBy, EXPECTED[rule]!.name);
      assert.equal(t.rule, rule);
      assert.equal(t.campaignId, EXPECTED[rule]!.campaignId);
      assert.equal(t.declineReason, null);
      for (const c of t.candidates)
        if (c.rule !== rule && c.rule !== 7) assert.equal(c.outcome, 'not_applicable', JSON.stringify(c));
      if (rule !== 7) assertOutranked(t, 7, rule);
    });
  }

  for (const [hi, lo] of [
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
    [5, 6],
    [6, 7],
    [1, 6],
    [2, 5],
    [1, 4],
    [3, 6],
  ] as const) {
    test(`rule ${hi} beats rule ${lo}`, () => {
      const t = run(...(lo === 7 ? [hi] : [hi, lo]));
      assert.equal(t.matchedBy, EXPECTED[hi]!.name);
      assert.equal(t.campaignId, EXPECTED[hi]!.campaignId);
      assertOutranked(t, lo, hi);
    });
  }

  test('all rules at once: lifetime wins and every other matching rule is outranked', () => {
    const t = run(1, 2, 3, 4, 5, 6);
    assert.equal(t.matchedBy, 'lifetime');
    for (let r = 2; r <= 7; r++) assertOutranked(t, r, 1);
    assert.equal(t.affiliate?.affiliateId, 11);
    assert.equal(t.affiliate?.source, 'lifetime');
  });

  test('a lifetime binding whose campaign is not recognised attributes the affiliate only', () => {
    const t = matchSale(saleFacts({ lifetime: lifetime(11, null), campaignId: 5 }), w, GLOBAL, never);
    assert.equal(t.matchedBy, 'campaign');
    assert.equal(cand(t, 1).outcome, 'not_applicable');
    assert.equal(t.affiliate?.affiliateId, 11);
    assert.equal(t.affiliate?.source, 'lifetime');
  });

  test('a coupon without a campaign attributes only the affiliate', () => {
    const t = matchSale(
      saleFacts({
        couponCode: 'ANN',
        coupon: coupon('ANN', 12, null),
        productIds: ['sku-1'],
        productCampaigns: [campaign(6)],
      }),
      w,
      GLOBAL,
      () => 0,
    );
    assert.equal(cand(t, 2).outcome, 'not_applicable');
    assert.match(cand(t, 2).detail, /attributes affiliate 12 only/);
    assert.equal(t.matchedBy, 'product');
    assert.equal(t.campaignId, 6);
    assert.equal(t.affiliate?.affiliateId, 12);
    assert.equal(t.affiliate?.source, 'coupon');
  });

  test('an unknown coupon is invalid and falls through', () => {
    const t = matchSale(saleFacts({ couponCode: 'NOPE', coupon: undefined }), w, GLOBAL, never);
    assert.equal(cand(t, 2).outcome, 'invalid');
    assert.equal(t.matchedBy, 'default');
    assert.equal(t.declineReason, null);
  });

  test('an unknown bannerId or campaignId → declineReason', () => {
    const b = matchSale(saleFacts({ bannerId: 404, banner: undefined }), w, GLOBAL, never);
    assert.equal(cand(b, 3).outcome, 'invalid');
    assert.match(b.declineReason ?? '', /unknown banner/);
    const c = matchSale(saleFacts({ campaignId: 404 }), w, GLOBAL, never);
    assert.equal(cand(c, 4).outcome, 'invalid');
    assert.match(c.declineReason ?? '', /unknown campaign/);
  });

  test('a product no campaign lists is not applicable', () => {
    const t = matchSale(saleFacts({ productIds: ['ghost'], productCampaigns: [] }), w, GLOBAL, never);
    assert.equal(cand(t, 5).outcome, 'not_applicable');
    assert.equal(t.matchedBy, 'default');
  });

  describe('affiliate resolution: lifetime > coupon > signed affiliateId > cookie', () => {
    const explicit = { explicitAffiliateId: '14', explicitAffiliate: w.affiliates.get(14), signed: true };
    const cookie = { referrals: [ref(1, [15, recent])] };
    const affOf = (facts: Partial<SaleFacts>) => matchSale(saleFacts(facts), w, GLOBAL, () => 0);

    test('lifetime beats coupon, explicit and cookie', () => {
      const t = affOf({ ...R[1], ...R[2], ...explicit, ...cookie });
      assert.equal(t.affiliate?.affiliateId, 11);
      assert.equal(t.affiliate?.source, 'lifetime');
      for (const name of ['coupon', 'explicit', 'cookie']) {
        const c = t.affiliateCandidates.find((x) => x.name === name);
        assert.equal(c?.outcome, 'outranked', name);
      }
    });
    test('coupon beats explicit and cookie', () => {
      const t = affOf({ ...R[2], ...explicit, ...cookie });
      assert.equal(t.affiliate?.affiliateId, 12);
      assert.equal(t.affiliate?.source, 'coupon');
    });
    test('a signed explicit affiliateId beats the cookie', () => {
      const t = affOf({ ...explicit, ...cookie });
      assert.equal(t.affiliate?.affiliateId, 14);
      assert.equal(t.affiliate?.source, 'explicit');
      assert.equal(t.affiliateCandidates.find((x) => x.name === 'cookie')?.outcome, 'outranked');
    });
    test('the cookie alone', () => {
      const t = affOf(cookie);
      assert.equal(t.affiliate?.affiliateId, 15);
      assert.equal(t.affiliate?.source, 'cookie');
    });
    test('an explicit affiliateId is ignored when not signed', () => {
      const t = affOf({ ...explicit, signed: false, ...cookie });
      assert.equal(t.affiliate?.affiliateId, 15);
      const c = t.affiliateCandidates.find((x) => x.name === 'explicit');
      assert.equal(c?.outcome, 'invalid');
      assert.match(c?.detail ?? '', /signed/);
      const alone = affOf({ ...explicit, signed: false });
      assert.equal(alone.affiliate, null);
      assert.equal(alone.declineReason, null);
    });
    test('an unknown explicit affiliate on a signed request → declineReason', () => {
      const t = affOf({ explicitAffiliateId: 'ghost', explicitAffiliate: undefined, signed: true });
      assert.equal(t.affiliate, null);
      assert.match(t.declineReason ?? '', /unknown affiliate "ghost"/);
    });
    test('a sale with no affiliate → affiliate null with a note', () => {
      const t = affOf({ campaignId: 5 });
      assert.equal(t.affiliate, null);
      assert.ok(
        t.notes.some((n) => /no affiliate/.test(n) && /no commission/.test(n)),
        JSON.stringify(t.notes),
      );
      assert.equal(t.declineReason, null, 'a sale without affiliate is stored, not declined');
    });
    test('a non-approved affiliate gets a note (no commission)', () => {
      const t = affOf({ referrals: [ref(1, [20, recent])] });
      assert.equal(t.affiliate?.affiliateId, 20);
      assert.ok(
        t.notes.some((n) => /affiliate 20 is pending/.test(n)),
        JSON.stringify(t.notes),
      );
    });
  });

  test("the matched campaign's own referral is preferred for the affiliate", () => {
    // The visitor clicked affiliate 13 in campaign 9 (earlier) and affiliate 16 in campaign 5 (later).
    const referrals = [ref(9, [13, NOW - 10 * DAY_MS]), ref(5, [16, NOW - 2 * DAY_MS])];
    const byCookie = matchSale(saleFacts({ referrals }), w, GLOBAL, never);
    assert.equal(byCookie.matchedBy, 'cookie');
    assert.equal(byCookie.campaignId, 9, 'first click wins globally: the earliest referral');
    assert.equal(byCookie.affiliate?.affiliateId, 13);
    const byCampaign = matchSale(saleFacts({ referrals, campaignId: 5 }), w, GLOBAL, never);
    assert.equal(byCampaign.campaignId, 5);
    assert.equal(byCampaign.affiliate?.affiliateId, 16, "campaign 5's own referral, not the earlier one in campaign 9");
    const other = matchSale(saleFacts({ referrals, campaignId: 4 }), w, GLOBAL, never);
    assert.equal(other.affiliate?.affiliateId, 13, 'without one of its own, the visitor referral that counts');
  });
});

// ---- product tie-break (SPEC §5.2 rule 5) ------------------------------------------------------

describe('pickProductCampaign', () => {
  test('private beats manual beats public', () => {
    const pub = campaign(2, { type: 'public' });
    const man = campaign(3, { type: 'manual' });
    const priv = campaign(4, { type: 'private' });
    assert.equal(pickProductCampaign([pub, man, priv], () => 0.99)?.chosen.id, 4);
    assert.equal(pickProductCampaign([priv, pub], () => 0.99)?.chosen.id, 4);
    assert.equal(pickProductCampaign([pub, man], () => 0.99)?.chosen.id, 3);
    assert.equal(pickProductCampaign([man, priv], () => 0.99)?.chosen.id, 4);
    assert.match(pickProductCampaign([pub, man], () => 0.99)?.detail ?? '', /manual approval/);
    assert.equal(
      pickProductCampaign([], () => 0.99),
      null,
    );
  });

  test('random among equals: random()=0 picks the lowest id, 0.99 the highest', () => {
    const tied = [
      campaign(9, { type: 'manual' }),
      campaign(3, { type: 'manual' }),
      campaign(6, { type: 'manual' }),
      campaign(2, { type: 'public' }),
    ];
    assert.equal(pickProductCampaign(tied, () => 0)?.chosen.id, 3);
    assert.equal(pickProductCampaign(tied, () => 0.99)?.chosen.id, 9);
    assert.equal(pickProductCampaign(tied, () => 0.5)?.chosen.id, 6);
    assert.match(pickProductCampaign(tied, () => 0)?.detail ?? '', /chosen at random/);
    // The input order does not matter.
    assert.equal(pickProductCampaign([...tied].reverse(), () => 0)?.chosen.id, 3);
  });

  test('each of 3 tied campaigns is chosen with a seeded source', () => {
    let seed = 42;
    const random = () => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
    const tied = [campaign(2, { type: 'private' }), campaign(5, { type: 'private' }), campaign(8, { type: 'private' })];
    const counts = new Map<number, number>();
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const id = pickProductCampaign(tied, random)?.chosen.id as number;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), [2, 5, 8]);
    for (const [id, n] of counts)
      assert.ok(n > N / 3 - 200 && n < N / 3 + 200, `campaign ${id} chosen ${n} of ${N} times`);
  });

  test('matchSale uses the injected random source for product ties', () => {
    const w = world();
    const tied = [campaign(4), campaign(6), campaign(2)];
    const lo = matchSale(saleFacts({ productIds: ['sku'], productCampaigns: tied }), w, GLOBAL, () => 0);
    const hi = matchSale(saleFacts({ productIds: ['sku'], productCampaigns: tied }), w, GLOBAL, () => 0.99);
    assert.equal(lo.campaignId, 2);
    assert.equal(hi.campaignId, 6);
  });
});

// ---- the visitor's referral (SPEC §4.3, rule 6) ------------------------------------------------

describe('referrals: first vs last click, attribution window', () => {
  const t0 = NOW - 10 * DAY_MS;
  const t1 = NOW - 2 * DAY_MS;
  const r = ref(2, [10, t0], [11, t1]);

  test('first click wins by default (global overwriteCookie false)', () => {
    const got = referralInWindow(r, world(), GLOBAL, NOW);
    assert.equal(got?.affiliateId, 10);
    assert.equal(got?.clickAt, t0);
    assert.equal(got?.lastClickWins, false);
  });

  test('global overwriteCookie true → last click', () => {
    const got = referralInWindow(r, world(), { ...GLOBAL, overwriteCookie: true }, NOW);
    assert.equal(got?.affiliateId, 11);
    assert.equal(got?.lastClickWins, true);
  });

  test('the campaign setting beats the global one', () => {
    const last = world({ campaigns: [campaign(2, { overwriteCookie: true })] });
    assert.equal(referralInWindow(r, last, GLOBAL, NOW)?.affiliateId, 11);
    const first = world({ campaigns: [campaign(2, { overwriteCookie: false })] });
    assert.equal(referralInWindow(r, first, { ...GLOBAL, overwriteCookie: true }, NOW)?.affiliateId, 10);
  });

  test('the affiliate setting beats the campaign and the global one', () => {
    const last = world({
      campaigns: [campaign(2, { overwriteCookie: false })],
      affiliates: [affiliate(11, { overwriteCookie: true })],
    });
    assert.equal(referralInWindow(r, last, GLOBAL, NOW)?.affiliateId, 11);
    const first = world({
      campaigns: [campaign(2, { overwriteCookie: true })],
      affiliates: [affiliate(11, { overwriteCookie: false })],
    });
    assert.equal(referralInWindow(r, first, { ...GLOBAL, overwriteCookie: true }, NOW)?.affiliateId, 10);
  });

  test('window: global cookieDays, just inside and just outside', () => {
    const w = world();
    const g = { cookieDays: 30, overwriteCookie: false };
    assert.ok(referralInWindow(ref(2, [10, NOW - 30 * DAY_MS]), w, g, NOW), 'exactly 30 days is inside');
    assert.ok(referralInWindow(ref(2, [10, NOW - 30 * DAY_MS + 1000]), w, g, NOW));
    assert.equal(referralInWindow(ref(2, [10, NOW - 30 * DAY_MS - 1000]), w, g, NOW), null);
  });

  test("window: the campaign's cookieDays beats the global one", () => {
    const w = world({ campaigns: [campaign(2, { cookieDays: 7 }), campaign(3, { cookieDays: 90 })] });
    const g = { cookieDays: 30, overwriteCookie: false };
    assert.ok(referralInWindow(ref(2, [10, NOW - 7 * DAY_MS + 1000]), w, g, NOW));
    assert.equal(referralInWindow(ref(2, [10, NOW - 7 * DAY_MS - 1000]), w, g, NOW), null);
    assert.ok(referralInWindow(ref(3, [10, NOW - 89 * DAY_MS]), w, g, NOW));
    assert.equal(referralInWindow(ref(3, [10, NOW - 91 * DAY_MS]), w, g, NOW), null);
  });

  test('a sale outside the window is not matched by cookie', () => {
    const w = world({ campaigns: [campaign(2, { cookieDays: 7 })] });
    const t = matchSale(saleFacts({ referrals: [ref(2, [10, NOW - 8 * DAY_MS])] }), w, GLOBAL, never);
    assert.equal(t.matchedBy, 'default');
    assert.equal(cand(t, 6).outcome, 'not_applicable');
    assert.match(cand(t, 6).detail, /outside the attribution window/);
    assert.equal(t.affiliate, null);
    const inside = matchSale(saleFacts({ referrals: [ref(2, [10, NOW - 6 * DAY_MS])] }), w, GLOBAL, never);
    assert.equal(inside.matchedBy, 'cookie');
    assert.equal(inside.campaignId, 2);
    assert.equal(inside.affiliate?.affiliateId, 10);
  });

  test('chooseReferral across campaigns: earliest for first click, latest for last click, expired ones skipped', () => {
    const w = world({ campaigns: [campaign(4, { cookieDays: 1 })] });
    const refs = [ref(2, [10, NOW - 5 * DAY_MS]), ref(3, [11, NOW - 3 * DAY_MS]), ref(4, [12, NOW - 4 * DAY_MS])];
    assert.equal(chooseReferral(refs, w, GLOBAL, NOW)?.affiliateId, 10);
    assert.equal(chooseReferral(refs, w, { ...GLOBAL, overwriteCookie: true }, NOW)?.affiliateId, 11);
    assert.equal(chooseReferral(refs, w, GLOBAL, NOW, 3)?.affiliateId, 11, 'the preferred campaign');
    assert.equal(
      chooseReferral(refs, w, GLOBAL, NOW, 4)?.affiliateId,
      10,
      'campaign 4 has expired, so the general choice',
    );
    assert.equal(chooseReferral([], w, GLOBAL, NOW), null);
  });
});

// ---- explainTrace ------------------------------------------------------------------------------

describe('explainTrace', () => {
  test('merchant-readable lines', () => {
    const w = world();
    const t = matchSale(
      saleFacts({
        couponCode: 'SPRING',
        coupon: { code: 'SPRING', affiliateId: 12, campaignId: 3, payoutId: null },
        campaignId: 5,
        explicitAffiliateId: '14',
        explicitAffiliate: w.affiliates.get(14),
        signed: false,
      }),
      w,
      GLOBAL,
      never,
    );
    const lines = explainTrace(t);
    assert.ok(lines.length >= 3);
    assert.match(lines[0] ?? '', /^Matched by coupon \(rule 2\): coupon SPRING → campaign 3 "C3"/);
    assert.ok(
      lines.some((l) => /Rule 4 \(campaign\).*ranks higher/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /Affiliate: coupon SPRING belongs to affiliate 12/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /honoured only on signed/.test(l)),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => /not_applicable|undefined|\[object/.test(l)), lines.join('\n'));
  });

  test('declined and affiliate-less traces say so', () => {
    const w = world();
    const lines = explainTrace(matchSale(saleFacts({ bannerId: 'x', banner: undefined }), w, GLOBAL, never));
    assert.ok(lines.includes('No affiliate'), lines.join('\n'));
    assert.ok(
      lines.some((l) => /^Declined: unknown banner/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /earns no commission/.test(l)),
      lines.join('\n'),
    );
    const click = explainTrace(
      matchClick(clickFacts({ affiliateParam: 'ref10', affiliate: w.affiliates.get(10), campaignParam: '3' }), w),
    );
    assert.match(click[0] ?? '', /^Matched by campaign \(rule 2\)/);
    // The default campaign is mentioned only when it decided: it always exists, so it is noise otherwise.
    assert.ok(!click.some((l) => /\(default\)/.test(l)), click.join('\n'));
  });
});

describe('paused and private campaigns (issues 9.5, 8.13)', () => {
  const paused = (id: number) => campaign(id, { status: 'paused', name: `P${id}` });

  test('every sale rule skips a paused campaign; the next rule decides and the affiliate still counts', () => {
    const w = world({ campaigns: [paused(5)] });
    const t = matchSale(
      saleFacts({
        lifetime: { affiliateId: 11, campaignId: 5, detail: 'lifetime customer of affiliate 11' },
        couponCode: 'SUN',
        coupon: { code: 'SUN', affiliateId: 12, campaignId: 5, payoutId: null },
        bannerId: 7,
        banner: banner(7, 5),
        campaignId: 5,
        productIds: ['sku'],
        productCampaigns: [w.campaigns.get(5)!, w.campaigns.get(3)!],
        referrals: [ref(5, [13, NOW - 1000])],
      }),
      w,
      GLOBAL,
      () => 0,
    );
    for (const rule of [1, 2, 3, 4]) {
      assert.equal(cand(t, rule).outcome, 'not_applicable', JSON.stringify(cand(t, rule)));
      assert.match(cand(t, rule).detail, /campaign 5 "P5" is paused/);
    }
    assert.deepEqual([t.matchedBy, t.campaignId], ['product', 3]);
    assert.equal(t.affiliate?.affiliateId, 11, 'the lifetime binding still names the affiliate');
    assert.ok(t.notes.includes('campaign 5 "P5" is paused: it takes no part in matching'));
  });

  test('a referral in a paused campaign does not pick it; only live referrals do', () => {
    const w = world({ campaigns: [paused(5)] });
    const only = matchSale(saleFacts({ referrals: [ref(5, [13, NOW - 1000])] }), w, GLOBAL, never);
    assert.deepEqual([only.matchedBy, only.campaignId, only.affiliate?.affiliateId], ['default', 1, 13]);
    const live = matchSale(
      saleFacts({ referrals: [ref(5, [13, NOW - 5000]), ref(4, [14, NOW - 1000])] }),
      w,
      GLOBAL,
      never,
    );
    assert.deepEqual([live.matchedBy, live.campaignId, live.affiliate?.affiliateId], ['cookie', 4, 14]);
  });

  test('a private campaign declines the clicks of uninvited affiliates and pays none of their sales', () => {
    const w = world({
      campaigns: [campaign(6, { type: 'private', name: 'VIP' })],
      invitations: new Map([[6, new Set([10])]]),
    });
    const uninvited = matchClick(
      clickFacts({ campaignParam: '6', affiliateParam: 'ref11', affiliate: w.affiliates.get(11) }),
      w,
    );
    assert.equal(uninvited.declineReason, 'affiliate 11 is not invited to the private campaign 6 "VIP"');
    const invited = matchClick(
      clickFacts({ campaignParam: '6', affiliateParam: 'ref10', affiliate: w.affiliates.get(10) }),
      w,
    );
    assert.equal(invited.declineReason, null);
    const sale = matchSale(
      saleFacts({ campaignId: 6, explicitAffiliateId: 11, explicitAffiliate: w.affiliates.get(11), signed: true }),
      w,
      GLOBAL,
      never,
    );
    assert.equal(sale.campaignId, 6);
    assert.ok(sale.notes.includes('affiliate 11 is not invited to the private campaign 6 "VIP": no commission'));
  });

  test('a campaign-URL click: the URL names the campaign, the affiliate rules are the same', () => {
    const w = world();
    const t = matchCampaignUrlClick(w.campaigns.get(3)!, 'ref20', w.affiliates.get(20), w);
    assert.deepEqual([t.matchedBy, t.campaignId, t.affiliate?.affiliateId], ['campaign_url', 3, 20]);
    assert.equal(t.declineReason, 'affiliate 20 is pending, not approved');
    assert.equal(
      matchCampaignUrlClick(w.campaigns.get(3)!, 'nobody', undefined, w).declineReason,
      'unknown affiliate "nobody"',
    );
    assert.equal(matchCampaignUrlClick(w.campaigns.get(3)!, undefined, undefined, w).declineReason, null);
  });
});
