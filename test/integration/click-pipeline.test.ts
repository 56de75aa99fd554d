import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME_LINUX, GOOGLEBOT, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { visit, paramOf } from '../helpers/visit.js';
import { builtinPlugins } from '../../server/plugins/builtins.js';
import type { AffixPlugin } from '../../server/plugins/types.js';
import { created } from '../helpers/assert.js';

/*
 * One click pipeline (issue 9.4): every entry point that records a click — the snippet's
 * POST /t/click, the redirect link GET /r, the campaign URL GET /<alias>, the Click API and the
 * bypass-cache fresh click — runs the same rules: the `click.fraudCheck` filter (decline or drop),
 * the decline reasons for unknown and unapproved affiliates, PPC payouts, and `click.recorded`.
 */

type Api = ReturnType<typeof api>;

const BLOCKED = '198.51.100.0/24';

interface ClickRow {
  click_id: string;
  campaign_id: number;
  affiliate_id: number | null;
  status: string;
  decline_reason: string | null;
  source: string;
  flow_id: number | null;
}

interface Recorded {
  clickId: string;
  status: string;
  declineReason: string | null;
  source: string;
  campaignId: number;
}

describe(`one click pipeline for every entry point (issue 9.4) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let clockOffset = 0;
  let ann: number;
  let pat: number;
  let pipe: { id: number; token: string };
  const recorded: Recorded[] = [];
  let n = 0;
  /** An address of the blocked range / an allowed one no other test used. */
  const blockedIp = () => `198.51.100.${(++n % 250) + 1}`;
  const allowedIp = () => `203.0.113.${(++n % 250) + 1}`;

  const recorder: AffixPlugin = {
    name: 'click-recorder',
    title: 'Click recorder',
    description: 'Remembers every click.recorded',
    register(hooks) {
      hooks.addAction('click.recorded', (c) => {
        recorded.push(c as Recorded);
      });
    },
  };

  const clickRow = async (clickId: string | null | undefined): Promise<ClickRow | undefined> => {
    assert.ok(clickId, 'a click id');
    return (await app.services.db('clicks').where({ click_id: clickId }).first()) as ClickRow | undefined;
  };
  const dropped = async (reason: string) => {
    const rows = (await app.services.db('dropped_counts').where({ kind: 'click', reason })) as Array<{
      count: number | string;
    }>;
    return rows.reduce((sum, r) => sum + Number(r.count), 0);
  };
  const fraud = async (patch: Record<string, unknown>) => {
    const res = await a.patch('/settings', {
      fraud: {
        blockedIps: [],
        blockedIpsAction: 'decline',
        bots: false,
        botsAction: 'decline',
        duplicateClickSeconds: 0,
        duplicateClickAction: 'decline',
        ...patch,
      },
    });
    assert.equal(res.status, 200, res.text);
  };
  const clickApi = (params: Record<string, string>) =>
    request(app.url, 'GET', `/click_api/v3?${new URLSearchParams({ user_agent: CHROME_LINUX, ...params }).toString()}`);

  /** The entry points, each recording one click from `ip`; answers the stored click id and what the visitor got. */
  const entryPoints: Record<string, (ip: string) => Promise<{ clickId: string | null; sentTo: string | null }>> = {
    '/t/click': async (ip) => {
      const res = await request(app.url, 'POST', '/t/click', {
        body: { url: 'https://shop.example/?a_aid=ann' },
        headers: { 'user-agent': CHROME_LINUX, 'x-forwarded-for': ip },
      });
      assert.equal(res.status, 200, res.text);
      return { clickId: res.body.clickId as string | null, sentTo: null };
    },
    '/r': async (ip) => {
      const res = await visit(app.url, '/r?a_aid=ann', { ip });
      assert.equal(res.status, 302, res.body);
      const visitor = paramOf(res.location, 'affix_vid');
      const row = (await app.services
        .db('clicks')
        .where({ visitor_id: visitor, source: 'redirect' })
        .orderBy('id', 'desc')
        .first()) as ClickRow | undefined;
      return { clickId: row?.click_id ?? null, sentTo: res.location };
    },
    '/<alias>': async (ip) => {
      const res = await visit(app.url, '/pipe', { ip });
      assert.equal(res.status, 302, res.body);
      return { clickId: paramOf(res.location, 's'), sentTo: res.location };
    },
    '/click_api/v3': async (ip) => {
      const res = await clickApi({ token: pipe.token, ip });
      assert.equal(res.status, 200, res.text);
      return { clickId: res.body.info.sub_id as string | null, sentTo: res.body.info.url as string | null };
    },
    '/t/fresh-click': async (ip) => {
      // A landing page served from a cache: its subid is older than three minutes.
      const first = await visit(app.url, '/fresh', { ip: allowedIp() });
      assert.equal(first.status, 302, first.body);
      clockOffset += 4 * 60_000;
      const res = await request(
        app.url,
        'GET',
        `/t/fresh-click?subid=${paramOf(first.location, '_subid')}&ts=${paramOf(first.location, '_ts')}`,
        { headers: { 'user-agent': CHROME_LINUX, 'x-forwarded-for': ip } },
      );
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.cached, true, res.text);
      return { clickId: res.body.subid as string | null, sentTo: res.body.url as string | null };
    },
  };

  before(async () => {
    app = await startTestApp({
      builtins: (deps) => [...builtinPlugins(deps), recorder],
      clock: () => Date.now() + clockOffset,
    });
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    assert.equal((await a.patch('/settings', { siteUrl: 'https://shop.example/' })).status, 200);
    for (const plugin of ['fraud-protection', 'click-recorder'])
      assert.equal((await a.patch(`/plugins/${plugin}`, { active: true })).status, 200);
    ann = created(await a.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann' }), 'affiliate');
    pat = created(
      await a.post('/affiliates', { name: 'Pat', email: 'pat@example.com', refId: 'pat', status: 'pending' }),
      'affiliate',
    );
    const makeCampaign = async (alias: string, extra: Record<string, unknown>, flow: Record<string, unknown>) => {
      const res = await a.post('/campaigns', { name: alias, alias, ...extra });
      const id = created(res, 'campaign');
      created(await a.post(`/campaigns/${id}/flows`, { name: 'Main', type: 'default', ...flow }), 'flow');
      return { id, token: res.body.apiToken as string };
    };
    pipe = await makeCampaign(
      'pipe',
      { approval: 'auto' },
      { schema: 'redirect', url: 'https://offer.example/?s={subid}&aff={affiliate_id}' },
    );
    created(
      await a.post(`/campaigns/${pipe.id}/payouts`, {
        kind: 'general',
        title: 'Per click',
        type: 'PPC',
        affiliateCommission: { value: 0.25, unit: 'fixed' },
      }),
      'PPC payout',
    );
    await makeCampaign(
      'fresh',
      { bypassCache: true },
      {
        schema: 'landings_offers',
        landings: [{ url: 'https://landing.example/?s={subid}', weight: 100 }],
        offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
      },
    );
  });
  after(async () => {
    await app?.close();
  });
  beforeEach(async () => {
    await fraud({});
  });

  test('a blocked IP is declined with the rule’s reason on every entry point, and click.recorded fires for each', async () => {
    await fraud({ blockedIps: [BLOCKED], blockedIpsAction: 'decline' });
    for (const [entry, record] of Object.entries(entryPoints)) {
      const ip = blockedIp();
      const { clickId, sentTo } = await record(ip);
      const row = await clickRow(clickId);
      assert.ok(row, `${entry}: the declined click is stored`);
      assert.equal(row.status, 'declined', `${entry}: declined`);
      assert.equal(row.decline_reason, `IP ${ip} is blocked`, `${entry}: with the rule's reason`);
      if (entry !== '/t/click') assert.ok(sentTo, `${entry}: the visitor is still sent on`);
      const hook = recorded.find((r) => r.clickId === clickId);
      assert.ok(hook, `${entry}: click.recorded fired`);
      assert.equal(hook.status, 'declined');
      assert.equal(hook.declineReason, `IP ${ip} is blocked`);
    }
    assert.deepEqual([...new Set(recorded.filter((r) => r.status === 'declined').map((r) => r.source))].sort(), [
      'campaign',
      'redirect',
      'snippet',
    ]);
  });

  test('an allowed click fires click.recorded on every entry point, not declined', async () => {
    await fraud({ blockedIps: [BLOCKED] });
    for (const [entry, record] of Object.entries(entryPoints)) {
      const { clickId } = await record(allowedIp());
      const row = await clickRow(clickId);
      assert.ok(row, `${entry}: stored`);
      assert.notEqual(row.status, 'declined', `${entry}: ${row.decline_reason}`);
      assert.ok(
        recorded.some((r) => r.clickId === clickId && r.status === row.status),
        `${entry}: click.recorded`,
      );
    }
  });

  test('bots (Click API) and repeated clicks (campaign URL) are declined there too', async () => {
    await fraud({ bots: true, botsAction: 'decline', duplicateClickSeconds: 60 });
    const bot = await clickApi({ token: pipe.token, ip: allowedIp(), user_agent: GOOGLEBOT });
    assert.ok(bot.body.info.url, 'the bot is still routed');
    const botRow = await clickRow(bot.body.info.sub_id as string);
    assert.equal(botRow?.status, 'declined');
    assert.equal(botRow?.decline_reason, 'the user agent is a bot');

    const ip = allowedIp();
    const first = await visit(app.url, '/pipe', { ip });
    const second = await visit(app.url, '/pipe', { ip });
    assert.equal(second.status, 302);
    assert.notEqual((await clickRow(paramOf(first.location, 's')))?.status, 'declined');
    const repeat = await clickRow(paramOf(second.location, 's'));
    assert.equal(repeat?.status, 'declined');
    assert.match(repeat?.decline_reason ?? '', /^repeated click from 203\.0\.113\.\d+ within 60 s$/);
  });

  test('drop on a campaign URL or the Click API: the visitor is still sent on, nothing is stored, the drop is counted', async () => {
    await fraud({ blockedIps: [BLOCKED], blockedIpsAction: 'drop' });
    const before = await dropped('blockedIps');
    const hooksBefore = recorded.length;
    const res = await visit(app.url, '/pipe', { ip: blockedIp() });
    assert.equal(res.status, 302);
    assert.match(res.location ?? '', /^https:\/\/offer\.example\//);
    assert.equal(await clickRow(paramOf(res.location, 's')), undefined, 'not stored');
    const viaApi = await clickApi({ token: pipe.token, ip: blockedIp() });
    assert.ok(viaApi.body.info.url, 'the Click API still answers where to send the visitor');
    assert.equal(await clickRow(viaApi.body.info.sub_id as string), undefined, 'not stored');
    assert.equal(await dropped('blockedIps'), before + 2);
    assert.equal(recorded.length, hooksBefore, 'a dropped click is not recorded');
  });

  test('an unapproved or unknown affiliate on a campaign URL is stored declined with a reason; an approved one earns its PPC', async () => {
    const pending = await visit(app.url, '/pipe?a_aid=pat', { ip: allowedIp() });
    assert.equal(pending.status, 302, 'the visitor is sent on');
    const pendingRow = await clickRow(paramOf(pending.location, 's'));
    assert.equal(pendingRow?.status, 'declined');
    assert.equal(pendingRow?.affiliate_id, pat, 'the affiliate is recorded on its declined click');
    assert.equal(pendingRow?.decline_reason, `affiliate ${pat} is pending, not approved`);

    const unknown = await visit(app.url, '/pipe?a_aid=nobody', { ip: allowedIp() });
    const unknownRow = await clickRow(paramOf(unknown.location, 's'));
    assert.equal(unknownRow?.status, 'declined');
    assert.equal(unknownRow?.decline_reason, 'unknown affiliate "nobody"');

    const approved = await visit(app.url, '/pipe?a_aid=ann', { ip: allowedIp() });
    assert.equal(paramOf(approved.location, 'aff'), String(ann));
    const approvedRow = await clickRow(paramOf(approved.location, 's'));
    assert.equal(approvedRow?.status, 'unique');
    assert.equal(approvedRow?.affiliate_id, ann);
    const ppc = (await app.services.db('commissions').where({ kind: 'click', campaign_id: pipe.id })) as Array<{
      affiliate_id: number;
      quantity: number | string;
      status: string;
    }>;
    assert.deepEqual(
      ppc.map((c) => [c.affiliate_id, Number(c.quantity), c.status]),
      [[ann, 1, 'approved']],
      'one PPC commission for the approved click only',
    );
  });

  test('declined campaign clicks are counted the same in every grouping', async () => {
    await fraud({ blockedIps: [BLOCKED] });
    await visit(app.url, '/pipe', { ip: blockedIp() });
    await visit(app.url, '/pipe', { ip: allowedIp() });
    const totals = async (groupBy: string) => {
      const res = await a.get(`/reports?groupBy=${groupBy}&campaignId=${pipe.id}&from=2025-06-01&to=2028-05-31`);
      assert.equal(res.status, 200, res.text);
      const rows = res.body.rows as Array<{ clicks: number; uniqueClicks: number }>;
      return [rows.reduce((s, r) => s + r.clicks, 0), rows.reduce((s, r) => s + r.uniqueClicks, 0)];
    };
    const stored = (await app.services
      .db('clicks')
      .where({ campaign_id: pipe.id })
      .whereNot('status', 'declined')
      .count({ n: '*' })) as Array<{ n: number | string }>;
    const byCampaign = await totals('campaign');
    assert.equal(byCampaign[0], Number(stored[0]!.n), 'clicks exclude declined ones');
    assert.deepEqual(await totals('flow'), byCampaign);
    assert.deepEqual(await totals('day'), byCampaign);
  });
});
