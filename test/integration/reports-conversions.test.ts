import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { GROUP_BY } from '../../server/services/reports.js';
import { created } from '../helpers/assert.js';

/*
 * SPEC §15: a row's `conversions` counts each conversion once, whatever paid it. A postback that
 * also pays the click's affiliate (SPEC §7.5) is one conversion and one revenue in every grouping:
 * the sale or action recorded to pay the affiliate carries the commission, not a second conversion.
 */

type Row = Record<string, number | string | null>;
const total = (rows: Row[], key: string) => rows.reduce((s, r) => s + Number(r[key] ?? 0), 0);

describe(`a postback that pays an affiliate is one conversion in every grouping (SPEC §15) on ${dialectName()}`, () => {
  let app: TestApp;
  let owner: ReturnType<typeof api>;
  let key: string;
  let campaignId: number;

  const postback = async (params: Record<string, string>) => {
    const res = await request(app.url, 'GET', `/postback/${key}?${new URLSearchParams(params).toString()}`);
    assert.equal(res.status, 200, `${JSON.stringify(params)}: ${res.text}`);
    return res;
  };

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    key = app.services.settings.get().postbackKey;
    created(
      await owner.post('/affiliates', { name: 'Ada', email: 'ada@example.com', refId: 'ada', status: 'approved' }),
      'affiliate',
    );
    const sourceId = created(
      await owner.post('/sources', { name: 'Push network', params: { sub_id_1: 'zone' } }),
      'source',
    );
    campaignId = created(
      await owner.post('/campaigns', { name: 'Postbacks', alias: 'pb-once', sourceId, approval: 'auto' }),
      'campaign',
    );
    created(
      await owner.post(`/campaigns/${campaignId}/flows`, {
        name: 'Default',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
      }),
      'flow',
    );
    created(
      await owner.post(`/campaigns/${campaignId}/payouts`, {
        kind: 'general',
        title: 'Ten percent',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
      }),
      'CPS payout',
    );
    created(
      await owner.post(`/campaigns/${campaignId}/payouts`, {
        kind: 'general',
        title: 'A lead',
        type: 'CPA',
        actionCode: 'lead',
        affiliateCommission: { value: 1.5, unit: 'fixed' },
      }),
      'CPA payout',
    );

    const click = await request(app.url, 'GET', '/pb-once?a_aid=ada&zone=z1', {
      headers: { 'user-agent': CHROME, 'x-forwarded-for': '81.2.69.160' },
    });
    assert.equal(click.status, 302, click.text);
    const subid = new URL(click.headers.get('location')!).searchParams.get('s')!;
    const lead = await postback({ subid, status: 'lead', tid: 'T1' });
    assert.equal(typeof lead.body.saleId, 'number', 'the lead paid the affiliate');
    const sale = await postback({ subid, status: 'sale', payout: '50', tid: 'T1' });
    assert.equal(typeof sale.body.saleId, 'number', 'the sale paid the affiliate');
    const rebill = await postback({ subid, status: 'rebill', payout: '20', tid: 'T2' });
    assert.equal(typeof rebill.body.saleId, 'number', 'the rebill paid the affiliate');
  });
  after(() => app?.close());

  for (const groupBy of GROUP_BY) {
    test(`groupBy=${groupBy}: 1 click, 2 conversions, 2 sales, 70 revenue, CR 200 %`, async () => {
      const res = await owner.get(`/reports?groupBy=${groupBy}`);
      assert.equal(res.status, 200, res.text);
      const rows = res.body.rows as Row[];
      assert.equal(total(rows, 'clicks'), 1, JSON.stringify(rows));
      assert.equal(total(rows, 'conversions'), 2, JSON.stringify(rows));
      assert.equal(total(rows, 'sales'), 2, JSON.stringify(rows));
      assert.equal(total(rows, 'revenue'), 70, JSON.stringify(rows));
      const [only] = rows.filter((r) => Number(r.clicks) > 0);
      assert.equal(only!.cr, 200, `one click converted twice (lead→sale, rebill): ${JSON.stringify(only)}`);
    });
  }

  test('the affiliate is still paid: the lead, 10 % of the sale and 10 % of the rebill', async () => {
    const rows = (await owner.get(`/reports?groupBy=campaign&campaignId=${campaignId}`)).body.rows as Row[];
    assert.equal(total(rows, 'commissions'), 1.5 + 5 + 2);
    assert.equal(total(rows, 'commissionsApproved'), 1.5 + 5 + 2);
  });
});
