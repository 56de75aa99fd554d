import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import jwt from 'jsonwebtoken';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { browserUa, GOOGLEBOT, CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

/*
 * SPEC §7.1–7.4 through the campaign URL (`GET /<alias>` chosen by the request's Host) and the
 * landing → offer step (`GET /lp/offer?subid=`): routing, parked campaigns, flow rotation,
 * macros, schemas, uniqueness, bind visitors and costs, checked in the clicks table and the
 * daily_stats / traffic_stats rollups.
 */

type Api = ReturnType<typeof api>;

/** A person's browser whose user agent differs by `n` (a new IP + UA device). */
const US_IP = '8.8.8.8';
const GB_IP = '81.2.69.160';

let ipCounter = 0;
/** A private address no other test used (no country). */
const freshIp = () => {
  ipCounter++;
  return `10.77.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
};

interface Hit {
  status: number;
  location: string | null;
  body: string;
  contentType: string;
  /** The `affix_uniq` cookie the answer set, if any. */
  uniq: string | null;
  setCookies: string[];
}

interface HitOptions {
  host?: string;
  ip?: string;
  ua?: string;
  /** The `affix_uniq` cookie to send. */
  cookie?: string;
  lang?: string;
}

/** GET through node:http so the Host header can be chosen (fetch does not allow it). */
function hit(port: number, path: string, o: HitOptions = {}): Promise<Hit> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: o.host ?? `127.0.0.1:${port}`, 'user-agent': o.ua ?? CHROME };
    if (o.ip) headers['x-forwarded-for'] = o.ip;
    if (o.cookie) headers.cookie = `affix_uniq=${o.cookie}`;
    if (o.lang) headers['accept-language'] = o.lang;
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const setCookies = res.headers['set-cookie'] ?? [];
        const uniqLine = setCookies.find((l) => l.startsWith('affix_uniq='));
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location ?? null,
          body: Buffer.concat(chunks).toString('utf8'),
          contentType: String(res.headers['content-type'] ?? ''),
          uniq: uniqLine ? (uniqLine.split(';')[0] ?? '').slice('affix_uniq='.length) || null : null,
          setCookies,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const param = (location: string | null, name: string) => (location ? new URL(location).searchParams.get(name) : null);

interface ClickRow {
  id: number;
  click_id: string;
  campaign_id: number;
  flow_id: number | null;
  landing_index: number | null;
  offer_index: number | null;
  landing_url: string | null;
  offer_url: string | null;
  offer_at: number | string | null;
  cost: number | string;
  country: string | null;
  unique_campaign: number | boolean | null;
  unique_flow: number | boolean | null;
  unique_global: number | boolean | null;
  is_bot: number | boolean | null;
  sub_ids: string | null;
}

describe(`campaign URLs (SPEC §7.1–7.4) on ${dialectName()}`, () => {
  let app: TestApp;
  let port: number;
  let a: Api;
  let rnd = 0.5;
  let clockOffset = 0;
  let trackDomain: number;
  let otherDomain: number;

  const get = (path: string, o: HitOptions = {}) => hit(port, path, o);
  const clickBySubid = async (subid: string | null) => {
    assert.ok(subid, 'a subid');
    const row = (await app.services.db('clicks').where({ click_id: subid }).first()) as ClickRow | undefined;
    assert.ok(row, `a click row for ${subid}`);
    return row;
  };
  const lastClick = async (campaignId: number) =>
    (await app.services.db('clicks').where({ campaign_id: campaignId }).orderBy('id', 'desc').first()) as ClickRow;
  const clickCount = async (campaignId: number) =>
    Number(
      (
        (await app.services.db('clicks').where({ campaign_id: campaignId }).count({ n: '*' })) as Array<{
          n: number | string;
        }>
      )[0]!.n,
    );
  const flags = (row: ClickRow) => [Number(row.unique_campaign), Number(row.unique_flow), Number(row.unique_global)];

  /** A campaign with its flows, through the API. */
  async function makeCampaign(body: Record<string, unknown>, flows: Array<Record<string, unknown>>) {
    const id = created(await a.post('/campaigns', { name: `Campaign ${String(body.alias)}`, ...body }), 'campaign');
    const flowIds: number[] = [];
    for (const f of flows) flowIds.push(created(await a.post(`/campaigns/${id}/flows`, f), `flow ${String(f.name)}`));
    return { id, flows: flowIds };
  }
  const redirectFlow = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
    name,
    schema: 'redirect',
    url,
    ...extra,
  });

  before(async () => {
    app = await startTestApp({ random: () => rnd, clock: () => Date.now() + clockOffset });
    port = Number(new URL(app.url).port);
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    trackDomain = created(await a.post('/domains', { host: 'track.example.com' }), 'domain');
    otherDomain = created(await a.post('/domains', { host: 'other.example.com' }), 'domain');
  });
  after(async () => {
    await app?.close();
  });

  describe('routing', () => {
    test('a campaign on a domain answers at that Host only; one without a domain on any Host not configured as a domain', async () => {
      const hosted = await makeCampaign({ alias: 'promo', domainId: trackDomain }, [
        redirectFlow('Hosted', 'https://hosted.example/?s={subid}', { type: 'default' }),
      ]);
      const plain = await makeCampaign({ alias: 'plain' }, [
        redirectFlow('Plain', 'https://plain.example/?s={subid}', { type: 'default' }),
      ]);

      const there = await get('/promo', { host: 'track.example.com' });
      assert.equal(there.status, 302);
      assert.match(there.location ?? '', /^https:\/\/hosted\.example\/\?s=/);
      assert.equal((await clickBySubid(param(there.location, 's'))).campaign_id, hosted.id);
      assert.equal((await get('/promo', { host: 'TRACK.example.com' })).status, 302, 'the Host compares without case');

      assert.equal((await get('/promo', { host: 'other.example.com' })).status, 404, 'another configured domain');
      assert.equal((await get('/promo', { host: 'unconfigured.example' })).status, 404, 'a host that is no domain');
      assert.equal((await get('/promo')).status, 404, 'the tracker’s own address');

      for (const host of ['unconfigured.example', 'www.shop.example', undefined]) {
        const res = await get('/plain', { host });
        assert.equal(res.status, 302, `plain at ${host ?? 'the tracker address'}`);
        assert.equal((await clickBySubid(param(res.location, 's'))).campaign_id, plain.id);
      }
      assert.equal((await get('/plain', { host: 'track.example.com' })).status, 404, 'not on a configured domain');
      assert.equal((await get('/plain', { host: 'other.example.com' })).status, 404);
    });

    test('a domain with a port is matched with its port', async () => {
      const portDomain = created(await a.post('/domains', { host: 'ports.example.com:8443' }), 'domain');
      await makeCampaign({ alias: 'ported', domainId: portDomain }, [
        redirectFlow('Ported', 'https://ported.example/?s={subid}', { type: 'default' }),
      ]);
      const res = await get('/ported', { host: 'ports.example.com:8443' });
      assert.equal(res.status, 302, 'the Host with the port selects the domain');
      assert.match(res.location ?? '', /^https:\/\/ported\.example\//);
      assert.equal(
        (await get('/ported', { host: 'ports.example.com:9999' })).status,
        404,
        'another port is another host',
      );
    });

    test('a paused campaign runs the campaign parked on its domain; with none parked the answer is 404', async () => {
      const parked = await makeCampaign({ alias: 'parked-lp' }, [
        redirectFlow('Parked', 'https://parked.example/?s={subid}', { type: 'default' }),
      ]);
      const paused = await makeCampaign({ alias: 'old', domainId: trackDomain, status: 'paused' }, [
        redirectFlow('Old', 'https://old.example/?s={subid}', { type: 'default' }),
      ]);
      assert.equal((await get('/old', { host: 'track.example.com' })).status, 404, 'paused, nothing parked yet');

      assert.equal((await a.patch(`/domains/${trackDomain}`, { parkedCampaignId: parked.id })).status, 200);
      const res = await get('/old', { host: 'track.example.com' });
      assert.equal(res.status, 302);
      assert.match(res.location ?? '', /^https:\/\/parked\.example\//);
      const row = await clickBySubid(param(res.location, 's'));
      assert.equal(row.campaign_id, parked.id, 'the click belongs to the parked campaign');
      assert.equal(await clickCount(paused.id), 0);

      await makeCampaign({ alias: 'old2', domainId: otherDomain, status: 'paused' }, [
        redirectFlow('Old2', 'https://old2.example/?s={subid}', { type: 'default' }),
      ]);
      assert.equal(
        (await get('/old2', { host: 'other.example.com' })).status,
        404,
        'no campaign parked on other.example.com',
      );

      // The parked campaign paused too: nothing runs.
      assert.equal((await a.patch(`/campaigns/${parked.id}`, { status: 'paused' })).status, 200);
      assert.equal((await get('/old', { host: 'track.example.com' })).status, 404);
      assert.equal((await a.patch(`/campaigns/${parked.id}`, { status: 'active' })).status, 200);
      assert.equal((await a.patch(`/campaigns/${paused.id}`, { status: 'active' })).status, 200);
      assert.match(
        (await get('/old', { host: 'track.example.com' })).location ?? '',
        /^https:\/\/old\.example\//,
        'active again: runs itself',
      );
    });

    test('an unknown alias is 404; reserved paths are the tracker’s own', async () => {
      assert.equal((await get('/no-such-alias')).status, 404);
      assert.equal(
        (await get('/no-such-alias', { host: 'track.example.com' })).status,
        404,
        'unknown alias on a domain with a parked campaign',
      );

      const reserved = await a.post('/campaigns', { name: 'Grabs admin', alias: 'admin' });
      assert.equal(reserved.status, 422, 'a reserved path cannot be an alias');

      const admin = await get('/admin');
      assert.equal(admin.status, 302);
      assert.match(admin.location ?? '', /\/admin\/login/);
      const apiRes = await request(app.url, 'GET', '/api/v1/campaigns');
      assert.equal(apiRes.status, 401, 'the API still answers itself');
      assert.equal(apiRes.body.error.code, 'unauthorized');
      assert.equal((await get('/healthz')).status, 200);
      const lp = await get('/lp');
      assert.notEqual(lp.status, 302);
    });
  });

  describe('flows', () => {
    test('position rotation: forced flows first, then regular flows top to bottom, then the default (country by X-Forwarded-For)', async () => {
      const c = await makeCampaign({ alias: 'geo' }, [
        redirectFlow('Germany', 'https://de.example/?s={subid}', {
          position: 1,
          filters: [{ name: 'country', values: ['DE'] }],
        }),
        redirectFlow('Britain', 'https://gb.example/?s={subid}', {
          position: 2,
          filters: [{ name: 'country', values: ['GB'] }],
        }),
        redirectFlow('Not GB', 'https://notgb.example/?s={subid}', {
          position: 3,
          filters: [{ name: 'country', mode: 'is_not', values: ['GB'] }],
        }),
        redirectFlow('US forced', 'https://us.example/?s={subid}', {
          type: 'forced',
          position: 9,
          filters: [{ name: 'country', values: ['US'] }],
        }),
        redirectFlow('Default', 'https://default.example/?s={subid}', { type: 'default', position: 0 }),
      ]);
      const us = await get('/geo', { ip: US_IP });
      assert.match(us.location ?? '', /^https:\/\/us\.example\//, 'US: the forced flow, whatever its position');
      const usRow = await clickBySubid(param(us.location, 's'));
      assert.equal(usRow.country, 'US');
      assert.equal(usRow.flow_id, c.flows[3]);

      const gb = await get('/geo', { ip: GB_IP });
      assert.match(gb.location ?? '', /^https:\/\/gb\.example\//, 'GB: the first regular flow whose filters pass');
      assert.equal((await clickBySubid(param(gb.location, 's'))).country, 'GB');

      const unknown = await get('/geo', { ip: freshIp() });
      assert.match(unknown.location ?? '', /^https:\/\/notgb\.example\//, 'no country: the is_not GB flow');

      // Without the catch-all regular flow the default takes the rest.
      assert.equal((await a.patch(`/campaigns/${c.id}/flows/${c.flows[2]}`, { status: 'paused' })).status, 200);
      assert.match((await get('/geo', { ip: freshIp() })).location ?? '', /^https:\/\/default\.example\//);
      assert.match((await get('/geo', { ip: US_IP })).location ?? '', /^https:\/\/us\.example\//);
    });

    test('weight rotation picks by weight with the injected random', async () => {
      const c = await makeCampaign({ alias: 'split', flowRotation: 'weight' }, [
        redirectFlow('A', 'https://a.example/?s={subid}', { weight: 50, position: 0 }),
        redirectFlow('B', 'https://b.example/?s={subid}', { weight: 50, position: 1 }),
        redirectFlow('Zero', 'https://zero.example/?s={subid}', { weight: 0, position: 2 }),
        redirectFlow('Fallback', 'https://fallback.example/?s={subid}', { type: 'default' }),
      ]);
      try {
        rnd = 0.1;
        for (let i = 0; i < 3; i++)
          assert.match((await get('/split', { ip: freshIp() })).location ?? '', /^https:\/\/a\.example\//);
        rnd = 0.9;
        for (let i = 0; i < 3; i++)
          assert.match((await get('/split', { ip: freshIp() })).location ?? '', /^https:\/\/b\.example\//);
        rnd = 0.1;
        const row = await lastClick(c.id);
        assert.equal(row.flow_id, c.flows[1]);
      } finally {
        rnd = 0.5;
      }
    });

    test('every click gets its own subid and the macros are filled', async () => {
      const source = created(
        await a.post('/sources', { name: 'Zone network', params: { sub_id_1: 'zoneid', external_id: 'clickid' } }),
        'source',
      );
      const c = await makeCampaign({ alias: 'macros', sourceId: source, costModel: 'CPC', costValue: 0.05 }, [
        {
          name: 'Offer',
          type: 'default',
          offers: [
            {
              url: 'https://offer.example/o?s={subid}&cid={campaign_id}&fid={flow_id}&z={sub_id_1}&cost={cost}&geo={country}&ip={ip}&src={source}&ext={external_id}&keep={unknown_macro}',
              weight: 100,
            },
          ],
        },
      ]);
      const subids = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const res = await get(`/macros?zoneid=Z%20${i}&clickid=ext-${i}&sub_id_1=ignored`, { ip: US_IP });
        assert.equal(res.status, 302);
        const url = new URL(res.location!);
        const subid = url.searchParams.get('s')!;
        assert.match(subid, /^[A-Za-z0-9_-]{16,32}$/);
        subids.add(subid);
        assert.equal(url.searchParams.get('cid'), String(c.id));
        assert.equal(url.searchParams.get('fid'), String(c.flows[0]));
        assert.equal(url.searchParams.get('z'), `Z ${i}`, 'sub_id_1 from the source’s zoneid parameter');
        assert.equal(url.searchParams.get('cost'), '0.05');
        assert.equal(url.searchParams.get('geo'), 'US');
        assert.equal(url.searchParams.get('ip'), US_IP);
        assert.equal(url.searchParams.get('src'), 'Zone network');
        assert.equal(url.searchParams.get('ext'), `ext-${i}`);
        assert.ok(res.location!.includes('keep={unknown_macro}'), 'an unknown macro stays as written');
        const row = await clickBySubid(subid);
        assert.equal(row.offer_url, res.location, 'straight to the offer: the offer URL is stored');
        assert.deepEqual(JSON.parse(row.sub_ids ?? '{}'), { sub_id_1: `Z ${i}` });
      }
      assert.equal(subids.size, 5, 'five clicks, five subids');
    });

    test('landing → GET /lp/offer?subid= keeps the same click; an unknown subid is 404 JSON', async () => {
      const c = await makeCampaign({ alias: 'lander' }, [
        {
          name: 'LP',
          type: 'default',
          landings: [{ url: 'https://lp.example/page?s={subid}', weight: 100 }],
          offers: [{ url: 'https://offer.example/buy?s={subid}&c={campaign_id}&g={country}', weight: 100 }],
        },
      ]);
      const res = await get('/lander', { ip: GB_IP });
      assert.equal(res.status, 302);
      assert.match(res.location ?? '', /^https:\/\/lp\.example\/page\?s=/);
      const subid = param(res.location, 's')!;
      let row = await clickBySubid(subid);
      assert.equal(row.landing_url, res.location);
      assert.equal(row.offer_url, null);
      assert.equal(row.offer_at, null);

      const offer = await request(app.url, 'GET', `/lp/offer?subid=${encodeURIComponent(subid)}`);
      assert.equal(offer.status, 302);
      const location = offer.headers.get('location')!;
      assert.equal(location, `https://offer.example/buy?s=${subid}&c=${c.id}&g=GB`);
      row = await clickBySubid(subid);
      assert.equal(row.offer_url, location);
      assert.ok(Number(row.offer_at) > 0, 'offer_at set');
      assert.equal(await clickCount(c.id), 1, 'no second click');

      const unknown = await request(app.url, 'GET', '/lp/offer?subid=AAAAAAAAAAAAAAAAAAAAAAAA');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'not_found');
      const missing = await request(app.url, 'GET', '/lp/offer');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'not_found');
    });

    test('redirect and action schemas', async () => {
      const redirect = await makeCampaign({ alias: 'schema-redirect' }, [
        redirectFlow('R', 'https://elsewhere.example/{subid}?c={campaign_id}', { type: 'default' }),
      ]);
      const r = await get('/schema-redirect', { ip: freshIp() });
      assert.equal(r.status, 302);
      const row = await lastClick(redirect.id);
      assert.equal(r.location, `https://elsewhere.example/${row.click_id}?c=${redirect.id}`);
      assert.equal(row.offer_url, r.location);

      const actionFlow = (action: string, text?: string) => ({
        name: action,
        type: 'default',
        schema: 'action',
        action,
        ...(text ? { text } : {}),
      });
      const notFound = await makeCampaign({ alias: 'schema-404' }, [actionFlow('not_found')]);
      const nothing = await makeCampaign({ alias: 'schema-nothing' }, [actionFlow('do_nothing')]);
      const text = await makeCampaign({ alias: 'schema-text' }, [actionFlow('show_text', 'Closed for today <b>')]);

      const nf = await get('/schema-404', { ip: freshIp() });
      assert.equal(nf.status, 404);
      assert.equal(nf.location, null);
      const dn = await get('/schema-nothing', { ip: freshIp() });
      assert.equal(dn.status, 200);
      assert.equal(dn.body, '');
      assert.equal(dn.location, null);
      const st = await get('/schema-text', { ip: freshIp() });
      assert.equal(st.status, 200);
      assert.equal(st.body, 'Closed for today <b>');
      assert.match(st.contentType, /^text\/plain/, 'the text is not HTML');
      for (const cid of [notFound.id, nothing.id, text.id])
        assert.equal(await clickCount(cid), 1, 'each visit is a click');
    });

    test('a bot user agent goes to the flow with a bot filter', async () => {
      const c = await makeCampaign({ alias: 'bots' }, [
        redirectFlow('Bots', 'https://bots.example/?s={subid}', {
          type: 'forced',
          filters: [{ name: 'bot', values: [] }],
        }),
        redirectFlow('People', 'https://people.example/?s={subid}', { type: 'default' }),
      ]);
      const bot = await get('/bots', { ua: GOOGLEBOT, ip: freshIp() });
      assert.match(bot.location ?? '', /^https:\/\/bots\.example\//);
      const botRow = await clickBySubid(param(bot.location, 's'));
      assert.equal(Number(botRow.is_bot), 1);
      assert.equal(botRow.flow_id, c.flows[0]);
      const person = await get('/bots', { ua: CHROME, ip: freshIp() });
      assert.match(person.location ?? '', /^https:\/\/people\.example\//);
      assert.equal(Number((await clickBySubid(param(person.location, 's'))).is_bot), 0);
    });

    test('clickLimit 2: the third click goes to the next flow', async () => {
      await makeCampaign({ alias: 'limited' }, [
        redirectFlow('Limited', 'https://limited.example/?s={subid}', {
          position: 0,
          filters: [{ name: 'clickLimit', values: ['2'] }],
        }),
        redirectFlow('Next', 'https://next.example/?s={subid}', { position: 1 }),
      ]);
      const got: string[] = [];
      for (let i = 0; i < 4; i++) got.push(new URL((await get('/limited', { ip: freshIp() })).location!).host);
      assert.deepEqual(got, ['limited.example', 'limited.example', 'next.example', 'next.example']);
    });
  });

  describe('uniqueness (SPEC §7.3)', () => {
    test('ip_ua: the first visit is unique in every scope, a repeat in none; scopes are separate', async () => {
      const c = await makeCampaign({ alias: 'uniq-ipua' }, [
        redirectFlow('X', 'https://x.example/?s={subid}', {
          type: 'forced',
          filters: [{ name: 'param', values: ['x'], param: 'v' }],
        }),
        redirectFlow('Y', 'https://y.example/?s={subid}', { type: 'default' }),
      ]);
      const other = await makeCampaign({ alias: 'uniq-other' }, [
        redirectFlow('O', 'https://o.example/?s={subid}', { type: 'default' }),
      ]);
      const device = { ip: freshIp(), ua: browserUa(1) };

      const first = await get('/uniq-ipua?v=x', device);
      assert.ok(first.uniq, 'the affix_uniq cookie is set');
      assert.deepEqual(flags(await clickBySubid(param(first.location, 's'))), [1, 1, 1]);
      const repeat = await get('/uniq-ipua?v=x', { ...device, cookie: first.uniq! });
      assert.deepEqual(flags(await clickBySubid(param(repeat.location, 's'))), [0, 0, 0]);
      const noCookie = await get('/uniq-ipua?v=x', device);
      assert.deepEqual(flags(await clickBySubid(param(noCookie.location, 's'))), [0, 0, 0], 'ip_ua needs no cookie');

      const otherFlow = await get('/uniq-ipua', device);
      assert.match(otherFlow.location ?? '', /^https:\/\/y\.example\//);
      assert.deepEqual(flags(await clickBySubid(param(otherFlow.location, 's'))), [0, 1, 0], 'new to flow Y only');
      const otherCampaign = await get('/uniq-other', device);
      assert.deepEqual(
        flags(await clickBySubid(param(otherCampaign.location, 's'))),
        [1, 1, 0],
        'new to the campaign, not globally',
      );

      const newUa = await get('/uniq-ipua?v=x', { ...device, ua: browserUa(2) });
      assert.deepEqual(
        flags(await clickBySubid(param(newUa.location, 's'))),
        [1, 1, 1],
        'another user agent is another device',
      );
      assert.ok((await clickCount(c.id)) >= 5);
      assert.ok(other.id);
    });

    test('ip: a different user agent on the same IP is still not unique', async () => {
      await makeCampaign({ alias: 'uniq-ip', uniqueness: 'ip' }, [
        redirectFlow('I', 'https://i.example/?s={subid}', { type: 'default' }),
      ]);
      const ip = freshIp();
      const first = await get('/uniq-ip', { ip, ua: browserUa(3) });
      assert.deepEqual(flags(await clickBySubid(param(first.location, 's'))), [1, 1, 1]);
      const second = await get('/uniq-ip', { ip, ua: browserUa(4) });
      assert.deepEqual(flags(await clickBySubid(param(second.location, 's'))), [0, 0, 0]);
      const elsewhere = await get('/uniq-ip', { ip: freshIp(), ua: browserUa(3) });
      assert.equal(Number((await clickBySubid(param(elsewhere.location, 's'))).unique_campaign), 1);
    });

    test('cookie: the returned affix_uniq cookie identifies the device on another IP and user agent', async () => {
      await makeCampaign({ alias: 'uniq-cookie', uniqueness: 'cookie' }, [
        redirectFlow('K', 'https://k.example/?s={subid}', { type: 'default' }),
      ]);
      const first = await get('/uniq-cookie', { ip: freshIp(), ua: browserUa(5) });
      assert.deepEqual(flags(await clickBySubid(param(first.location, 's'))), [1, 1, 1]);
      assert.ok(first.uniq);
      const again = await get('/uniq-cookie', { ip: freshIp(), ua: browserUa(6), cookie: first.uniq! });
      assert.deepEqual(flags(await clickBySubid(param(again.location, 's'))), [0, 0, 0], 'same cookie, same device');
      const stranger = await get('/uniq-cookie', { ip: freshIp(), ua: browserUa(7) });
      assert.deepEqual(flags(await clickBySubid(param(stranger.location, 's'))), [1, 1, 1]);
    });

    test('a tampered or foreign affix_uniq cookie is ignored: the visit is a new device', async () => {
      await makeCampaign({ alias: 'uniq-tamper', uniqueness: 'cookie' }, [
        redirectFlow('T', 'https://t.example/?s={subid}', { type: 'default' }),
      ]);
      const first = await get('/uniq-tamper', { ip: freshIp(), ua: browserUa(8) });
      const cookie = first.uniq!;
      assert.deepEqual(flags(await clickBySubid(param(first.location, 's'))), [1, 1, 1]);

      // One character of the signature changed.
      const i = cookie.length - 5;
      const tampered = cookie.slice(0, i) + (cookie[i] === 'A' ? 'B' : 'A') + cookie.slice(i + 1);
      const t = await get('/uniq-tamper', { ip: freshIp(), ua: browserUa(9), cookie: tampered });
      assert.equal(
        Number((await clickBySubid(param(t.location, 's'))).unique_campaign),
        1,
        'a tampered cookie is no device',
      );
      assert.notEqual(t.uniq, cookie, 'a new cookie is issued');

      // The same visitor id signed with another key.
      const payload = jwt.decode(cookie) as { v: string };
      const foreign = jwt.sign({ v: payload.v }, 'another-secret-0123456789abcdef0123456789', {
        algorithm: 'HS256',
        issuer: 'affix-uniq',
      });
      const f = await get('/uniq-tamper', { ip: freshIp(), ua: browserUa(10), cookie: foreign });
      assert.equal(
        Number((await clickBySubid(param(f.location, 's'))).unique_campaign),
        1,
        'a foreign cookie is no device',
      );
      const none = jwt.sign({ v: payload.v }, 'x', { algorithm: 'none' } as jwt.SignOptions);
      const n = await get('/uniq-tamper', { ip: freshIp(), ua: browserUa(11), cookie: none });
      assert.equal(
        Number((await clickBySubid(param(n.location, 's'))).unique_campaign),
        1,
        'an unsigned cookie is no device',
      );

      // The genuine cookie still is.
      const genuine = await get('/uniq-tamper', { ip: freshIp(), ua: browserUa(12), cookie });
      assert.equal(Number((await clickBySubid(param(genuine.location, 's'))).unique_campaign), 0);
    });

    test('uniqueness lasts uniquenessTtlHours (injected clock)', async () => {
      await makeCampaign({ alias: 'uniq-ttl', uniquenessTtlHours: 2 }, [
        redirectFlow('TTL', 'https://ttl.example/?s={subid}', { type: 'default' }),
      ]);
      const device = { ip: freshIp(), ua: browserUa(13) };
      try {
        const first = await get('/uniq-ttl', device);
        assert.deepEqual(flags(await clickBySubid(param(first.location, 's'))), [1, 1, 1]);
        clockOffset += 3_600_000; // 1 h later
        const inside = await get('/uniq-ttl', device);
        assert.deepEqual(flags(await clickBySubid(param(inside.location, 's'))), [0, 0, 0]);
        clockOffset += 2 * 3_600_000 + 1000; // more than 2 h after the last visit
        const later = await get('/uniq-ttl', device);
        const row = await clickBySubid(param(later.location, 's'));
        assert.equal(Number(row.unique_campaign), 1, 'unique again after the TTL');
        assert.equal(Number(row.unique_flow), 1);
      } finally {
        clockOffset = 0;
      }
    });

    test('GDPR mode: no affix_uniq cookie, and cookie uniqueness falls back to IP + user agent', async () => {
      await makeCampaign({ alias: 'uniq-gdpr', uniqueness: 'cookie' }, [
        redirectFlow('G', 'https://g.example/?s={subid}', { type: 'default' }),
      ]);
      const before = await get('/uniq-gdpr', { ip: freshIp(), ua: browserUa(14) });
      assert.ok(before.uniq, 'a cookie outside GDPR mode');
      assert.equal((await a.patch('/settings', { gdprMode: true })).status, 200);
      try {
        const device = { ip: freshIp(), ua: browserUa(15) };
        const first = await get('/uniq-gdpr', device);
        assert.equal(first.status, 302);
        assert.equal(first.uniq, null, 'no affix_uniq cookie in GDPR mode');
        assert.ok(!first.setCookies.some((l) => l.startsWith('affix_uniq=')));
        assert.deepEqual(flags(await clickBySubid(param(first.location, 's'))), [1, 1, 1]);
        const repeat = await get('/uniq-gdpr', device);
        assert.deepEqual(
          flags(await clickBySubid(param(repeat.location, 's'))),
          [0, 0, 0],
          'the same IP + UA is the same device',
        );
        const withOldCookie = await get('/uniq-gdpr', { ip: freshIp(), ua: browserUa(16), cookie: before.uniq! });
        assert.equal(
          Number((await clickBySubid(param(withOldCookie.location, 's'))).unique_campaign),
          1,
          'cookies are not read in GDPR mode',
        );
      } finally {
        assert.equal((await a.patch('/settings', { gdprMode: false })).status, 200);
      }
    });
  });

  describe('bind visitors (SPEC §7.3)', () => {
    test('flows: a returning visitor keeps its flow even after the flow’s weight is set to 0', async () => {
      const c = await makeCampaign({ alias: 'bind-flows', flowRotation: 'weight', bindVisitors: 'flows' }, [
        redirectFlow('A', 'https://a.example/?s={subid}', { weight: 50 }),
        redirectFlow('B', 'https://b.example/?s={subid}', { weight: 50 }),
      ]);
      try {
        rnd = 0.1;
        const device = { ip: freshIp(), ua: browserUa(20) };
        const first = await get('/bind-flows', device);
        assert.match(first.location ?? '', /^https:\/\/a\.example\//);
        assert.equal((await a.patch(`/campaigns/${c.id}/flows/${c.flows[0]}`, { weight: 0 })).status, 200);

        const sameCookie = await get('/bind-flows', { ip: freshIp(), ua: browserUa(21), cookie: first.uniq! });
        assert.match(sameCookie.location ?? '', /^https:\/\/a\.example\//, 'the cookie keeps flow A at weight 0');
        const sameDevice = await get('/bind-flows', device);
        assert.match(sameDevice.location ?? '', /^https:\/\/a\.example\//, 'the IP + UA device record keeps flow A');
        const stranger = await get('/bind-flows', { ip: freshIp(), ua: browserUa(22) });
        assert.match(stranger.location ?? '', /^https:\/\/b\.example\//, 'a new visitor never gets a weight-0 flow');

        // A paused bound flow is not kept.
        assert.equal((await a.patch(`/campaigns/${c.id}/flows/${c.flows[0]}`, { status: 'paused' })).status, 200);
        const paused = await get('/bind-flows', { ...device, cookie: first.uniq! });
        assert.match(paused.location ?? '', /^https:\/\/b\.example\//);
      } finally {
        rnd = 0.5;
      }
    });

    test('flows_landings_offers: the same landing and offer again', async () => {
      const c = await makeCampaign({ alias: 'bind-all', bindVisitors: 'flows_landings_offers' }, [
        {
          name: 'Split',
          type: 'default',
          landings: [
            { url: 'https://lp1.example/?s={subid}', weight: 50 },
            { url: 'https://lp2.example/?s={subid}', weight: 50 },
          ],
          offers: [
            { url: 'https://o1.example/?s={subid}', weight: 50 },
            { url: 'https://o2.example/?s={subid}', weight: 50 },
          ],
        },
      ]);
      try {
        rnd = 0.1;
        const device = { ip: freshIp(), ua: browserUa(23) };
        const first = await get('/bind-all', device);
        assert.match(first.location ?? '', /^https:\/\/lp1\.example\//);
        const firstOffer = await request(app.url, 'GET', `/lp/offer?subid=${param(first.location, 's')}`);
        assert.match(firstOffer.headers.get('location') ?? '', /^https:\/\/o1\.example\//);

        rnd = 0.9;
        const again = await get('/bind-all', { ip: freshIp(), ua: browserUa(24), cookie: first.uniq! });
        assert.match(again.location ?? '', /^https:\/\/lp1\.example\//, 'same landing');
        const subid = param(again.location, 's');
        assert.notEqual(subid, param(first.location, 's'), 'a new click');
        const againOffer = await request(app.url, 'GET', `/lp/offer?subid=${subid}`);
        assert.match(againOffer.headers.get('location') ?? '', /^https:\/\/o1\.example\//, 'same offer');

        const stranger = await get('/bind-all', { ip: freshIp(), ua: browserUa(25) });
        assert.match(stranger.location ?? '', /^https:\/\/lp2\.example\//);
        const strangerOffer = await request(app.url, 'GET', `/lp/offer?subid=${param(stranger.location, 's')}`);
        assert.match(strangerOffer.headers.get('location') ?? '', /^https:\/\/o2\.example\//);
        assert.equal(await clickCount(c.id), 3);
      } finally {
        rnd = 0.5;
      }
    });
  });

  describe('costs (SPEC §7.4)', () => {
    const units = (v: unknown) => Number(v);
    const dailyCost = async (campaignId: number) =>
      units(
        (
          (await app.services.db('daily_stats').where({ campaign_id: campaignId }).sum({ s: 'cost' })) as Array<{
            s: unknown;
          }>
        )[0]!.s ?? 0,
      );
    const trafficCost = async (campaignId: number) =>
      units(
        (
          (await app.services.db('traffic_stats').where({ campaign_id: campaignId }).sum({ s: 'cost' })) as Array<{
            s: unknown;
          }>
        )[0]!.s ?? 0,
      );

    /** Campaign → the click cost its daily_stats rows should sum to. */
    const expectedDaily = new Map<number, number>();

    test('CPC 0.10 with 20% traffic loss costs 0.125 a click, in the clicks table and both rollups', async () => {
      const c = await makeCampaign({ alias: 'cost-cpc', costModel: 'CPC', costValue: 0.1, trafficLoss: 20 }, [
        redirectFlow('C', 'https://c.example/?s={subid}&cost={cost}', { type: 'default' }),
      ]);
      const device = { ip: freshIp(), ua: browserUa(30) };
      const first = await get('/cost-cpc', device);
      assert.equal(param(first.location, 'cost'), '0.125');
      assert.equal(units((await clickBySubid(param(first.location, 's'))).cost), 1250, '0.125 in 1/10,000 units');
      await get('/cost-cpc', device); // a repeat is paid too
      assert.equal(await trafficCost(c.id), 2500);
      expectedDaily.set(c.id, 2500);
    });

    test('CPUC pays campaign-unique clicks only', async () => {
      const c = await makeCampaign({ alias: 'cost-cpuc', costModel: 'CPUC', costValue: 0.1 }, [
        redirectFlow('U', 'https://u.example/?s={subid}', { type: 'default' }),
      ]);
      const device = { ip: freshIp(), ua: browserUa(31) };
      const first = await get('/cost-cpuc', device);
      assert.equal(units((await clickBySubid(param(first.location, 's'))).cost), 1000);
      const repeat = await get('/cost-cpuc', device);
      assert.equal(units((await clickBySubid(param(repeat.location, 's'))).cost), 0);
      assert.equal(await trafficCost(c.id), 1000);
      expectedDaily.set(c.id, 1000);
    });

    test('CPM 2.00 costs 0.002 a click', async () => {
      const c = await makeCampaign({ alias: 'cost-cpm', costModel: 'CPM', costValue: 2 }, [
        redirectFlow('M', 'https://m.example/?s={subid}&cost={cost}', { type: 'default' }),
      ]);
      const res = await get('/cost-cpm', { ip: freshIp() });
      assert.equal(param(res.location, 'cost'), '0.002');
      assert.equal(units((await clickBySubid(param(res.location, 's'))).cost), 20);
      assert.equal(await trafficCost(c.id), 20);
      expectedDaily.set(c.id, 20);
    });

    test('costAuto false: the cost parameter, converted with the exchange rates', async () => {
      assert.equal((await a.patch('/settings', { exchangeRates: { EUR: 1.1 } })).status, 200);
      const c = await makeCampaign({ alias: 'cost-param', costModel: 'CPC', costValue: 5, costAuto: false }, [
        redirectFlow('P', 'https://p.example/?s={subid}&cost={cost}', { type: 'default' }),
      ]);
      const eur = await get('/cost-param?cost=10&currency=EUR', { ip: freshIp() });
      assert.equal(param(eur.location, 'cost'), '11', '10 EUR at 1.1');
      assert.equal(units((await clickBySubid(param(eur.location, 's'))).cost), 110_000);
      const usd = await get('/cost-param?cost=0.5', { ip: freshIp() });
      assert.equal(units((await clickBySubid(param(usd.location, 's'))).cost), 5000, 'no currency: the base currency');
      const none = await get('/cost-param', { ip: freshIp() });
      assert.equal(
        units((await clickBySubid(param(none.location, 's'))).cost),
        0,
        'no cost parameter: 0, not costValue',
      );
      const bad = await get('/cost-param?cost=abc', { ip: freshIp() });
      assert.equal(bad.status, 302, 'a bad cost never fails the visit');
      assert.equal(units((await clickBySubid(param(bad.location, 's'))).cost), 0);
      const unknownCurrency = await get('/cost-param?cost=3&currency=XYZ', { ip: freshIp() });
      assert.equal(unknownCurrency.status, 302);
      assert.equal(units((await clickBySubid(param(unknownCurrency.location, 's'))).cost), 0);
      assert.equal(await trafficCost(c.id), 115_000);
      expectedDaily.set(c.id, 115_000);

      // costCurrency is the default currency of the parameter.
      const inEur = await makeCampaign({ alias: 'cost-eur', costAuto: false, costCurrency: 'EUR' }, [
        redirectFlow('E', 'https://e.example/?s={subid}', { type: 'default' }),
      ]);
      const res = await get('/cost-eur?cost=2', { ip: freshIp() });
      assert.equal(units((await clickBySubid(param(res.location, 's'))).cost), 22_000);
      assert.ok(inEur.id);
    });

    test('the click costs reach daily_stats.cost too', async () => {
      // Beside the campaigns of the tests above, four of this test's own, one per way to cost a click.
      const own = async (body: Record<string, unknown>, paths: string[], cost: number) => {
        const c = await makeCampaign(body, [redirectFlow('D', 'https://d.example/?s={subid}', { type: 'default' })]);
        const device = { ip: freshIp(), ua: browserUa(40) };
        for (const path of paths) assert.equal((await get(path, device)).status, 302, path);
        expectedDaily.set(c.id, cost);
      };
      await own({ alias: 'daily-cpc', costModel: 'CPC', costValue: 0.1, trafficLoss: 20 }, ['/daily-cpc'], 1250);
      await own({ alias: 'daily-cpuc', costModel: 'CPUC', costValue: 0.1 }, ['/daily-cpuc', '/daily-cpuc'], 1000);
      await own({ alias: 'daily-cpm', costModel: 'CPM', costValue: 2 }, ['/daily-cpm'], 20);
      await own(
        { alias: 'daily-param', costModel: 'CPC', costValue: 5, costAuto: false },
        ['/daily-param?cost=0.5'],
        5000,
      );
      assert.ok(expectedDaily.size >= 4);
      for (const [campaignId, cost] of expectedDaily)
        assert.equal(await dailyCost(campaignId), cost, `daily_stats.cost of campaign ${campaignId}`);
    });
  });
});
