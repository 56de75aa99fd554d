import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHROME, Agent, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import { decode } from '../helpers/html.js';
import { referredSale } from '../helpers/programme.js';

/*
 * The affiliate portal (SPEC §9) driven like a browser without JavaScript: sign-up in each
 * `affiliateSignup` mode, sign-in, every page, and above all that an affiliate only ever sees
 * its own links, coupons, rates and commissions.
 */

type Api = ReturnType<typeof api>;

const PASSWORD = 'portal password 123';

/** The values of the readonly link fields (`data-link`) of a page, by kind. */
function linksOf(html: string): Array<{ kind: string; url: string; campaign: string | null; banner: string | null }> {
  return [...html.matchAll(/<input\b([^>]*\bdata-link="[^"]*"[^>]*)>/g)].map(([, attrs = '']) => {
    const attr = (name: string) => {
      const m = new RegExp(`\\b${name}="([^"]*)"`).exec(attrs);
      return m ? decode(m[1] ?? '') : null;
    };
    assert.ok(/\breadonly\b/.test(attrs), `link fields are readonly: ${attrs}`);
    return {
      kind: attr('data-link') ?? '',
      url: attr('value') ?? '',
      campaign: attr('data-campaign'),
      banner: attr('data-banner'),
    };
  });
}

/** The field error shown beside `field` (the `fieldError` helper puts it right after the input). */
function fieldErrorAfter(html: string, field: string): string | null {
  const at = html.indexOf(`name="${field}"`);
  if (at < 0) return null;
  const m = /^[^]*?<\/label>\s*(?:<p class="hint">[^]*?<\/p>\s*)?<p class="field-error" role="alert">([^<]*)<\/p>/.exec(
    html.slice(at),
  );
  return m ? decode(m[1] ?? '') : null;
}

describe('affiliate portal (SPEC §9)', () => {
  let app: TestApp;
  let owner: Api;
  let merchant: Agent;
  let shoes: number;
  let vip: number;
  let hidden: number;
  let defaultCampaign: number;
  let imageBanner: number;
  let htmlBanner: number;
  let ann: { id: number; agent: Agent; email: string };
  let bob: { id: number; agent: Agent; email: string };
  const orders = { ann: `ANN-${process.pid}-1`, bob: `BOB-${process.pid}-1` };

  const setSignup = async (mode: 'open' | 'approval' | 'closed') => {
    const res = await owner.patch('/settings', { affiliateSignup: mode });
    assert.equal(res.status, 200, res.text);
  };

  /** Signs up through the form; returns the agent (signed in when the mode says so). */
  async function signUp(name: string, email: string, extra: Record<string, string> = {}) {
    const agent = new Agent(app.url);
    const page = await agent.get('/portal/signup');
    assert.equal(page.status, 200);
    const res = await agent.post('/portal/signup', { name, email, password: PASSWORD, ...extra });
    return { agent, res };
  }

  const affiliateByEmail = async (email: string) => {
    const res = await owner.get(`/affiliates?q=${encodeURIComponent(email)}`);
    assert.equal(res.status, 200, res.text);
    return (
      res.body.data as Array<{ id: number; email: string; status: string; parentId: number | null; refId: string }>
    ).find((a) => a.email === email);
  };

  /** A click on the affiliate's link and a sale by the same visitor (SPEC §4.2). */
  async function referSale(refId: string, campaignId: number, orderId: string, totalCost: number) {
    const { click, sale } = await referredSale(app.url, refId, campaignId, orderId, totalCost);
    assert.equal(click.status, 200, click.text);
    assert.notEqual(click.body.status, 'declined', click.text);
    assert.equal(sale.body.matchedBy, 'cookie', sale.text);
    assert.equal(sale.body.commissions.length, 1, sale.text);
    return sale.body;
  }

  before(async () => {
    app = await startTestApp();
    merchant = await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    defaultCampaign = (
      (await owner.get('/campaigns?perPage=200')).body.data as Array<{ id: number; isDefault: boolean }>
    ).find((c) => c.isDefault)!.id;
    shoes = created(
      await owner.post('/campaigns', { name: 'Shoes', type: 'public', destinationUrl: 'https://shop.example/shoes' }),
      'campaign',
    );
    vip = created(await owner.post('/campaigns', { name: 'VIP club', type: 'private' }), 'campaign');
    hidden = created(await owner.post('/campaigns', { name: 'Secret sale', type: 'private' }), 'campaign');
    created(
      await owner.post(`/campaigns/${shoes}/payouts`, {
        kind: 'general',
        title: 'Ten percent',
        type: 'CPS',
        affiliateCommission: { value: 10, unit: 'percent' },
      }),
      'payout',
    );
    imageBanner = created(
      await owner.post('/banners', {
        campaignId: shoes,
        name: 'Shoe banner',
        type: 'image',
        content: 'https://cdn.example/shoe.png',
      }),
      'banner',
    );
    htmlBanner = created(
      await owner.post('/banners', {
        campaignId: shoes,
        name: 'Shoe widget',
        type: 'html',
        content: '<div class="w"><a href="{link}">Shoes!</a></div>',
      }),
      'banner',
    );

    await setSignup('open');
    for (const [key, name] of [
      ['ann', 'Ann Affiliate'],
      ['bob', 'Bob Affiliate'],
    ] as const) {
      const email = `${key}@portal.example`;
      const { agent, res } = await signUp(name, email);
      assert.equal(res.status, 302, res.text.slice(0, 500));
      const found = await affiliateByEmail(email);
      assert.ok(found);
      const who = { id: found.id, agent, email };
      if (key === 'ann') ann = who;
      else bob = who;
    }
    // Ann's private campaign (personal payout); Bob's personal payout and coupons.
    created(
      await owner.post(`/campaigns/${vip}/payouts`, {
        kind: 'personal',
        title: 'Ann VIP deal',
        type: 'CPS',
        affiliateCommission: { value: 15, unit: 'percent' },
        affiliateIds: [ann.id],
      }),
      'payout',
    );
    created(
      await owner.post(`/campaigns/${shoes}/payouts`, {
        kind: 'personal',
        title: 'Bob special deal',
        type: 'CPS',
        affiliateCommission: { value: 20, unit: 'percent' },
        affiliateIds: [bob.id],
      }),
      'payout',
    );
    created(
      await owner.post(`/campaigns/${hidden}/payouts`, {
        kind: 'personal',
        title: 'Bob secret fixed',
        type: 'CPA',
        actionCode: 'signup',
        affiliateCommission: { value: 5, unit: 'fixed' },
        affiliateIds: [bob.id],
      }),
      'payout',
    );
    created(await owner.post('/coupons', { code: 'ANNSAVES', affiliateId: ann.id, campaignId: shoes }), 'coupon');
    created(await owner.post('/coupons', { code: 'BOBSECRET', affiliateId: bob.id, campaignId: hidden }), 'coupon');
  });

  after(async () => {
    await app?.close();
  });

  test('sign-up open: approved at once and signed in', async () => {
    const found = await affiliateByEmail(ann.email);
    assert.equal(found?.status, 'approved');
    const dash = await ann.agent.get('/portal');
    assert.equal(dash.status, 200, dash.text.slice(0, 300));
    assert.match(dash.text, /<h1>Dashboard<\/h1>/);
    assert.match(dash.text, /Ann Affiliate/);
    assert.doesNotMatch(dash.text, /data-waiting/);
  });

  test('sign-up with approval: pending, not promised a mail while e-mail is off, signs in to a waiting page until approved', async () => {
    await setSignup('approval');
    try {
      const email = 'carol@portal.example';
      const { agent, res } = await signUp('Carol Pending', email);
      assert.equal(res.status, 302);
      assert.equal(res.location, '/portal/login');
      assert.equal(agent.cookies.has('affix_session'), false, 'not signed in by the sign-up');
      const login = await agent.get('/portal/login');
      assert.match(decode(login.text), /waiting for the merchant’s approval/);
      // Without SMTP_URL no approval mail can be sent, so none is promised.
      assert.doesNotMatch(decode(login.text), /notified/);
      const found = await affiliateByEmail(email);
      assert.equal(found?.status, 'pending');

      const signin = await agent.post('/portal/login', { email, password: PASSWORD, next: '/portal' });
      assert.equal(signin.status, 302, signin.text.slice(0, 300));
      for (const path of ['/portal', '/portal/links', '/portal/commissions']) {
        const page = await agent.get(path);
        assert.equal(page.status, 200, path);
        assert.match(page.text, /data-waiting/, path);
        assert.match(page.text, /Waiting for approval/);
        assert.doesNotMatch(page.text, /notified/, path);
        assert.doesNotMatch(page.text, /data-link=/, 'no links before approval');
      }
      const post = await agent.post('/portal/settings', { name: 'Sneaky', postbackUrl: '' });
      assert.equal(post.status, 403, 'a pending affiliate cannot change its settings');

      assert.equal((await owner.post(`/affiliates/${found!.id}/approve`)).status, 200);
      const approved = await agent.get('/portal/links');
      assert.equal(approved.status, 200);
      assert.doesNotMatch(approved.text, /data-waiting/);
      assert.ok(linksOf(approved.text).some((l) => l.url.includes(`a_aid=${found!.refId}`)));
    } finally {
      await setSignup('open');
    }
  });

  test('sign-up closed: the page says so and a POST is 403', async () => {
    await setSignup('closed');
    try {
      const agent = new Agent(app.url);
      const page = await agent.get('/portal/signup');
      assert.equal(page.status, 200);
      assert.match(page.text, /Sign-up is closed/);
      assert.doesNotMatch(page.text, /action="\/portal\/signup"/, 'no form');
      const res = await agent.post('/portal/signup', { name: 'Dan', email: 'dan@portal.example', password: PASSWORD });
      assert.equal(res.status, 403);
      assert.match(res.text, /Sign-up is closed/);
      assert.equal(await affiliateByEmail('dan@portal.example'), undefined);
      const login = await agent.get('/portal/login');
      assert.doesNotMatch(login.text, /href="\/portal\/signup"/, 'the sign-in page does not offer sign-up');
    } finally {
      await setSignup('open');
    }
  });

  test('sign-up errors are shown beside their fields; a referrer naming an approved affiliate becomes the parent', async () => {
    const dup = await signUp('Ann Again', 'ANN@portal.example');
    assert.equal(dup.res.status, 422);
    assert.equal(fieldErrorAfter(dup.res.text, 'email'), 'an account with this email already exists');
    assert.match(dup.res.text, /value="Ann Again"/, 'the values sent are kept');

    const short = await signUp('Shorty', 'shorty@portal.example', { password: 'short' });
    assert.equal(short.res.status, 422);
    assert.equal(fieldErrorAfter(short.res.text, 'password'), 'must be at least 10 characters');

    const annRef = (await affiliateByEmail(ann.email))!.refId;
    const referred = await signUp('Erin Referred', 'erin@portal.example', { referrer: annRef });
    assert.equal(referred.res.status, 302);
    assert.equal((await affiliateByEmail('erin@portal.example'))?.parentId, ann.id);

    const unknown = await signUp('Finn Unknown', 'finn@portal.example', { referrer: 'nobody-here' });
    assert.equal(unknown.res.status, 302, 'an unknown referrer is ignored');
    assert.equal((await affiliateByEmail('finn@portal.example'))?.parentId, null);

    const prefilled = await new Agent(app.url).get(`/portal/signup?referrer=${annRef}`);
    assert.match(prefilled.text, new RegExp(`name="referrer"[^>]*value="${annRef}"`));
  });

  test('sign-in and sign-out; a wrong password is refused; merchant accounts are refused here', async () => {
    const agent = new Agent(app.url);
    const anonymous = await agent.get('/portal');
    assert.equal(anonymous.status, 302);
    assert.equal(anonymous.location, '/portal/login?next=%2Fportal');
    const form = await agent.get('/portal/login?next=%2Fportal%2Fcommissions');
    assert.match(form.text, /name="next" value="\/portal\/commissions"/);

    const wrong = await agent.post('/portal/login', { email: ann.email, password: 'not the password' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /Wrong email or password/);
    assert.equal(agent.cookies.has('affix_session'), false);

    const ok = await agent.post('/portal/login', { email: ann.email, password: PASSWORD, next: '/portal/commissions' });
    assert.equal(ok.status, 302);
    assert.equal(ok.location, '/portal/commissions');
    assert.equal((await agent.get('/portal/commissions')).status, 200);
    const elsewhere = new Agent(app.url);
    await elsewhere.get('/portal/login');
    const offsite = await elsewhere.post('/portal/login', {
      email: ann.email,
      password: PASSWORD,
      next: '//evil.example/',
    });
    assert.equal(offsite.location, '/portal', 'no open redirect');

    const out = await agent.post('/portal/logout', {});
    assert.equal(out.status, 302);
    assert.equal(out.location, '/portal/login');
    assert.equal((await agent.get('/portal')).status, 302);

    const merchantHere = new Agent(app.url);
    await merchantHere.get('/portal/login');
    const refused = await merchantHere.post('/portal/login', { email: OWNER.email, password: OWNER.password });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /merchant accounts sign in at \/admin\/login/);
    assert.equal(merchantHere.cookies.has('affix_session'), false);

    // A merchant session is not an affiliate one: the portal sends it to the portal sign-in.
    for (const path of ['/portal', '/portal/links', '/portal/settings']) {
      const res = await merchant.get(path);
      assert.equal(res.status, 302, path);
      assert.match(res.location ?? '', /^\/portal\/login\?next=/);
    }
    assert.equal((await merchant.post('/portal/settings', { name: 'x' })).status, 403);
    // And an affiliate is refused at the admin sign-in (SPEC §9).
    const admin = new Agent(app.url);
    await admin.get('/admin/login');
    assert.equal((await admin.post('/admin/login', { email: ann.email, password: PASSWORD })).status, 403);
  });

  test('every page answers 200 to the affiliate and redirects anonymous visitors to the sign-in', async () => {
    const anonymous = new Agent(app.url);
    for (const path of ['/portal', '/portal/links', '/portal/coupons', '/portal/commissions', '/portal/settings']) {
      const res = await ann.agent.get(path);
      assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 200)}`);
      assert.match(res.text, /action="\/portal\/logout"/);
      const anon = await anonymous.get(path);
      assert.equal(anon.status, 302, path);
      assert.equal(anon.location, `/portal/login?next=${encodeURIComponent(path)}`);
    }
    assert.equal((await anonymous.get('/portal/login')).status, 200);
    assert.equal((await anonymous.get('/portal/signup')).status, 200);
    assert.equal((await ann.agent.get('/portal/login')).location, '/portal', 'signed in: the sign-in page moves on');
  });

  test('links carry the refId, campaign and banner; renamed parameters and the site URL are used', async () => {
    const refId = (await affiliateByEmail(ann.email))!.refId;
    const page = await ann.agent.get('/portal/links');
    assert.equal(page.status, 200);
    const links = linksOf(page.text);
    const redirect = (campaign: number) =>
      links.find((l) => l.kind === 'redirect' && l.campaign === String(campaign))?.url;
    assert.equal(redirect(defaultCampaign), `${app.url}/r?a_aid=${refId}`, 'the default campaign needs no a_cid');
    assert.equal(redirect(shoes), `${app.url}/r?a_aid=${refId}&a_cid=${shoes}`);
    assert.equal(
      redirect(vip),
      `${app.url}/r?a_aid=${refId}&a_cid=${vip}`,
      'a private campaign with a personal payout',
    );
    assert.equal(redirect(hidden), undefined, 'a private campaign without one is not shown');
    assert.ok(!links.some((l) => l.kind === 'direct'), 'no store link without a site URL');
    const banner = (id: number) => links.find((l) => l.kind === 'banner' && l.banner === String(id))?.url;
    assert.equal(banner(imageBanner), `${app.url}/r?a_aid=${refId}&a_bid=${imageBanner}`);
    assert.equal(banner(htmlBanner), `${app.url}/r?a_aid=${refId}&a_bid=${htmlBanner}`);
    assert.match(page.text, /<img src="https:\/\/cdn\.example\/shoe\.png"/, 'image banner preview');
    const code = /<textarea[^>]*data-code="(\d+)"[^>]*>([^<]*)<\/textarea>/g;
    const codes = new Map([...page.text.matchAll(code)].map((m) => [Number(m[1]), decode(m[2] ?? '')]));
    assert.match(
      codes.get(htmlBanner) ?? '',
      new RegExp(`<div class="w"><a href="${app.url}/r\\?a_aid=${refId}&amp;a_bid=${htmlBanner}">Shoes!</a></div>`),
    );
    assert.match(codes.get(imageBanner) ?? '', /<img src="https:\/\/cdn\.example\/shoe\.png" alt="Shoe banner">/);

    // The link actually works: it redirects and records Ann's click.
    const follow = await request(
      app.url,
      'GET',
      new URL(redirect(shoes)!).pathname + new URL(redirect(shoes)!).search,
      { headers: { 'user-agent': CHROME } },
    );
    assert.equal(follow.status, 302);

    const renamed = await owner.patch('/settings', {
      urlParams: { affiliate: 'ref', campaign: 'camp' },
      siteUrl: 'https://shop.example/',
    });
    assert.equal(renamed.status, 200, renamed.text);
    try {
      const after = linksOf((await ann.agent.get('/portal/links')).text);
      const url = (kind: string, campaign: number) =>
        after.find((l) => l.kind === kind && l.campaign === String(campaign))?.url;
      assert.equal(url('redirect', shoes), `${app.url}/r?ref=${refId}&camp=${shoes}`);
      assert.equal(url('redirect', defaultCampaign), `${app.url}/r?ref=${refId}`);
      assert.equal(url('direct', defaultCampaign), `https://shop.example/?ref=${refId}`);
      assert.equal(url('direct', shoes), `https://shop.example/?ref=${refId}&camp=${shoes}`);
      assert.ok(after.filter((l) => l.kind === 'banner').every((l) => l.url.includes(`?ref=${refId}&a_bid=`)));
      assert.ok(!after.some((l) => l.url.includes('a_aid=')));
    } finally {
      const back = await owner.patch('/settings', {
        urlParams: { affiliate: 'a_aid', campaign: 'a_cid' },
        siteUrl: null,
      });
      assert.equal(back.status, 200, back.text);
    }
  });

  test('links use PUBLIC_URL as the tracker origin when it is set', async () => {
    const other = await startTestApp({ env: { PUBLIC_URL: 'https://track.example.com/' } });
    try {
      await setupOwner(other.url);
      const o = api(other.url, await tokenFor(other.url, OWNER.email, OWNER.password));
      assert.equal((await o.patch('/settings', { affiliateSignup: 'open' })).status, 200);
      const agent = new Agent(other.url);
      await agent.get('/portal/signup');
      assert.equal(
        (await agent.post('/portal/signup', { name: 'Pia', email: 'pia@portal.example', password: PASSWORD })).status,
        302,
      );
      const links = linksOf((await agent.get('/portal/links')).text);
      assert.ok(links.length > 0);
      assert.ok(
        links.every((l) => l.url.startsWith('https://track.example.com/')),
        JSON.stringify(links),
      );
    } finally {
      await other.close();
    }
  });

  test('an affiliate sees only its own coupons, personal payouts and commissions', async () => {
    const todayRow = (html: string) => /<tr data-period="Today">([^]*?)<\/tr>/.exec(html)?.[1] ?? '';
    const clicksBefore = Number(/data-stat="clicks">(\d+)</.exec(todayRow((await ann.agent.get('/portal')).text))?.[1]);
    const annSale = await referSale((await affiliateByEmail(ann.email))!.refId, shoes, orders.ann, 200);
    assert.equal(annSale.commissions[0].amount, 20, '10% general payout');
    const bobSale = await referSale((await affiliateByEmail(bob.email))!.refId, shoes, orders.bob, 300);
    assert.equal(bobSale.commissions[0].amount, 60, "Bob's personal 20% payout");

    const coupons = await ann.agent.get('/portal/coupons');
    assert.equal(coupons.status, 200);
    const text = decode(coupons.text);
    assert.match(text, /ANNSAVES/);
    assert.match(text, /Ann VIP deal/);
    assert.match(text, /15%/);
    assert.match(text, /Standard rates/);
    assert.match(text, /Ten percent[^]*?10%/);
    for (const secret of ['BOBSECRET', 'Bob special deal', 'Bob secret fixed', '20%', 'Secret sale']) {
      assert.ok(!text.includes(secret), `Ann's coupons page shows ${secret}`);
    }
    const bobCoupons = decode((await bob.agent.get('/portal/coupons')).text);
    assert.match(bobCoupons, /BOBSECRET/);
    assert.match(bobCoupons, /Bob special deal[^]*?20%/);
    assert.match(bobCoupons, /Bob secret fixed[^]*?CPA \(signup\)[^]*?5\.00 USD/);
    assert.ok(!bobCoupons.includes('ANNSAVES') && !bobCoupons.includes('Ann VIP deal'));
    // Bob's coupon on the private campaign opens it to him, and only to him.
    assert.ok(linksOf((await bob.agent.get('/portal/links')).text).some((l) => l.campaign === String(hidden)));

    const list = await ann.agent.get('/portal/commissions');
    assert.equal(list.status, 200);
    assert.match(list.text, new RegExp(`data-order="${orders.ann}"`));
    assert.match(list.text, /20\.00 USD/);
    assert.match(list.text, /Shoes/);
    assert.match(list.text, /badge-pending">pending/);
    assert.ok(!list.text.includes(orders.bob), "Bob's order is not on Ann's list");
    assert.ok(!list.text.includes('60.00'), "Bob's amount is not on Ann's list");
    assert.match((await bob.agent.get('/portal/commissions')).text, new RegExp(orders.bob));

    const approvedOnly = await ann.agent.get('/portal/commissions?status=approved');
    assert.ok(!approvedOnly.text.includes(orders.ann), 'the status filter');
    assert.match(approvedOnly.text, /No commission matches these filters/);
    const today = new Date().toISOString().slice(0, 10);
    assert.match((await ann.agent.get(`/portal/commissions?from=${today}&to=${today}`)).text, new RegExp(orders.ann));
    assert.ok(!(await ann.agent.get('/portal/commissions?to=2000-01-01')).text.includes(orders.ann), 'the date filter');
    const nonsense = await ann.agent.get('/portal/commissions?status=%27%20OR%201=1&from=yesterday&page=-3');
    assert.equal(nonsense.status, 200, 'nonsense filters are ignored');

    const dash = await ann.agent.get('/portal');
    const today7 = todayRow(dash.text);
    assert.match(today7, new RegExp(`data-stat="clicks">${clicksBefore + 1}<`), 'the tracked click is counted');
    assert.match(today7, /data-stat="sales">1</);
    assert.match(today7, /data-stat="commissions">20\.00 USD</);
    assert.match(dash.text, /data-total="pending"><span class="num">20\.00 USD/);
    assert.ok(!dash.text.includes('60.00'));
  });

  test('commissions are paginated', async () => {
    const refId = (await affiliateByEmail(ann.email))!.refId;
    // Ann's commissions so far (one from the test above in a whole run), made up to 26.
    const already = Number((await owner.get(`/commissions?affiliateId=${ann.id}`)).body.pagination.total);
    for (let i = already + 1; i <= 26; i++) await referSale(refId, shoes, `ANN-${process.pid}-${i}`, 10);
    const first = await ann.agent.get('/portal/commissions');
    assert.match(first.text, /26 in all · page 1 of 2/);
    assert.match(decode(first.text), /href="\/portal\/commissions\?page=2"/);
    const second = await ann.agent.get('/portal/commissions?page=2');
    assert.equal((second.text.match(/data-commission=/g) ?? []).length, 1);
  });

  test('settings: the postback URL and name are saved; a javascript: URL is refused beside the field', async () => {
    const page = await ann.agent.get('/portal/settings');
    for (const macro of [
      'commission_id',
      'sale_id',
      'order_id',
      'amount',
      'commission',
      'currency',
      'status',
      'campaign_id',
      'affiliate_id',
      'channel',
      'kind',
    ]) {
      assert.ok(page.text.includes(`<code>{${macro}}</code>`), macro);
    }
    const postback = 'https://tracker.example.net/pb?order={order_id}&sum={commission}';
    const saved = await ann.agent.post('/portal/settings', { name: 'Ann Renamed', postbackUrl: postback });
    assert.equal(saved.status, 302, saved.text.slice(0, 300));
    const stored = await owner.get(`/affiliates/${ann.id}`);
    assert.equal(stored.body.postbackUrl, postback);
    assert.equal(stored.body.name, 'Ann Renamed');
    const again = await ann.agent.get('/portal/settings');
    assert.match(again.text, /Your settings are saved/);
    assert.ok(decode(again.text).includes(`value="${postback}"`));

    const bad = await ann.agent.post('/portal/settings', { name: 'Ann Renamed', postbackUrl: 'javascript:alert(1)' });
    assert.equal(bad.status, 422);
    assert.equal(fieldErrorAfter(bad.text, 'postbackUrl'), 'must be an http(s) URL');
    assert.equal((await owner.get(`/affiliates/${ann.id}`)).body.postbackUrl, postback, 'unchanged');

    const cleared = await ann.agent.post('/portal/settings', { name: 'Ann Affiliate', postbackUrl: '' });
    assert.equal(cleared.status, 302);
    assert.equal((await owner.get(`/affiliates/${ann.id}`)).body.postbackUrl, null);
  });

  test('settings: the password changes only with the current one', async () => {
    const agent = new Agent(app.url);
    await agent.get('/portal/login');
    const { res } = await signUp('Gus Password', 'gus@portal.example');
    assert.equal(res.status, 302);
    assert.equal((await agent.post('/portal/login', { email: 'gus@portal.example', password: PASSWORD })).status, 302);
    const wrong = await agent.post('/portal/settings/password', {
      currentPassword: 'not it at all',
      password: 'a new password 1',
      passwordConfirm: 'a new password 1',
    });
    assert.equal(wrong.status, 422);
    assert.equal(fieldErrorAfter(wrong.text, 'currentPassword'), 'is not your current password');
    const mismatch = await agent.post('/portal/settings/password', {
      currentPassword: PASSWORD,
      password: 'a new password 1',
      passwordConfirm: 'another one 12',
    });
    assert.equal(fieldErrorAfter(mismatch.text, 'passwordConfirm'), 'does not match the new password');
    const ok = await agent.post('/portal/settings/password', {
      currentPassword: PASSWORD,
      password: 'a new password 1',
      passwordConfirm: 'a new password 1',
    });
    assert.equal(ok.status, 302);
    await tokenFor(app.url, 'gus@portal.example', 'a new password 1');
  });

  test('PATCH /api/v1/me/affiliate changes the own name and postback URL, for affiliate tokens only', async () => {
    const token = await tokenFor(app.url, bob.email, PASSWORD);
    const me = api(app.url, token);
    const res = await me.patch('/me/affiliate', {
      postbackUrl: 'https://bob.example/pb?c={commission_id}',
      name: 'Bob B.',
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.id, bob.id);
    assert.equal(res.body.postbackUrl, 'https://bob.example/pb?c={commission_id}');
    assert.equal(res.body.name, 'Bob B.');
    const bad = await me.patch('/me/affiliate', { postbackUrl: 'javascript:alert(1)' });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.details[0].field, 'postbackUrl');
    const escalate = await me.patch('/me/affiliate', { status: 'approved', refId: 'boss' });
    assert.equal(escalate.status, 422, 'only name and postbackUrl');
    assert.equal((await owner.patch('/me/affiliate', { name: 'Owner' })).status, 403, 'merchant tokens are refused');
    assert.equal((await api(app.url).patch('/me/affiliate', { name: 'x' })).status, 401);
  });

  test('every portal form needs the CSRF token', async () => {
    for (const [path, fields] of [
      ['/portal/settings', { name: 'Forged', postbackUrl: 'https://evil.example/' }],
      [
        '/portal/settings/password',
        { currentPassword: PASSWORD, password: 'forged password 1', passwordConfirm: 'forged password 1' },
      ],
      ['/portal/logout', {}],
    ] as const) {
      const res = await ann.agent.post(path, fields, { csrf: false });
      assert.equal(res.status, 403, path);
      assert.match(res.text, /form has expired/);
      const wrong = await ann.agent.post(path, fields, { csrf: 'x'.repeat(32) });
      assert.equal(wrong.status, 403, path);
    }
    const anon = new Agent(app.url);
    await anon.get('/portal/signup');
    assert.equal(
      (
        await anon.post(
          '/portal/signup',
          { name: 'Forge', email: 'forge@portal.example', password: PASSWORD },
          { csrf: false },
        )
      ).status,
      403,
    );
    assert.equal(
      (await anon.post('/portal/login', { email: ann.email, password: PASSWORD }, { csrf: false })).status,
      403,
    );
    assert.notEqual((await owner.get(`/affiliates/${ann.id}`)).body.name, 'Forged');
    assert.equal((await ann.agent.get('/portal')).status, 200, 'still signed in');
  });
});
