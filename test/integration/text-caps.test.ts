import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created, assertFieldError } from '../helpers/assert.js';
import { approvedAffiliate } from '../helpers/programme.js';

/*
 * SPEC §10a: stored free-form values are capped so that every row fits its column on both
 * databases, by bytes too: over its cap a tracking value is cut (at a character boundary, never
 * inside an emoji) and an API value is refused with 422, never a 500. Emoji are 4 bytes of UTF-8
 * and 2 UTF-16 units each.
 */

type Api = ReturnType<typeof api>;

const EMOJI = '😀';

/** `stored` is the prefix of `sent` of exactly `maxChars` characters (code points, as the column counts them). */
function assertCut(stored: string | null, sent: string, maxChars: number, what: string): void {
  assert.ok(stored, `${what} is stored`);
  assert.ok(!stored.includes('\uFFFD') && !stored.includes('?'), `${what}: no broken character (${stored.slice(-4)})`);
  assert.ok(sent.startsWith(stored), `${what} is a prefix of what was sent`);
  assert.equal([...stored].length, maxChars, `${what} keeps as much as fits`);
}

describe(`text caps by bytes and characters (SPEC §10a) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let key: string;
  let campaign: number;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    key = app.services.settings.get().postbackKey;
    await approvedAffiliate(a, 'Ann', 'ann');
    campaign = created(await a.post('/campaigns', { name: 'Paid', alias: 'caps' }), 'campaign');
    created(
      await a.post(`/campaigns/${campaign}/flows`, {
        name: 'Offer',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
      }),
      'flow',
    );
  });
  after(async () => {
    await app?.close();
  });

  test('a click with emoji over every cap is stored, each value cut between characters', async () => {
    const long = EMOJI.repeat(300);
    // The page URL as the snippet sends it (a browser's location.href may hold raw characters).
    const url = `https://shop.example/?a_aid=ann&chan=${long}&data1=${long}&data2=x${long}`;
    const res = await request(app.url, 'POST', '/t/click', {
      body: { url, referrer: `https://ref.example/${EMOJI.repeat(2100)}` },
      // Header values travel as Latin-1: é is one byte on the wire, two in UTF-8.
      headers: { 'user-agent': `UA ${'é'.repeat(600)}` },
    });
    assert.equal(res.status, 200, res.text);
    const row = (await app.services.db('clicks').where({ click_id: res.body.clickId }).first()) as Record<
      string,
      string | null
    >;
    assertCut(row.channel ?? null, long, 191, 'channel');
    assertCut(row.data1 ?? null, long, 255, 'data1');
    assertCut(row.data2 ?? null, `x${long}`, 255, 'data2');
    assertCut(row.user_agent ?? null, `UA ${'é'.repeat(600)}`, 512, 'user agent');
    assertCut(row.referrer ?? null, `https://ref.example/${EMOJI.repeat(2100)}`, 2048, 'referrer');
  });

  test('a campaign-URL click with emoji sub ids and external id is stored, cut between characters', async () => {
    const long = EMOJI.repeat(300);
    const res = await request(
      app.url,
      'GET',
      `/caps?sub_id_1=${encodeURIComponent(long)}&external_id=${encodeURIComponent(long)}&chan=${encodeURIComponent(long)}`,
      { headers: { 'user-agent': CHROME, referer: `https://ref.example/${'é'.repeat(2100)}` } },
    );
    assert.equal(res.status, 302, res.text);
    const subid = new URL(res.headers.get('location')!).searchParams.get('s');
    const row = (await app.services.db('clicks').where({ click_id: subid }).first()) as Record<string, string | null>;
    assertCut(JSON.parse(row.sub_ids ?? '{}').sub_id_1 ?? null, long, 255, 'sub_id_1');
    assertCut(row.external_id ?? null, long, 191, 'external id');
    assertCut(row.channel ?? null, long, 191, 'channel');
    assertCut(row.referrer ?? null, `https://ref.example/${'é'.repeat(2100)}`, 2048, 'referrer');
  });

  test('a postback tid at its cap (191 characters, or 191 emoji) is stored, not a 500', async () => {
    for (const tid of ['t'.repeat(191), EMOJI.repeat(191)]) {
      const click = await request(app.url, 'GET', '/caps', { headers: { 'user-agent': CHROME } });
      const subid = new URL(click.headers.get('location')!).searchParams.get('s')!;
      const res = await request(
        app.url,
        'GET',
        `/postback/${key}?subid=${subid}&status=rebill&payout=1&tid=${encodeURIComponent(tid)}`,
      );
      assert.equal(res.status, 200, res.text.slice(0, 300));
      assert.equal(res.body.tid, tid);
      const again = await request(
        app.url,
        'GET',
        `/postback/${key}?subid=${subid}&status=rebill&payout=1&tid=${encodeURIComponent(tid)}`,
      );
      assert.equal(again.body.duplicate, true, 'the same tid again is the same conversion');
    }
  });

  test('sale fields at their caps with emoji are stored whole', async () => {
    const orderId = EMOJI.repeat(191);
    const data1 = EMOJI.repeat(255);
    const res = await request(app.url, 'POST', '/t/sale', {
      body: { orderId, totalCost: 1, data1, customerId: EMOJI.repeat(191), channel: EMOJI.repeat(191) },
      headers: { 'user-agent': CHROME },
    });
    assert.equal(res.status, 201, res.text);
    const stored = await a.get(`/sales/${res.body.saleId}`);
    assert.equal(stored.body.orderId, orderId);
    assert.equal(stored.body.data.data1, data1);
    assert.equal(stored.body.customerId, EMOJI.repeat(191));
    assert.equal(stored.body.channel, EMOJI.repeat(191));
  });

  test('API values over a column cap are 422 naming the field, at the cap they are stored whole', async () => {
    const name = EMOJI.repeat(191);
    const ok = await a.post('/campaigns', { name });
    assert.equal(ok.status, 201, ok.text);
    assert.equal((await a.get(`/campaigns/${ok.body.id}`)).body.name, name);
    assertFieldError(await a.post('/campaigns', { name: EMOJI.repeat(192) }), 'name');
    // 18,000 emoji: 72 KB of UTF-8 within a 100 KB body, more than a TEXT column holds.
    assertFieldError(
      await a.post('/banners', { campaignId: campaign, name: 'Big', type: 'html', content: EMOJI.repeat(18_000) }),
      'content',
    );
    assertFieldError(
      await a.patch('/settings', {
        fraud: { refererDeny: Array.from({ length: 450 }, (_, i) => `${i}${EMOJI.repeat(45)}`) },
      }),
      'fraud.refererDeny',
    );
  });
});
