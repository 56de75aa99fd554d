import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { visit } from '../helpers/visit.js';
import { created } from '../helpers/assert.js';

/*
 * `clickLimit` (SPEC §7.2) is exact within one process (issue 8.9): concurrent campaign-URL
 * clicks into a flow never take more places than its limit, however the counter was seeded.
 */

type Api = ReturnType<typeof api>;

describe(`clickLimit is exact within a process (issue 8.9) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let n = 0;
  const ip = () => {
    n++;
    return `10.88.${Math.floor(n / 250)}.${(n % 250) + 1}`;
  };

  const redirectFlow = (name: string, host: string, extra: Record<string, unknown> = {}) => ({
    name,
    schema: 'redirect',
    url: `https://${host}/?s={subid}`,
    ...extra,
  });
  async function makeCampaign(alias: string, flows: Array<Record<string, unknown>>) {
    const id = created(await a.post('/campaigns', { name: alias, alias }), 'campaign');
    const ids: number[] = [];
    for (const f of flows) ids.push(created(await a.post(`/campaigns/${id}/flows`, f), `flow ${String(f.name)}`));
    return { id, flows: ids };
  }
  /** `count` visitors at once; answers how many were sent to each host. */
  async function burst(alias: string, count: number): Promise<Record<string, number>> {
    const visits = await Promise.all(Array.from({ length: count }, () => visit(app.url, `/${alias}`, { ip: ip() })));
    const hosts: Record<string, number> = {};
    for (const v of visits) {
      assert.equal(v.status, 302, v.body);
      const host = new URL(v.location!).host;
      hosts[host] = (hosts[host] ?? 0) + 1;
    }
    return hosts;
  }
  const storedIn = async (flowId: number) =>
    Number(
      (
        (await app.services.db('clicks').where({ flow_id: flowId }).count({ n: '*' })) as Array<{ n: number | string }>
      )[0]!.n,
    );

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app?.close();
  });

  test('50 concurrent clicks into a new flow with clickLimit 5: exactly 5 go to it', async () => {
    const c = await makeCampaign('limit5', [
      redirectFlow('Limited', 'limited.example', {
        type: 'regular',
        position: 0,
        filters: [{ name: 'clickLimit', values: ['5'] }],
      }),
      redirectFlow('Rest', 'rest.example', { type: 'default' }),
    ]);
    const hosts = await burst('limit5', 50);
    assert.deepEqual(hosts, { 'limited.example': 5, 'rest.example': 45 });
    assert.equal(await storedIn(c.flows[0]!), 5);
    // Later clicks see the full flow too.
    assert.deepEqual(await burst('limit5', 10), { 'rest.example': 10 });
    assert.equal(await storedIn(c.flows[0]!), 5);
  });

  test('a limit given to a flow that already has clicks today counts them, also under concurrency', async () => {
    const c = await makeCampaign('limit-later', [
      redirectFlow('Later', 'later.example', { type: 'regular', position: 0 }),
      redirectFlow('Rest', 'rest.example', { type: 'default' }),
    ]);
    assert.deepEqual(await burst('limit-later', 3), { 'later.example': 3 });
    const flow = await a.patch(`/campaigns/${c.id}/flows/${c.flows[0]}`, {
      filters: [{ name: 'clickLimit', values: ['7'] }],
    });
    assert.equal(flow.status, 200, flow.text);
    assert.deepEqual(await burst('limit-later', 30), { 'later.example': 4, 'rest.example': 26 });
    assert.equal(await storedIn(c.flows[0]!), 7);
  });
});
