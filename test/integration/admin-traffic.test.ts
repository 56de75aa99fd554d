import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import { systemActor } from '../../server/services/actor.js';
import { fromUnits } from '../../server/domain/money.js';
import { idFrom, postAndFollow, decode, attr } from '../helpers/html.js';

/*
 * The admin pages of SPEC §7 (domains, sources, groups, a campaign's Traffic settings and Flows
 * tab) driven like a browser without JavaScript: GET a page, read its form, POST it, follow.
 */

/** What a browser would submit for the form posting to `action`; repeated names become lists. */
function formFields(html: string, action: string): Record<string, string | string[]> {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const found = forms.find((f) => attr(f[1] ?? '', 'action') === action);
  assert.ok(found, `no form posting to ${action}`);
  const inner = found[2] ?? '';
  const out: Record<string, string | string[]> = {};
  const add = (name: string, value: string) => {
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  };
  // Document order matters for repeated names (the filter rows), so collect every control with its position.
  const controls: Array<{ at: number; name: string; value: string | null }> = [];
  for (const m of inner.matchAll(/<input\b([^>]*)>/g)) {
    const attrs = m[1] ?? '';
    const name = attr(attrs, 'name');
    const type = attr(attrs, 'type') ?? 'text';
    if (!name || type === 'submit') continue;
    if (type === 'checkbox')
      controls.push({
        at: m.index,
        name,
        value: attr(attrs, 'checked') !== null ? (attr(attrs, 'value') ?? 'on') : null,
      });
    else controls.push({ at: m.index, name, value: attr(attrs, 'value') ?? '' });
  }
  for (const m of inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/g)) {
    const name = attr(m[1] ?? '', 'name');
    if (name) controls.push({ at: m.index, name, value: decode(m[2] ?? '') });
  }
  for (const m of inner.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
    const name = attr(m[1] ?? '', 'name');
    if (!name) continue;
    const opts = [...(m[2] ?? '').matchAll(/<option\b([^>]*)>/g)].map(([, a = '']) => ({
      value: attr(a, 'value') ?? '',
      selected: attr(a, 'selected') !== null,
    }));
    controls.push({ at: m.index, name, value: (opts.find((o) => o.selected) ?? opts[0])?.value ?? '' });
  }
  for (const c of controls.sort((x, y) => x.at - y.at)) if (c.value !== null) add(c.name, c.value);
  return out;
}

/** Sets row `i` of the filter table in posted form fields. */
function setFilterRow(
  fields: Record<string, string | string[]>,
  i: number,
  row: { name: string; mode?: string; values?: string; param?: string },
) {
  for (const [key, value] of [
    ['filterName', row.name],
    ['filterMode', row.mode ?? 'is'],
    ['filterValues', row.values ?? ''],
    ['filterParam', row.param ?? ''],
  ] as const) {
    const list = fields[key];
    assert.ok(Array.isArray(list) && list.length > i, `the form has no filter row ${i}`);
    list[i] = value;
  }
}

describe('admin pages: domains, sources, groups, campaign traffic settings and flows', () => {
  let app: TestApp;
  let owner: Agent;
  let campaignId: number;
  let ownerApi: ReturnType<typeof api>;

  // What a test makes through the forms and later tests work on: found, or (a test run alone)
  // made through the API as the test that makes it leaves it.
  /** The domain track.example.com. */
  const trackDomainId = async (): Promise<number> =>
    (await app.services.domains.all()).find((d) => d.host === 'track.example.com')?.id ??
    created(await ownerApi.post('/domains', { host: 'track.example.com' }), 'domain');
  /** The source “PropellerAds” with its zoneid, site, cost and clickid parameters. */
  const propellerId = async (): Promise<number> =>
    (await app.services.sources.list({ q: 'PropellerAds' }, { page: 1, perPage: 10 })).data.find(
      (x) => x.name === 'PropellerAds',
    )?.id ??
    created(
      await ownerApi.post('/sources', {
        name: 'PropellerAds',
        params: { sub_id_1: 'zoneid', sub_id_2: 'site', cost: 'cost', external_id: 'clickid' },
        postbackUrl: 'https://propeller.example/pb?visitor_id={external_id}&payout={payout}',
      }),
      'source',
    );
  /** The group “Push traffic”. */
  const pushGroupId = async (): Promise<number> =>
    (await app.services.groups.all()).find((g) => g.name === 'Push traffic')?.id ??
    created(await ownerApi.post('/groups', { name: 'Push traffic' }), 'group');
  /** The campaign with its alias spring-push. */
  const withAlias = async (): Promise<void> => {
    if ((await app.services.campaigns.get(campaignId)).alias !== 'spring-push')
      await app.services.campaigns.update(campaignId, { alias: 'spring-push' }, systemActor);
  };
  /** The campaign's three flows: DACH (forced), Closed (regular) and Everyone else (the default). */
  const threeFlows = async (): Promise<void> => {
    if ((await app.services.flows.list(campaignId, {}, { page: 1, perPage: 10 })).pagination.total > 0) return;
    const flows = `/campaigns/${campaignId}/flows`;
    created(
      await ownerApi.post(flows, {
        name: 'DACH',
        type: 'forced',
        position: 3,
        filters: [
          { name: 'country', mode: 'is', values: ['DE', 'AT'] },
          { name: 'param', mode: 'is_not', values: ['*'], param: 'zoneid' },
        ],
        landings: [
          { url: 'https://lp.example/a?s={subid}', weight: 70 },
          { url: 'https://lp.example/b', weight: 100 },
        ],
        offers: [{ url: 'https://offer.example/?c={subid}', weight: 1 }],
      }),
      'DACH',
    );
    created(
      await ownerApi.post(flows, {
        name: 'Everyone else',
        type: 'default',
        schema: 'redirect',
        url: 'https://fallback.example/',
      }),
      'Everyone else',
    );
    created(
      await ownerApi.post(flows, {
        name: 'Closed',
        type: 'regular',
        weight: 5,
        schema: 'action',
        action: 'show_text',
        text: 'We are closed',
      }),
      'Closed',
    );
  };

  before(async () => {
    app = await startTestApp({ env: { PUBLIC_URL: 'https://tracker.example' } });
    owner = await setupOwner(app.url);
    campaignId = (await app.services.campaigns.create({ name: 'Push campaign' }, systemActor)).id;
    ownerApi = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app?.close();
  });

  test('the traffic pages answer 200 and the main navigation links Domains and Sources', async () => {
    for (const path of [
      '/admin/domains',
      '/admin/sources',
      '/admin/sources/new',
      '/admin/groups',
      `/admin/campaigns/${campaignId}/flows`,
    ]) {
      const res = await owner.get(path);
      assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 300)}`);
    }
    const page = decode((await owner.get('/admin/domains')).text);
    assert.match(page, /<a href="\/admin\/domains" aria-current="page">Domains<\/a>/);
    assert.match(page, /<a href="\/admin\/sources" >Sources<\/a>/);
    const flows = decode((await owner.get(`/admin/campaigns/${campaignId}/flows`)).text);
    assert.match(flows, new RegExp(`href="/admin/campaigns/${campaignId}/flows" aria-current="page">Flows`));
    assert.match(flows, /No flows yet/);
    assert.equal((await owner.get('/admin/domains/999999')).status, 404);
    assert.equal((await owner.get(`/admin/campaigns/${campaignId}/flows/999999`)).status, 404);
    assert.equal(
      (await new Agent(app.url).get('/admin/domains')).status,
      302,
      'signed-out visitors are sent to sign in',
    );
  });

  test('domains: add through the form, 422 with the error beside the host, edit, delete refused while used', async () => {
    const form = formFields((await owner.get('/admin/domains')).text, '/admin/domains');
    const added = await postAndFollow(owner, '/admin/domains', { ...form, host: 'Track.Example.com' });
    assert.match(added.text, /Domain track\.example\.com added/);
    const domain = (await app.services.domains.all()).find((d) => d.host === 'track.example.com');
    assert.ok(domain);
    const domainId = domain.id;

    const bad = await owner.post('/admin/domains', { ...form, host: 'not a host!' });
    assert.equal(bad.status, 422);
    const badText = decode(bad.text);
    assert.match(badText, /name="host"[^>]*value="not a host!"/);
    assert.match(badText, /class="field-error" role="alert">must be a host name/);
    const dup = await owner.post('/admin/domains', { ...form, host: 'track.example.com' });
    assert.equal(dup.status, 422);
    assert.match(decode(dup.text), /another domain already has this host/);

    const edit = formFields((await owner.get(`/admin/domains/${domainId}`)).text, `/admin/domains/${domainId}`);
    assert.equal(edit.host, 'track.example.com');
    const saved = await postAndFollow(owner, `/admin/domains/${domainId}`, {
      ...edit,
      parkedCampaignId: String(campaignId),
    });
    assert.match(saved.text, /Domain saved/);
    assert.match(saved.text, /Push campaign/);
    assert.equal((await app.services.domains.get(domainId)).parkedCampaignId, campaignId);

    const spare = await app.services.domains.create({ host: 'spare.example' }, systemActor);
    await app.services.campaigns.update(campaignId, { domainId: spare.id }, systemActor);
    const refused = await postAndFollow(owner, `/admin/domains/${spare.id}/delete`, { confirm: 'yes' });
    assert.match(refused.text, /used by campaign \d+ “Push campaign”/);
    await app.services.campaigns.update(campaignId, { domainId: null }, systemActor);
    const deleted = await postAndFollow(owner, `/admin/domains/${spare.id}/delete`, { confirm: 'yes' });
    assert.match(deleted.text, /Domain spare\.example deleted/);
  });

  test('sources: a parameter row per value, created and edited through the form, 422 beside the row', async () => {
    const page = decode((await owner.get('/admin/sources/new')).text);
    const form = formFields(page, '/admin/sources/new');
    const paramNames = Object.keys(form).filter((k) => k.startsWith('params.'));
    assert.deepEqual(paramNames, [
      ...Array.from({ length: 15 }, (_, i) => `params.sub_id_${i + 1}`),
      'params.cost',
      'params.currency',
      'params.external_id',
    ]);

    const created = await postAndFollow(owner, '/admin/sources/new', {
      ...form,
      name: 'PropellerAds',
      'params.sub_id_1': 'zoneid',
      'params.cost': 'cost',
      'params.external_id': 'clickid',
      postbackUrl: 'https://propeller.example/pb?visitor_id={external_id}&payout={payout}',
    });
    const sourceId = idFrom(created.location, /^\/admin\/sources\/(\d+)$/);
    assert.match(created.text, /Source “PropellerAds” created/);
    assert.match(created.text, /\?zoneid=\{zoneid\}&cost=\{cost\}&clickid=\{clickid\}/);
    const source = await app.services.sources.get(sourceId);
    assert.deepEqual(source.params, { sub_id_1: 'zoneid', cost: 'cost', external_id: 'clickid' });
    assert.equal(source.postbackUrl, 'https://propeller.example/pb?visitor_id={external_id}&payout={payout}');

    const edit = formFields(created.text, `/admin/sources/${sourceId}`);
    assert.equal(edit['params.sub_id_1'], 'zoneid');
    const bad = await owner.post(`/admin/sources/${sourceId}`, {
      ...edit,
      'params.sub_id_2': 'bad name&x',
      postbackUrl: 'javascript:alert(1)',
    });
    assert.equal(bad.status, 422);
    const badText = decode(bad.text);
    assert.match(
      badText,
      /name="params\.sub_id_2"[^>]*value="bad name&x"><p class="field-error" role="alert">must be a URL parameter name/,
    );
    assert.match(badText, /must be an http\(s\) URL/);
    assert.deepEqual((await app.services.sources.get(sourceId)).params, source.params, 'nothing was saved');

    const saved = await postAndFollow(owner, `/admin/sources/${sourceId}`, { ...edit, 'params.sub_id_2': 'site' });
    assert.match(saved.text, /Source saved/);
    assert.equal((await app.services.sources.get(sourceId)).params.sub_id_2, 'site');
    const list = decode((await owner.get('/admin/sources')).text);
    assert.match(list, /PropellerAds/);
    assert.match(list, /\?zoneid=\{zoneid\}&site=\{site\}&cost=\{cost\}/);
  });

  test('groups: create through the form, 422 without a name, delete', async () => {
    const created = await postAndFollow(owner, '/admin/groups', { name: 'Push traffic' });
    assert.match(created.text, /Group “Push traffic” created/);
    const bad = await owner.post('/admin/groups', { name: '  ' });
    assert.equal(bad.status, 422);
    assert.match(decode(bad.text), /class="field-error" role="alert">must not be empty/);
    const group = (await app.services.groups.all()).find((g) => g.name === 'Push traffic')!;
    await app.services.groups.create({ name: 'Spare group' }, systemActor);
    const spare = (await app.services.groups.all()).find((g) => g.name === 'Spare group')!;
    const deleted = await postAndFollow(owner, `/admin/groups/${spare.id}/delete`, { confirm: 'yes' });
    assert.match(deleted.text, /Group “Spare group” deleted/);
    assert.ok(group);
  });

  test('campaign settings: the Traffic fieldset saves every field and shows the campaign URL and API token', async () => {
    const page = decode((await owner.get(`/admin/campaigns/${campaignId}`)).text);
    assert.match(page, /<legend>Traffic<\/legend>/);
    assert.match(page, /tracker\.example \(the tracker's own host\)/);
    assert.match(page, /Set an alias/);
    const form = formFields(page, `/admin/campaigns/${campaignId}`);
    assert.equal(form.flowRotation, 'position');
    assert.equal(form.costModel, 'CPC');
    assert.equal(form.costAuto, 'on');
    assert.equal(form.uniquenessTtlHours, '24');
    const group = { id: await pushGroupId() };
    const domainId = await trackDomainId();
    const sourceId = await propellerId();

    const saved = await postAndFollow(owner, `/admin/campaigns/${campaignId}`, {
      ...form,
      domainId: String(domainId),
      alias: 'spring-push',
      sourceId: String(sourceId),
      groupId: String(group.id),
      flowRotation: 'weight',
      costModel: 'CPM',
      costValue: '2.5',
      costCurrency: 'eur',
      trafficLoss: '10',
      bindVisitors: 'flows_landings_offers',
      uniqueness: 'ip',
      uniquenessTtlHours: '12',
      bypassCache: 'on',
    });
    assert.match(saved.text, /Campaign saved/);
    const c = await app.services.campaigns.get(campaignId);
    assert.deepEqual(
      [
        c.domainId,
        c.alias,
        c.sourceId,
        c.groupId,
        c.flowRotation,
        c.costModel,
        fromUnits(c.costValue),
        c.costCurrency,
        fromUnits(c.trafficLoss),
      ],
      [domainId, 'spring-push', sourceId, group.id, 'weight', 'CPM', 2.5, 'EUR', 10],
    );
    assert.deepEqual(
      [c.bindVisitors, c.uniqueness, c.uniquenessTtlHours, c.bypassCache, c.costAuto],
      ['flows_landings_offers', 'ip', 12, true, true],
    );
    assert.match(
      saved.text,
      /https:\/\/track\.example\.com\/spring-push\?zoneid=\{zoneid\}&site=\{site\}&cost=\{cost\}&clickid=\{clickid\}/,
    );
    assert.match(saved.text, new RegExp(c.apiToken!));

    // Unticking the checkboxes turns them off; the tracker's own host is chosen by the empty domain.
    const again = formFields(saved.text, `/admin/campaigns/${campaignId}`);
    assert.equal(again.costValue, '2.5');
    delete again.bypassCache;
    delete again.costAuto;
    const own = await postAndFollow(owner, `/admin/campaigns/${campaignId}`, { ...again, domainId: '' });
    const after = await app.services.campaigns.get(campaignId);
    assert.deepEqual([after.bypassCache, after.costAuto, after.domainId], [false, false, null]);
    assert.match(own.text, /https:\/\/tracker\.example\/spring-push\?zoneid=/);

    const regenerated = await postAndFollow(owner, `/admin/campaigns/${campaignId}/regenerate-api-token`, {
      confirm: 'yes',
    });
    assert.match(regenerated.text, /new API token/);
    const token = (await app.services.campaigns.get(campaignId)).apiToken!;
    assert.notEqual(token, after.apiToken);
    assert.match(regenerated.text, new RegExp(token));
  });

  test('campaign settings: bad traffic values answer 422 with the errors beside the fields', async () => {
    await withAlias();
    const form = formFields(
      decode((await owner.get(`/admin/campaigns/${campaignId}`)).text),
      `/admin/campaigns/${campaignId}`,
    );
    const bad = await owner.post(`/admin/campaigns/${campaignId}`, {
      ...form,
      trafficLoss: '100',
      costValue: '-1',
      alias: 'no spaces',
    });
    assert.equal(bad.status, 422);
    const text = decode(bad.text);
    assert.match(text, /name="trafficLoss"[^>]*value="100"/);
    assert.match(text, /must be a percentage between 0 and 99\.99/);
    assert.match(text, /must not be negative/);
    assert.match(text, /alias may contain only letters, digits/);

    const other = await app.services.campaigns.create({ name: 'Other campaign' }, systemActor);
    const otherForm = formFields(
      decode((await owner.get(`/admin/campaigns/${other.id}`)).text),
      `/admin/campaigns/${other.id}`,
    );
    const dup = await owner.post(`/admin/campaigns/${other.id}`, { ...otherForm, alias: 'Spring-Push' });
    assert.equal(dup.status, 422);
    assert.match(
      decode(dup.text),
      /class="field-error" role="alert">campaign \d+ “Push campaign” already uses the alias/,
    );
    assert.equal((await app.services.campaigns.get(other.id)).alias, null);
  });

  test('flows: create through the form with filter rows, landings and offers; listed by type and position', async () => {
    await withAlias();
    const page = decode((await owner.get(`/admin/campaigns/${campaignId}/flows`)).text);
    const form = formFields(page, `/admin/campaigns/${campaignId}/flows`);
    assert.equal((form.filterName as string[]).length, 3, 'three empty filter rows');
    assert.equal(form.collectClicks, 'on');
    setFilterRow(form, 0, { name: 'country', values: 'de\nAT' });
    setFilterRow(form, 2, { name: 'param', mode: 'is_not', values: '*', param: 'zoneid' });
    const created = await postAndFollow(owner, `/admin/campaigns/${campaignId}/flows`, {
      ...form,
      name: 'DACH',
      type: 'forced',
      position: '3',
      landings: 'https://lp.example/a?s={subid} 70\nhttps://lp.example/b',
      offers: 'https://offer.example/?c={subid} 1',
    });
    assert.match(created.text, /Flow “DACH” created/);
    const flow = (await app.services.flows.list(campaignId, {}, { page: 1, perPage: 10 })).data[0]!;
    assert.equal(flow.name, 'DACH');
    assert.equal(flow.type, 'forced');
    assert.equal(flow.position, 3);
    assert.deepEqual(flow.filters, [
      { name: 'country', mode: 'is', values: ['DE', 'AT'] },
      { name: 'param', mode: 'is_not', values: ['*'], param: 'zoneid' },
    ]);
    assert.deepEqual(flow.landings, [
      { url: 'https://lp.example/a?s={subid}', weight: 70 },
      { url: 'https://lp.example/b', weight: 100 },
    ]);
    assert.deepEqual(flow.offers, [{ url: 'https://offer.example/?c={subid}', weight: 1 }]);

    const fallback = await postAndFollow(owner, `/admin/campaigns/${campaignId}/flows`, {
      ...formFields(page, `/admin/campaigns/${campaignId}/flows`),
      name: 'Everyone else',
      type: 'default',
      schema: 'redirect',
      url: 'https://fallback.example/',
    });
    assert.match(fallback.text, /Flow “Everyone else” created/);
    await postAndFollow(owner, `/admin/campaigns/${campaignId}/flows`, {
      ...formFields(page, `/admin/campaigns/${campaignId}/flows`),
      name: 'Closed',
      type: 'regular',
      weight: '5',
      schema: 'action',
      action: 'show_text',
      text: 'We are closed',
    });

    const list = decode((await owner.get(`/admin/campaigns/${campaignId}/flows`)).text);
    const forcedAt = list.indexOf('<h2>Forced flows</h2>');
    const regularAt = list.indexOf('<h2>Regular flows</h2>');
    const defaultAt = list.indexOf('<h2>Default flow</h2>');
    assert.ok(forcedAt > 0 && forcedAt < regularAt && regularAt < defaultAt);
    assert.ok(list.indexOf('>DACH<') > forcedAt && list.indexOf('>DACH<') < regularAt);
    assert.ok(list.indexOf('>Closed<') > regularAt && list.indexOf('>Closed<') < defaultAt);
    assert.ok(list.indexOf('>Everyone else<') > defaultAt);
    assert.match(list, /country is DE, AT/);
    assert.match(list, /param zoneid is not \*/);
    assert.match(list, /2 landings, 1 offer/);
    assert.match(list, /redirect to https:\/\/fallback\.example\//);
    assert.match(list, /https:\/\/tracker\.example\/spring-push/);
  });

  test('flows: 422 with errors beside the row and the field, values kept; one default flow', async () => {
    await threeFlows();
    const page = decode((await owner.get(`/admin/campaigns/${campaignId}/flows`)).text);
    const form = formFields(page, `/admin/campaigns/${campaignId}/flows`);
    setFilterRow(form, 0, { name: 'country', values: 'DE' });
    setFilterRow(form, 1, { name: 'ip', values: '10.0.0.0/8\n300.1.1.1/40' });
    const bad = await owner.post(`/admin/campaigns/${campaignId}/flows`, {
      ...form,
      name: 'Broken',
      offers: 'javascript:alert(1) 5',
    });
    assert.equal(bad.status, 422);
    const text = decode(bad.text);
    assert.match(text, /<textarea name="filterValues"[^>]*>10\.0\.0\.0\/8\n300\.1\.1\.1\/40<\/textarea>/);
    assert.match(
      text,
      /<p class="field-error" role="alert">values: "300\.1\.1\.1\/40" is not an IP address or CIDR range/,
    );
    assert.match(text, /line 1: must be an http\(s\) URL/);
    assert.match(text, /name="name"[^>]*value="Broken"/);

    const noUrl = await owner.post(`/admin/campaigns/${campaignId}/flows`, {
      ...formFields(page, `/admin/campaigns/${campaignId}/flows`),
      name: 'No URL',
      schema: 'redirect',
    });
    assert.equal(noUrl.status, 422);
    assert.match(decode(noUrl.text), /class="field-error" role="alert">a redirect flow needs the URL/);

    const missingParam = formFields(page, `/admin/campaigns/${campaignId}/flows`);
    setFilterRow(missingParam, 0, { name: 'param', values: 'x' });
    const noParam = await owner.post(`/admin/campaigns/${campaignId}/flows`, {
      ...missingParam,
      name: 'P',
      offers: 'https://o.example/',
    });
    assert.equal(noParam.status, 422);
    assert.match(decode(noParam.text), /param: the param filter needs the name of the URL parameter/);

    const twoDefaults = await owner.post(`/admin/campaigns/${campaignId}/flows`, {
      ...formFields(page, `/admin/campaigns/${campaignId}/flows`),
      name: 'Second default',
      type: 'default',
      offers: 'https://o.example/',
    });
    assert.equal(twoDefaults.status, 422);
    assert.match(decode(twoDefaults.text), /the campaign already has a default flow/);
    const names = (await app.services.flows.list(campaignId, {}, { page: 1, perPage: 50 })).data.map((f) => f.name);
    assert.deepEqual(names.sort(), ['Closed', 'DACH', 'Everyone else']);
  });

  test('flows: the edit page shows the filters plus empty rows, saves, reaches the cache, deletes', async () => {
    await threeFlows();
    const flow = (await app.services.flows.list(campaignId, { type: 'forced' }, { page: 1, perPage: 10 })).data[0]!;
    const path = `/admin/campaigns/${campaignId}/flows/${flow.id}`;
    const page = decode((await owner.get(path)).text);
    assert.match(page, new RegExp(`href="/admin/campaigns/${campaignId}/flows" aria-current="page">Flows`));
    const form = formFields(page, path);
    assert.deepEqual(form.filterName, ['country', 'param', '', '', '']);
    assert.deepEqual(form.filterValues, ['DE\nAT', '*', '', '', '']);
    assert.deepEqual(form.filterParam, ['', 'zoneid', '', '', '']);
    assert.equal(form.landings, 'https://lp.example/a?s={subid} 70\nhttps://lp.example/b 100');
    assert.equal(form.position, '3');

    setFilterRow(form, 0, { name: '' });
    setFilterRow(form, 3, { name: 'schedule', values: 'mon-fri 09:00-18:00' });
    const saved = await postAndFollow(owner, path, { ...form, weight: '40', status: 'paused' });
    assert.match(saved.text, /Flow saved/);
    const snap = await app.services.cache.snapshot();
    const def = snap.flows.get(campaignId)!.find((f) => f.id === flow.id)!;
    assert.equal(def.weight, 40);
    assert.equal(def.status, 'paused');
    assert.deepEqual(def.filters, [
      { name: 'param', mode: 'is_not', values: ['*'], param: 'zoneid' },
      { name: 'schedule', mode: 'is', values: ['mon-fri 09:00-18:00'] },
    ]);

    const badSchedule = formFields(decode((await owner.get(path)).text), path);
    setFilterRow(badSchedule, 1, { name: 'schedule', values: 'someday' });
    const bad = await owner.post(path, badSchedule);
    assert.equal(bad.status, 422);
    assert.match(decode(bad.text), /is not a schedule such as "mon-fri 09:00-18:00"/);

    const deleted = await postAndFollow(owner, `${path}/delete`, { confirm: 'yes' });
    assert.match(deleted.text, /Flow “DACH” deleted/);
    assert.equal((await owner.get(path)).status, 404);
    assert.equal(
      (await app.services.cache.snapshot()).flows.get(campaignId)!.some((f) => f.id === flow.id),
      false,
    );
  });

  test('forms without a CSRF token are refused', async () => {
    const res = await owner.post('/admin/domains', { host: 'csrf.example' }, { csrf: false });
    assert.equal(res.status, 403);
    assert.equal(
      (await app.services.domains.all()).some((d) => d.host === 'csrf.example'),
      false,
    );
  });
});
