import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor, type Agent } from '../helpers/http.js';
import { savedId as created } from '../helpers/assert.js';

/*
 * SPEC §13: a confirmation step before every destructive admin action, without JavaScript. The
 * action's button posts as before and gets a page saying what will happen; nothing changes until
 * the form is posted again with `confirm=yes` (the page's button).
 */

interface Case {
  what: string;
  path: () => string;
  fields?: () => Record<string, string | string[]>;
  /** The words the confirmation page must say. */
  says: RegExp;
  /** The state the action changes, read before and after. */
  state: () => Promise<unknown>;
}

describe(`destructive admin actions ask first (SPEC §13) on ${dialectName()}`, () => {
  let app: TestApp;
  let agent: Agent;
  let owner: ReturnType<typeof api>;
  const ids: Record<string, number> = {};
  const db = () => app.services.db;
  const row = (table: string, id: number | undefined) => db()(table).where({ id }).first();

  /** A sale of `total` for ann in the manual-approval campaign: a pending commission. */
  const pendingSale = async (orderId: string, total = 100) => {
    const res = await owner.post('/sales', { orderId, totalCost: total, campaignId: ids.shop, affiliateId: 'ann' });
    assert.equal(res.status, 201, res.text);
    return { saleId: res.body.saleId as number, commissionId: res.body.commissions[0].id as number };
  };

  before(async () => {
    app = await startTestApp();
    agent = await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    ids.ann = created(
      await owner.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann', status: 'approved' }),
      'ann',
    );
    ids.gone = created(
      await owner.post('/affiliates', { name: 'Gone', email: 'gone@example.com', refId: 'gone' }),
      'gone',
    );
    ids.pending = created(
      await owner.post('/affiliates', { name: 'Pending Pat', email: 'pat@example.com', refId: 'pat' }),
      'pat',
    );
    ids.shop = created(await owner.post('/campaigns', { name: 'Shop', approval: 'manual' }), 'shop');
    created(
      await owner.post(`/campaigns/${ids.shop}/payouts`, {
        kind: 'general',
        title: 'Ten percent',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
      }),
      'payout',
    );
    ids.doomed = created(await owner.post('/campaigns', { name: 'Doomed' }), 'doomed');
    ids.payout = created(
      await owner.post(`/campaigns/${ids.doomed}/payouts`, {
        kind: 'general',
        title: 'Spare payout',
        type: 'CPS',
        affiliateCommission: { value: 5, unit: 'percent' },
      }),
      'spare payout',
    );
    ids.banner = created(await owner.post('/banners', { campaignId: ids.doomed, name: 'Spare banner' }), 'banner');
    ids.coupon = created(
      await owner.post('/coupons', { code: 'SPARE10', affiliateId: ids.ann, campaignId: ids.doomed }),
      'coupon',
    );
    ids.domain = created(await owner.post('/domains', { host: 'spare.example.com' }), 'domain');
    ids.source = created(await owner.post('/sources', { name: 'Spare source', params: {} }), 'source');
    ids.group = created(await owner.post('/groups', { name: 'Spare group' }), 'group');
    ids.flow = created(
      await owner.post(`/campaigns/${ids.doomed}/flows`, {
        name: 'Spare flow',
        type: 'default',
        offers: [{ url: 'https://offer.example/', weight: 100 }],
      }),
      'flow',
    );
    const one = await pendingSale('C-1');
    const two = await pendingSale('C-2');
    const three = await pendingSale('C-3');
    ids.declineOne = one.commissionId;
    ids.bulkA = two.commissionId;
    ids.bulkB = three.commissionId;
    const refunded = await pendingSale('C-4');
    ids.refundSale = refunded.saleId;
    // Approved commissions for two payout batches: one to delete, one to mark paid.
    for (const orderId of ['P-1', 'P-2']) {
      const s = await pendingSale(orderId);
      assert.equal((await owner.post(`/commissions/${s.commissionId}/approve`, {})).status, 200);
    }
    ids.batchDelete = created(await owner.post('/payout-batches', { minimum: 0 }), 'batch');
  });
  after(() => app?.close());

  const cases: Case[] = [
    {
      what: 'regenerate the secret key',
      path: () => `/admin/campaigns/${ids.shop}/regenerate-secret-key`,
      says: /stops working/,
      state: async () => ((await row('campaigns', ids.shop)) as { secret_key: string }).secret_key,
    },
    {
      what: 'regenerate the Click API token',
      path: () => `/admin/campaigns/${ids.shop}/regenerate-api-token`,
      says: /stops working/,
      state: async () => ((await row('campaigns', ids.shop)) as { api_token: string | null }).api_token,
    },
    {
      what: 'regenerate the postback key',
      path: () => '/admin/settings/regenerate-postback-key',
      says: /stops working/,
      state: async () => app.services.settings.get().postbackKey,
    },
    {
      what: 'delete an affiliate',
      path: () => `/admin/affiliates/${ids.gone}/delete`,
      says: /Delete the affiliate “Gone”\?/,
      state: () => row('affiliates', ids.gone),
    },
    {
      what: 'decline an affiliate',
      path: () => `/admin/affiliates/${ids.pending}/decline`,
      says: /Decline the affiliate “Pending Pat”\?/,
      state: async () => ((await row('affiliates', ids.pending)) as { status: string }).status,
    },
    {
      what: 'delete a payout',
      path: () => `/admin/campaigns/${ids.doomed}/payouts/${ids.payout}/delete`,
      says: /Delete the payout “Spare payout”\?/,
      state: () => row('payouts', ids.payout),
    },
    {
      what: 'delete a banner',
      path: () => `/admin/campaigns/${ids.doomed}/banners/${ids.banner}/delete`,
      says: /Delete the banner “Spare banner”\?/,
      state: () => row('banners', ids.banner),
    },
    {
      what: 'delete a coupon',
      path: () => `/admin/campaigns/${ids.doomed}/coupons/${ids.coupon}/delete`,
      says: /Delete the coupon SPARE10\?/,
      state: () => row('coupons', ids.coupon),
    },
    {
      what: 'delete a flow',
      path: () => `/admin/campaigns/${ids.doomed}/flows/${ids.flow}/delete`,
      says: /Delete the flow “Spare flow”\?/,
      state: () => row('flows', ids.flow),
    },
    {
      what: 'delete a domain',
      path: () => `/admin/domains/${ids.domain}/delete`,
      says: /Delete the domain spare\.example\.com\?/,
      state: () => row('domains', ids.domain),
    },
    {
      what: 'delete a source',
      path: () => `/admin/sources/${ids.source}/delete`,
      says: /Delete the source “Spare source”\?/,
      state: () => row('traffic_sources', ids.source),
    },
    {
      what: 'delete a group',
      path: () => `/admin/groups/${ids.group}/delete`,
      says: /Delete the group “Spare group”\?/,
      state: () => row('traffic_groups', ids.group),
    },
    {
      what: 'decline a commission',
      path: () => `/admin/commissions/${ids.declineOne}/decline`,
      fields: () => ({ reason: 'test order', back: '/admin/commissions' }),
      says: /Decline commission #\d+\?/,
      state: async () => ((await row('commissions', ids.declineOne)) as { status: string }).status,
    },
    {
      what: 'decline commissions in bulk',
      path: () => '/admin/commissions/bulk',
      fields: () => ({ action: 'decline', ids: [String(ids.bulkA), String(ids.bulkB)], back: '/admin/commissions' }),
      says: /Decline 2 commissions\?/,
      state: async () =>
        (
          await db()('commissions')
            .whereIn('id', [ids.bulkA, ids.bulkB] as number[])
            .orderBy('id')
        ).map((c: { status: string }) => c.status),
    },
    {
      what: 'refund a sale',
      path: () => `/admin/sales/${ids.refundSale}/refund`,
      fields: () => ({ amount: '40', type: 'refund' }),
      says: /Refund 40\.00 USD of sale/,
      state: async () => ((await row('sales', ids.refundSale)) as { refunded: number | string }).refunded,
    },
    {
      what: 'delete a payout batch',
      path: () => `/admin/payout-batches/${ids.batchDelete}/delete`,
      says: /Delete payout batch #\d+\?/,
      state: () => row('payout_batches', ids.batchDelete),
    },
    {
      what: 'mark a payout batch paid',
      path: () => `/admin/payout-batches/${ids.batchPaid}/mark-paid`,
      says: /Mark payout batch #\d+ paid\?/,
      state: async () => ((await row('payout_batches', ids.batchPaid)) as { status: string }).status,
    },
    {
      // Last: its payouts, banners, coupons and flows go with it.
      what: 'delete a campaign',
      path: () => `/admin/campaigns/${ids.doomed}/delete`,
      says: /Delete the campaign “Doomed”\?/,
      state: () => row('campaigns', ids.doomed),
    },
  ];

  for (const c of cases) {
    test(`${c.what}: the button asks first and nothing happens; confirmed, it happens`, async () => {
      if (c.what === 'mark a payout batch paid') {
        // A commission of its own to pay: the batch of the before hook may still hold the others.
        const s = await pendingSale('P-3');
        assert.equal((await owner.post(`/commissions/${s.commissionId}/approve`, {})).status, 200);
        ids.batchPaid = created(await owner.post('/payout-batches', { minimum: 0 }), 'batch to pay');
      }
      const before = await c.state();
      assert.ok(before !== undefined, `${c.what}: the object exists`);
      const fields = c.fields?.() ?? {};
      const asked = await agent.post(c.path(), fields);
      assert.equal(asked.status, 200, `${c.what}: ${asked.status} ${asked.text.slice(0, 300)}`);
      assert.match(asked.text, c.says);
      assert.match(asked.text, /<input type="hidden" name="confirm" value="yes">/);
      assert.match(asked.text, new RegExp(`<form method="post" action="${c.path().replace(/[/.]/g, '\\$&')}"`));
      assert.match(asked.text, />Cancel</);
      for (const [name, value] of Object.entries(fields))
        for (const v of Array.isArray(value) ? value : [value])
          assert.ok(asked.text.includes(`name="${name}" value="${v}"`), `${name}=${v} kept`);
      assert.deepEqual(await c.state(), before, `${c.what}: nothing changed before confirming`);

      const done = await agent.post(c.path(), { ...fields, confirm: 'yes' });
      assert.equal(done.status, 302, `${c.what}: ${done.status} ${done.text.slice(0, 300)}`);
      assert.notDeepEqual(await c.state(), before, `${c.what}: done once confirmed`);
    });
  }

  test('approving in bulk needs no confirmation; nothing ticked is said at once', async () => {
    const { commissionId } = await pendingSale('C-9');
    const approved = await agent.post('/admin/commissions/bulk', {
      action: 'approve',
      ids: [String(commissionId)],
      back: '/admin/commissions',
    });
    assert.equal(approved.status, 302);
    assert.equal(((await row('commissions', commissionId)) as { status: string }).status, 'approved');
    const none = await agent.post('/admin/commissions/bulk', { action: 'decline', back: '/admin/commissions' });
    assert.equal(none.status, 302, 'no confirmation for nothing');
  });

  test('a refund with a bad amount is refused at once, without a confirmation', async () => {
    const res = await agent.post(`/admin/sales/${ids.refundSale}/refund`, { amount: 'lots', type: 'refund' });
    assert.equal(res.status, 302);
  });

  test('a forged confirmation without the CSRF token does nothing', async () => {
    const before = await row('campaigns', ids.shop);
    const res = await agent.post(`/admin/campaigns/${ids.shop}/delete`, { confirm: 'yes' }, { csrf: false });
    assert.equal(res.status, 403);
    assert.deepEqual(await row('campaigns', ids.shop), before);
  });
});
