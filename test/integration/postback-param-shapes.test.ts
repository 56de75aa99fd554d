import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { assertFieldError } from '../helpers/assert.js';
import { campaignWithFlow } from '../helpers/programme.js';

/*
 * SPEC §7.5 and §10: a parameter the postback reads (`payout`, `revenue`, `subid`, `status`,
 * `tid`, `currency`, the status maps) sent as a list or an object — `payout[]=1`, `payout[a]=1`,
 * JSON `{"payout": {"a": 1}}` — is a 422 naming it and nothing is recorded; it is never dropped
 * (a conversion with revenue 0, the default status or no tid). A repeated parameter counts by its
 * first value, in the query and in a form body alike, as on every tracking URL.
 */

describe(`postback parameters that are not one value on ${dialectName()}`, () => {
  let app: TestApp;
  let key: string;
  let ip = 0;

  /** A click on the campaign URL; its subid. */
  async function click(): Promise<string> {
    ip++;
    const res = await request(app.url, 'GET', '/pb-shapes', {
      headers: { 'user-agent': CHROME, 'x-forwarded-for': `10.77.${Math.floor(ip / 250)}.${(ip % 250) + 1}` },
    });
    assert.equal(res.status, 302, res.text.slice(0, 200));
    const subid = new URL(res.headers.get('location')!).searchParams.get('s');
    assert.ok(subid);
    return subid;
  }

  const conversions = (subid: string) =>
    app.services.db('conversions').where({ click_id: subid }) as Promise<
      Array<{ revenue: number | string; tid: string | null; status: string }>
    >;

  const get = (query: string) => request(app.url, 'GET', `/postback/${key}?${query}`);
  const postForm = (body: string) =>
    request(app.url, 'POST', `/postback/${key}`, {
      raw: body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  const postJson = (body: unknown) => request(app.url, 'POST', `/postback/${key}`, { body });

  /** 422 naming `field`, and no conversion for the click. */
  async function assertRefused(res: JsonResponse, field: string, subid: string, what: string): Promise<void> {
    assert.equal(res.status, 422, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
    assertFieldError(res, field);
    assert.deepEqual(await conversions(subid), [], `${what}: nothing recorded`);
  }

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    const a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    assert.equal((await a.patch('/settings', { exchangeRates: { EUR: 1.1 } })).status, 200);
    await campaignWithFlow(
      a,
      { name: 'Shapes', alias: 'pb-shapes' },
      { name: 'Main', type: 'default', offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }] },
    );
    key = app.services.settings.get().postbackKey;
  });
  after(async () => {
    await app?.close();
  });

  test('GET: payout[]=1 and payout[a]=1 are a 422 naming payout', async () => {
    const subid = await click();
    await assertRefused(await get(`subid=${subid}&payout[]=1&tid=t9`), 'payout', subid, 'payout[]');
    await assertRefused(await get(`subid=${subid}&payout%5B%5D=1&tid=t9`), 'payout', subid, 'payout%5B%5D');
    await assertRefused(await get(`subid=${subid}&payout[a]=1&tid=t9`), 'payout', subid, 'payout[a]');
    await assertRefused(await get(`subid=${subid}&payout=2&payout[]=1`), 'payout', subid, 'payout and payout[]');
  });

  test('GET: every parameter the postback reads, as a list, is a 422 naming it', async () => {
    const subid = await click();
    const cases: Array<[string, string]> = [
      [`revenue[]=1`, 'revenue'],
      [`tid[]=t9`, 'tid'],
      [`status[]=rejected`, 'status'],
      [`currency[]=EUR`, 'currency'],
      [`subid[]=${subid}`, 'subid'],
      [`sale_status[]=approved&status=approved`, 'sale_status'],
      [`lead_status[x]=reg`, 'lead_status'],
      [`rejected_status[]=no`, 'rejected_status'],
    ];
    for (const [query, field] of cases) await assertRefused(await get(`subid=${subid}&${query}`), field, subid, query);
  });

  test('POST JSON: a payout that is an object, a list, true or null is a 422 naming payout', async () => {
    const subid = await click();
    for (const payout of [{ a: 1 }, [1], true, null])
      await assertRefused(await postJson({ subid, payout, tid: 'p4' }), 'payout', subid, JSON.stringify(payout));
    await assertRefused(await postJson({ subid, 'payout[]': '1', tid: 'p4' }), 'payout', subid, '"payout[]"');
  });

  test('POST JSON: the other parameters the postback reads are held to one value too', async () => {
    const subid = await click();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ revenue: { value: 5 } }, 'revenue'],
      [{ tid: ['a', 'b'] }, 'tid'],
      [{ status: { is: 'rejected' } }, 'status'],
      [{ currency: ['EUR'] }, 'currency'],
      [{ sale_status: false }, 'sale_status'],
    ];
    for (const [extra, field] of cases)
      await assertRefused(await postJson({ subid, payout: '5', ...extra }), field, subid, JSON.stringify(extra));
    await assertRefused(await postJson({ subid: [subid], payout: '5' }), 'subid', subid, 'subid as a list');
  });

  test('POST form: payout[]=1 is a 422 naming payout, as in the query', async () => {
    const subid = await click();
    await assertRefused(await postForm(`subid=${subid}&payout[]=1&tid=f1`), 'payout', subid, 'form payout[]');
    await assertRefused(await postForm(`subid=${subid}&payout[a]=1&tid=f1`), 'payout', subid, 'form payout[a]');
    await assertRefused(await postForm(`subid=${subid}&payout=1&tid[]=f1`), 'tid', subid, 'form tid[]');
  });

  test('a repeated parameter counts by its first value, in the query and in a form body alike', async () => {
    const bySubid = await click();
    const query = await get(`subid=${bySubid}&payout=1&payout=2&tid=q1&tid=q2`);
    assert.equal(query.status, 200, query.text);
    assert.equal(query.body.revenue, 1);
    assert.equal(query.body.tid, 'q1');

    const byForm = await click();
    const form = await postForm(`subid=${byForm}&payout=3&payout=4&tid=f1&tid=f2&status=sale&status=rejected`);
    assert.equal(form.status, 200, form.text);
    assert.equal(form.body.revenue, 3);
    assert.equal(form.body.tid, 'f1');
    assert.equal(form.body.status, 'sale');
    const [row] = await conversions(byForm);
    assert.equal(Number(row!.revenue), 30_000, 'stored in 1/10,000 units');
  });

  test('scalar values still work, and other parameters (sub ids, macros) stay lenient', async () => {
    const subid = await click();
    const res = await get(`subid=${subid}&payout=12.5&tid=ok1&sub_id_1[]=zone&extra[a]=1`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.revenue, 12.5);

    const json = await click();
    const viaJson = await postJson({ subid: json, payout: 7, tid: 'ok2', sub_id_2: { nested: true } });
    assert.equal(viaJson.status, 200, viaJson.text);
    assert.equal(viaJson.body.revenue, 7);
    assert.equal(viaJson.body.tid, 'ok2');
  });

  test('a bad scalar payout is still a 422 naming payout', async () => {
    const subid = await click();
    for (const payout of ['abc', '-1', '1e309'])
      await assertRefused(await get(`subid=${subid}&payout=${payout}`), 'payout', subid, payout);
    const huge = await request(app.url, 'POST', `/postback/${key}`, { raw: `{"subid":"${subid}","payout":1e309}` });
    await assertRefused(huge, 'payout', subid, 'JSON 1e309');
  });
});
