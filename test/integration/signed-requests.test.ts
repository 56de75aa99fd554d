import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created, assertError } from '../helpers/assert.js';
import { sign } from '../../server/services/signature.js';
import { approvedAffiliate, referredSale } from '../helpers/programme.js';

type Api = ReturnType<typeof api>;

let seq = 0;
const nextOrder = (prefix = 'SR') => `${prefix}-${process.pid}-${++seq}`;

/**
 * SPEC §10a: a server-to-server signature is valid only with the secret key of the campaign the
 * body names (for a refund, of the sale's campaign); a signed request is answered once.
 */
describe('signed server-to-server requests', () => {
  let app: TestApp;
  let a: Api;
  let campaignA: number;
  let campaignB: number;
  let defaultCampaign: number;
  let bannerB: number;
  let secretA: string;
  let secretB: string;
  let secretDefault: string;
  const unix = () => Math.floor(app.services.clock() / 1000);

  const signed = (path: string, raw: string, secret: string, headers: Record<string, string> = {}) =>
    request(app.url, 'POST', path, { raw, headers: { 'x-affix-signature': sign(secret, raw, unix()), ...headers } });
  const salesCount = async () =>
    Number(((await app.services.db('sales').count({ n: '*' }).first()) as { n: number }).n);
  const refundedUnits = async (saleId: number) =>
    Number(((await app.services.db('sales').where({ id: saleId }).first('refunded')) as { refunded: number }).refunded);
  const refundRows = async (saleId: number) =>
    Number(
      ((await app.services.db('refunds').where({ sale_id: saleId }).count({ n: '*' }).first()) as { n: number }).n,
    );

  /** A sale in `campaignId` for Ann's referral, with one approved commission. */
  async function saleIn(campaignId: number, totalCost = 100, orderId = nextOrder()) {
    const { click, sale } = await referredSale(app.url, 'ann', campaignId, orderId, totalCost);
    assert.equal(click.status, 200, click.text);
    assert.equal(sale.body.campaignId, campaignId);
    return { orderId, saleId: sale.body.saleId as number };
  }

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const tenPercent = {
      kind: 'general',
      title: '10%',
      type: 'CPS',
      affiliateCommission: { value: 10, unit: 'percent' },
    };
    campaignA = created(await a.post('/campaigns', { name: 'A', approval: 'auto' }), 'campaign');
    campaignB = created(await a.post('/campaigns', { name: 'B', approval: 'manual' }), 'campaign');
    for (const c of [campaignA, campaignB]) created(await a.post(`/campaigns/${c}/payouts`, tenPercent), 'payout');
    bannerB = created(await a.post('/banners', { campaignId: campaignB, name: 'B link', type: 'link' }), 'banner');
    await approvedAffiliate(a, 'Ann', 'ann');
    await approvedAffiliate(a, 'Bob', 'bob');
    const campaigns = (await a.get('/campaigns?perPage=200')).body.data as Array<{
      id: number;
      isDefault: boolean;
      secretKey: string;
    }>;
    const byId = new Map(campaigns.map((c) => [c.id, c]));
    defaultCampaign = campaigns.find((c) => c.isDefault)!.id;
    secretA = byId.get(campaignA)!.secretKey;
    secretB = byId.get(campaignB)!.secretKey;
    secretDefault = byId.get(defaultCampaign)!.secretKey;
  });
  after(async () => {
    await app.close();
  });

  describe('the named campaign’s key only', () => {
    test("campaign B's key on a body naming campaign A → 401, nothing stored (sales and actions)", async () => {
      const before = await salesCount();
      const sale = JSON.stringify({
        orderId: nextOrder(),
        totalCost: 500,
        campaignId: campaignA,
        affiliateId: 'bob',
        status: 'approved',
      });
      assertError(await signed('/api/v1/sales', sale, secretB), 401, 'unauthorized');
      const action = JSON.stringify({
        actionCode: 'lead',
        orderId: nextOrder(),
        campaignId: campaignA,
        status: 'approved',
      });
      assertError(await signed('/api/v1/actions', action, secretB), 401, 'unauthorized');
      assert.equal(await salesCount(), before, 'nothing was stored');
      // Control: A's own key is accepted.
      const ok = await signed('/api/v1/sales', sale, secretA);
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.body.status, 'approved');
    });

    test("a body naming no campaign is checked against the default campaign's key, and only that key", async () => {
      const raw = JSON.stringify({ orderId: nextOrder(), totalCost: 10, affiliateId: 'bob', status: 'approved' });
      assertError(await signed('/api/v1/sales', raw, secretA), 401, 'unauthorized');
      const ok = await signed('/api/v1/sales', raw, secretDefault);
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.body.campaignId, defaultCampaign);
    });

    test('only the named key is tried: a valid signature with any other campaign key is refused', async () => {
      // Were every key tried, each of these would verify with one of them.
      for (const [campaignId, secret] of [
        [campaignA, secretDefault],
        [defaultCampaign, secretB],
        [987654, secretA],
        ['not-a-number', secretA],
      ] as const) {
        const raw = JSON.stringify({ orderId: nextOrder(), totalCost: 1, campaignId });
        const res = await signed('/api/v1/sales', raw, secret);
        assertError(res, 401, 'unauthorized');
      }
    });

    test('the signed status and affiliateId do not carry over when matching moves the sale to another campaign', async () => {
      // Signed with A's key, naming A; the banner of campaign B outranks campaignId (rule 3 before rule 4).
      const raw = JSON.stringify({
        orderId: nextOrder(),
        totalCost: 200,
        campaignId: campaignA,
        bannerId: bannerB,
        affiliateId: 'bob',
        status: 'approved',
      });
      const res = await signed('/api/v1/sales', raw, secretA);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.campaignId, campaignB, 'the banner decided the campaign');
      assert.notEqual(res.body.status, 'approved', "B's key did not sign: B's own approval applies");
      assert.equal(res.body.affiliateId, null, 'the signed affiliateId is not honoured in B');
      const commissions = (await a.get(`/commissions?saleId=${res.body.saleId}`)).body.data as unknown[];
      assert.equal(commissions.length, 0, 'no commission for an affiliate B did not vouch for');
      // Signed with B's key, the same body would name A and be refused; naming B it is honoured.
      const forB = JSON.stringify({ ...JSON.parse(raw), orderId: nextOrder(), campaignId: campaignB });
      const honoured = await signed('/api/v1/sales', forB, secretB);
      assert.equal(honoured.status, 201, honoured.text);
      assert.equal(honoured.body.status, 'approved');
      assert.equal(honoured.body.affiliateId !== null, true);
    });

    test("a refund of campaign A's order signed with campaign B's key → 401, nothing refunded", async () => {
      const s = await saleIn(campaignA);
      const raw = JSON.stringify({ amount: 10, type: 'refund' });
      const path = `/api/v1/sales/${encodeURIComponent(s.orderId)}/refund`;
      assertError(await signed(path, raw, secretB), 401, 'unauthorized');
      assertError(await signed(`${path}?campaignId=${campaignB}`, raw, secretB), 404, 'not_found');
      assert.equal(await refundedUnits(s.saleId), 0);
      const ok = await signed(path, raw, secretA);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.refundedTotal, 10);
    });

    test('an order recorded in two campaigns: the signature picks the sale of its own campaign', async () => {
      const orderId = nextOrder();
      const inA = await saleIn(campaignA, 100, orderId);
      const inB = await saleIn(campaignB, 100, orderId);
      const raw = JSON.stringify({ amount: 5, type: 'refund' });
      const res = await signed(`/api/v1/sales/${encodeURIComponent(orderId)}/refund`, raw, secretB);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.saleId, inB.saleId);
      assert.equal(await refundedUnits(inA.saleId), 0);
    });
  });

  describe('answered once', () => {
    test('4 exact replays of one signed partial refund (no key) refund once and answer the first answer', async () => {
      const s = await saleIn(campaignA);
      const raw = JSON.stringify({ amount: 4, type: 'refund' });
      const header = sign(secretA, raw, unix());
      const send = () =>
        request(app.url, 'POST', `/api/v1/sales/${encodeURIComponent(s.orderId)}/refund`, {
          raw,
          headers: { 'x-affix-signature': header },
        });
      const first = await send();
      assert.equal(first.status, 200, first.text);
      for (let i = 0; i < 3; i++) {
        const again = await send();
        assert.equal(again.status, first.status);
        assert.deepEqual(again.body, first.body, 'the first answer');
      }
      assert.equal(await refundedUnits(s.saleId), 40_000, 'refunded once');
      assert.equal(await refundRows(s.saleId), 1);
    });

    test('4 parallel copies of one signed partial refund refund once', async () => {
      const s = await saleIn(campaignA);
      const raw = JSON.stringify({ amount: 3, type: 'refund' });
      const header = sign(secretA, raw, unix());
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          request(app.url, 'POST', `/api/v1/sales/${encodeURIComponent(s.orderId)}/refund`, {
            raw,
            headers: { 'x-affix-signature': header },
          }),
        ),
      );
      const ok = answers.filter((r) => r.status === 200);
      assert.ok(ok.length >= 1, answers.map((r) => r.text).join('\n'));
      for (const r of answers) {
        if (r.status === 200) assert.deepEqual(r.body, ok[0]!.body, 'every 200 is the first answer');
        else assertError(r, 409, 'conflict'); // still being answered: retry later
      }
      assert.equal(await refundedUnits(s.saleId), 30_000, 'refunded once');
      assert.equal(await refundRows(s.saleId), 1);
    });

    test('a refundId replay answers the first answer, signed again later or sent with a token; another refund under it → 409', async () => {
      const s = await saleIn(campaignA);
      const path = `/api/v1/sales/${encodeURIComponent(s.orderId)}/refund`;
      const body = { amount: 7, type: 'refund', refundId: 're_123' };
      const first = await signed(path, JSON.stringify(body), secretA);
      assert.equal(first.status, 200, first.text);
      // Re-serialised and signed at another second: a new signature, the same refund.
      const resent = await signed(path, JSON.stringify(body, null, 2), secretA);
      assert.equal(resent.status, 200);
      assert.deepEqual(resent.body, first.body);
      const viaToken = await a.post(path.replace('/api/v1', ''), body);
      assert.equal(viaToken.status, 200);
      assert.deepEqual(viaToken.body, first.body);
      assert.equal(await refundedUnits(s.saleId), 70_000, 'refunded once');
      // A different refund under the same id is a mistake, not a replay.
      assertError(await a.post(path.replace('/api/v1', ''), { ...body, amount: 8 }), 409, 'conflict');
      // Another refundId is another refund.
      const second = await signed(path, JSON.stringify({ ...body, refundId: 're_124' }), secretA);
      assert.equal(second.status, 200, second.text);
      assert.equal(await refundedUnits(s.saleId), 140_000);
    });

    test('an Idempotency-Key on a signed sale: the replay answers the first answer and stores nothing; another body under it → 409', async () => {
      const orderId = nextOrder();
      const raw = JSON.stringify({
        orderId,
        totalCost: 30,
        campaignId: campaignA,
        affiliateId: 'bob',
        status: 'approved',
      });
      const key = { 'idempotency-key': `sale-${orderId}` };
      const first = await signed('/api/v1/sales', raw, secretA, key);
      assert.equal(first.status, 201, first.text);
      const before = await salesCount();
      const replay = await signed('/api/v1/sales', raw, secretA, key);
      assert.equal(replay.status, 201, 'the first status');
      assert.deepEqual(replay.body, first.body, 'the first body');
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(await salesCount(), before);
      const other = JSON.stringify({ orderId: nextOrder(), totalCost: 30, campaignId: campaignA });
      assertError(await signed('/api/v1/sales', other, secretA, key), 409, 'conflict');
      assert.equal(await salesCount(), before);
      assertError(await signed('/api/v1/sales', raw, secretA, { 'idempotency-key': '' }), 422, 'validation_failed');
    });

    test('an exact replay of a signed sale without a key is answered with the first answer', async () => {
      const raw = JSON.stringify({ orderId: nextOrder(), totalCost: 12, campaignId: campaignA });
      const header = sign(secretA, raw, unix());
      const send = () => request(app.url, 'POST', '/api/v1/sales', { raw, headers: { 'x-affix-signature': header } });
      const first = await send();
      assert.equal(first.status, 201, first.text);
      const again = await send();
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
    });
  });
});
