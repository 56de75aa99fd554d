import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { visit } from '../helpers/visit.js';
import { portalService } from '../../server/services/portal.js';
import { created } from '../helpers/assert.js';

/*
 * Private campaigns (issue 8.13, SPEC §3): only invited affiliates — a personal payout of the
 * campaign naming them, or a coupon of theirs in it — earn there. An uninvited affiliate's click
 * is declined with the reason; its sale is stored without a commission and the trace says why.
 * The portal lists a private campaign to exactly the affiliates matching lets earn there.
 */

type Api = ReturnType<typeof api>;

describe(`private campaigns are enforced (issue 8.13) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let vip: number;
  let open: number;
  const aff: Record<'ann' | 'bob' | 'cy', number> = { ann: 0, bob: 0, cy: 0 };
  let order = 0;

  const click = (query: string) =>
    request(app.url, 'POST', '/t/click', { body: { url: `https://shop.example/?${query}` } });
  const sale = (body: Record<string, unknown>) =>
    request(app.url, 'POST', '/t/sale', { body: { orderId: `P-${++order}`, totalCost: 100, ...body } });

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    assert.equal((await a.patch('/settings', { siteUrl: 'https://shop.example/' })).status, 200);
    for (const name of ['ann', 'bob', 'cy'] as const)
      aff[name] = created(
        await a.post('/affiliates', { name, email: `${name}@example.com`, refId: name }),
        `affiliate ${name}`,
      );
    vip = created(await a.post('/campaigns', { name: 'VIP', type: 'private', approval: 'auto' }), 'campaign');
    open = created(await a.post('/campaigns', { name: 'Open', approval: 'auto' }), 'campaign');
    for (const campaignId of [vip, open])
      created(
        await a.post(`/campaigns/${campaignId}/payouts`, {
          kind: 'general',
          title: '10 %',
          type: 'CPS',
          affiliateCommission: { value: 10, unit: 'percent' },
        }),
        'payout',
      );
    // Ann is invited by a personal payout, Bob by a coupon of his in the campaign; Cy is not.
    created(
      await a.post(`/campaigns/${vip}/payouts`, {
        kind: 'personal',
        title: 'Ann 20 %',
        type: 'CPS',
        affiliateCommission: { value: 20, unit: 'percent' },
        affiliateIds: [aff.ann],
      }),
      'personal payout',
    );
    created(await a.post('/coupons', { code: 'BOBVIP', affiliateId: aff.bob, campaignId: vip }), 'coupon');
  });
  after(async () => {
    await app?.close();
  });

  test('an uninvited affiliate’s click into a private campaign (a_cid, forced campaignId, redirect link) is declined with the reason', async () => {
    const reason = `affiliate ${aff.cy} is not invited to the private campaign ${vip} "VIP"`;
    const viaParam = await click(`a_aid=cy&a_cid=${vip}`);
    assert.equal(viaParam.body.status, 'declined');
    assert.equal(viaParam.body.campaignId, vip);
    const forced = await request(app.url, 'POST', '/t/click', {
      body: { url: 'https://shop.example/?a_aid=cy', campaignId: vip },
    });
    assert.equal(forced.body.status, 'declined');
    const stored = (await app.services
      .db('clicks')
      .whereIn('click_id', [viaParam.body.clickId, forced.body.clickId])) as Array<{
      status: string;
      decline_reason: string;
    }>;
    assert.deepEqual(
      stored.map((c) => [c.status, c.decline_reason]),
      [
        ['declined', reason],
        ['declined', reason],
      ],
    );
    const redirect = await visit(app.url, `/r?a_aid=cy&a_cid=${vip}`);
    assert.equal(redirect.status, 302, redirect.body);
    const visitor = new URL(redirect.location ?? 'https://x.example/').searchParams.get('affix_vid');
    const row = (await app.services.db('clicks').where({ visitor_id: visitor }).first()) as
      { status: string; decline_reason: string } | undefined;
    assert.equal(row?.status, 'declined');
    assert.equal(row?.decline_reason, reason);

    for (const name of ['ann', 'bob'] as const) {
      const ok = await click(`a_aid=${name}&a_cid=${vip}`);
      assert.notEqual(ok.body.status, 'declined', `${name} is invited`);
    }
    assert.notEqual((await click(`a_aid=cy&a_cid=${open}`)).body.status, 'declined', 'public campaigns are open');
  });

  test('a sale in a private campaign pays no uninvited affiliate, and the trace says why', async () => {
    // Cy's visitor came through the public campaign, then buys with campaignId = VIP.
    const viaOpen = await click(`a_aid=cy&a_cid=${open}`);
    const bought = await sale({ visitorId: viaOpen.body.visitorId, campaignId: vip });
    assert.equal(bought.status, 201, bought.text);
    assert.equal(bought.body.campaignId, vip);
    assert.equal(bought.body.affiliateId, aff.cy, 'the sale still names the referring affiliate');
    assert.deepEqual(bought.body.commissions, []);
    const stored = await a.get(`/sales/${bought.body.saleId}`);
    assert.ok(
      (stored.body.explanation as string[]).includes(
        `affiliate ${aff.cy} is not invited to the private campaign ${vip} "VIP": no commission`,
      ),
      JSON.stringify(stored.body.explanation),
    );

    // A signed sale naming the uninvited affiliate explicitly: the same.
    const signed = await a.post('/sales', {
      orderId: `P-${++order}`,
      totalCost: 100,
      campaignId: vip,
      affiliateId: aff.cy,
    });
    assert.equal(signed.status, 201, signed.text);
    assert.deepEqual(signed.body.commissions, []);
    const simulated = await a.post('/simulate/sale', {
      orderId: 'sim',
      totalCost: 100,
      campaignId: vip,
      affiliateId: aff.cy,
    });
    assert.deepEqual(simulated.body.plannedCommissions, []);
    assert.ok(
      (simulated.body.payoutExplanation as string[]).some((l) => /not invited to the private campaign/.test(l)),
      JSON.stringify(simulated.body.payoutExplanation),
    );

    // Cy's visitor with a_cid = VIP: the click was declined, so no referral pays Cy later.
    const viaVip = await click(`a_aid=cy&a_cid=${vip}`);
    const later = await sale({ visitorId: viaVip.body.visitorId, campaignId: vip });
    assert.deepEqual(later.body.commissions, []);
  });

  test('invited affiliates earn: a personal payout or their own coupon', async () => {
    const annClick = await click(`a_aid=ann&a_cid=${vip}`);
    const annSale = await sale({ visitorId: annClick.body.visitorId, campaignId: vip });
    assert.deepEqual(
      (annSale.body.commissions as Array<{ affiliateId: number; amount: number }>).map((c) => [
        c.affiliateId,
        c.amount,
      ]),
      [[aff.ann, 20]],
    );
    const bobSale = await sale({ coupon: 'bobvip' });
    assert.equal(bobSale.body.campaignId, vip);
    assert.deepEqual(
      (bobSale.body.commissions as Array<{ affiliateId: number; amount: number }>).map((c) => [
        c.affiliateId,
        c.amount,
      ]),
      [[aff.bob, 10]],
    );
  });

  test('the portal lists the private campaign to exactly the affiliates who may earn there', async () => {
    const portal = portalService(app.services);
    for (const [name, invited] of [
      ['ann', true],
      ['bob', true],
      ['cy', false],
    ] as const) {
      const { campaigns } = await portal.campaignsFor(aff[name]);
      assert.equal(
        campaigns.some((c) => c.id === vip),
        invited,
        name,
      );
      assert.ok(campaigns.some((c) => c.id === open));
    }
  });
});
