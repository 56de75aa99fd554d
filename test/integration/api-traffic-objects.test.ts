import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { assertFieldError } from '../helpers/assert.js';
import { fromUnits, ZERO } from '../../server/domain/money.js';

/*
 * SPEC §7.1 and §7.4 through the REST API: domains, sources, groups and the traffic fields of a
 * campaign (alias per domain, cost model, uniqueness…), with the bad bodies of SPEC §10.
 */

type Api = ReturnType<typeof api>;

/** A stored click (as the campaign runner writes them) that names a source or a flow. */
async function insertClick(app: TestApp, cols: Record<string, unknown>): Promise<void> {
  await app.services.db('clicks').insert({
    click_id: `t${Math.random().toString(36).slice(2, 14)}${Date.now().toString(36)}`.slice(0, 32),
    at: Date.now(),
    visitor_id: 'visitor-for-history',
    status: 'accepted',
    matched_by: 'campaign',
    source: 'campaign',
    trace: '{}',
    ...cols,
  });
}

describe('/api/v1 traffic objects: domains, sources, groups, campaign traffic fields', () => {
  let app: TestApp;
  let a: Api;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app.close();
  });

  test('domains: create (host lower-cased, port kept), read, PATCH, list, DELETE', async () => {
    const created = await a.post('/domains', { host: 'Track.Example.COM' });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.host, 'track.example.com');
    assert.equal(created.body.parkedCampaignId, null);
    const withPort = await a.post('/domains', { host: 'go.example.net:8080' });
    assert.equal(withPort.status, 201, withPort.text);
    assert.equal(withPort.body.host, 'go.example.net:8080');

    const campaign = await a.post('/campaigns', { name: 'Parked' });
    const parked = await a.patch(`/domains/${created.body.id}`, { parkedCampaignId: campaign.body.id });
    assert.equal(parked.status, 200, parked.text);
    assert.equal(parked.body.parkedCampaignId, campaign.body.id);
    assert.equal((await a.get(`/domains/${created.body.id}`)).body.parkedCampaignId, campaign.body.id);

    const list = await a.get('/domains');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.data.map((d: { host: string }) => d.host),
      ['go.example.net:8080', 'track.example.com'],
    );
    assert.equal((await a.get('/domains?q=track')).body.pagination.total, 1);

    assert.equal((await a.delete(`/domains/${withPort.body.id}`)).status, 204);
    assert.equal((await a.get(`/domains/${withPort.body.id}`)).status, 404);
  });

  test('domains: bad bodies answer 422 naming the field', async () => {
    assertFieldError(await a.post('/domains', {}), 'host');
    assertFieldError(await a.post('/domains', { host: 42 }), 'host');
    assertFieldError(await a.post('/domains', { host: 'not a host' }), 'host');
    assertFieldError(await a.post('/domains', { host: 'evil.example/<script>' }), 'host');
    assertFieldError(await a.post('/domains', { host: 'x.example:99999' }), 'host');
    assertFieldError(await a.post('/domains', { host: 'TRACK.example.com' }), 'host');
    assertFieldError(await a.post('/domains', { host: 'fresh.example', parkedCampaignId: 999999 }), 'parkedCampaignId');
    assertFieldError(await a.post('/domains', { host: 'fresh.example', parkedCampaignId: 'abc' }), 'parkedCampaignId');
    const other = await a.post('/domains', { host: 'other.example' });
    assertFieldError(await a.patch(`/domains/${other.body.id}`, { host: 'track.example.com' }), 'host');
  });

  test('sources: params map sub_id_N, cost, currency, external_id; unknown keys are named', async () => {
    const created = await a.post('/sources', {
      name: 'PropellerAds',
      params: { sub_id_1: 'zoneid', cost: 'cost', external_id: 'clickid', sub_id_2: '' },
      postbackUrl: 'https://ads.example/postback?clickid={external_id}&payout={payout}&status={status}',
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.params, { sub_id_1: 'zoneid', cost: 'cost', external_id: 'clickid' });
    assert.equal(created.body.urlTemplate, '?zoneid={zoneid}&cost={cost}&clickid={clickid}');
    assert.equal(
      created.body.postbackUrl,
      'https://ads.example/postback?clickid={external_id}&payout={payout}&status={status}',
    );
    assert.equal(created.body.archived, false);

    const patched = await a.patch(`/sources/${created.body.id}`, { params: { sub_id_3: 'site' }, name: 'Propeller' });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body.params, { sub_id_3: 'site' });
    assert.equal(patched.body.name, 'Propeller');
    assert.equal((await a.get('/sources?q=prop')).body.pagination.total, 1);

    const unknown = await a.post('/sources', { name: 'X', params: { zoneid: 'zoneid', sub_id_16: 'x' } });
    assertFieldError(unknown, 'params.zoneid');
    assertFieldError(unknown, 'params.sub_id_16');
    assert.match(unknown.body.error.message, /zoneid/);
    assertFieldError(await a.post('/sources', { name: 'X', params: { sub_id_1: 'bad name&x=1' } }), 'params.sub_id_1');
    assertFieldError(await a.post('/sources', { name: 'X', params: ['zoneid'] }), 'params');
    assertFieldError(await a.post('/sources', { name: 'X', postbackUrl: 'javascript:alert(1)' }), 'postbackUrl');
    assertFieldError(await a.post('/sources', { params: {} }), 'name');
  });

  test('groups: create, rename, list, delete', async () => {
    const g = await a.post('/groups', { name: 'Push' });
    assert.equal(g.status, 201, g.text);
    assert.equal(g.body.name, 'Push');
    assert.equal((await a.patch(`/groups/${g.body.id}`, { name: 'Push traffic' })).body.name, 'Push traffic');
    assert.equal((await a.get('/groups')).body.data.length, 1);
    assertFieldError(await a.post('/groups', { name: '' }), 'name');
    assertFieldError(await a.post('/groups', { name: ['x'] }), 'name');
    const c = await a.post('/campaigns', { name: 'Grouped', groupId: g.body.id });
    assert.equal(c.body.groupId, g.body.id);
    assert.equal((await a.delete(`/groups/${g.body.id}`)).status, 204);
    assert.equal((await a.get(`/campaigns/${c.body.id}`)).body.groupId, null, 'the campaign loses its group');
  });

  test('campaign traffic fields: defaults, create, PATCH, apiToken generated and regenerable', async () => {
    const plain = await a.post('/campaigns', { name: 'Defaults' });
    assert.equal(plain.status, 201, plain.text);
    const c = plain.body;
    assert.deepEqual(
      {
        domainId: c.domainId,
        alias: c.alias,
        groupId: c.groupId,
        sourceId: c.sourceId,
        flowRotation: c.flowRotation,
        costModel: c.costModel,
        costValue: c.costValue,
        costAuto: c.costAuto,
        costCurrency: c.costCurrency,
        trafficLoss: c.trafficLoss,
        bindVisitors: c.bindVisitors,
        uniqueness: c.uniqueness,
        uniquenessTtlHours: c.uniquenessTtlHours,
        bypassCache: c.bypassCache,
      },
      {
        domainId: null,
        alias: null,
        groupId: null,
        sourceId: null,
        flowRotation: 'position',
        costModel: 'CPC',
        costValue: 0,
        costAuto: true,
        costCurrency: null,
        trafficLoss: 0,
        bindVisitors: 'none',
        uniqueness: 'ip_ua',
        uniquenessTtlHours: 24,
        bypassCache: false,
      },
    );
    assert.match(c.apiToken, /^[A-Za-z0-9_-]{32}$/);

    const domain = await a.post('/domains', { host: 'cpc.example' });
    const source = await a.post('/sources', { name: 'Src', params: { sub_id_1: 'zone' } });
    const full = await a.post('/campaigns', {
      name: 'Push CPC',
      domainId: domain.body.id,
      alias: 'push-cpc_1',
      sourceId: source.body.id,
      flowRotation: 'weight',
      costModel: 'CPM',
      costValue: '1.2345',
      costAuto: false,
      costCurrency: 'eur',
      trafficLoss: 12.5,
      bindVisitors: 'flows_landings',
      uniqueness: 'cookie',
      uniquenessTtlHours: 48,
      bypassCache: true,
      apiToken: 'ignored',
    });
    assert.equal(full.status, 201, full.text);
    assert.equal(full.body.domainId, domain.body.id);
    assert.equal(full.body.alias, 'push-cpc_1');
    assert.equal(full.body.flowRotation, 'weight');
    assert.equal(full.body.costModel, 'CPM');
    assert.equal(full.body.costValue, 1.2345);
    assert.equal(full.body.costAuto, false);
    assert.equal(full.body.costCurrency, 'EUR');
    assert.equal(full.body.trafficLoss, 12.5);
    assert.equal(full.body.bindVisitors, 'flows_landings');
    assert.equal(full.body.uniqueness, 'cookie');
    assert.equal(full.body.uniquenessTtlHours, 48);
    assert.equal(full.body.bypassCache, true);
    assert.notEqual(full.body.apiToken, 'ignored');
    const stored = (await app.services.db('campaigns').where({ id: full.body.id }).first()) as {
      cost_value: number | string;
      traffic_loss: number | string;
    };
    assert.equal(Number(stored.cost_value), 12345, 'stored in 1/10,000 units');
    assert.equal(Number(stored.traffic_loss), 125000);

    const patched = await a.patch(`/campaigns/${full.body.id}`, {
      costModel: 'REVSHARE',
      costValue: 20,
      alias: null,
      domainId: null,
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.costModel, 'REVSHARE');
    assert.equal(patched.body.costValue, 20);
    assert.equal(patched.body.alias, null);
    assert.equal(patched.body.domainId, null);
    assert.equal(patched.body.name, 'Push CPC', 'other fields are kept');
    assert.equal(patched.body.bypassCache, true);

    const before = patched.body.apiToken;
    const regenerated = await a.post(`/campaigns/${full.body.id}/regenerate-api-token`);
    assert.equal(regenerated.status, 200, regenerated.text);
    assert.notEqual(regenerated.body.apiToken, before);
    assert.match(regenerated.body.apiToken, /^[A-Za-z0-9_-]{32}$/);
    assert.equal((await a.post('/campaigns/999999/regenerate-api-token')).status, 404);
  });

  test('campaign traffic fields: bad values answer 422 naming the field', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ flowRotation: 'random' }, 'flowRotation'],
      [{ costModel: 'CPX' }, 'costModel'],
      [{ costValue: -1 }, 'costValue'],
      [{ costValue: 'abc' }, 'costValue'],
      [{ costModel: 'REVSHARE', costValue: 150 }, 'costValue'],
      [{ costAuto: 'yes' }, 'costAuto'],
      [{ costCurrency: 'EURO' }, 'costCurrency'],
      [{ trafficLoss: 100 }, 'trafficLoss'],
      [{ trafficLoss: -5 }, 'trafficLoss'],
      [{ bindVisitors: 'always' }, 'bindVisitors'],
      [{ uniqueness: 'fingerprint' }, 'uniqueness'],
      [{ uniquenessTtlHours: 0 }, 'uniquenessTtlHours'],
      [{ uniquenessTtlHours: 8761 }, 'uniquenessTtlHours'],
      [{ uniquenessTtlHours: 1.5 }, 'uniquenessTtlHours'],
      [{ bypassCache: 1 }, 'bypassCache'],
      [{ alias: 'has space' }, 'alias'],
      [{ alias: 'a/b' }, 'alias'],
      [{ alias: 'x'.repeat(192) }, 'alias'],
      [{ alias: 'admin' }, 'alias'],
      [{ alias: { $ne: 1 } }, 'alias'],
      [{ domainId: 999999 }, 'domainId'],
      [{ sourceId: 999999 }, 'sourceId'],
      [{ groupId: 999999 }, 'groupId'],
      [{ domainId: 'one' }, 'domainId'],
    ];
    for (const [body, field] of bad) assertFieldError(await a.post('/campaigns', { name: 'Bad', ...body }), field);
    const ok = await a.post('/campaigns', { name: 'Patch target' });
    for (const [body, field] of bad) assertFieldError(await a.patch(`/campaigns/${ok.body.id}`, body), field);
    // REVSHARE on a campaign whose stored cost is above 100 is refused too.
    await a.patch(`/campaigns/${ok.body.id}`, { costValue: 150 });
    assertFieldError(await a.patch(`/campaigns/${ok.body.id}`, { costModel: 'REVSHARE' }), 'costValue');
  });

  test('alias is unique per domain (without case), allowed on another domain', async () => {
    const d1 = await a.post('/domains', { host: 'one.example' });
    const d2 = await a.post('/domains', { host: 'two.example' });
    const first = await a.post('/campaigns', { name: 'First', domainId: d1.body.id, alias: 'promo' });
    assert.equal(first.status, 201, first.text);
    assertFieldError(await a.post('/campaigns', { name: 'Dup', domainId: d1.body.id, alias: 'promo' }), 'alias');
    assertFieldError(await a.post('/campaigns', { name: 'Dup', domainId: d1.body.id, alias: 'PROMO' }), 'alias');
    const other = await a.post('/campaigns', { name: 'Other domain', domainId: d2.body.id, alias: 'promo' });
    assert.equal(other.status, 201, other.text);
    const own = await a.post('/campaigns', { name: 'Own host', alias: 'promo' });
    assert.equal(own.status, 201, own.text);
    assertFieldError(await a.post('/campaigns', { name: 'Own host dup', alias: 'promo' }), 'alias');
    // Moving a campaign onto a domain where its alias is taken is refused; keeping its own alias is fine.
    assertFieldError(await a.patch(`/campaigns/${other.body.id}`, { domainId: d1.body.id }), 'alias');
    assert.equal((await a.patch(`/campaigns/${first.body.id}`, { alias: 'promo', name: 'First again' })).status, 200);
    // Campaigns without an alias never collide.
    assert.equal((await a.post('/campaigns', { name: 'No alias 1', domainId: d1.body.id })).status, 201);
    assert.equal((await a.post('/campaigns', { name: 'No alias 2', domainId: d1.body.id, alias: '' })).status, 201);

    const snap = await app.services.cache.snapshot();
    assert.equal(snap.campaignByAlias(d1.body.id, 'Promo')?.id, first.body.id);
    assert.equal(snap.campaignByAlias(d2.body.id, 'promo')?.id, other.body.id);
    assert.equal(snap.campaignByAlias(null, 'promo')?.id, own.body.id);
    assert.equal(snap.campaignByAlias(null, 'nothing'), undefined);
    assert.equal(snap.domainsByHost.get('one.example')?.id, d1.body.id);
  });

  test('a domain or source a campaign uses cannot be deleted (409); once free it can', async () => {
    const domain = await a.post('/domains', { host: 'used.example' });
    const source = await a.post('/sources', { name: 'Used source' });
    const c = await a.post('/campaigns', { name: 'User', domainId: domain.body.id, sourceId: source.body.id });
    const d409 = await a.delete(`/domains/${domain.body.id}`);
    assert.equal(d409.status, 409, d409.text);
    assert.equal(d409.body.error.code, 'conflict');
    assert.match(d409.body.error.message, /User/);
    const s409 = await a.delete(`/sources/${source.body.id}`);
    assert.equal(s409.status, 409, s409.text);
    assert.match(s409.body.error.message, /User/);

    await a.patch(`/campaigns/${c.body.id}`, { domainId: null, sourceId: null });
    assert.equal((await a.delete(`/domains/${domain.body.id}`)).status, 204);
    assert.equal((await a.delete(`/sources/${source.body.id}`)).status, 204);
    assert.equal((await a.delete(`/sources/${source.body.id}`)).status, 404);
  });

  test('a source with recorded clicks is archived, not deleted', async () => {
    const source = await a.post('/sources', { name: 'With history' });
    const campaign = (await a.get('/campaigns?perPage=1')).body.data[0];
    await insertClick(app, { campaign_id: campaign.id, source_id: source.body.id });
    const res = await a.delete(`/sources/${source.body.id}`);
    assert.equal(res.status, 409, res.text);
    assert.match(res.body.error.message, /archive it instead/);
    const archived = await a.patch(`/sources/${source.body.id}`, { archived: true });
    assert.equal(archived.body.archived, true);
    assert.equal(
      (await a.get('/sources?archived=true')).body.data.some((s: { id: number }) => s.id === source.body.id),
      true,
    );
  });

  test('changes reach the configuration cache: domains, sources and campaign fields', async () => {
    const domain = await a.post('/domains', { host: 'cache.example' });
    const source = await a.post('/sources', {
      name: 'Cached',
      params: { sub_id_1: 'zone' },
      postbackUrl: 'https://s.example/pb?c={external_id}',
    });
    const c = await a.post('/campaigns', {
      name: 'Cached campaign',
      domainId: domain.body.id,
      alias: 'cached',
      sourceId: source.body.id,
    });
    let snap = await app.services.cache.snapshot();
    assert.deepEqual(snap.domainsByHost.get('cache.example'), {
      id: domain.body.id,
      host: 'cache.example',
      parkedCampaignId: null,
    });
    assert.deepEqual(snap.sources.get(source.body.id), {
      id: source.body.id,
      name: 'Cached',
      params: { sub_id_1: 'zone' },
      postbackUrl: 'https://s.example/pb?c={external_id}',
    });
    assert.equal(snap.campaignByAlias(domain.body.id, 'cached')?.sourceId, source.body.id);

    await a.patch(`/domains/${domain.body.id}`, { host: 'cache2.example', parkedCampaignId: c.body.id });
    await a.patch(`/sources/${source.body.id}`, { params: { sub_id_2: 'site' } });
    await a.patch(`/campaigns/${c.body.id}`, { alias: 'renamed', costValue: 0.05 });
    snap = await app.services.cache.snapshot();
    assert.equal(snap.domainsByHost.get('cache.example'), undefined);
    assert.equal(snap.domainsByHost.get('cache2.example')?.parkedCampaignId, c.body.id);
    assert.deepEqual(snap.sources.get(source.body.id)?.params, { sub_id_2: 'site' });
    assert.equal(snap.campaignByAlias(domain.body.id, 'cached'), undefined);
    assert.equal(fromUnits(snap.campaignByAlias(domain.body.id, 'renamed')?.costValue ?? ZERO), 0.05);
  });

  test('every change is audited', async () => {
    const actions = ((await app.services.db('audit_log').select('action')) as Array<{ action: string }>).map(
      (r) => r.action,
    );
    for (const action of [
      'domain.created',
      'domain.updated',
      'domain.deleted',
      'source.created',
      'source.updated',
      'source.deleted',
      'group.created',
      'group.deleted',
      'campaign.apiTokenRegenerated',
    ]) {
      assert.ok(actions.includes(action), `${action} missing from the audit log`);
    }
  });

  test('traffic collections need a merchant token', async () => {
    const anon = api(app.url);
    for (const path of ['/domains', '/sources', '/groups']) assert.equal((await anon.get(path)).status, 401);
  });
});
