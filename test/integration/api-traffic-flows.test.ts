import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { assertFieldError } from '../helpers/assert.js';

/*
 * SPEC §7.2 through the REST API: a campaign's flows (/api/v1/campaigns/:id/flows), their
 * filters and schemas, the one-default rule, the listing order and the configuration cache.
 */

type Api = ReturnType<typeof api>;

const OFFER = { url: 'https://offer.example/?sub={subid}&c={campaign_id}', weight: 100 };

describe('/api/v1/campaigns/:id/flows', () => {
  let app: TestApp;
  let a: Api;
  let campaignId: number;
  let otherCampaignId: number;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaignId = (await a.post('/campaigns', { name: 'Traffic', alias: 'traffic' })).body.id;
    otherCampaignId = (await a.post('/campaigns', { name: 'Other' })).body.id;
  });
  after(async () => {
    await app.close();
  });

  const flows = (id = campaignId) => `/campaigns/${id}/flows`;

  test('create → 201 with defaults, read, PATCH, DELETE → 204 then 404', async () => {
    const created = await a.post(flows(), { name: 'Main', offers: [OFFER] });
    assert.equal(created.status, 201, created.text);
    const f = created.body;
    assert.equal(typeof f.id, 'number');
    assert.deepEqual(
      { ...f, id: 0, createdAt: null, updatedAt: null },
      {
        id: 0,
        campaignId,
        name: 'Main',
        type: 'regular',
        position: 0,
        weight: 100,
        status: 'active',
        collectClicks: true,
        filters: [],
        filtersMode: 'and',
        schema: 'landings_offers',
        landings: [],
        offers: [OFFER],
        url: null,
        action: null,
        text: null,
        archived: false,
        createdAt: null,
        updatedAt: null,
      },
    );
    assert.deepEqual((await a.get(`${flows()}/${f.id}`)).body, f);

    const patched = await a.patch(`${flows()}/${f.id}`, {
      weight: 0,
      status: 'paused',
      collectClicks: false,
      filtersMode: 'or',
      filters: [
        { name: 'country', mode: 'is', values: ['de', 'AT'] },
        { name: 'ip', mode: 'is_not', values: ['10.0.0.0/8', '2001:db8::/32', '203.0.113.7'] },
        { name: 'param', mode: 'is', values: ['*'], param: 'zoneid' },
        { name: 'schedule', mode: 'is', values: ['mon-fri 09:00-18:00', 'sat,sun 10:00-14:00'] },
        { name: 'clickLimit', mode: 'is', values: ['500'] },
        { name: 'bot', mode: 'is_not', values: [] },
        { name: 'uniqueness', mode: 'is', values: ['flow'] },
        { name: 'language', values: ['en'] },
      ],
      landings: [{ url: 'https://lp.example/a?s={subid}', weight: 3 }, { url: 'https://lp.example/b' }],
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.weight, 0);
    assert.equal(patched.body.status, 'paused');
    assert.equal(patched.body.collectClicks, false);
    assert.equal(patched.body.filtersMode, 'or');
    assert.deepEqual(patched.body.filters[0], { name: 'country', mode: 'is', values: ['DE', 'AT'] });
    assert.deepEqual(patched.body.filters[2], { name: 'param', mode: 'is', values: ['*'], param: 'zoneid' });
    assert.deepEqual(patched.body.filters[7], { name: 'language', mode: 'is', values: ['en'] });
    assert.deepEqual(patched.body.landings, [
      { url: 'https://lp.example/a?s={subid}', weight: 3 },
      { url: 'https://lp.example/b', weight: 100 },
    ]);
    assert.deepEqual(patched.body.offers, [OFFER], 'fields not sent are kept');

    const redirect = await a.patch(`${flows()}/${f.id}`, {
      schema: 'redirect',
      url: 'https://elsewhere.example/{subid}',
    });
    assert.equal(redirect.status, 200, redirect.text);
    assert.equal(redirect.body.url, 'https://elsewhere.example/{subid}');
    const action = await a.patch(`${flows()}/${f.id}`, {
      schema: 'action',
      action: 'show_text',
      text: 'Closed for today',
    });
    assert.equal(action.status, 200, action.text);
    assert.equal(action.body.text, 'Closed for today');

    assert.equal((await a.delete(`${flows()}/${f.id}`)).status, 204);
    assert.equal((await a.get(`${flows()}/${f.id}`)).status, 404);
    assert.equal((await a.delete(`${flows()}/${f.id}`)).status, 404);
  });

  test('bad flows answer 422 naming the field', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ offers: [OFFER] }, 'name'],
      [{ name: 5, offers: [OFFER] }, 'name'],
      [{ name: 'x', type: 'sometimes', offers: [OFFER] }, 'type'],
      [{ name: 'x', status: 'on', offers: [OFFER] }, 'status'],
      [{ name: 'x', position: -1, offers: [OFFER] }, 'position'],
      [{ name: 'x', position: '1', offers: [OFFER] }, 'position'],
      [{ name: 'x', weight: 10001, offers: [OFFER] }, 'weight'],
      [{ name: 'x', weight: 1.5, offers: [OFFER] }, 'weight'],
      [{ name: 'x', collectClicks: 'yes', offers: [OFFER] }, 'collectClicks'],
      [{ name: 'x', filtersMode: 'xor', offers: [OFFER] }, 'filtersMode'],
      [{ name: 'x', schema: 'iframe' }, 'schema'],
      [{ name: 'x' }, 'offers'],
      [{ name: 'x', schema: 'landings_offers', landings: [], offers: [] }, 'offers'],
      [{ name: 'x', offers: [{ url: 'https://o.example', weight: 0 }] }, 'offers'],
      [{ name: 'x', offers: [{ url: 'javascript:alert(1)', weight: 1 }] }, 'offers.0.url'],
      [{ name: 'x', landings: [{ url: 'javascript:alert(1)' }], offers: [OFFER] }, 'landings.0.url'],
      [{ name: 'x', offers: [{ url: 'ftp://o.example/file', weight: 1 }] }, 'offers.0.url'],
      [{ name: 'x', offers: [{ url: 'https://o.example{sub_id_1}/?s={subid}', weight: 1 }] }, 'offers.0.url'],
      [{ name: 'x', landings: [{ url: 'https://{sub_id_1}/' }], offers: [OFFER] }, 'landings.0.url'],
      [{ name: 'x', schema: 'redirect', url: 'https://lp.example:{sub_id_2}/' }, 'url'],
      [{ name: 'x', offers: [{ url: 'https://o.example', weight: -1 }] }, 'offers.0.weight'],
      [{ name: 'x', offers: Array.from({ length: 51 }, () => OFFER) }, 'offers'],
      [{ name: 'x', offers: 'https://o.example' }, 'offers'],
      [{ name: 'x', schema: 'redirect' }, 'url'],
      [{ name: 'x', schema: 'redirect', url: 'javascript:alert(1)' }, 'url'],
      [{ name: 'x', schema: 'action' }, 'action'],
      [{ name: 'x', schema: 'action', action: 'explode' }, 'action'],
      [{ name: 'x', schema: 'action', action: 'show_text' }, 'text'],
      [{ name: 'x', offers: [OFFER], filters: [{ name: 'weather', mode: 'is', values: ['sunny'] }] }, 'filters.0.name'],
      [{ name: 'x', offers: [OFFER], filters: [{ name: 'country', mode: 'maybe', values: ['DE'] }] }, 'filters.0.mode'],
      [{ name: 'x', offers: [OFFER], filters: [{ name: 'param', mode: 'is', values: ['1'] }] }, 'filters.0.param'],
      [
        { name: 'x', offers: [OFFER], filters: [{ name: 'ip', mode: 'is', values: ['10.0.0.0/33'] }] },
        'filters.0.values.0',
      ],
      [
        { name: 'x', offers: [OFFER], filters: [{ name: 'ip', mode: 'is', values: ['1.2.3.4', 'not-an-ip'] }] },
        'filters.0.values.1',
      ],
      [
        { name: 'x', offers: [OFFER], filters: [{ name: 'ip', mode: 'is', values: ['::1/129'] }] },
        'filters.0.values.0',
      ],
      [
        { name: 'x', offers: [OFFER], filters: [{ name: 'schedule', mode: 'is', values: ['someday 9-5'] }] },
        'filters.0.values.0',
      ],
      [
        { name: 'x', offers: [OFFER], filters: [{ name: 'device', mode: 'is', values: ['Mobile', 'toaster'] }] },
        'filters.0.values.1',
      ],
      [
        { name: 'x', offers: [OFFER], filters: [{ name: 'language', mode: 'is', values: ['en', 'xx-invalid-!!'] }] },
        'filters.0.values.1',
      ],
      [
        { name: 'x', offers: [OFFER], filters: [{ name: 'schedule', mode: 'is', values: ['mon 25:00-26:00'] }] },
        'filters.0.values.0',
      ],
      [
        { name: 'x', offers: [OFFER], filters: [{ name: 'clickLimit', mode: 'is', values: ['0'] }] },
        'filters.0.values',
      ],
      [
        { name: 'x', offers: [OFFER], filters: [{ name: 'clickLimit', mode: 'is', values: ['10', '20'] }] },
        'filters.0.values',
      ],
      [{ name: 'x', offers: [OFFER], filters: [{ name: 'country', mode: 'is', values: [] }] }, 'filters.0.values'],
      [
        { name: 'x', offers: [OFFER], filters: [{ name: 'country', mode: 'is', values: ['Germany'] }] },
        'filters.0.values.0',
      ],
      [{ name: 'x', offers: [OFFER], filters: [{ name: 'country', mode: 'is', values: 'DE' }] }, 'filters.0.values'],
      [
        {
          name: 'x',
          offers: [OFFER],
          filters: Array.from({ length: 51 }, () => ({ name: 'bot', mode: 'is', values: [] })),
        },
        'filters',
      ],
      [{ name: 'x', type: 'default', offers: [OFFER], filters: [{ name: 'bot', mode: 'is', values: [] }] }, 'filters'],
    ];
    for (const [body, field] of bad) assertFieldError(await a.post(flows(), body), field);
    const target = await a.post(flows(), { name: 'Patch target', offers: [OFFER] });
    assertFieldError(await a.patch(`${flows()}/${target.body.id}`, { schema: 'redirect' }), 'url');
    assertFieldError(await a.patch(`${flows()}/${target.body.id}`, { offers: [] }), 'offers');
    assertFieldError(
      await a.patch(`${flows()}/${target.body.id}`, { filters: [{ name: 'param', values: ['x'] }] }),
      'filters.0.param',
    );
    assert.equal((await a.post(`/campaigns/999999/flows`, { name: 'x', offers: [OFFER] })).status, 404);
    assert.equal((await a.get(`/campaigns/999999/flows`)).status, 404);
    assert.equal(
      (await a.get(`${flows(otherCampaignId)}/${target.body.id}`)).status,
      404,
      'a flow belongs to one campaign',
    );
    assert.equal((await a.patch(`${flows(otherCampaignId)}/${target.body.id}`, { name: 'y' })).status, 404);
    assert.equal((await a.delete(`${flows()}/${target.body.id}`)).status, 204);
  });

  test('a macro in the host of a URL stored before that was refused does not choose where the visitor goes', async () => {
    const id = (await a.post('/campaigns', { name: 'Old template', alias: 'old-template' })).body.id as number;
    const flow = await a.post(flows(id), { name: 'Old', schema: 'redirect', url: 'https://offer.example/?s={subid}' });
    assert.equal(flow.status, 201, flow.text);
    // As a database written before the rule would hold it.
    await app.services
      .db('flows')
      .where({ id: flow.body.id })
      .update({ redirect_url: 'https://offer.example{sub_id_1}/?s={subid}' });
    app.services.cache.invalidate();
    const res = await fetch(`${app.url}/old-template?sub_id_1=.evil.example`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = res.headers.get('location') ?? '';
    assert.ok(
      location.startsWith('https://offer.example%7Bsub_id_1%7D/?s=') ||
        location.startsWith('https://offer.example{sub_id_1}/?s='),
      location,
    );
    assert.ok(!location.includes('evil'), location);
  });

  test('a language filter takes tags (de, en-US) as sent; a device filter takes the device types', async () => {
    const res = await a.post(flows(), {
      name: 'Tags',
      offers: [OFFER],
      filters: [
        { name: 'language', values: ['de-DE', 'en'] },
        { name: 'device', values: ['Tablet', 'smarttv'] },
      ],
    });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.filters[0].values, ['de-DE', 'en']);
    assert.equal((await a.delete(`${flows()}/${res.body.id}`)).status, 204);
  });

  test('at most one default flow per campaign', async () => {
    const first = await a.post(flows(), {
      name: 'Fallback',
      type: 'default',
      schema: 'redirect',
      url: 'https://fallback.example/',
    });
    assert.equal(first.status, 201, first.text);
    assertFieldError(await a.post(flows(), { name: 'Second fallback', type: 'default', offers: [OFFER] }), 'type');
    const regular = await a.post(flows(), { name: 'Regular', offers: [OFFER] });
    assertFieldError(await a.patch(`${flows()}/${regular.body.id}`, { type: 'default' }), 'type');
    // Another campaign has its own default.
    assert.equal(
      (await a.post(flows(otherCampaignId), { name: 'Its fallback', type: 'default', offers: [OFFER] })).status,
      201,
    );
    // Once the first is archived, another may be the default.
    await a.patch(`${flows()}/${first.body.id}`, { archived: true });
    assert.equal((await a.patch(`${flows()}/${regular.body.id}`, { type: 'default' })).status, 200);
    assertFieldError(await a.patch(`${flows()}/${first.body.id}`, { archived: false }), 'type');
    await a.delete(`${flows()}/${first.body.id}`);
    await a.delete(`${flows()}/${regular.body.id}`);
  });

  test('the list answers forced, then regular, then default flows, each by position', async () => {
    const make = (name: string, type: string, position?: number) =>
      a.post(flows(), { name, type, ...(position === undefined ? {} : { position }), offers: [OFFER] });
    const r2 = await make('regular at 5', 'regular', 5);
    const d = await make('default', 'default', 0);
    const f2 = await make('forced at 9', 'forced', 9);
    const r1 = await make('regular at 1', 'regular', 1);
    const f1 = await make('forced at 2', 'forced', 2);
    const appended = await make('appended', 'regular');
    assert.equal(appended.body.position, 10, 'without a position a flow goes after the last one');
    const list = await a.get(flows());
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(
      list.body.data.map((x: { id: number }) => x.id),
      [f1, f2, r1, r2, appended, d].map((x) => x.body.id),
    );
    assert.deepEqual(list.body.pagination, { page: 1, perPage: 50, total: 6, totalPages: 1 });
    assert.deepEqual(
      (await a.get(`${flows()}?type=forced`)).body.data.map((x: { id: number }) => x.id),
      [f1.body.id, f2.body.id],
    );
    const page2 = await a.get(`${flows()}?perPage=4&page=2`);
    assert.deepEqual(
      page2.body.data.map((x: { id: number }) => x.id),
      [appended.body.id, d.body.id],
    );
    assertFieldError(await a.get(`${flows()}?type=sometimes`), 'type');
  });

  test('a PATCH reaches the configuration cache as FlowDefs (url → redirectUrl, text → actionText)', async () => {
    const listed = (await a.get(flows())).body.data as Array<{ id: number; name: string }>;
    const target = listed.find((x) => x.name === 'regular at 1')!;
    let snap = await app.services.cache.snapshot();
    const before = snap.flows.get(campaignId)!;
    assert.equal(before.length, listed.length);
    assert.equal(before.find((x) => x.id === target.id)?.schema, 'landings_offers');

    const patched = await a.patch(`${flows()}/${target.id}`, {
      schema: 'redirect',
      url: 'https://new.example/{subid}',
      weight: 7,
      filters: [{ name: 'device', mode: 'is', values: ['mobile'] }],
    });
    assert.equal(patched.status, 200, patched.text);
    snap = await app.services.cache.snapshot();
    const def = snap.flows.get(campaignId)!.find((x) => x.id === target.id)!;
    assert.equal(def.schema, 'redirect');
    assert.equal(def.redirectUrl, 'https://new.example/{subid}');
    assert.equal(def.weight, 7);
    assert.deepEqual(def.filters, [{ name: 'device', mode: 'is', values: ['mobile'] }]);
    assert.equal(def.campaignId, campaignId);
    assert.equal('url' in def, false);

    await a.patch(`${flows()}/${target.id}`, { schema: 'action', action: 'show_text', text: 'Hello' });
    snap = await app.services.cache.snapshot();
    const action = snap.flows.get(campaignId)!.find((x) => x.id === target.id)!;
    assert.deepEqual([action.action, action.actionText], ['show_text', 'Hello']);

    // Archived flows leave the cache; deleted ones too.
    await a.patch(`${flows()}/${target.id}`, { archived: true });
    snap = await app.services.cache.snapshot();
    assert.equal(
      snap.flows.get(campaignId)!.some((x) => x.id === target.id),
      false,
    );
    // Cached flows are in position order.
    const positions = snap.flows.get(campaignId)!.map((x) => x.position);
    assert.deepEqual(
      positions,
      [...positions].sort((x, y) => x - y),
    );
  });

  test('a flow with recorded clicks is archived, not deleted; every change is audited', async () => {
    const flow = await a.post(flows(), { name: 'With clicks', offers: [OFFER] });
    await app.services.db('clicks').insert({
      click_id: `flowhist${Date.now().toString(36)}`,
      at: Date.now(),
      visitor_id: 'v',
      campaign_id: campaignId,
      flow_id: flow.body.id,
      status: 'accepted',
      matched_by: 'campaign',
      source: 'campaign',
      trace: '{}',
    });
    const res = await a.delete(`${flows()}/${flow.body.id}`);
    assert.equal(res.status, 409, res.text);
    assert.match(res.body.error.message, /archive it instead/);
    assert.equal((await a.patch(`${flows()}/${flow.body.id}`, { archived: true })).body.archived, true);

    const actions = (
      (await app.services.db('audit_log').where('object_type', 'flow').select('action')) as Array<{ action: string }>
    ).map((r) => r.action);
    for (const action of ['flow.created', 'flow.updated', 'flow.deleted']) assert.ok(actions.includes(action), action);
  });

  test('deleting a campaign deletes its flows', async () => {
    const c = await a.post('/campaigns', { name: 'Short-lived' });
    const f = await a.post(flows(c.body.id), { name: 'Gone', offers: [OFFER] });
    assert.equal((await a.delete(`/campaigns/${c.body.id}`)).status, 204);
    assert.equal(await app.services.db('flows').where({ id: f.body.id }).first(), undefined);
  });
});
