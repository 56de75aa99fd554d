import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  FILTER_NAMES,
  filtersPass,
  inSchedule,
  pickLandingOffer,
  pickWeighted,
  selectFlow,
  type FilterDef,
  type FlowDef,
  type VisitorFacts,
} from '../../server/domain/flows.js';

/** A small, fixed-seed PRNG so the statistical tests are repeatable. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A random source that must not be consulted. */
const noRandom = () => {
  throw new Error('random() was called where the choice should be deterministic');
};

let nextId = 1;
function flow(over: Partial<FlowDef> = {}): FlowDef {
  const id = over.id ?? nextId++;
  return {
    id,
    campaignId: 1,
    name: `flow ${id}`,
    type: 'regular',
    position: id,
    weight: 100,
    status: 'active',
    collectClicks: true,
    filters: [],
    filtersMode: 'and',
    schema: 'landings_offers',
    landings: [],
    offers: [{ url: 'https://offer.example/', weight: 100 }],
    redirectUrl: null,
    action: null,
    actionText: null,
    ...over,
  };
}

// Wednesday 2025-01-15 10:00 in Berlin (UTC+1 in winter).
const WED_10_BERLIN = Date.parse('2025-01-15T09:00:00Z');

function facts(over: Partial<VisitorFacts> = {}): VisitorFacts {
  return {
    ip: '203.0.113.7',
    country: 'DE',
    device: 'mobile',
    os: 'Android',
    browser: 'Chrome',
    languages: ['de', 'en'],
    isBot: false,
    unique: { campaign: true, global: true, flow: () => true },
    params: {},
    now: WED_10_BERLIN,
    timeZone: 'Europe/Berlin',
    flowClicksToday: () => 0,
    ...over,
  };
}

const f = (name: FilterDef['name'], mode: FilterDef['mode'], values: string[], param?: string): FilterDef =>
  param === undefined ? { name, mode, values } : { name, mode, values, param };

/** Does a flow with just this filter pass for these facts? */
function passes(filter: FilterDef, v: VisitorFacts = facts(), flowId = 7): boolean {
  return filtersPass(flow({ id: flowId, filters: [filter] }), v).pass;
}

/** Checks `is` gives `expected` and `is_not` gives the opposite. */
function both(name: FilterDef['name'], values: string[], v: VisitorFacts, expected: boolean, param?: string) {
  assert.equal(passes(f(name, 'is', values, param), v), expected, `${name} is [${values.join(',')}]`);
  assert.equal(passes(f(name, 'is_not', values, param), v), !expected, `${name} is_not [${values.join(',')}]`);
}

describe('position rotation', () => {
  test('forced flows top to bottom by position: the first whose filters pass wins', () => {
    const lowFirstInArray = flow({ type: 'forced', position: 5, name: 'later' });
    const failing = flow({ type: 'forced', position: 1, filters: [f('country', 'is', ['US'])] });
    const winner = flow({ type: 'forced', position: 2, name: 'winner' });
    const regular = flow({ type: 'regular', position: 0 });
    const def = flow({ type: 'default', position: 0 });
    const r = selectFlow([lowFirstInArray, regular, def, winner, failing], 'position', facts(), noRandom);
    assert.equal(r.flow, winner);
    assert.equal(r.bound, false);
    assert.ok(r.log.some((l) => l.includes(`flow ${failing.id}`) && l.includes('filters fail')));
    assert.ok(r.log.some((l) => l.startsWith('chosen') && l.includes(`flow ${winner.id}`)));
  });

  test('no forced flow passes → the first passing regular flow by position, not the default', () => {
    const forced = flow({ type: 'forced', position: 1, filters: [f('bot', 'is', [])] });
    const r3 = flow({ type: 'regular', position: 3 });
    const r2 = flow({ type: 'regular', position: 2 });
    const r1Failing = flow({ type: 'regular', position: 1, filters: [f('device', 'is', ['desktop'])] });
    const def = flow({ type: 'default', position: 0 });
    const r = selectFlow([def, r3, forced, r1Failing, r2], 'position', facts(), noRandom);
    assert.equal(r.flow, r2);
  });

  test('nothing passes → the default flow', () => {
    const forced = flow({ type: 'forced', filters: [f('country', 'is', ['FR'])] });
    const regular = flow({ type: 'regular', filters: [f('country', 'is', ['FR'])] });
    const def = flow({ type: 'default' });
    const r = selectFlow([forced, regular, def], 'position', facts(), noRandom);
    assert.equal(r.flow, def);
    assert.ok(r.log.some((l) => l.includes('default flow')));
  });

  test('paused flows are ignored, even when their filters pass', () => {
    const pausedForced = flow({ type: 'forced', position: 1, status: 'paused' });
    const pausedRegular = flow({ type: 'regular', position: 1, status: 'paused' });
    const regular = flow({ type: 'regular', position: 2 });
    assert.equal(selectFlow([pausedForced, pausedRegular, regular], 'position', facts(), noRandom).flow, regular);
    const pausedDefault = flow({ type: 'default', status: 'paused' });
    const r = selectFlow([pausedForced, pausedDefault], 'position', facts(), noRandom);
    assert.equal(r.flow, null);
  });

  test('no flow applies and no default → null with a 404 log line', () => {
    const regular = flow({ type: 'regular', filters: [f('country', 'is', ['FR'])] });
    const r = selectFlow([regular], 'position', facts(), noRandom);
    assert.equal(r.flow, null);
    assert.equal(r.bound, false);
    assert.ok(
      r.log.some((l) => l.includes('404')),
      r.log.join('\n'),
    );
    const empty = selectFlow([], 'position', facts(), noRandom);
    assert.equal(empty.flow, null);
    assert.ok(empty.log.some((l) => l.includes('404')));
  });
});

describe('weight rotation', () => {
  test('chooses among the forced flows whose filters pass, by weight', () => {
    const a = flow({ type: 'forced', weight: 50 });
    const b = flow({ type: 'forced', weight: 50 });
    const failing = flow({ type: 'forced', weight: 1000, filters: [f('country', 'is', ['US'])] });
    const regular = flow({ type: 'regular', weight: 1000 });
    const def = flow({ type: 'default' });
    const seen = new Set<number>();
    const rnd = mulberry32(1);
    for (let i = 0; i < 200; i++) {
      const r = selectFlow([a, b, failing, regular, def], 'weight', facts(), rnd);
      assert.ok(r.flow);
      seen.add(r.flow.id);
    }
    assert.deepEqual(
      [...seen].sort((x, y) => x - y),
      [a.id, b.id].sort((x, y) => x - y),
    );
    // random() at the low and high end picks the first and the last.
    assert.equal(selectFlow([a, b, regular], 'weight', facts(), () => 0).flow, a);
    assert.equal(selectFlow([a, b, regular], 'weight', facts(), () => 0.999999).flow, b);
  });

  test('no forced flow passes → by weight among regular flows; none → default', () => {
    const forced = flow({ type: 'forced', filters: [f('country', 'is', ['US'])] });
    const r1 = flow({ type: 'regular', weight: 10 });
    const r2Failing = flow({ type: 'regular', weight: 10, filters: [f('bot', 'is', [])] });
    const def = flow({ type: 'default' });
    const rnd = mulberry32(2);
    for (let i = 0; i < 50; i++)
      assert.equal(selectFlow([forced, r1, r2Failing, def], 'weight', facts(), rnd).flow, r1);
    assert.equal(selectFlow([forced, r2Failing, def], 'weight', facts(), rnd).flow, def);
    const none = selectFlow([forced, r2Failing], 'weight', facts(), rnd);
    assert.equal(none.flow, null);
    assert.ok(none.log.some((l) => l.includes('404')));
  });

  test('a flow with weight 0 is never chosen (unless the visitor is bound to it)', () => {
    const zeroForced = flow({ type: 'forced', weight: 0 });
    const zero = flow({ type: 'regular', weight: 0 });
    const some = flow({ type: 'regular', weight: 1 });
    const def = flow({ type: 'default' });
    const rnd = mulberry32(3);
    for (let i = 0; i < 2000; i++) {
      assert.equal(selectFlow([zeroForced, zero, some, def], 'weight', facts(), rnd).flow, some);
    }
    // Every passing flow at weight 0 → the default flow.
    const r = selectFlow([zeroForced, zero, def], 'weight', facts(), rnd);
    assert.equal(r.flow, def);
    assert.ok(r.log.some((l) => l.includes('weight 0')));
    // …but a bound visitor keeps it.
    const bound = selectFlow([zeroForced, zero, some, def], 'weight', facts(), rnd, zero.id);
    assert.equal(bound.flow, zero);
    assert.equal(bound.bound, true);
  });

  test('70/30 flows over 20,000 draws land within ±2% of 70%', () => {
    const seventy = flow({ type: 'regular', weight: 70 });
    const thirty = flow({ type: 'regular', weight: 30 });
    const def = flow({ type: 'default' });
    for (const seed of [42, 1234, 987654321]) {
      const rnd = mulberry32(seed);
      let hits = 0;
      const N = 20_000;
      for (let i = 0; i < N; i++) {
        const chosen = selectFlow([seventy, thirty, def], 'weight', facts(), rnd).flow;
        assert.ok(chosen === seventy || chosen === thirty);
        if (chosen === seventy) hits++;
      }
      const share = hits / N;
      assert.ok(Math.abs(share - 0.7) <= 0.02, `seed ${seed}: 70% flow got ${(share * 100).toFixed(2)}%`);
    }
  });

  test('pickWeighted: null when nothing has weight; negative weights count as 0', () => {
    assert.equal(pickWeighted([], mulberry32(1)), null);
    assert.equal(pickWeighted([{ weight: 0 }, { weight: 0 }], mulberry32(1)), null);
    const only = { weight: 5 };
    const rnd = mulberry32(9);
    for (let i = 0; i < 500; i++) assert.equal(pickWeighted([{ weight: -10 }, only, { weight: 0 }], rnd), only);
  });
});

describe('pickLandingOffer', () => {
  const lo = flow({
    landings: [
      { url: 'https://lp.example/a', weight: 70 },
      { url: 'https://lp.example/b', weight: 30 },
    ],
    offers: [
      { url: 'https://offer.example/x', weight: 25 },
      { url: 'https://offer.example/y', weight: 75 },
    ],
  });

  test('landings 70/30 and offers 25/75 over 20,000 draws land within ±2%', () => {
    const rnd = mulberry32(2024);
    const N = 20_000;
    let landingA = 0;
    let offerY = 0;
    for (let i = 0; i < N; i++) {
      const r = pickLandingOffer(lo, rnd);
      assert.ok(r.landingIndex === 0 || r.landingIndex === 1);
      assert.ok(r.offerIndex === 0 || r.offerIndex === 1);
      if (r.landingIndex === 0) landingA++;
      if (r.offerIndex === 1) offerY++;
    }
    assert.ok(Math.abs(landingA / N - 0.7) <= 0.02, `landing A got ${landingA / N}`);
    assert.ok(Math.abs(offerY / N - 0.75) <= 0.02, `offer Y got ${offerY / N}`);
  });

  test('weight-0 landings and offers are never picked', () => {
    const zeroFirst = flow({
      landings: [
        { url: 'https://lp.example/off', weight: 0 },
        { url: 'https://lp.example/on', weight: 1 },
      ],
      offers: [
        { url: 'https://offer.example/on', weight: 3 },
        { url: 'https://offer.example/off', weight: 0 },
      ],
    });
    const rnd = mulberry32(5);
    for (let i = 0; i < 1000; i++)
      assert.deepEqual(pickLandingOffer(zeroFirst, rnd), { landingIndex: 1, offerIndex: 0 });
  });

  test('a bound visitor keeps its landing and offer when they still exist', () => {
    assert.deepEqual(pickLandingOffer(lo, noRandom, { landingIndex: 1, offerIndex: 0 }), {
      landingIndex: 1,
      offerIndex: 0,
    });
    // Only the landing is bound (bind "flows_landings"): the offer is picked by weight.
    assert.deepEqual(
      pickLandingOffer(lo, () => 0.9, { landingIndex: 1, offerIndex: null }),
      { landingIndex: 1, offerIndex: 1 },
    );
  });

  test('a bound index that is gone is re-picked by weight', () => {
    assert.deepEqual(
      pickLandingOffer(lo, () => 0, { landingIndex: 5, offerIndex: 2 }),
      { landingIndex: 0, offerIndex: 0 },
    );
    assert.deepEqual(
      pickLandingOffer(lo, () => 0.99, { landingIndex: -1, offerIndex: 9 }),
      { landingIndex: 1, offerIndex: 1 },
    );
  });

  test('no landings → straight to the offer; other schemas → no landing or offer', () => {
    const direct = flow({ landings: [], offers: [{ url: 'https://offer.example/', weight: 1 }] });
    assert.deepEqual(pickLandingOffer(direct, mulberry32(1)), { landingIndex: null, offerIndex: 0 });
    const redirect = flow({
      schema: 'redirect',
      redirectUrl: 'https://x.example/',
      landings: lo.landings,
      offers: lo.offers,
    });
    assert.deepEqual(pickLandingOffer(redirect, noRandom, { landingIndex: 0, offerIndex: 0 }), {
      landingIndex: null,
      offerIndex: null,
    });
  });
});

describe('bound visitors', () => {
  test('the bound flow is kept while active and its filters pass, even at weight 0 (log says kept)', () => {
    const other = flow({ type: 'regular', position: 1, weight: 100 });
    const boundFlow = flow({ type: 'regular', position: 2, weight: 0, filters: [f('country', 'is', ['DE'])] });
    for (const rotation of ['position', 'weight'] as const) {
      const r = selectFlow([other, boundFlow], rotation, facts(), noRandom, boundFlow.id);
      assert.equal(r.flow, boundFlow, rotation);
      assert.equal(r.bound, true);
      assert.ok(
        r.log.some((l) => l.includes(`flow ${boundFlow.id}`) && l.includes('kept')),
        r.log.join('\n'),
      );
    }
  });

  test('a paused bound flow is dropped and selection runs as usual', () => {
    const other = flow({ type: 'regular', position: 1 });
    const boundFlow = flow({ type: 'regular', position: 0, status: 'paused' });
    const r = selectFlow([other, boundFlow], 'position', facts(), noRandom, boundFlow.id);
    assert.equal(r.flow, other);
    assert.equal(r.bound, false);
    assert.ok(
      r.log.some((l) => l.includes(`flow ${boundFlow.id}`) && l.includes('no longer active')),
      r.log.join('\n'),
    );
    assert.ok(!r.log.some((l) => l.includes('kept')));
  });

  test('a deleted bound flow is dropped', () => {
    const other = flow({ type: 'regular' });
    const r = selectFlow([other], 'position', facts(), noRandom, 99_999);
    assert.equal(r.flow, other);
    assert.equal(r.bound, false);
  });

  test('a bound flow whose filters now fail is dropped (log says why)', () => {
    const other = flow({ type: 'regular', position: 2 });
    const boundFlow = flow({ type: 'regular', position: 1, filters: [f('country', 'is', ['DE'])] });
    const r = selectFlow([other, boundFlow], 'position', facts({ country: 'FR' }), noRandom, boundFlow.id);
    assert.equal(r.flow, other);
    assert.equal(r.bound, false);
    assert.ok(
      r.log.some((l) => l.includes(`flow ${boundFlow.id}`) && l.includes('no longer pass') && l.includes('(FR)')),
      r.log.join('\n'),
    );
  });
});

describe('filters: every name with is and is_not', () => {
  test('FILTER_NAMES lists every filter of SPEC §7.2', () => {
    assert.deepEqual([...FILTER_NAMES].sort(), [
      'bot',
      'browser',
      'clickLimit',
      'country',
      'device',
      'ip',
      'language',
      'os',
      'param',
      'schedule',
      'uniqueness',
    ]);
  });

  test('country (case-insensitive; unknown country never matches `is`)', () => {
    both('country', ['DE', 'AT'], facts(), true);
    both('country', ['de'], facts(), true);
    both('country', ['US', 'GB'], facts(), false);
    both('country', ['DE'], facts({ country: null }), false);
  });

  test('ip: single address, IPv4 CIDR, IPv6 CIDR, IPv4-mapped IPv6 client', () => {
    both('ip', ['203.0.113.7'], facts(), true);
    both('ip', ['203.0.113.8'], facts(), false);
    both('ip', ['203.0.113.0/24'], facts(), true);
    both('ip', ['203.0.112.0/24'], facts(), false);
    both('ip', ['10.0.0.0/8', '203.0.0.0/16'], facts(), true);
    both('ip', ['203.0.113.0/24'], facts({ ip: '203.0.114.1' }), false);
    both('ip', ['2001:db8::/32'], facts({ ip: '2001:db8:abcd::1' }), true);
    both('ip', ['2001:db8::/32'], facts({ ip: '2001:db9::1' }), false);
    both('ip', ['2001:db8::1'], facts({ ip: '2001:DB8:0:0::1' }), true);
    both('ip', ['2001:db8::/32'], facts(), false);
    // Dual-stack servers see IPv4 clients as ::ffff:a.b.c.d.
    both('ip', ['203.0.113.0/24'], facts({ ip: '::ffff:203.0.113.7' }), true);
    both('ip', ['203.0.113.7'], facts({ ip: '::ffff:203.0.113.7' }), true);
    both('ip', ['198.51.100.0/24'], facts({ ip: '::ffff:203.0.113.7' }), false);
    // A client address that is not an IP never matches.
    both('ip', ['203.0.113.0/24'], facts({ ip: 'unknown' }), false);
  });

  test('device, os and browser (case-insensitive)', () => {
    both('device', ['mobile', 'tablet'], facts(), true);
    both('device', ['Desktop'], facts(), false);
    both('device', ['MOBILE'], facts(), true);
    both('os', ['android'], facts(), true);
    both('os', ['iOS', 'Windows'], facts(), false);
    both('browser', ['chrome'], facts(), true);
    both('browser', ['CHROME'], facts(), true);
    both('browser', ['Firefox', 'Safari'], facts(), false);
    both('browser', ['Chrome'], facts({ browser: null }), false);
  });

  test("language: any of the visitor's languages", () => {
    both('language', ['en'], facts({ languages: ['de', 'en'] }), true);
    both('language', ['EN'], facts({ languages: ['de', 'en'] }), true);
    // A tag counts by its primary language.
    both('language', ['en-US'], facts({ languages: ['de', 'en'] }), true);
    both('language', ['fr-CA'], facts({ languages: ['de', 'en'] }), false);
    both('language', ['fr', 'es'], facts({ languages: ['de', 'en'] }), false);
    both('language', ['de'], facts({ languages: [] }), false);
  });

  test('bot', () => {
    both('bot', [], facts({ isBot: true }), true);
    both('bot', [], facts({ isBot: false }), false);
  });

  test('uniqueness: campaign (the default), flow and global scopes', () => {
    const v = facts({ unique: { campaign: true, global: false, flow: (id) => id === 7 } });
    both('uniqueness', ['campaign'], v, true);
    both('uniqueness', [], v, true);
    both('uniqueness', ['global'], v, false);
    both('uniqueness', ['flow'], v, true); // the filter's own flow (id 7) is asked
    assert.equal(passes(f('uniqueness', 'is', ['flow']), v, 8), false);
    const notUnique = facts({ unique: { campaign: false, global: true, flow: () => false } });
    both('uniqueness', ['campaign'], notUnique, false);
    both('uniqueness', ['global'], notUnique, true);
    both('uniqueness', ['flow'], notUnique, false);
  });

  test('param: value list, * = any non-empty value, absent param', () => {
    const v = facts({ params: { zone: '1234', empty: '' } });
    both('param', ['1234', '5678'], v, true, 'zone');
    both('param', ['999'], v, false, 'zone');
    both('param', ['*'], v, true, 'zone');
    both('param', ['*'], v, false, 'empty');
    both('param', ['*'], v, false, 'missing');
    both('param', ['1234'], v, false, 'missing');
  });

  test('schedule: mon-fri 09:00-18:00 in Europe/Berlin', () => {
    const at = (iso: string) => facts({ now: Date.parse(iso) });
    const workHours = ['mon-fri 09:00-18:00'];
    both('schedule', workHours, at('2025-01-15T09:00:00Z'), true); // Wed 10:00 Berlin
    both('schedule', workHours, at('2025-01-15T08:00:00Z'), true); // Wed 09:00 Berlin, start is inside
    both('schedule', workHours, at('2025-01-15T07:59:00Z'), false); // Wed 08:59 Berlin
    both('schedule', workHours, at('2025-01-15T17:00:00Z'), false); // Wed 18:00 Berlin, end is outside
    both('schedule', workHours, at('2025-01-15T16:59:00Z'), true); // Wed 17:59 Berlin
    both('schedule', workHours, at('2025-01-18T10:00:00Z'), false); // Saturday
    // 17:30 UTC is inside in UTC but 18:30 in Berlin: the zone decides.
    assert.equal(inSchedule('mon-fri 09:00-18:00', Date.parse('2025-01-15T17:30:00Z'), 'UTC'), true);
    assert.equal(inSchedule('mon-fri 09:00-18:00', Date.parse('2025-01-15T17:30:00Z'), 'Europe/Berlin'), false);
    // Summer time (UTC+2): 07:30 UTC is 09:30 in Berlin.
    assert.equal(inSchedule('mon-fri 09:00-18:00', Date.parse('2025-07-16T07:30:00Z'), 'Europe/Berlin'), true);
    assert.equal(inSchedule('mon-fri 09:00-18:00', Date.parse('2025-07-16T07:30:00Z'), 'UTC'), false);
    // Late Sunday UTC is already Monday in Tokyo.
    assert.equal(inSchedule('mon 00:00-12:00', Date.parse('2025-01-19T16:00:00Z'), 'Asia/Tokyo'), true);
  });

  test('schedule: * days, day lists and a window past midnight', () => {
    const berlin = (iso: string, spec: string) => inSchedule(spec, Date.parse(iso), 'Europe/Berlin');
    assert.equal(berlin('2025-01-18T12:00:00Z', '* 09:00-18:00'), true); // Sat 13:00
    assert.equal(berlin('2025-01-19T12:00:00Z', '* 09:00-18:00'), true); // Sun 13:00
    assert.equal(berlin('2025-01-19T20:00:00Z', '* 09:00-18:00'), false); // Sun 21:00
    assert.equal(berlin('2025-01-19T12:00:00Z', 'sat,sun 10:00-14:00'), true);
    assert.equal(berlin('2025-01-15T12:00:00Z', 'sat,sun 10:00-14:00'), false);
    assert.equal(berlin('2025-01-19T12:00:00Z', 'Fri-Mon 10:00-14:00'), true); // a range through the week end
    assert.equal(berlin('2025-01-15T12:00:00Z', 'fri-mon 10:00-14:00'), false);
    // fri 22:00-02:00: Friday night into Saturday morning.
    const night = 'fri 22:00-02:00';
    assert.equal(berlin('2025-01-17T21:30:00Z', night), true); // Fri 22:30
    assert.equal(berlin('2025-01-18T00:00:00Z', night), true); // Sat 01:00
    assert.equal(berlin('2025-01-18T01:00:00Z', night), false); // Sat 02:00
    assert.equal(berlin('2025-01-18T21:30:00Z', night), false); // Sat 22:30
    assert.equal(berlin('2025-01-17T00:00:00Z', night), false); // Fri 01:00 (Thursday's night is not listed)
    assert.equal(berlin('2025-01-17T20:59:00Z', night), false); // Fri 21:59
    both('schedule', [night], facts({ now: Date.parse('2025-01-18T00:00:00Z') }), true);
    // Several windows: any of them.
    both('schedule', ['sat 10:00-11:00', 'wed 09:30-10:30'], facts(), true);
    // Not a schedule → never inside.
    assert.equal(inSchedule('weekdays 9-5', WED_10_BERLIN, 'Europe/Berlin'), false);
  });

  test('clickLimit: under the limit passes, at the limit fails', () => {
    const asked: number[] = [];
    const clicks = (n: number) =>
      facts({
        flowClicksToday: (id) => {
          asked.push(id);
          return n;
        },
      });
    both('clickLimit', ['100'], clicks(0), true);
    both('clickLimit', ['100'], clicks(99), true);
    both('clickLimit', ['100'], clicks(100), false);
    both('clickLimit', ['100'], clicks(250), false);
    assert.ok(
      asked.every((id) => id === 7),
      'the count of the filter’s own flow is asked',
    );
  });

  test('and vs or filtersMode', () => {
    const filters = [f('country', 'is', ['DE']), f('device', 'is', ['desktop'])];
    assert.equal(filtersPass(flow({ filters, filtersMode: 'and' }), facts()).pass, false);
    assert.equal(filtersPass(flow({ filters, filtersMode: 'or' }), facts()).pass, true);
    const allFail = [f('country', 'is', ['US']), f('device', 'is', ['desktop'])];
    assert.equal(filtersPass(flow({ filters: allFail, filtersMode: 'or' }), facts()).pass, false);
    const allPass = [f('country', 'is', ['DE']), f('device', 'is_not', ['desktop'])];
    assert.equal(filtersPass(flow({ filters: allPass, filtersMode: 'and' }), facts()).pass, true);
    assert.deepEqual(filtersPass(flow({ filters: [] }), facts()), { pass: true, reasons: ['no filters'] });
  });

  test('the log explains every filter with what was seen', () => {
    const filters = [
      f('country', 'is', ['DE', 'AT']),
      f('device', 'is_not', ['mobile']),
      f('param', 'is', ['*'], 'zone'),
      f('clickLimit', 'is', ['10']),
      f('uniqueness', 'is', ['global']),
      f('ip', 'is', ['10.0.0.0/8']),
      f('language', 'is', ['fr']),
    ];
    const v = facts({ flowClicksToday: () => 3, unique: { campaign: true, global: false, flow: () => true } });
    const { pass, reasons } = filtersPass(flow({ filters }), v);
    assert.equal(pass, false);
    assert.equal(reasons.length, filters.length);
    assert.match(reasons[0] ?? '', /country is \[DE, AT\]: passed \(DE\)/);
    assert.match(reasons[1] ?? '', /device is not \[mobile\]: failed \(mobile\)/);
    assert.match(reasons[2] ?? '', /param zone is \[\*\]: failed \(zone=\(absent\)\)/);
    assert.match(reasons[3] ?? '', /clickLimit is \[10\]: passed \(3 clicks today\)/);
    assert.match(reasons[4] ?? '', /uniqueness is \[global\]: failed \(not unique \(global\)\)/);
    assert.match(reasons[5] ?? '', /ip is \[10\.0\.0\.0\/8\]: failed \(203\.0\.113\.7\)/);
    assert.match(reasons[6] ?? '', /language is \[fr\]: failed \(de,en\)/);
    // The selection log carries the reasons of each flow it looked at.
    const r = selectFlow([flow({ id: 500, filters })], 'position', v, noRandom);
    assert.ok(r.log.some((l) => l.includes('flow 500') && l.includes('filters fail') && l.includes('passed (DE)')));
  });
});
