import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { exactSum, exactSums } from '../../server/store/daily-stats.js';

/*
 * Issue 8, "Done when": a bounded, seeded fuzz of every public endpoint with malformed and hostile
 * input — wrong types, huge numbers, long and multibyte strings, objects where strings belong, bad
 * JSON, SQL-looking text, bad content types, oversized bodies, odd methods — answers no 5xx, and
 * the rollups still equal a recount of the stored rows afterwards.
 *
 * Reproducible: every request comes from one seeded generator, sent one at a time in order
 * (FUZZ_SEED=<n> tries another seed; FUZZ_SCALE=<x> sends x times as many). A failure lists the
 * exact requests that got a 5xx.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_125);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);

/** mulberry32: a small seeded generator, the same sequence on every machine. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Gen = ReturnType<typeof generator>;

const HOSTILE_TEXT = [
  '',
  ' ',
  "' OR '1'='1",
  "1'; DROP TABLE sales; --",
  '" UNION SELECT password_hash FROM users --',
  '`; SELECT SLEEP(5); --',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '../../../../etc/passwd',
  '%00',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '😀',
  '😀'.repeat(300),
  'é'.repeat(2100),
  '\u202egnp.exe',
  'İıß',
  'a'.repeat(70_000),
  'x'.repeat(5_000),
  '__proto__',
  'constructor',
  'prototype',
  '{"$gt":""}',
  '${7*7}',
  '{{7*7}}',
  '{subid}',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '-0',
  '0',
  '1e309',
  '1e-400',
  '9'.repeat(40),
  '900719925474.0991',
  '999999999999',
  '1000000000.0001',
  '0x7fffffff',
  '1.5.5',
  ' 12.5 ',
  '12,5',
  '+1',
  '1%',
  '100%',
  '5000%',
  'javascript:alert(1)',
  'data:text/html,<b>x</b>',
  'http://169.254.169.254/latest/meta-data/',
  'https://evil.example/',
  '//evil.example',
  'EUR',
  'eur',
  'XYZ',
  'USD ',
  '2026-02-30',
  '2026-13-01',
  '0000-00-00',
  '=HYPERLINK("http://evil.example")',
  't'.repeat(191),
  '😀'.repeat(191),
  '😀'.repeat(192),
  'CaseOrder-XY',
  'café',
];
const HOSTILE_NUMBERS = [
  0,
  -1,
  1.5,
  0.00001,
  0.00005,
  1e9,
  1e9 + 0.0001,
  1e12,
  900_719_925_474.0991,
  2 ** 53 + 2,
  -(2 ** 53 + 2),
  1e308,
  -1e308,
  Number.MIN_VALUE,
  2_147_483_648,
  4_294_967_296,
  123_456_789.123456,
];

/** Text that looks like a number, or almost. */
const NUMERIC_TEXT = HOSTILE_TEXT.filter((t) => /^[\s+-]*[\d.]/.test(t) || /^(NaN|-?Infinity|1e)/.test(t));

/** Any JSON value, weighted towards the hostile ones. */
function value(g: Gen, depth = 0): unknown {
  const r = g.int(10);
  if (r < 4) return g.pick(HOSTILE_TEXT);
  if (r < 6) return g.pick(HOSTILE_NUMBERS);
  if (r === 6) return g.pick([true, false, null]);
  if (r === 7 && depth < 2) return Array.from({ length: g.int(4) }, () => value(g, depth + 1));
  if (r === 8 && depth < 2) return object(g, depth + 1);
  return randomText(g);
}

/** Random text from several scripts, controls and surrogates. */
function randomText(g: Gen): string {
  const ranges = [
    [0x20, 0x7e],
    [0x00, 0x1f],
    [0xa0, 0x17f],
    [0x400, 0x4ff],
    [0x4e00, 0x4fff],
    [0xd800, 0xdfff],
    [0x1f600, 0x1f64f],
  ] as const;
  let out = '';
  const n = g.pick([1, 5, 20, 200, 3000]);
  for (let i = 0; i < n; i++) {
    const [lo, hi] = g.pick(ranges);
    out += String.fromCodePoint(lo + g.int(hi - lo + 1));
  }
  return out;
}

/** Sets an own key, as JSON.parse makes them ("__proto__" included), never the prototype. */
function own(target: Record<string, unknown>, key: string, v: unknown): void {
  Object.defineProperty(target, key, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Text as one URL path segment (a lone surrogate becomes U+FFFD, as a browser sends it). */
const segment = (v: string) =>
  encodeURIComponent(v.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

/** Any value as text for a URL. */
const text = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'));

function object(g: Gen, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = g.int(4); i > 0; i--)
    own(out, g.pick(['__proto__', 'constructor', 'a', 'b.c', '', ' ', '😀', randomText(g)]), value(g, depth + 1));
  return out;
}

/** A valid body with some fields replaced by hostile values, some removed, some added. */
function mutate(g: Gen, valid: Record<string, unknown>): unknown {
  const r = g.int(20);
  if (r === 0) return value(g);
  if (r === 1) return [valid];
  const out: Record<string, unknown> = { ...valid };
  const keys = Object.keys(out);
  for (let i = 1 + g.int(3); i > 0 && keys.length; i--) {
    const k = g.pick(keys);
    if (g.chance(0.15)) delete out[k];
    else out[k] = hostileLike(g, out[k]);
  }
  if (g.chance(0.2)) own(out, g.pick(['extra', 'status', 'affiliateId', '__proto__', 'isAdmin', 'role']), value(g));
  // Many long fields: a body near the limit, more than a TEXT column holds once stored.
  if (g.chance(0.04)) for (let i = 0; i < 24; i++) own(out, `extra${i}`, '😀'.repeat(1000));
  return out;
}

/** A hostile value of the same kind mostly: amounts get huge, tiny and malformed numbers, lists get long. */
function hostileLike(g: Gen, current: unknown): unknown {
  if (g.chance(0.3)) return value(g);
  if (typeof current === 'number' || (typeof current === 'string' && /^[\d.%]+$/.test(current)))
    return g.pick([...HOSTILE_NUMBERS, ...HOSTILE_NUMBERS.map(String), ...NUMERIC_TEXT]);
  if (Array.isArray(current) && current.length)
    // Hundreds of entries with long text: tens of KB of one column.
    return Array.from({ length: g.pick([2, 50, 400]) }, (_, i) =>
      typeof current[0] === 'object' && current[0] !== null
        ? { ...current[0], productId: `p-${i}-${'x'.repeat(150)}`, category: 'c'.repeat(30) }
        : `v-${i}-${'x'.repeat(150)}`,
    );
  return value(g);
}

/** Query parameters: the valid ones mutated, sometimes repeated (arrays) or added. */
function query(g: Gen, valid: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(valid)) {
    if (g.chance(0.1)) continue;
    const hostile = g.chance(0.35);
    params.append(k, hostile ? String(g.pick([...HOSTILE_TEXT.filter((t) => t.length < 3000), randomText(g)])) : v);
    if (g.chance(0.05)) params.append(k, text(value(g)));
  }
  if (g.chance(0.2))
    params.append(g.pick(['x', 'a[b]', '__proto__', 'constructor', '😀', '%']), g.pick(HOSTILE_TEXT.slice(0, 30)));
  const out = params.toString();
  return out ? `?${out}` : '';
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface Failure {
  request: string;
  status: number;
  answer: string;
}

describe(`fuzz of every public endpoint (issue 8) on ${dialectName()}, seed ${SEED}`, () => {
  let app: TestApp;
  let owner: string;
  let affiliateToken: string;
  let postbackKey: string;
  let clickApiToken: string;
  const ids: Record<string, number> = {};
  const subids: string[] = [];
  const visitorIds: string[] = [];
  let sent = 0;

  /** Sends one request; a 5xx (or no answer at all) is recorded with the request that caused it. */
  async function send(failures: Failure[], r: Sent): Promise<JsonResponse | null> {
    sent++;
    const describe = () =>
      `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers).slice(0, 300)} ${(r.body ?? '').slice(0, 300)}`;
    try {
      const res = await fetch(app.url + r.path, {
        method: r.method,
        headers: r.headers,
        body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body,
        redirect: 'manual',
      });
      const text = await res.text();
      if (res.status >= 500) failures.push({ request: describe(), status: res.status, answer: text.slice(0, 300) });
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: res.status, headers: res.headers, body, text };
    } catch (err) {
      failures.push({ request: describe(), status: 0, answer: String(err) });
      return null;
    }
  }

  function headers(g: Gen, extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { 'user-agent': CHROME, accept: 'application/json', ...extra };
    if (g.chance(0.2))
      h['user-agent'] = g.pick([
        '',
        'curl/8',
        'Googlebot/2.1',
        'é'.repeat(600),
        'x'.repeat(8000),
        "'; DROP TABLE clicks; --",
      ]);
    if (g.chance(0.3))
      h['x-forwarded-for'] = g.pick([
        `10.${g.int(255)}.${g.int(255)}.${g.int(255)}`,
        '8.8.8.8',
        '81.2.69.160',
        '::1',
        '2001:db8::1',
        'not-an-ip',
        '999.999.999.999',
        '1.2.3.4, 5.6.7.8',
        '',
        '::ffff:127.0.0.1',
      ]);
    if (g.chance(0.15))
      h.cookie = g.pick([
        `affix_vid=${g.pick(visitorIds.length ? visitorIds : ['x'])}`,
        'affix_vid=%E0%A4%A',
        `affix_vid=${'a'.repeat(4000)}`,
        'affix_uniq=eyJhbGciOiJub25lIn0.eyJ2IjoieCJ9.',
        'affix_uniq=garbage; affix_vid=',
      ]);
    if (g.chance(0.05)) h['accept-language'] = g.pick(['*', 'de-DE,de;q=0.9', ';q=x,,,', 'x'.repeat(3000)]);
    return h;
  }

  /** A JSON body in one of the ways clients (and attackers) send one. */
  function jsonRequest(g: Gen, method: string, path: string, body: unknown, extra: Record<string, string> = {}): Sent {
    const r = g.int(20);
    if (r === 0)
      return {
        method,
        path,
        headers: headers(g, { 'content-type': 'application/json', ...extra }),
        body: '{"orderId": "x", ',
      };
    if (r === 1)
      return {
        method,
        path,
        headers: headers(g, { 'content-type': 'application/json', ...extra }),
        body: `{"a":"${'x'.repeat(110_000)}"}`,
      };
    if (r === 2)
      return {
        method,
        path,
        headers: headers(g, { 'content-type': 'text/plain', ...extra }),
        body: JSON.stringify(body),
      };
    if (r === 3)
      return {
        method,
        path,
        headers: headers(g, {
          'content-type': g.pick([
            'application/xml',
            'multipart/form-data; boundary=x',
            'application/x-www-form-urlencoded',
            'image/png',
            'application/json; charset=utf-16',
          ]),
          ...extra,
        }),
        body: g.chance(0.5) ? JSON.stringify(body) : 'a=1&b[c]=2&__proto__[x]=1',
      };
    if (r === 4) return { method, path, headers: headers(g, extra), body: JSON.stringify(body) };
    if (r === 5)
      return { method, path, headers: headers(g, { 'content-type': 'application/json', ...extra }), body: '' };
    if (r === 6)
      return {
        method,
        path,
        headers: headers(g, { 'content-type': 'application/json', ...extra }),
        body: '[1,2,{"__proto__":{"admin":true}}]',
      };
    return {
      method,
      path,
      headers: headers(g, { 'content-type': 'application/json', ...extra }),
      body: JSON.stringify(body),
    };
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = await tokenFor(app.url, OWNER.email, OWNER.password);
    const a = api(app.url, owner);
    const created = async (res: Promise<JsonResponse>, what: string) => {
      const r = await res;
      assert.equal(r.status, 201, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
      return r.body.id as number;
    };
    postbackKey = app.services.settings.get().postbackKey;
    assert.equal((await a.patch('/settings', { exchangeRates: { EUR: 1.1, JPY: 0.0067 } })).status, 200);
    ids.source = await created(
      a.post('/sources', {
        name: 'Net',
        params: { sub_id_1: 'zone', cost: 'cost', external_id: 'clickid' },
        postbackUrl: 'https://net.example/pb?s={subid}&p={payout}',
      }),
      'source',
    );
    ids.shop = await created(
      a.post('/campaigns', { name: 'Shop', productIds: ['sku-1', 'sku-2'], approval: 'auto' }),
      'campaign',
    );
    ids.payout = await created(
      a.post(`/campaigns/${ids.shop}/payouts`, {
        kind: 'general',
        title: '10%',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
      }),
      'payout',
    );
    ids.traffic = await created(
      a.post('/campaigns', {
        name: 'Traffic',
        alias: 'fuzz',
        sourceId: ids.source,
        costAuto: false,
        bypassCache: true,
      }),
      'campaign',
    );
    ids.flow = await created(
      a.post(`/campaigns/${ids.traffic}/flows`, {
        name: 'LP',
        type: 'default',
        landings: [{ url: 'https://lp.example/?s={subid}&c={cost}', weight: 100 }],
        offers: [{ url: 'https://offer.example/?s={subid}&z={sub_id_1}', weight: 100 }],
      }),
      'flow',
    );
    clickApiToken = (await a.get(`/campaigns/${ids.traffic}`)).body.apiToken as string;
    ids.banner = await created(
      a.post('/banners', {
        campaignId: ids.shop,
        name: 'Banner',
        type: 'link',
        destinationUrl: 'https://shop.example/',
      }),
      'banner',
    );
    ids.affiliate = await created(
      a.post('/affiliates', {
        name: 'Ann',
        email: 'ann@example.com',
        refId: 'ann',
        status: 'approved',
        password: 'ann-password-123',
      }),
      'affiliate',
    );
    ids.coupon = await created(
      a.post('/coupons', { code: 'SPRING', affiliateId: ids.affiliate, campaignId: ids.shop }),
      'coupon',
    );
    ids.domain = await created(a.post('/domains', { host: 'track.example.com' }), 'domain');
    ids.group = await created(a.post('/groups', { name: 'Group' }), 'group');
    affiliateToken = await tokenFor(app.url, 'ann@example.com', 'ann-password-123');
    for (let i = 0; i < 5; i++) {
      const click = await request(app.url, 'POST', '/t/click', {
        body: { url: `https://shop.example/?a_aid=ann&a_cid=${ids.shop}` },
      });
      visitorIds.push(click.body.visitorId as string);
      const visit = await request(app.url, 'GET', `/fuzz?cost=0.1&zone=z${i}`, {
        headers: { 'x-forwarded-for': `10.3.0.${i + 1}` },
      });
      subids.push(new URL(visit.headers.get('location')!).searchParams.get('s')!);
    }
  });
  after(async () => {
    await app?.close();
  });

  const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

  /** Runs `n` requests built by `build` and asserts none was answered 5xx. */
  async function fuzz(name: string, n: number, build: (g: Gen, i: number) => Sent, offset: number): Promise<void> {
    const g = generator(SEED + offset);
    const failures: Failure[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < runs(n); i++) {
      const res = await send(failures, build(g, i));
      statuses.set(res?.status ?? 0, (statuses.get(res?.status ?? 0) ?? 0) + 1);
    }
    // FUZZ_VERBOSE=1 shows how the answers spread (the fuzz should reach past validation too).
    if (process.env.FUZZ_VERBOSE) console.log(name, JSON.stringify(Object.fromEntries([...statuses].sort())));
    assert.deepEqual(
      failures,
      [],
      `${name}: ${failures.length} answers of 5xx (seed ${SEED}); the first:\n${failures
        .slice(0, 10)
        .map((f) => `${f.status} ← ${f.request}\n   ${f.answer}`)
        .join('\n')}`,
    );
  }

  const saleBody = (g: Gen) => ({
    orderId: `F-${g.int(1e9)}`,
    totalCost: g.pick([10, '12.5', 99.99, 0]),
    currency: g.pick(['USD', 'EUR', 'JPY']),
    productId: g.pick(['sku-1', 'sku-2', 'other']),
    items: [{ productId: 'sku-1', category: 'shoes', totalCost: 5, quantity: 2 }],
    fixedCost: g.pick(['1', '5%', 0.5]),
    coupon: g.pick(['SPRING', 'spring', 'NONE']),
    bannerId: ids.banner,
    campaignId: g.pick([ids.shop, ids.traffic]),
    affiliateId: 'ann',
    channel: 'email',
    customerId: `c-${g.int(50)}`,
    visitorId: g.pick(visitorIds),
    data1: 'd1',
    data2: 'd2',
  });

  test('tracking: /t/click, /t/sale, /t/action, /t/impression, /t/fresh-click, /snippet.js', async () => {
    await fuzz(
      'tracking',
      900,
      (g) => {
        switch (g.int(7)) {
          case 0:
            return jsonRequest(
              g,
              'POST',
              '/t/click',
              mutate(g, {
                url: `https://shop.example/p?a_aid=ann&a_cid=${ids.shop}&a_bid=${ids.banner}&chan=x&data1=y&data2=z`,
                referrer: 'https://google.com/',
                visitorId: g.pick(visitorIds),
                campaignId: ids.shop,
                consent: true,
              }),
            );
          case 1:
          case 2:
            return jsonRequest(g, 'POST', '/t/sale', mutate(g, saleBody(g)));
          case 3:
            return jsonRequest(
              g,
              'POST',
              '/t/action',
              mutate(g, {
                actionCode: g.pick(['signup', 'lead', 'x y', '']),
                orderId: `A-${g.int(1e6)}`,
                totalCost: 1,
                visitorId: g.pick(visitorIds),
              }),
            );
          case 4:
            return {
              method: 'GET',
              path: `/t/impression${query(g, { a_bid: String(ids.banner), a_aid: 'ann', bannerId: String(ids.banner), vid: g.pick(visitorIds) })}`,
              headers: headers(g),
            };
          case 5:
            return {
              method: 'GET',
              path: `/t/fresh-click${query(g, { subid: g.pick(subids), ts: String(Date.now() - g.int(600_000)) })}`,
              headers: headers(g),
            };
          default:
            return { method: 'GET', path: `/snippet.js${query(g, { v: '1' })}`, headers: headers(g) };
        }
      },
      1,
    );
  });

  test('redirects: /r, campaign URLs /<alias>, /lp/offer', async () => {
    await fuzz(
      'redirects',
      600,
      (g) => {
        switch (g.int(4)) {
          case 0:
            return {
              method: 'GET',
              path: `/r${query(g, { a_aid: 'ann', a_bid: String(ids.banner), a_cid: String(ids.shop), chan: 'x', data1: 'y', url: 'https://shop.example/' })}`,
              headers: headers(g),
            };
          case 1:
          case 2:
            return {
              method: 'GET',
              path: `/${g.chance(0.8) ? 'fuzz' : segment(String(g.pick(HOSTILE_TEXT.filter((t) => t.length < 300))))}${query(g, { cost: g.pick(['0.05', '1000000000', '1e15', 'abc']), currency: g.pick(['EUR', 'USD', 'XYZ']), zone: 'z', clickid: 'ext', a_aid: 'ann', sub_id_2: 's2' })}`,
              headers: headers(g),
            };
          default:
            return { method: 'GET', path: `/lp/offer${query(g, { subid: g.pick(subids) })}`, headers: headers(g) };
        }
      },
      2,
    );
  });

  test('postbacks /postback/<key> and the Click API /click_api/v3', async () => {
    await fuzz(
      'postbacks',
      600,
      (g) => {
        const params = {
          subid: g.pick(subids),
          status: g.pick(['lead', 'sale', 'rejected', 'rebill', 'approved']),
          payout: g.pick(['1', '12.345', '999999999999', '0']),
          revenue: '2',
          currency: g.pick(['USD', 'EUR']),
          tid: `T-${g.int(20)}`,
          sale_status: 'approved',
        };
        switch (g.int(4)) {
          case 0:
            return {
              method: 'GET',
              path: `/postback/${g.chance(0.9) ? postbackKey : segment(text(value(g)).slice(0, 200))}${query(g, params)}`,
              headers: headers(g),
            };
          case 1: {
            const form = new URLSearchParams(query(g, params).slice(1));
            return {
              method: 'POST',
              path: `/postback/${postbackKey}`,
              headers: headers(g, { 'content-type': 'application/x-www-form-urlencoded' }),
              body: form.toString(),
            };
          }
          case 2:
            return jsonRequest(g, 'POST', `/postback/${postbackKey}`, mutate(g, params));
          default:
            return {
              method: 'GET',
              path: `/click_api/v3${query(g, { token: g.chance(0.9) ? clickApiToken : 'x', ip: g.pick(['8.8.8.8', 'bad', '::1']), user_agent: CHROME, language: 'en', referrer: 'https://r.example/', log: '1', cost: '0.1', zone: 'z', uniqueness_cookie: 'garbage' })}`,
              headers: headers(g),
            };
        }
      },
      3,
    );
  });

  test('sign-in: POST /api/v1/auth/token', async () => {
    await fuzz(
      'auth',
      150,
      (g) =>
        jsonRequest(
          g,
          'POST',
          '/api/v1/auth/token',
          mutate(g, {
            email: g.pick([OWNER.email, 'ann@example.com', 'nobody@example.com']),
            password: g.pick(['wrong', OWNER.password]),
            expiresInHours: 1,
          }),
        ),
      4,
    );
  });

  test('the REST API: collection POST, PATCH and lists, with a merchant or an affiliate token', async () => {
    const collections: Array<{ path: () => string; valid: (g: Gen) => Record<string, unknown>; item: () => number }> = [
      {
        path: () => '/affiliates',
        valid: (g) => ({
          name: 'Fuzz',
          email: `f${g.int(1e9)}@example.com`,
          refId: `f${g.int(1e9)}`,
          status: 'approved',
          postbackUrl: 'https://aff.example/pb?c={commission}',
        }),
        item: () => ids.affiliate!,
      },
      {
        path: () => '/campaigns',
        valid: (g) => ({
          name: 'Fuzz',
          productIds: ['sku-9'],
          alias: `a${g.int(1e9)}`,
          costModel: 'CPC',
          costValue: 0.1,
          uniquenessTtlHours: 24,
          type: 'public',
        }),
        item: () => ids.shop!,
      },
      {
        path: () => '/banners',
        valid: () => ({ campaignId: ids.shop, name: 'B', type: 'html', content: '<b>hi</b>' }),
        item: () => ids.banner!,
      },
      {
        path: () => '/coupons',
        valid: (g) => ({ code: `C${g.int(1e9)}`, affiliateId: ids.affiliate, campaignId: ids.shop }),
        item: () => ids.coupon!,
      },
      { path: () => '/domains', valid: (g) => ({ host: `t${g.int(1e9)}.example.com` }), item: () => ids.domain! },
      {
        path: () => '/sources',
        valid: () => ({ name: 'S', params: { sub_id_1: 'zone' }, postbackUrl: 'https://net.example/pb' }),
        item: () => ids.source!,
      },
      { path: () => '/groups', valid: () => ({ name: 'G' }), item: () => ids.group! },
      {
        path: () => `/campaigns/${ids.shop}/payouts`,
        valid: () => ({
          kind: 'general',
          title: 'P',
          type: 'CPS',
          affiliateCommission: { value: 5, unit: 'percent' },
          goal: { productIds: ['sku-1'] },
          tiers: [],
        }),
        item: () => ids.payout!,
      },
      {
        path: () => `/campaigns/${ids.traffic}/flows`,
        valid: () => ({
          name: 'F',
          type: 'regular',
          filters: [{ name: 'country', mode: 'is', values: ['US'] }],
          offers: [{ url: 'https://o.example/?s={subid}', weight: 1 }],
        }),
        item: () => ids.flow!,
      },
    ];
    const lists = [
      '/sales',
      '/clicks',
      '/commissions',
      '/reports',
      '/audit-log',
      '/outbox',
      '/payout-batches',
      '/users',
      '/affiliates',
      '/campaigns',
    ];
    const listQuery = {
      page: '1',
      perPage: '50',
      q: 'a',
      status: 'approved',
      campaignId: String(ids.shop),
      affiliateId: String(ids.affiliate),
      from: '2026-01-01',
      to: '2030-01-01',
      groupBy: 'campaign',
      format: 'json',
      orderId: 'F-1',
      kind: 'sale',
      archived: 'false',
    };
    await fuzz(
      'api',
      900,
      (g) => {
        const token = g.chance(0.85) ? owner : g.chance(0.5) ? affiliateToken : 'not-a-token';
        const auth = bearer(token);
        const r = g.int(10);
        if (r < 3) {
          const c = g.pick(collections);
          return jsonRequest(g, 'POST', `/api/v1${c.path()}`, mutate(g, c.valid(g)), auth);
        }
        if (r < 5) {
          const c = g.pick(collections);
          const id = g.chance(0.8)
            ? String(c.item())
            : encodeURIComponent(String(g.pick([0, -1, 999999, 'abc', '1e3', '%00', '1.5', 2 ** 53 + 2])));
          return jsonRequest(g, 'PATCH', `/api/v1${c.path()}/${id}`, mutate(g, c.valid(g)), auth);
        }
        if (r < 7)
          return { method: 'GET', path: `/api/v1${g.pick(lists)}${query(g, listQuery)}`, headers: headers(g, auth) };
        if (r === 7)
          return jsonRequest(
            g,
            'POST',
            `/api/v1/${g.pick(['sales', 'actions', 'simulate/sale'])}`,
            mutate(g, { ...saleBody(g), actionCode: 'signup', status: 'approved' }),
            auth,
          );
        if (r === 8)
          return jsonRequest(
            g,
            'POST',
            g.pick([
              `/api/v1/sales/${encodeURIComponent(`F-${g.int(1e9)}`)}/refund`,
              '/api/v1/commissions/bulk',
              '/api/v1/payout-batches',
            ]),
            mutate(g, { amount: 1, type: 'refund', ids: [1, 2], action: 'approve', minimum: 1 }),
            auth,
          );
        if (g.chance(0.3))
          return jsonRequest(
            g,
            'PATCH',
            '/api/v1/settings',
            mutate(g, {
              exchangeRates: { EUR: g.pick([1.1, 1e9, 0.0001]), JPY: 0.0067 },
              timezone: g.pick(['UTC', 'Europe/Berlin', 'Pacific/Kiritimati']),
              cookieDays: 30,
              urlParams: {
                affiliate: 'a_aid',
                banner: 'a_bid',
                campaign: 'a_cid',
                channel: 'chan',
                data1: 'data1',
                data2: 'data2',
              },
              fraud: { blockedIps: ['203.0.113.0/24'], refererDeny: ['spam.example'] },
              siteUrl: 'https://shop.example/',
              duplicateOrders: g.pick(['accept', 'decline']),
            }),
            auth,
          );
        return jsonRequest(
          g,
          'PATCH',
          g.pick(['/api/v1/me/affiliate', '/api/v1/plugins/webhooks', '/api/v1/plugins/fraud-protection']),
          mutate(g, {
            postbackUrl: 'https://aff.example/pb',
            active: g.chance(0.5),
            settings: { urls: ['https://hook.example/'], secret: 'x' },
          }),
          g.chance(0.5) ? bearer(affiliateToken) : auth,
        );
      },
      5,
    );
  });

  test('odd methods and oversized bodies on the public endpoints', async () => {
    const paths = [
      '/t/click',
      '/t/sale',
      '/t/action',
      '/t/impression',
      '/r',
      '/fuzz',
      `/postback/${postbackKey}`,
      '/click_api/v3',
      '/lp/offer',
      '/t/fresh-click',
      '/snippet.js',
      '/api/v1/auth/token',
      '/api/v1/campaigns',
    ];
    await fuzz(
      'methods',
      300,
      (g) => {
        const method = g.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'POST', 'GET', 'PROPFIND', 'X-CUSTOM']);
        const path = g.pick(paths);
        const big = g.chance(0.2) ? 'x'.repeat(g.pick([100 * 1024 + 1, 300_000])) : JSON.stringify(object(g));
        return {
          method,
          path,
          headers: headers(g, {
            'content-type': g.pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded']),
            origin: 'https://shop.example',
          }),
          body: big,
        };
      },
      6,
    );
  });

  test('afterwards the rollups equal a recount of the stored rows', async () => {
    const db = app.services.db;
    const daily = (await db('daily_stats')
      .select(
        exactSums(db, {
          clicks: 'clicks',
          unique: 'unique_clicks',
          declined: 'declined_clicks',
          sales: 'sales',
          actions: 'actions',
          declinedSales: 'declined_sales',
          revenue: 'revenue',
          conversions: 'conversions',
        }),
      )
      .first()) as Record<string, unknown>;
    const traffic = (await db('traffic_stats')
      .select(exactSums(db, { clicks: 'clicks', unique: 'unique_clicks', conversions: 'conversions' }))
      .first()) as Record<string, unknown>;
    const count = async (q: ReturnType<typeof db>) =>
      Number(((await q.count({ n: '*' }).first()) as { n: number | string }).n);
    const sum = async (q: ReturnType<typeof db>, column: string) =>
      BigInt(String(((await q.sum({ n: column }).first()) as { n: unknown }).n ?? 0));
    // What counts, as README "Reports" defines it: sales and actions of the snippet and the API
    // that are not declined, and postback conversions that are not rejected; the sale that pays a
    // postback's affiliate (source `postback`) adds no conversion of its own.
    const own = () => db('sales').whereNot('source', 'postback');
    const paidConversions = () => db('conversions').whereIn('status', ['sale', 'rebill']);
    const sales =
      (await count(own().where('kind', 'sale').whereNot('status', 'declined'))) + (await count(paidConversions()));
    const actions =
      (await count(own().where('kind', 'action').whereNot('status', 'declined'))) +
      (await count(db('conversions').where('status', 'lead')));
    const recount = {
      clicks: await count(db('clicks').whereNot('status', 'declined')),
      unique: await count(db('clicks').where('status', 'unique')),
      declined: await count(db('clicks').where('status', 'declined')),
      sales,
      actions,
      declinedSales: await count(own().where('status', 'declined')),
      revenue:
        (await sum(own().whereNot('status', 'declined'), 'total_cost_base')) +
        (await sum(paidConversions(), 'revenue_base')),
      conversions: sales + actions,
      trafficClicks: await count(db('clicks').whereNotNull('flow_id').whereNot('status', 'declined')),
      trafficUnique: await count(db('clicks').whereNotNull('flow_id').where('status', 'unique')),
    };
    assert.ok(
      recount.clicks > 100 && recount.sales > 50 && recount.conversions > 5,
      `the fuzz stored events: ${JSON.stringify(recount, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
    assert.deepEqual(
      {
        clicks: Number(exactSum(daily, 'clicks')),
        unique: Number(exactSum(daily, 'unique')),
        declined: Number(exactSum(daily, 'declined')),
        sales: Number(exactSum(daily, 'sales')),
        actions: Number(exactSum(daily, 'actions')),
        declinedSales: Number(exactSum(daily, 'declinedSales')),
        revenue: exactSum(daily, 'revenue'),
        conversions: Number(exactSum(daily, 'conversions')),
        trafficClicks: Number(exactSum(traffic, 'clicks')),
        trafficUnique: Number(exactSum(traffic, 'unique')),
      },
      recount,
    );
    assert.equal(
      Number(exactSum(traffic, 'conversions')),
      await count(db('conversions').whereNot('status', 'rejected')),
    );
    assert.ok(sent >= 3000 * Math.min(1, SCALE), `${sent} requests sent`);
  });
});
