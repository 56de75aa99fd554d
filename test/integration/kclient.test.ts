import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { GOOGLEBOT, CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

/*
 * Keitaro KClient compatibility (SPEC §14), from PHP: a landing page of our own
 * (test/fixtures/kclient/index.php) calls Affix as KClient does (curl, form POST to
 * /api.php or /click_api/v3) and acts on the answer as KClient does. It is served by `php -S`
 * and driven over HTTP.
 */

type Api = ReturnType<typeof api>;
const PAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/kclient');
const hasPhp = spawnSync('php', ['-m'], { encoding: 'utf8' }).stdout?.includes('curl') ?? false;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** `php -S` serving the landing page, configured for one tracker URL and campaign token. */
async function startPhp(tracker: string, token: string): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const child: ChildProcess = spawn('php', ['-S', `127.0.0.1:${port}`, '-t', PAGE_DIR], {
    env: { ...process.env, AFFIX_TRACKER: tracker, AFFIX_TOKEN: token },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${url}/robots.txt`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, stop: () => child.kill() };
}

describe(
  `KClient compatibility from PHP on ${dialectName()}`,
  { skip: hasPhp ? false : 'php-cli with php-curl is not installed' },
  () => {
    let app: TestApp;
    let owner: Api;
    let offers: { id: number; token: string };
    const pages: Array<{ stop(): void }> = [];
    let offerPage: { url: string; stop(): void };
    let apiPage: { url: string; stop(): void };
    let uaCounter = 0;
    const browser = () => `${CHROME} Test/${++uaCounter}`;

    async function campaign(name: string, flow: Record<string, unknown>) {
      // Uniqueness by cookie: a returning visitor is known by the cookie the page passes on, whatever its IP.
      const res = await owner.post('/campaigns', { name, uniqueness: 'cookie' });
      const id = created(res, 'campaign');
      created(await owner.post(`/campaigns/${id}/flows`, { name: 'Main', type: 'default', ...flow }), 'flow');
      return { id, token: res.body.apiToken as string };
    }
    const visit = (base: string, pathAndQuery: string, headers: Record<string, string> = {}) =>
      fetch(`${base}${pathAndQuery}`, { redirect: 'manual', headers: { 'user-agent': browser(), ...headers } });

    before(async () => {
      app = await startTestApp();
      await setupOwner(app.url);
      owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
      offers = await campaign('KClient offers', {
        offers: [
          {
            url: 'https://offer.example/go?s={subid}&z={sub_id_1}&k={keyword}&c={campaign_name}&os={os}&b={browser}&l={language}&o={offer_id}&d={date}&dev={device_type}&x={nope}',
            weight: 100,
          },
        ],
      });
      offerPage = await startPhp(`${app.url}/api.php?`, offers.token);
      apiPage = await startPhp(`${app.url}/click_api/v3`, offers.token);
      pages.push(offerPage, apiPage);
    });
    after(async () => {
      for (const p of pages) p.stop();
      await app?.close();
    });

    test('executeAndBreak() redirects the visitor to the offer, with macros filled, and stops the page', async () => {
      for (const page of [offerPage, apiPage]) {
        const res = await visit(page.url, '/?sub_id_1=zone7&keyword=red+shoes', {
          'accept-language': 'de-DE,de;q=0.9',
        });
        const body = await res.text();
        assert.equal(res.status, 302, body.slice(0, 300));
        const location = new URL(res.headers.get('location') ?? '');
        assert.equal(location.origin + location.pathname, 'https://offer.example/go');
        const subid = location.searchParams.get('s') ?? '';
        assert.match(subid, /^[A-Za-z0-9_-]{8,32}$/);
        assert.equal(location.searchParams.get('z'), 'zone7', 'the page URL parameters reach the campaign');
        assert.equal(location.searchParams.get('k'), 'red shoes');
        assert.equal(location.searchParams.get('c'), 'KClient offers');
        assert.equal(location.searchParams.get('os'), 'Windows');
        assert.equal(location.searchParams.get('b'), 'Chrome');
        assert.equal(location.searchParams.get('l'), 'de');
        assert.equal(location.searchParams.get('o'), '1');
        assert.match(location.searchParams.get('d') ?? '', /^\d{4}-\d\d-\d\d$/);
        assert.equal(location.searchParams.get('dev'), 'desktop');
        assert.ok(
          location.search.includes('x={nope}') || location.search.includes('x=%7Bnope%7D'),
          'unknown macro as written',
        );
        assert.doesNotMatch(body, /The landing page/, 'the page stopped');
        // The click is stored with what the page sent.
        const click = (await app.services.db('clicks').where({ click_id: subid }).first()) as Record<string, unknown>;
        assert.ok(click, 'a stored click');
        assert.equal(click.campaign_id, offers.id);
        assert.match(String(click.sub_ids), /"sub_id_1":"zone7"/);
        assert.match(String(click.user_agent), /Chrome\/131/);
        assert.equal(click.language, 'de');
      }
    });

    test('getSubId(), isUnique() and isBot() read the answer; the uniqueness cookie comes back through the page', async () => {
      const ua = browser();
      const factsRes = await fetch(`${offerPage.url}/?page=facts`, { headers: { 'user-agent': ua } });
      const facts = (await factsRes.json()) as Record<string, unknown>;
      assert.match(String(facts.subId), /^[A-Za-z0-9_-]{8,32}$/);
      assert.equal(facts.uniqueCampaign, true);
      assert.equal(facts.uniqueStream, true);
      assert.equal(facts.bot, false);
      assert.equal(facts.type, 'offer');

      // executeAndBreak() sets the `cookies` of the answer for `cookies_ttl` hours.
      const other = browser();
      const first = await visit(offerPage.url, '/', { 'user-agent': other });
      assert.equal(first.status, 302);
      const cookie = first.headers.getSetCookie().find((c) => c.startsWith('affix_uniq='));
      assert.ok(cookie, 'the page set the cookie the tracker answered in `cookies`');
      const expires = Date.parse(/expires=([^;]+)/i.exec(cookie)?.[1] ?? '');
      assert.ok(expires - Date.now() > 300 * 86_400_000, 'cookies_ttl is in hours: a year');
      const again = await fetch(`${offerPage.url}/?page=facts`, {
        headers: { 'user-agent': other, cookie: cookie.split(';')[0]!, 'x-forwarded-for': '198.51.100.7' },
      });
      const second = (await again.json()) as Record<string, unknown>;
      assert.equal(second.uniqueCampaign, false, 'the same visitor again');
      assert.equal(second.uniqueGlobal, false);
      assert.notEqual(second.subId, facts.subId, 'each visit is its own click');
      const stranger = await fetch(`${offerPage.url}/?page=facts`, {
        headers: { 'user-agent': other, 'x-forwarded-for': '198.51.100.8' },
      });
      assert.equal(((await stranger.json()) as Record<string, unknown>).uniqueCampaign, true, 'no cookie, another IP');

      const bot = (await (
        await fetch(`${offerPage.url}/?page=facts`, { headers: { 'user-agent': GOOGLEBOT } })
      ).json()) as Record<string, unknown>;
      assert.equal(bot.bot, true);
    });

    test('a landing on the page itself is not redirected to: the page goes on, knowing its sub_id', async () => {
      const port = await freePort();
      const landingUrl = `http://127.0.0.1:${port}/?lp=1&s={subid}`;
      const local = await campaign('KClient landing', {
        landings: [{ url: landingUrl, weight: 100 }],
        offers: [{ url: 'https://offer.example/after-landing?s={subid}', weight: 100 }],
      });
      const child = spawn('php', ['-S', `127.0.0.1:${port}`, '-t', PAGE_DIR], {
        env: { ...process.env, AFFIX_TRACKER: `${app.url}/api.php?`, AFFIX_TOKEN: local.token },
        stdio: 'ignore',
      });
      pages.push({ stop: () => child.kill() });
      let res: Response | null = null;
      for (let i = 0; i < 100 && !res; i++) {
        try {
          res = await visit(`http://127.0.0.1:${port}`, '/?sub_id_2=lp');
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      assert.ok(res);
      const html = await res.text();
      assert.equal(res.status, 200, html.slice(0, 300));
      assert.match(html, /The landing page/);
      const subid = /<p id="subid">([^<]+)<\/p>/.exec(html)?.[1] ?? '';
      assert.match(subid, /^[A-Za-z0-9_-]{8,32}$/);
      // The landing's "go to offer" link leads on through the tracker with that sub_id.
      const offer = await request(app.url, 'GET', `/lp/offer?subid=${subid}`);
      assert.equal(offer.status, 302);
      assert.match(
        offer.headers.get('location') ?? '',
        new RegExp(`^https://offer\\.example/after-landing\\?s=${subid}$`),
      );
    });

    test('bad input: unknown token 401, a body that is not a form 4xx, nothing stored', async () => {
      const clicksBefore = Number(((await app.services.db('clicks').count({ n: '*' })) as Array<{ n: number }>)[0]!.n);
      const post = (pathName: string, body: string, type = 'application/x-www-form-urlencoded') =>
        fetch(`${app.url}${pathName}`, { method: 'POST', headers: { 'content-type': type }, body });
      const wrong = await post(
        '/api.php',
        new URLSearchParams({ token: 'nope-nope-nope-nope', ua: CHROME }).toString(),
      );
      assert.equal(wrong.status, 401);
      assert.match(await wrong.text(), /token/);
      const missing = await post('/click_api/v3', 'ua=x');
      assert.equal(missing.status, 401);
      const text = await post('/api.php', 'just text', 'text/plain');
      assert.ok(text.status >= 400 && text.status < 500, String(text.status));
      const arrays = await post('/api.php', `token=${offers.token}&token=${offers.token}&ua[]=x&sub_id_1[a]=b`);
      assert.equal(arrays.status, 200, 'repeated and bracketed fields are read leniently, never a 500');
      const odd = await post(
        '/click_api/v3',
        new URLSearchParams({
          token: offers.token,
          ip: "1.2.3.4'; DROP TABLE clicks; --",
          ua: 'x'.repeat(5000),
          language: '{"$ne":1}',
          original_headers: '{not json',
          referrer: 'javascript:alert(1)',
        }).toString(),
      );
      assert.equal(odd.status, 200, 'odd values are plain values: the click is stored, never a 500');
      const oddAnswer = (await odd.json()) as { info: { sub_id: string } };
      assert.ok(await app.services.db('clicks').where({ click_id: oddAnswer.info.sub_id }).first());
      const clicksAfter = Number(((await app.services.db('clicks').count({ n: '*' })) as Array<{ n: number }>)[0]!.n);
      assert.equal(clicksAfter, clicksBefore + 2, 'only the two valid requests stored a click');
    });
  },
);
