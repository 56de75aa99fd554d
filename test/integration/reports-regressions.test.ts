import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { savedId as created } from '../helpers/assert.js';

const DAY_MS = 86_400_000;

/*
 * Counterexamples found by the reconciliation property (reports-reconcile.property.test.ts),
 * kept as plain tests: each is a report whose groupings disagreed.
 */

type Row = Record<string, number | string | null>;
const total = (rows: Row[], key: string) => rows.reduce((s, r) => s + Number(r[key] ?? 0), 0);

describe(`report groupings that disagreed on ${dialectName()}`, () => {
  // Days of the app's clock, in the past (tokens are signed by the real clock, checked by the app's).
  const first = Math.floor(Date.now() / DAY_MS - 10) * DAY_MS + 9 * 3_600_000;
  let now = first;
  const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  let app: TestApp;
  let owner: ReturnType<typeof api>;
  let shop: number;

  before(async () => {
    app = await startTestApp({ clock: () => now });
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    created(
      await owner.post('/affiliates', { name: 'Ada', email: 'ada@example.com', refId: 'ada', status: 'approved' }),
      'affiliate',
    );
    shop = created(await owner.post('/campaigns', { name: 'Shop', approval: 'manual' }), 'campaign');
    created(
      await owner.post(`/campaigns/${shop}/payouts`, {
        kind: 'general',
        title: 'Ten percent',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
      }),
      'payout',
    );
  });
  after(() => app?.close());

  test('groupBy=banner carries the pending and approved commissions (under no banner) like groupBy=day', async () => {
    assert.equal(
      (await owner.post('/sales', { orderId: 'B-1', totalCost: 100, campaignId: shop, affiliateId: 'ada' })).status,
      201,
    );
    const second = await owner.post('/sales', { orderId: 'B-2', totalCost: 50, campaignId: shop, affiliateId: 'ada' });
    const commissionId = second.body.commissions[0].id as number;
    assert.equal((await owner.post(`/commissions/${commissionId}/approve`, {})).status, 200);

    const byDay = (await owner.get('/reports?groupBy=day')).body.rows as Row[];
    const byBanner = (await owner.get('/reports?groupBy=banner')).body.rows as Row[];
    assert.equal(total(byDay, 'commissionsPending'), 10);
    assert.equal(total(byDay, 'commissionsApproved'), 5);
    for (const k of ['commissions', 'commissionsPending', 'commissionsApproved'])
      assert.equal(total(byBanner, k), total(byDay, k), `${k}: ${JSON.stringify(byBanner)}`);
    const none = byBanner.find((r) => r.label === '(none)');
    assert.equal(none?.commissionsPending, 10, 'commissions are not per banner: they stand under "(none)"');
  });

  test('a lead rejected the next day leaves the day it was counted on, commission and all', async () => {
    const campaignId = created(
      await owner.post('/campaigns', { name: 'Leads', alias: 'rr-leads', approval: 'auto' }),
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
        title: 'A lead',
        type: 'CPA',
        actionCode: 'lead',
        affiliateCommission: { value: 1.5, unit: 'fixed' },
      }),
      'payout',
    );
    const click = await request(app.url, 'GET', '/rr-leads?a_aid=ada', {
      headers: { 'user-agent': CHROME, 'x-forwarded-for': '81.2.69.160' },
    });
    const subid = new URL(click.headers.get('location')!).searchParams.get('s')!;
    const key = app.services.settings.get().postbackKey;
    const postback = (status: string) =>
      request(app.url, 'GET', `/postback/${key}?subid=${subid}&status=${status}&tid=L-1`);
    assert.equal((await postback('lead')).status, 200);
    const leadDay = dayOf(now);
    now += DAY_MS;
    const rejectDay = dayOf(now);
    assert.equal((await postback('rejected')).status, 200);

    const rows = (await owner.get(`/reports?groupBy=day&campaignId=${campaignId}&from=${leadDay}&to=${rejectDay}`)).body
      .rows as Row[];
    const on = (day: string) => rows.find((r) => r.key === day) ?? {};
    // Every figure of the lead stays on its day: rejected, it no longer counts there, and the day
    // of the rejection gains nothing negative.
    assert.equal(on(leadDay).conversions, 0, JSON.stringify(rows));
    assert.equal(on(leadDay).commissions, 0, `the reversed commission no longer counts: ${JSON.stringify(rows)}`);
    assert.equal(on(leadDay).commissionsApproved, 0);
    assert.equal(on(rejectDay).conversions ?? 0, 0);
    assert.equal(on(rejectDay).commissions ?? 0, 0);
  });

  test('a declined campaign-URL click is a declined click in both rollups', async () => {
    // Every click entry point writes through the click writer; a campaign-URL click it is given
    // as declined (a fraud rule, an affiliate who may not send traffic) counts in neither
    // rollup's clicks, while its cost (paid to the source all the same) counts in both.
    const campaignId = created(await owner.post('/campaigns', { name: 'Declined traffic' }), 'campaign');
    const flowId = created(
      await owner.post(`/campaigns/${campaignId}/flows`, {
        name: 'Default',
        type: 'default',
        offers: [{ url: 'https://offer.example/', weight: 100 }],
      }),
      'flow',
    );
    const day = dayOf(now);
    const status = await app.services.writers.clicks.write({
      row: {
        click_id: 'declined-campaign-url-1',
        at: now,
        visitor_id: 'visitor-declined-1',
        campaign_id: campaignId,
        affiliate_id: null,
        banner_id: null,
        status: 'declined',
        decline_reason: 'blocked IP',
        matched_by: 'campaign_url',
        channel: null,
        data1: null,
        data2: null,
        ip: '81.2.69.160',
        country: 'GB',
        user_agent: null,
        referrer: null,
        url: null,
        source: 'campaign',
        trace: JSON.stringify({ flowId, rotation: 'position', bound: false, type: 'offer' }),
        flow_id: flowId,
        source_id: null,
        landing_index: null,
        offer_index: 0,
        cost: 500,
      },
      windowDays: 30,
      newVisitor: true,
      day,
      ppc: null,
      statusOverride: 'unique',
    });
    assert.equal(status, 'declined');
    for (const groupBy of ['day', 'flow', 'country']) {
      const rows = (await owner.get(`/reports?groupBy=${groupBy}&campaignId=${campaignId}&from=${day}&to=${day}`)).body
        .rows as Row[];
      assert.equal(total(rows, 'clicks'), 0, `${groupBy}: ${JSON.stringify(rows)}`);
      assert.equal(total(rows, 'uniqueClicks'), 0, groupBy);
      assert.equal(total(rows, 'cost'), 0.05, groupBy);
    }
  });
});
