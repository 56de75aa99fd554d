import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import type { AffixPlugin } from '../../server/plugins/types.js';
import { systemActor } from '../../server/services/actor.js';
import { idFrom, postAndFollow, decode, attr } from '../helpers/html.js';

/*
 * The merchant admin's campaign, affiliate, settings and plugin pages, driven like a browser
 * without JavaScript: GET a page, read its form, POST it, follow the redirect.
 */

const registrations: string[] = [];
const testPlugin: AffixPlugin = {
  name: 'test-plugin',
  title: 'Test plugin',
  description: 'A plugin that only exists for the admin page tests.',
  settings: [
    { key: 'enabled', label: 'Enabled', type: 'boolean', default: false },
    { key: 'limit', label: 'Limit', type: 'number', default: 5, help: 'How many at most.' },
    { key: 'label', label: 'Label', type: 'string', default: 'hello' },
    { key: 'words', label: 'Words', type: 'string[]', default: [] },
    { key: 'mode', label: 'Mode', type: 'enum', options: ['fast', 'careful'], default: 'fast' },
  ],
  register() {
    registrations.push('test-plugin');
  },
};

/** What a browser would submit for the form posting to `action`, as the page was rendered. */
function formFields(html: string, action: string): Record<string, string | string[]> {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const found = forms.find((f) => attr(f[1] ?? '', 'action') === action);
  assert.ok(found, `no form posting to ${action}`);
  const inner = found[2] ?? '';
  const out: Record<string, string | string[]> = {};
  for (const [, attrs = ''] of inner.matchAll(/<input\b([^>]*)>/g)) {
    const name = attr(attrs, 'name');
    const type = attr(attrs, 'type') ?? 'text';
    if (!name || type === 'submit') continue;
    if (type === 'checkbox') {
      if (attr(attrs, 'checked') !== null) out[name] = attr(attrs, 'value') ?? 'on';
    } else out[name] = attr(attrs, 'value') ?? '';
  }
  for (const [, attrs = '', body = ''] of inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/g)) {
    const name = attr(attrs, 'name');
    if (name) out[name] = decode(body);
  }
  for (const [, attrs = '', body = ''] of inner.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
    const name = attr(attrs, 'name');
    if (!name) continue;
    const opts = [...body.matchAll(/<option\b([^>]*)>/g)].map(([, a = '']) => ({
      value: attr(a, 'value') ?? '',
      selected: attr(a, 'selected') !== null,
    }));
    if (attr(attrs, 'multiple') !== null) out[name] = opts.filter((o) => o.selected).map((o) => o.value);
    else out[name] = (opts.find((o) => o.selected) ?? opts[0])?.value ?? '';
  }
  return out;
}

describe('admin pages: campaigns, affiliates, settings, plugins', () => {
  let app: TestApp;
  let owner: Agent;
  let ownerApi: ReturnType<typeof api>;
  // What one test makes through the forms and later tests work on; a test run alone makes it
  // through the API, as the test that makes it leaves it.
  let springSale: Promise<number> | undefined;
  let jane: Promise<number> | undefined;
  let janePayout: Promise<number> | undefined;
  let sidebar: Promise<number> | undefined;

  /** The private campaign “Spring sale”. */
  const springSaleId = () =>
    (springSale ??= ownerApi
      .post('/campaigns', {
        name: 'Spring sale',
        type: 'private',
        productIds: ['sku-1', 'sku-2'],
        cookieDays: 30,
        overwriteCookie: true,
        approval: 'auto',
        destinationUrl: 'https://shop.example.com/spring',
      })
      .then((res) => created(res, 'Spring sale')));
  /** The affiliate Jane (refId jane), approved. */
  const janeId = () =>
    (jane ??= ownerApi
      .post('/affiliates', {
        name: 'Jane Doe',
        email: 'jane@example.com',
        refId: 'jane',
        status: 'approved',
        postbackUrl: 'https://tracker.example.net/pb',
      })
      .then((res) => created(res, 'Jane')));
  /** Jane's personal payout “Jane coupon” in Spring sale. */
  const janePayoutId = () =>
    (janePayout ??= (async () =>
      created(
        await ownerApi.post(`/campaigns/${await springSaleId()}/payouts`, {
          kind: 'personal',
          title: 'Jane coupon',
          type: 'CPS',
          affiliateCommission: { value: 5, unit: 'fixed' },
          affiliateIds: [await janeId()],
        }),
        'Jane coupon',
      ))());
  /** The image banner “Sidebar 300×250” of Spring sale. */
  const sidebarId = () =>
    (sidebar ??= (async () =>
      created(
        await ownerApi.post('/banners', {
          campaignId: await springSaleId(),
          name: 'Sidebar 300×250',
          type: 'image',
          destinationUrl: 'https://shop.example.com/sidebar',
          content: 'https://cdn.example.com/sidebar.png',
        }),
        'Sidebar',
      ))());

  before(async () => {
    app = await startTestApp({ builtins: [testPlugin] });
    owner = await setupOwner(app.url);
    ownerApi = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app?.close();
  });

  test('creating a campaign through the form shows it in the list, the API and the service', async () => {
    const form = formFields((await owner.get('/admin/campaigns/new')).text, '/admin/campaigns/new');
    assert.equal(form.type, 'public', 'public is preselected');
    assert.equal(form.status, 'active', 'active is preselected');
    const page = await postAndFollow(owner, '/admin/campaigns/new', {
      ...form,
      name: 'Spring sale',
      type: 'private',
      productIds: 'sku-1\nsku-2\n',
      cookieDays: '30',
      overwriteCookie: 'true',
      approval: 'auto',
      destinationUrl: 'https://shop.example.com/spring',
    });
    const campaignId = idFrom(page.location, /^\/admin\/campaigns\/(\d+)$/);
    springSale = Promise.resolve(campaignId);
    assert.equal(page.status, 200);
    assert.match(page.text, /Campaign “Spring sale” created/);
    assert.match(page.text, /<h1>Spring sale/);

    const list = decode((await owner.get('/admin/campaigns')).text);
    assert.match(list, new RegExp(`<a href="/admin/campaigns/${campaignId}">Spring sale</a>`));
    assert.match(list, /Default campaign<\/a>\s*<span class="badge badge-default">default<\/span>/);

    const saved = await app.services.campaigns.get(campaignId);
    assert.deepEqual(
      {
        type: saved.type,
        productIds: saved.productIds,
        cookieDays: saved.cookieDays,
        overwriteCookie: saved.overwriteCookie,
        approval: saved.approval,
        isDefault: saved.isDefault,
      },
      {
        type: 'private',
        productIds: ['sku-1', 'sku-2'],
        cookieDays: 30,
        overwriteCookie: true,
        approval: 'auto',
        isDefault: false,
      },
    );
    const token = await tokenFor(app.url, OWNER.email, OWNER.password);
    const viaApi = await api(app.url, token).get(`/campaigns/${campaignId}`);
    assert.equal(viaApi.status, 200);
    assert.equal(viaApi.body.destinationUrl, 'https://shop.example.com/spring');
  });

  test('an invalid campaign form answers 422 with the errors beside the fields and the values typed', async () => {
    const res = await owner.post('/admin/campaigns/new', {
      name: '   ',
      type: 'public',
      status: 'active',
      productIds: 'sku-typed',
      cookieDays: '',
      overwriteCookie: '',
      approval: '',
      destinationUrl: 'javascript:alert(1)',
    });
    assert.equal(res.status, 422);
    const html = decode(res.text);
    assert.match(html, /name="name"[^>]*>\s*<\/label>\s*<p class="field-error" role="alert">must not be empty<\/p>/);
    assert.match(
      html,
      /name="destinationUrl"[^>]*value="javascript:alert\(1\)"[^>]*><\/label>\s*<p class="hint">[^<]*<\/p>\s*<p class="field-error" role="alert">must be an http\(s\) URL<\/p>/,
    );
    assert.match(html, /<textarea name="productIds"[^>]*>sku-typed<\/textarea>/);
    assert.match(html, /Could not save/);
    assert.equal((await app.services.campaigns.list({ q: 'sku-typed' }, { page: 1, perPage: 10 })).pagination.total, 0);
  });

  test('the campaign list filters by status, type and search, and pages keep the filters', async () => {
    await springSaleId();
    for (let i = 1; i <= 27; i++) {
      await app.services.campaigns.create(
        { name: `Bulk ${String(i).padStart(2, '0')}`, status: i % 2 ? 'active' : 'paused' },
        systemActor,
      );
    }
    const first = decode((await owner.get('/admin/campaigns?q=Bulk')).text);
    assert.match(first, /27 in all · page 1 of 2/);
    assert.match(first, /href="\/admin\/campaigns\?q=Bulk&page=2" rel="next"/);
    const second = decode((await owner.get('/admin/campaigns?q=Bulk&page=2')).text);
    assert.match(second, /page 2 of 2/);
    assert.match(second, /href="\/admin\/campaigns\?q=Bulk" rel="prev"/);

    const paused = decode((await owner.get('/admin/campaigns?status=paused&q=Bulk')).text);
    assert.match(paused, /13 in all/);
    assert.doesNotMatch(paused, /badge-active">active/);
    const privateOnes = decode((await owner.get('/admin/campaigns?type=private')).text);
    assert.match(privateOnes, /Spring sale/);
    assert.doesNotMatch(privateOnes, /Bulk 01/);
    const none = decode((await owner.get('/admin/campaigns?q=nothing-like-this')).text);
    assert.match(none, /No campaign matches these filters/);
    assert.equal(
      (await owner.get('/admin/campaigns?status=bogus&page=zzz')).status,
      200,
      'unknown filter values are ignored',
    );
  });

  test('the campaign settings tab edits every field and regenerates the secret key', async () => {
    const campaignId = await springSaleId();
    const page = decode((await owner.get(`/admin/campaigns/${campaignId}`)).text);
    assert.match(page, new RegExp(`href="/admin/campaigns/${campaignId}" aria-current="page">Settings`));
    assert.match(page, /Empty = use the global setting \(60 days\)/);
    const form = formFields(page, `/admin/campaigns/${campaignId}`);
    assert.equal(form.productIds, 'sku-1\nsku-2');
    assert.equal(form.overwriteCookie, 'true');
    const saved = await postAndFollow(owner, `/admin/campaigns/${campaignId}`, {
      ...form,
      status: 'paused',
      cookieDays: '',
      approval: '',
      productIds: 'sku-3',
    });
    assert.match(saved.text, /Campaign saved/);
    const campaign = await app.services.campaigns.get(campaignId);
    assert.deepEqual(
      [campaign.status, campaign.cookieDays, campaign.approval, campaign.productIds],
      ['paused', null, null, ['sku-3']],
    );

    const before = campaign.secretKey;
    assert.match(page, new RegExp(before));
    const regenerated = await postAndFollow(owner, `/admin/campaigns/${campaignId}/regenerate-secret-key`, {
      confirm: 'yes',
    });
    assert.match(regenerated.text, /new secret key/);
    const after = (await app.services.campaigns.get(campaignId)).secretKey;
    assert.notEqual(after, before);
    assert.match(regenerated.text, new RegExp(after));

    const bad = await owner.post(`/admin/campaigns/${campaignId}`, { ...form, cookieDays: '-3' });
    assert.equal(bad.status, 422);
    assert.match(decode(bad.text), /name="cookieDays"[^>]*value="-3"/);
    assert.match(decode(bad.text), /class="field-error" role="alert">must be 0 or more/);
  });

  test('each campaign tab answers and marks itself current', async () => {
    const campaignId = await springSaleId();
    for (const tab of ['payouts', 'banners', 'coupons']) {
      const res = await owner.get(`/admin/campaigns/${campaignId}/${tab}`);
      assert.equal(res.status, 200, tab);
      const html = decode(res.text);
      assert.match(html, new RegExp(`href="/admin/campaigns/${campaignId}/${tab}" aria-current="page"`), tab);
      assert.doesNotMatch(html, new RegExp(`href="/admin/campaigns/${campaignId}" aria-current`), tab);
    }
    const empty = decode((await owner.get(`/admin/campaigns/${campaignId}/banners`)).text);
    assert.match(empty, /No banners yet — create the first one below/);
    assert.equal((await owner.get('/admin/campaigns/999999')).status, 404);
    assert.equal((await owner.get('/admin/campaigns/abc')).status, 404);
  });

  test('affiliates: create, list, approve and decline', async () => {
    const form = formFields((await owner.get('/admin/affiliates/new')).text, '/admin/affiliates/new');
    assert.equal(form.status, 'approved');
    const created = await postAndFollow(owner, '/admin/affiliates/new', {
      ...form,
      name: 'Jane Doe',
      email: 'jane@example.com',
      refId: 'jane',
      status: 'pending',
      postbackUrl: 'https://tracker.example.net/pb',
      password: 'jane password 123',
    });
    const affiliateId = idFrom(created.location, /^\/admin\/affiliates\/(\d+)$/);
    jane = Promise.resolve(affiliateId);
    assert.match(created.text, /Affiliate “Jane Doe” created with ID jane/);
    const user = await app.services.auth.login('jane@example.com', 'jane password 123', '10.0.0.1');
    assert.equal(user.affiliateId, affiliateId, 'the password created a portal login');

    const dashboard = decode((await owner.get('/admin')).text);
    assert.match(dashboard, /href="\/admin\/affiliates\?status=pending"/);
    const pending = decode((await owner.get('/admin/affiliates?status=pending')).text);
    assert.match(pending, /Jane Doe/);
    assert.match(pending, /<span class="badge badge-pending">pending<\/span>/);
    const approveForm = formFields(pending, `/admin/affiliates/${affiliateId}/approve`);
    assert.equal(approveForm.back, '/admin/affiliates?status=pending');

    const approved = await postAndFollow(owner, `/admin/affiliates/${affiliateId}/approve`, approveForm);
    assert.equal(approved.location, '/admin/affiliates?status=pending');
    assert.match(approved.text, /Affiliate “Jane Doe” approved/);
    assert.match(approved.text, /Nobody is waiting for approval/);
    assert.equal((await app.services.affiliates.get(affiliateId)).status, 'approved');

    const declined = await postAndFollow(owner, `/admin/affiliates/${affiliateId}/decline`, { confirm: 'yes' });
    assert.equal(declined.location, `/admin/affiliates/${affiliateId}`);
    assert.equal((await app.services.affiliates.get(affiliateId)).status, 'declined');
    await postAndFollow(owner, `/admin/affiliates/${affiliateId}/approve`, { back: 'https://evil.example/' });
    assert.equal((await app.services.affiliates.get(affiliateId)).status, 'approved');
  });

  test('the affiliate edit page saves changes and reports invalid input with 422', async () => {
    const affiliateId = await janeId();
    const page = decode((await owner.get(`/admin/affiliates/${affiliateId}`)).text);
    const form = formFields(page, `/admin/affiliates/${affiliateId}`);
    assert.equal(form.refId, 'jane');
    assert.equal(form.password, '', 'the password is never shown');
    const saved = await postAndFollow(owner, `/admin/affiliates/${affiliateId}`, {
      ...form,
      name: 'Jane Q. Doe',
      overwriteCookie: 'false',
    });
    assert.match(saved.text, /Affiliate saved/);
    const a = await app.services.affiliates.get(affiliateId);
    assert.deepEqual(
      [a.name, a.overwriteCookie, a.postbackUrl],
      ['Jane Q. Doe', false, 'https://tracker.example.net/pb'],
    );

    const bad = await owner.post(`/admin/affiliates/${affiliateId}`, {
      ...form,
      email: 'not-an-email',
      refId: 'bad id!',
      postbackUrl: 'ftp://x',
    });
    assert.equal(bad.status, 422);
    const html = decode(bad.text);
    assert.match(html, /role="alert">must be an email address</);
    assert.match(html, /role="alert">refId may contain only letters, digits/);
    assert.match(html, /role="alert">must be an http\(s\) URL</);
    assert.match(html, /name="email"[^>]*value="not-an-email"/);
  });

  test('payouts: create, the 422 cases, edit, and a coupon code that appears on the Coupons tab', async () => {
    const campaignId = await springSaleId();
    const affiliateId = await janeId();
    // Jane as the edit page test leaves her.
    await app.services.affiliates.update(affiliateId, { name: 'Jane Q. Doe', overwriteCookie: false }, systemActor);
    const tab = decode((await owner.get(`/admin/campaigns/${campaignId}/payouts`)).text);
    assert.match(tab, /No payouts yet/);
    const form = formFields(tab, `/admin/campaigns/${campaignId}/payouts`);
    assert.deepEqual([form.kind, form.type, form['affiliateCommission.unit']], ['general', 'CPS', 'percent']);
    assert.match(tab, new RegExp(`<option value="${affiliateId}" >Jane Q. Doe \\(jane\\)</option>`));

    const negative = await owner.post(`/admin/campaigns/${campaignId}/payouts`, {
      ...form,
      title: 'Broken',
      'affiliateCommission.value': '-5',
    });
    assert.equal(negative.status, 422);
    assert.match(decode(negative.text), /name="affiliateCommission.value"[^>]*value="-5"/);
    assert.match(decode(negative.text), /role="alert">must not be negative</);

    const ppc = await owner.post(`/admin/campaigns/${campaignId}/payouts`, {
      ...form,
      title: 'Per click',
      type: 'PPC',
      'affiliateCommission.value': '10',
      'affiliateCommission.unit': 'percent',
    });
    assert.equal(ppc.status, 422);
    const ppcHtml = decode(ppc.text);
    assert.match(ppcHtml, /role="alert">a PPC payout pays a fixed amount, not a percentage</);
    assert.match(ppcHtml, /name="title"[^>]*value="Per click"/);
    assert.match(ppcHtml, /<option value="PPC" selected>/);

    const badTier = await owner.post(`/admin/campaigns/${campaignId}/payouts`, {
      ...form,
      title: 'Tiers',
      'affiliateCommission.value': '10',
      tiers: '5%\nlots',
    });
    assert.equal(badTier.status, 422);
    assert.match(decode(badTier.text), /role="alert">line 2: must be a decimal number</);

    const created = await postAndFollow(owner, `/admin/campaigns/${campaignId}/payouts`, {
      ...form,
      title: 'Ten percent',
      'affiliateCommission.value': '10',
      'goal.categories': 'shoes\nbags',
      tiers: '5%\n2.50',
    });
    assert.match(created.text, /Payout “Ten percent” created/);
    assert.match(created.text, /<td>10%<br><small class="hint">tiers: 5% · 2.50 USD<\/small><\/td>/);
    assert.match(created.text, /category shoes, category bags/);
    const [general] = (await app.services.payouts.list({ campaignId }, { page: 1, perPage: 10 })).data;
    assert.deepEqual(general?.tiers, [
      { value: 50_000, unit: 'percent' },
      { value: 25_000, unit: 'fixed' },
    ]);

    const personal = await postAndFollow(owner, `/admin/campaigns/${campaignId}/payouts`, {
      ...form,
      kind: 'personal',
      title: 'Jane coupon',
      'affiliateCommission.value': '5',
      'affiliateCommission.unit': 'fixed',
      affiliateIds: [String(affiliateId)],
      couponCode: 'JANE10',
    });
    assert.match(personal.text, /Coupon JANE10 now applies it/);
    assert.match(personal.text, /<td>5.00 USD/);
    const payoutId = (await app.services.payouts.list({ campaignId, kind: 'personal' }, { page: 1, perPage: 10 }))
      .data[0]!.id;
    janePayout = Promise.resolve(payoutId);

    const coupons = decode((await owner.get(`/admin/campaigns/${campaignId}/coupons`)).text);
    assert.match(coupons, /<code>JANE10<\/code>/);
    assert.match(coupons, /Jane coupon<\/a>/);
    assert.match(coupons, /set by the payout/);

    // The edit page shows the payout as saved and changes it.
    const editPage = decode((await owner.get(`/admin/campaigns/${campaignId}/payouts/${payoutId}`)).text);
    const editForm = formFields(editPage, `/admin/campaigns/${campaignId}/payouts/${payoutId}`);
    assert.deepEqual(editForm.affiliateIds, [String(affiliateId)]);
    assert.equal(editForm.couponCode, 'JANE10');
    assert.equal(editForm['affiliateCommission.value'], '5');
    await postAndFollow(owner, `/admin/campaigns/${campaignId}/payouts/${payoutId}`, {
      ...editForm,
      'affiliateCommission.value': '7.5',
    });
    assert.equal((await app.services.payouts.get(payoutId)).affiliateCommission.value, 75_000);
    const general2 = await owner.post(`/admin/campaigns/${campaignId}/payouts/${payoutId}`, {
      ...editForm,
      kind: 'general',
    });
    assert.equal(general2.status, 422);
    assert.match(decode(general2.text), /role="alert">a general payout applies to every affiliate/);
  });

  test('coupons: create with a payout, refuse a duplicate code, delete', async () => {
    const campaignId = await springSaleId();
    const affiliateId = await janeId();
    const payoutId = await janePayoutId();
    const tab = decode((await owner.get(`/admin/campaigns/${campaignId}/coupons`)).text);
    const form = formFields(tab, `/admin/campaigns/${campaignId}/coupons`);
    const created = await postAndFollow(owner, `/admin/campaigns/${campaignId}/coupons`, {
      ...form,
      code: 'SUMMER',
      affiliateId: String(affiliateId),
      payoutId: String(payoutId),
    });
    assert.match(created.text, /Coupon SUMMER created/);
    const duplicate = await owner.post(`/admin/campaigns/${campaignId}/coupons`, {
      ...form,
      code: 'summer',
      affiliateId: String(affiliateId),
    });
    assert.equal(duplicate.status, 422);
    assert.match(decode(duplicate.text), /role="alert">is already used by another coupon/);
    const noAffiliate = await owner.post(`/admin/campaigns/${campaignId}/coupons`, {
      ...form,
      code: 'OTHER',
      affiliateId: '',
    });
    assert.equal(noAffiliate.status, 422);
    assert.match(decode(noAffiliate.text), /choose the affiliate this coupon attributes sales to/);

    const coupon = (await app.services.coupons.list({ campaignId, q: 'SUMMER' }, { page: 1, perPage: 10 })).data.find(
      (c) => c.code === 'SUMMER',
    )!;
    const deleted = await postAndFollow(owner, `/admin/campaigns/${campaignId}/coupons/${coupon.id}/delete`, {
      confirm: 'yes',
    });
    assert.match(deleted.text, /Coupon SUMMER deleted/);
    assert.doesNotMatch(deleted.text, /<code>SUMMER<\/code>/);
  });

  test('banners: create, edit, refuse an HTML banner without HTML, delete', async () => {
    const campaignId = await springSaleId();
    const tab = decode((await owner.get(`/admin/campaigns/${campaignId}/banners`)).text);
    const form = formFields(tab, `/admin/campaigns/${campaignId}/banners`);
    assert.equal(form.type, 'link');
    const created = await postAndFollow(owner, `/admin/campaigns/${campaignId}/banners`, {
      ...form,
      name: 'Sidebar',
      type: 'image',
      destinationUrl: 'https://shop.example.com/sidebar',
      content: 'https://cdn.example.com/sidebar.png',
    });
    assert.match(created.text, /Banner “Sidebar” created/);
    const banner = (await app.services.banners.list({ campaignId }, { page: 1, perPage: 10 })).data[0]!;
    const bannerId = banner.id;
    sidebar = Promise.resolve(bannerId);
    assert.ok(created.text.includes(`${app.url}/r?a_aid=AFFILIATE_ID&a_bid=${bannerId}`), 'the tracking link is shown');

    const editPath = `/admin/campaigns/${campaignId}/banners/${bannerId}`;
    const editForm = formFields((await owner.get(editPath)).text, editPath);
    assert.equal(editForm.content, 'https://cdn.example.com/sidebar.png');
    await postAndFollow(owner, editPath, { ...editForm, name: 'Sidebar 300×250' });
    assert.equal((await app.services.banners.get(bannerId)).name, 'Sidebar 300×250');

    const html = await owner.post(editPath, { ...editForm, type: 'html', content: '' });
    assert.equal(html.status, 422);
    assert.match(decode(html.text), /role="alert">an HTML banner needs its HTML</);
    assert.match(decode(html.text), /<option value="html" selected>/);

    const other = await app.services.banners.create({ campaignId, name: 'Temporary', type: 'link' }, systemActor);
    const deleted = await postAndFollow(owner, `/admin/campaigns/${campaignId}/banners/${other.id}/delete`, {
      confirm: 'yes',
    });
    assert.match(deleted.text, /Banner “Temporary” deleted/);
    // A banner is reached only through its own campaign.
    const defaultCampaign = (await app.services.campaigns.list({ q: 'Default campaign' }, { page: 1, perPage: 1 }))
      .data[0]!;
    assert.equal((await owner.get(`/admin/campaigns/${defaultCampaign.id}/banners/${bannerId}`)).status, 404);
  });

  test('deleting: the default campaign is refused with an error flash; others and affiliates go', async () => {
    const defaultCampaign = (await app.services.campaigns.list({ q: 'Default campaign' }, { page: 1, perPage: 1 }))
      .data[0]!;
    const refused = await postAndFollow(owner, `/admin/campaigns/${defaultCampaign.id}/delete`, { confirm: 'yes' });
    assert.equal(refused.location, `/admin/campaigns/${defaultCampaign.id}`);
    assert.match(refused.text, /class="flash flash-error" role="status">The default campaign cannot be deleted/);
    await app.services.campaigns.get(defaultCampaign.id);

    const doomed = await app.services.campaigns.create({ name: 'Doomed' }, systemActor);
    const gone = await postAndFollow(owner, `/admin/campaigns/${doomed.id}/delete`, { confirm: 'yes' });
    assert.equal(gone.location, '/admin/campaigns');
    assert.match(gone.text, /Campaign “Doomed” deleted/);
    await assert.rejects(app.services.campaigns.get(doomed.id), { status: 404 });

    const temp = await app.services.affiliates.create(
      { name: 'Temp Affiliate', email: 'temp@example.com' },
      systemActor,
    );
    const res = await owner.post(`/admin/affiliates/${temp.id}/delete`, { confirm: 'yes' });
    assert.equal(res.status, 302);
    const after = decode((await owner.get(res.location!)).text);
    if (res.location === '/admin/affiliates') {
      assert.match(after, /Affiliate “Temp Affiliate” deleted/);
      await assert.rejects(app.services.affiliates.get(temp.id), { status: 404 });
    } else {
      // History depends on it: the page says to archive instead.
      assert.match(
        after,
        /flash-error[^>]*>This affiliate is still referenced by recorded history[^<]*Archive it instead/,
      );
    }
  });

  test('settings: the owner changes them through the form; a bad time zone is a 422 naming it', async () => {
    const page = decode((await owner.get('/admin/settings')).text);
    const form = formFields(page, '/admin/settings');
    assert.equal(form['urlParams.affiliate'], 'a_aid');
    assert.equal(form['fraud.blockedIpsAction'], 'drop');
    assert.equal(form['fraud.bots'], 'on');
    const saved = await postAndFollow(owner, '/admin/settings', {
      ...form,
      'urlParams.affiliate': 'ref',
      exchangeRates: 'eur=1.08\nGBP = 1.27',
      cookieDays: '45',
      gdprMode: 'on',
      'fraud.blockedIps': '203.0.113.7\n10.0.0.0/8',
      'fraud.blockedCountries': 'xx, yy',
      'fraud.duplicateClickSeconds': '30',
      'fraud.duplicateClickAction': 'drop',
    });
    assert.match(saved.text, /Settings saved/);
    const s = app.services.settings.get();
    assert.equal(s.urlParams.affiliate, 'ref');
    assert.equal(s.urlParams.banner, 'a_bid');
    assert.deepEqual(s.exchangeRates, { EUR: 1.08, GBP: 1.27 });
    assert.equal(s.cookieDays, 45);
    assert.equal(s.gdprMode, true);
    assert.deepEqual(s.fraud.blockedIps, ['203.0.113.7', '10.0.0.0/8']);
    assert.deepEqual(s.fraud.blockedCountries, ['XX', 'YY']);
    assert.equal(s.fraud.duplicateClickAction, 'drop');
    assert.equal(s.fraud.bots, true, 'untouched settings keep their values');
    assert.match(saved.text, /name="exchangeRates"[^>]*>EUR=1.08\nGBP=1.27<\/textarea>/);

    const bad = await owner.post('/admin/settings', {
      ...formFields(saved.text, '/admin/settings'),
      timezone: 'Mars/Olympus_Mons',
    });
    assert.equal(bad.status, 422);
    const html = decode(bad.text);
    assert.match(html, /name="timezone"[^>]*value="Mars\/Olympus_Mons"/);
    assert.match(html, /role="alert">must be an IANA time zone such as Europe\/Berlin</);
    assert.equal(app.services.settings.get().timezone, 'UTC');

    const badRates = await owner.post('/admin/settings', {
      ...formFields(saved.text, '/admin/settings'),
      exchangeRates: 'EUR=1.08\nGBP',
      'urlParams.banner': 'ref',
    });
    assert.equal(badRates.status, 422);
    assert.match(decode(badRates.text), /role="alert">line 2: write each rate as CODE=rate/);

    const clash = await owner.post('/admin/settings', {
      ...formFields(saved.text, '/admin/settings'),
      'urlParams.banner': 'ref',
    });
    assert.equal(clash.status, 422);
    assert.match(decode(clash.text), /role="alert">is the same parameter name as another URL parameter</);

    const key = s.postbackKey;
    const regenerated = await postAndFollow(owner, '/admin/settings/regenerate-postback-key', { confirm: 'yes' });
    assert.match(regenerated.text, /new postback key/);
    assert.notEqual(app.services.settings.get().postbackKey, key);
    assert.ok(
      regenerated.text.includes(`${app.url}/postback/${app.services.settings.get().postbackKey}`),
      'the full postback URL is shown',
    );
  });

  test('plugins: listed with their settings form, activated, configured with typed values, deactivated', async () => {
    const page = decode((await owner.get('/admin/plugins')).text);
    assert.match(page, /<h2>Test plugin/);
    assert.match(page, /A plugin that only exists for the admin page tests/);
    assert.match(page, /<span class="badge">inactive<\/span>/);
    assert.match(page, /<select id="plugin-test-plugin-mode" name="settings.mode"><option value="fast" selected>/);

    const activated = await postAndFollow(owner, '/admin/plugins/test-plugin/activate', {});
    assert.match(activated.text, /“Test plugin” activated/);
    assert.equal(app.services.plugins.isActive('test-plugin'), true);
    assert.ok(registrations.length >= 1);

    const form = formFields(activated.text, '/admin/plugins/test-plugin/settings');
    assert.equal(form['settings.limit'], '5');
    const saved = await postAndFollow(owner, '/admin/plugins/test-plugin/settings', {
      ...form,
      'settings.enabled': 'on',
      'settings.limit': '12.5',
      'settings.label': 'Bonjour',
      'settings.words': 'alpha\nbeta\n',
      'settings.mode': 'careful',
    });
    assert.match(saved.text, /Settings of “Test plugin” saved/);
    assert.deepEqual(app.services.plugins.get('test-plugin')?.settings, {
      enabled: true,
      limit: 12.5,
      label: 'Bonjour',
      words: ['alpha', 'beta'],
      mode: 'careful',
    });
    const after = formFields(saved.text, '/admin/plugins/test-plugin/settings');
    assert.equal(after['settings.enabled'], 'on');
    assert.equal(after['settings.words'], 'alpha\nbeta');

    const bad = await owner.post('/admin/plugins/test-plugin/settings', {
      ...after,
      'settings.limit': 'lots',
      'settings.mode': 'reckless',
    });
    assert.equal(bad.status, 422);
    const html = decode(bad.text);
    assert.match(html, /role="alert">must be a number</);
    assert.match(html, /name="settings.limit" type="number" step="any" value="lots"/);
    assert.equal(app.services.plugins.get('test-plugin')?.settings.limit, 12.5, 'nothing saved');

    const off = await postAndFollow(owner, '/admin/plugins/test-plugin/deactivate', {});
    assert.match(off.text, /“Test plugin” deactivated/);
    assert.equal(app.services.plugins.isActive('test-plugin'), false);
    assert.equal((await owner.post('/admin/plugins/no-such-plugin/activate', {})).status, 404);
  });

  test('every page answers 200 for the owner and sends an anonymous visitor to sign in', async () => {
    const campaignId = await springSaleId();
    const affiliateId = await janeId();
    const payoutId = await janePayoutId();
    const bannerId = await sidebarId();
    const pages = [
      '/admin/campaigns',
      '/admin/campaigns/new',
      `/admin/campaigns/${campaignId}`,
      `/admin/campaigns/${campaignId}/payouts`,
      `/admin/campaigns/${campaignId}/payouts/${payoutId}`,
      `/admin/campaigns/${campaignId}/banners`,
      `/admin/campaigns/${campaignId}/banners/${bannerId}`,
      `/admin/campaigns/${campaignId}/coupons`,
      '/admin/affiliates',
      '/admin/affiliates?status=pending',
      '/admin/affiliates/new',
      `/admin/affiliates/${affiliateId}`,
      '/admin/settings',
      '/admin/plugins',
    ];
    const anonymous = new Agent(app.url);
    for (const path of pages) {
      const res = await owner.get(path);
      assert.equal(res.status, 200, path);
      assert.match(res.text, /<h1>/, path);
      const anon = await anonymous.get(path);
      assert.equal(anon.status, 302, path);
      assert.equal(anon.location, `/admin/login?next=${encodeURIComponent(path)}`, path);
    }
    const post = await anonymous.post('/admin/campaigns/new', { name: 'Sneaky' });
    assert.equal(post.status, 401);
  });

  test('a form posted without the CSRF token is refused with 403', async () => {
    const affiliateParam = app.services.settings.get().urlParams.affiliate;
    const res = await owner.post(
      '/admin/campaigns/new',
      { name: 'Forged', type: 'public', status: 'active' },
      { csrf: false },
    );
    assert.equal(res.status, 403);
    const wrong = await owner.post('/admin/settings', { 'urlParams.affiliate': 'forged' }, { csrf: 'x'.repeat(32) });
    assert.equal(wrong.status, 403);
    assert.equal((await app.services.campaigns.list({ q: 'Forged' }, { page: 1, perPage: 1 })).pagination.total, 0);
    assert.equal(app.services.settings.get().urlParams.affiliate, affiliateParam);
  });

  test('a manager reads the settings but cannot change them; campaigns are open to managers', async () => {
    const affiliateParam = app.services.settings.get().urlParams.affiliate;
    await app.services.auth.createUser(
      'manager@example.com',
      'manager password 1',
      'manager',
      systemActor,
      'Max Manager',
    );
    const manager = new Agent(app.url);
    await manager.get('/admin/login');
    const login = await manager.post('/admin/login', {
      email: 'manager@example.com',
      password: 'manager password 1',
      next: '/admin/settings',
    });
    assert.equal(login.status, 302);
    assert.equal(login.location, '/admin/settings');

    const page = decode((await manager.get('/admin/settings')).text);
    assert.match(page, /Only the owner can change these settings/);
    assert.match(page, /<fieldset class="group" disabled>/);
    assert.doesNotMatch(page, /Save settings/);
    const form = formFields(page, '/admin/settings');
    const res = await manager.post('/admin/settings', { ...form, 'urlParams.affiliate': 'mgr' });
    assert.equal(res.status, 403);
    assert.equal((await manager.post('/admin/settings/regenerate-postback-key', {})).status, 403);
    assert.equal(app.services.settings.get().urlParams.affiliate, affiliateParam);

    const plugins = decode((await manager.get('/admin/plugins')).text);
    assert.doesNotMatch(plugins, />Activate</);
    assert.equal((await manager.post('/admin/plugins/test-plugin/activate', {})).status, 403);

    const created = await postAndFollow(manager, '/admin/campaigns/new', {
      name: 'Managed',
      type: 'public',
      status: 'active',
    });
    assert.match(created.text, /Campaign “Managed” created/);
  });
});
