import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { assertFieldError, created } from '../helpers/assert.js';
import { approvedAffiliate, campaignWithPayout, referredSale } from '../helpers/programme.js';
import { apiRouter } from '../../server/http/api/index.js';

/*
 * SPEC §10a for DELETE: it takes no input, so a stray query parameter (`?force=true` reads as if
 * it were honoured) or a JSON body field is a 422 naming it, and nothing is deleted.
 */

type Api = ReturnType<typeof api>;

/** Every DELETE route of the API router. */
const DELETE_ROUTES = apiRouter()
  .stack.filter((layer) => layer.methods.includes('DELETE'))
  .map((layer) => String(layer.path).replace(/^\/api\/v1/, ''));

describe(`DELETE refuses stray input (SPEC §10a) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let token: string;

  const del = (path: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}) =>
    request(app.url, 'DELETE', `/api/v1${path}`, { ...opts, token });

  /** 422 naming each of `fields`. */
  function assertRefused(res: JsonResponse, fields: string[]): void {
    for (const field of fields) assertFieldError(res, field);
  }

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    token = await tokenFor(app.url, OWNER.email, OWNER.password);
    a = api(app.url, token);
  });
  after(async () => {
    await app?.close();
  });

  test('a collection object (crudRoutes): query parameters and body fields are refused by name, nothing deleted', async () => {
    const group = created(await a.post('/groups', { name: 'Keep me' }), 'group');
    assertRefused(await del(`/groups/${group}?force=true&bogus=1`), ['force', 'bogus']);
    assertRefused(await del(`/groups/${group}`, { body: { bogus: 1 } }), ['bogus']);
    assertRefused(await del(`/groups/${group}?bogus=1`, { body: { cascade: true } }), ['bogus']);
    assertRefused(
      await del(`/groups/${group}`, {
        raw: 'force=true',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      ['force'],
    );
    const refused = await del(`/groups/${group}?force=true`);
    assert.match(refused.body.error.message, /force/);
    assert.equal((await a.get(`/groups/${group}`)).status, 200, 'still there');

    // Without stray input (an empty JSON object is no input) it is deleted.
    assert.equal((await del(`/groups/${group}`, { body: {} })).status, 204);
    assert.equal((await a.get(`/groups/${group}`)).status, 404);
  });

  test('the same for every collection built on crudRoutes', async () => {
    const objects: Array<[string, number]> = [
      ['/affiliates', await approvedAffiliate(a, 'Del Ann', 'delann')],
      ['/campaigns', created(await a.post('/campaigns', { name: 'Del campaign' }), 'campaign')],
      ['/sources', created(await a.post('/sources', { name: 'Del source' }), 'source')],
      ['/commission-groups', created(await a.post('/commission-groups', { name: 'Del tier' }), 'commission group')],
    ];
    for (const [path, id] of objects) {
      assertRefused(await del(`${path}/${id}?force=1`), ['force']);
      assertRefused(await del(`${path}/${id}`, { body: { force: true } }), ['force']);
      assert.equal((await a.get(`${path}/${id}`)).status, 200, `${path}/${id} still there`);
    }
  });

  test('flows, payouts, API keys and payout batches (their own DELETE routes): refused, nothing deleted', async () => {
    const campaign = await campaignWithPayout(a, { name: 'Batch shop', alias: 'batch-shop', approval: 'manual' });
    const flow = created(
      await a.post(`/campaigns/${campaign}/flows`, {
        name: 'Main',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
      }),
      'flow',
    );
    const payouts = (await a.get(`/campaigns/${campaign}/payouts`)).body.data as Array<{ id: number }>;
    const payout = payouts[0]!.id;
    const key = created(await a.post('/api-keys', { name: 'Del key', role: 'manager' }), 'api key');
    await approvedAffiliate(a, 'Batch Ann', 'batchann');
    const { sale } = await referredSale(app.url, 'batchann', campaign, `del-order-${process.pid}`, 100);
    for (const c of sale.body.commissions as Array<{ id: number }>)
      assert.equal((await a.post(`/commissions/${c.id}/approve`)).status, 200);
    const batch = created(await a.post('/payout-batches', { minimum: 1 }), 'payout batch');

    const objects = [
      `/campaigns/${campaign}/flows/${flow}`,
      `/campaigns/${campaign}/payouts/${payout}`,
      `/api-keys/${key}`,
      `/payout-batches/${batch}`,
    ];
    for (const path of objects) {
      assertRefused(await del(`${path}?force=true&bogus=1`), ['force', 'bogus']);
      assertRefused(await del(path, { body: { bogus: 1 } }), ['bogus']);
      assert.equal((await a.get(path)).status, 200, `${path} still there`);
    }
    // Without stray input each goes on to be deleted (the payout is kept: its commissions' history, §9).
    for (const path of [...objects].reverse()) {
      const expected = path.includes('/payouts/') ? 409 : 204;
      assert.equal((await del(path)).status, expected, `${path} without stray input`);
    }
  });

  test('every DELETE route of the API refuses a stray parameter before looking the object up', async () => {
    assert.ok(DELETE_ROUTES.length >= 5, DELETE_ROUTES.join(', '));
    for (const route of DELETE_ROUTES) {
      const path = route.replace(/:[A-Za-z]+/g, '987654');
      assertRefused(await del(`${path}?stray=1`), ['stray']);
      assertRefused(await del(path, { body: { stray: 1 } }), ['stray']);
    }
  });
});
