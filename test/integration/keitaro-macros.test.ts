import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { IPHONE, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

/*
 * SPEC §14: Keitaro's macros in landing and offer URLs and in outgoing postbacks:
 * {campaign_name} {os} {browser} {language} {referrer} {keyword} {landing_id} {offer_id} {date}
 * {random} {user_agent} {device_type} {external_id}; an unknown macro is left as written.
 */

type Api = ReturnType<typeof api>;
const ALL =
  'cn={campaign_name}&os={os}&br={browser}&lang={language}&ref={referrer}&kw={keyword}&lp={landing_id}&of={offer_id}&d={date}&r={random}&ua={user_agent}&dev={device_type}&ext={external_id}&x={not_a_macro}';

describe(`Keitaro macros (SPEC §14) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let key: string;
  let ip = 0;
  const today = () => new Date().toISOString().slice(0, 10);

  const visit = async (path: string) => {
    const res = await request(app.url, 'GET', path, {
      headers: {
        'user-agent': IPHONE,
        'x-forwarded-for': `10.56.0.${++ip}`,
        'accept-language': 'fr-FR,fr;q=0.8',
        referer: 'https://news.example/story?id=5',
      },
    });
    assert.equal(res.status, 302, res.text);
    return new URL(res.headers.get('location')!);
  };
  const expectAll = (u: URL, landingId: string, offerId: string) => {
    const q = u.searchParams;
    assert.equal(q.get('cn'), 'Spring sale & more');
    assert.equal(q.get('os'), 'iOS');
    assert.equal(q.get('br'), 'Mobile Safari');
    assert.equal(q.get('lang'), 'fr');
    assert.equal(q.get('ref'), 'https://news.example/story?id=5');
    assert.equal(q.get('kw'), 'blue boots');
    assert.equal(q.get('lp'), landingId);
    assert.equal(q.get('of'), offerId);
    assert.equal(q.get('d'), today());
    assert.match(q.get('r') ?? '', /^\d{1,10}$/);
    assert.equal(q.get('ua'), IPHONE);
    assert.equal(q.get('dev'), 'mobile');
    assert.equal(q.get('ext'), 'ext-77');
    assert.equal(q.get('x'), '{not_a_macro}', 'an unknown macro is left as written');
  };

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    key = app.services.settings.get().postbackKey;
    const source = created(
      await a.post('/sources', { name: 'Net', params: {}, postbackUrl: `https://net.example/pb?s={subid}&${ALL}` }),
      'source',
    );
    const direct = created(
      await a.post('/campaigns', { name: 'Spring sale & more', alias: 'spring', sourceId: source }),
      'campaign',
    );
    created(
      await a.post(`/campaigns/${direct}/flows`, {
        name: 'Offers',
        type: 'default',
        offers: [
          { url: `https://offer.example/a?s={subid}&${ALL}`, weight: 0 },
          { url: `https://offer.example/b?s={subid}&${ALL}`, weight: 100 },
        ],
      }),
      'flow',
    );
    const withLanding = created(
      await a.post('/campaigns', { name: 'Spring sale & more', alias: 'spring-lp', sourceId: source }),
      'campaign',
    );
    created(
      await a.post(`/campaigns/${withLanding}/flows`, {
        name: 'LP',
        type: 'default',
        landings: [{ url: `https://lp.example/?s={subid}&${ALL}`, weight: 100 }],
        offers: [{ url: `https://offer.example/lp?s={subid}&${ALL}`, weight: 100 }],
      }),
      'flow',
    );
  });
  after(async () => {
    await app?.close();
  });

  test('in an offer URL reached straight from the campaign URL', async () => {
    const u = await visit('/spring?keyword=blue+boots&external_id=ext-77');
    assert.equal(u.pathname, '/b');
    expectAll(u, '', '2');
  });

  test('in a landing URL, and in the offer URL after the landing', async () => {
    const lp = await visit('/spring-lp?keyword=blue+boots&external_id=ext-77');
    expectAll(lp, '1', '1'); // the offer is chosen with the landing
    const res = await request(app.url, 'GET', `/lp/offer?subid=${lp.searchParams.get('s')}`);
    assert.equal(res.status, 302, res.text);
    expectAll(new URL(res.headers.get('location')!), '1', '1');
  });

  test("in the source's postback of a conversion", async () => {
    const subid = (await visit('/spring?keyword=blue+boots&external_id=ext-77')).searchParams.get('s')!;
    const res = await request(app.url, 'GET', `/postback/${key}?subid=${subid}&payout=3`);
    assert.equal(res.status, 200, res.text);
    const [row] = (await app.services
      .db('outbox')
      .where({ channel: 'source_postback' })
      .orderBy('id', 'desc')) as Array<{
      url: string;
    }>;
    const u = new URL(row!.url);
    assert.equal(u.searchParams.get('s'), subid);
    expectAll(u, '', '2');
  });
});
