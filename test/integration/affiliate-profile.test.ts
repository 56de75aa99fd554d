import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { Agent, OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError } from '../helpers/assert.js';

const PASSWORD = 'affiliate password 1';
// A real IBAN (the ECBS example) and the same with its check digits broken.
const GOOD_IBAN = 'DE89 3704 0044 0532 0130 00';
const BAD_IBAN = 'DE88 3704 0044 0532 0130 00';

/** The affiliate profile of SPEC §13 in the API, the portal and the admin, validated strictly. */
describe('affiliate profile and payout details', () => {
  let app: TestApp;
  let owners: ReturnType<typeof api>;
  let ownerBrowser: Agent;
  let seq = 0;

  async function affiliate() {
    const email = `p${++seq}@example.com`;
    const res = await owners.post('/affiliates', { name: `P ${seq}`, email, password: PASSWORD, status: 'approved' });
    assert.equal(res.status, 201, res.text);
    return { id: res.body.id as number, email, me: api(app.url, await tokenFor(app.url, email, PASSWORD)) };
  }

  before(async () => {
    app = await startTestApp();
    ownerBrowser = await setupOwner(app.url);
    owners = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app.close();
  });

  test('the affiliate sets its profile and bank details; the IBAN is stored in electronic form', async () => {
    const a = await affiliate();
    const res = await a.me.patch('/me/affiliate', {
      website: 'https://blog.example.net',
      promotionMethod: 'Reviews on my blog',
      payoutMethod: 'bank',
      payoutDetails: { accountName: 'Pat Doe', iban: GOOD_IBAN, bic: 'COBADEFFXXX' },
      taxId: 'DE123456789',
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.payoutMethod, 'bank');
    assert.deepEqual(res.body.payoutDetails, {
      accountName: 'Pat Doe',
      iban: 'DE89370400440532013000',
      bic: 'COBADEFFXXX',
    });
    const staff = await owners.get(`/affiliates/${a.id}`);
    assert.equal(staff.body.website, 'https://blog.example.net');
    assert.equal(staff.body.taxId, 'DE123456789');
    assert.equal(staff.body.promotionMethod, 'Reviews on my blog');
    assert.equal(staff.body.acceptedTermsAt, null);
  });

  test('an IBAN failing its checksum is a 422 naming payoutDetails.iban, and nothing changes', async () => {
    const a = await affiliate();
    assertFieldError(
      await a.me.patch('/me/affiliate', { payoutMethod: 'bank', payoutDetails: { accountName: 'X', iban: BAD_IBAN } }),
      'payoutDetails.iban',
    );
    assertFieldError(
      await owners.patch(`/affiliates/${a.id}`, {
        payoutMethod: 'bank',
        payoutDetails: { accountName: 'X', iban: 'hello' },
      }),
      'payoutDetails.iban',
    );
    assert.equal((await owners.get(`/affiliates/${a.id}`)).body.payoutMethod, null);
  });

  test('a bad PayPal e-mail, an unknown key, and details of another method are refused by name', async () => {
    const a = await affiliate();
    assertFieldError(
      await a.me.patch('/me/affiliate', { payoutMethod: 'paypal', payoutDetails: { paypalEmail: 'not-an-email' } }),
      'payoutDetails.paypalEmail',
    );
    assertFieldError(
      await a.me.patch('/me/affiliate', {
        payoutMethod: 'paypal',
        payoutDetails: { paypalEmail: 'a@b.co', swift: 'X' },
      }),
      'payoutDetails.swift',
    );
    assertFieldError(
      await a.me.patch('/me/affiliate', { payoutMethod: 'paypal', payoutDetails: { iban: GOOD_IBAN } }),
      'payoutDetails.iban',
    );
    assertFieldError(
      await a.me.patch('/me/affiliate', { payoutMethod: 'bank', payoutDetails: { iban: GOOD_IBAN } }),
      'payoutDetails.accountName',
    );
    assertFieldError(await a.me.patch('/me/affiliate', { payoutMethod: 'cheque' }), 'payoutMethod');
    assertFieldError(await a.me.patch('/me/affiliate', { payoutDetails: { text: 'cash' } }), 'payoutMethod');
    assertFieldError(await a.me.patch('/me/affiliate', { website: 'javascript:alert(1)' }), 'website');
    // An affiliate may not set staff fields through its own profile.
    assertFieldError(await a.me.patch('/me/affiliate', { status: 'approved' }), 'status');
  });

  test('details given alone must match the stored method; a new method clears details of the old one', async () => {
    const a = await affiliate();
    const set = await a.me.patch('/me/affiliate', {
      payoutMethod: 'paypal',
      payoutDetails: { paypalEmail: 'pp@example.com' },
    });
    assert.equal(set.status, 200, set.text);
    assertFieldError(await a.me.patch('/me/affiliate', { payoutDetails: { text: 'cash' } }), 'payoutDetails.text');
    const updated = await a.me.patch('/me/affiliate', { payoutDetails: { paypalEmail: 'new@example.com' } });
    assert.deepEqual(updated.body.payoutDetails, { paypalEmail: 'new@example.com' });
    const switched = await a.me.patch('/me/affiliate', { payoutMethod: 'other' });
    assert.equal(switched.status, 200, switched.text);
    assert.equal(switched.body.payoutMethod, 'other');
    assert.equal(switched.body.payoutDetails, null, 'PayPal details cannot pay by "other"');
  });

  test('terms: sign-up requires accepting them when set, and records when; accepting later from the portal', async () => {
    assert.equal(
      (await owners.patch('/settings', { termsText: 'Be honest.\nNo spam.', affiliateSignup: 'open' })).status,
      200,
    );
    const browser = new Agent(app.url);
    const form = await browser.get('/portal/signup');
    assert.match(form.text, /Be honest\./);
    assert.match(form.text, /name="acceptTerms"/);
    const refused = await browser.post('/portal/signup', { name: 'T', email: 'terms@example.com', password: PASSWORD });
    assert.equal(refused.status, 422);
    assert.match(refused.text, /accept the programme/);
    const ok = await browser.post('/portal/signup', {
      name: 'T',
      email: 'terms@example.com',
      password: PASSWORD,
      acceptTerms: 'on',
    });
    assert.equal(ok.status, 302, ok.text.slice(0, 300));
    const list = await owners.get('/affiliates?q=terms%40example.com');
    const acceptedAt = Date.parse(list.body.data[0].acceptedTermsAt);
    assert.ok(Math.abs(acceptedAt - Date.now()) < 60_000, list.text);

    // An affiliate from before the terms accepts them on its profile page.
    const a = await affiliate();
    const portal = new Agent(app.url);
    await portal.get('/portal/login');
    await portal.post('/portal/login', { email: a.email, password: PASSWORD });
    const page = await portal.get('/portal/profile');
    assert.match(page.text, /I accept these terms/);
    const accept = await portal.post('/portal/profile/accept-terms', {});
    assert.equal(accept.status, 302);
    assert.ok((await owners.get(`/affiliates/${a.id}`)).body.acceptedTermsAt);
    assert.match((await ownerBrowser.get(`/admin/affiliates/${a.id}`)).text, /data-terms-accepted/);
    await owners.patch('/settings', { termsText: null });
    assertFieldError(await a.me.patch('/me/affiliate', { acceptTerms: true }), 'acceptTerms');
  });

  test('the portal profile page saves payout details and shows field errors without JavaScript', async () => {
    const a = await affiliate();
    const portal = new Agent(app.url);
    await portal.get('/portal/login');
    await portal.post('/portal/login', { email: a.email, password: PASSWORD });
    const page = await portal.get('/portal/profile');
    assert.equal(page.status, 200);
    assert.match(page.text, /data-payout-missing/, 'no method chosen yet: flagged');
    assert.match(page.text, /<label>IBAN <input name="iban"/);
    const bad = await portal.post('/portal/profile', { payoutMethod: 'bank', accountName: 'Pat', iban: BAD_IBAN });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /field-error[^>]*>is not a valid IBAN/);
    assert.match(bad.text, new RegExp(`value="${BAD_IBAN}"`), 'the value sent is shown again');
    // The PayPal field filled in too is ignored: only the chosen method's fields are sent.
    const good = await portal.post('/portal/profile', {
      payoutMethod: 'bank',
      accountName: 'Pat',
      iban: GOOD_IBAN,
      paypalEmail: 'ignored@example.com',
      website: 'https://pat.example',
    });
    assert.equal(good.status, 302, good.text.slice(0, 500));
    const stored = (await owners.get(`/affiliates/${a.id}`)).body;
    assert.deepEqual(stored.payoutDetails, { accountName: 'Pat', iban: 'DE89370400440532013000' });
    assert.equal(stored.website, 'https://pat.example');
    assert.doesNotMatch((await portal.get('/portal/profile')).text, /data-payout-missing/);
  });

  test('the admin affiliate page edits the profile, with the same validation', async () => {
    const a = await affiliate();
    const page = await ownerBrowser.get(`/admin/affiliates/${a.id}`);
    assert.match(page.text, /name="payoutMethod"/);
    const fields = { name: `P edited`, email: a.email, refId: `ref${a.id}`, status: 'approved' };
    const bad = await ownerBrowser.post(`/admin/affiliates/${a.id}`, {
      ...fields,
      payoutMethod: 'paypal',
      paypalEmail: 'nope',
    });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /must be an email address/);
    const ok = await ownerBrowser.post(`/admin/affiliates/${a.id}`, {
      ...fields,
      payoutMethod: 'paypal',
      paypalEmail: 'pp@example.com',
      taxId: 'T-1',
    });
    assert.equal(ok.status, 302, ok.text.slice(0, 500));
    const stored = (await owners.get(`/affiliates/${a.id}`)).body;
    assert.deepEqual(stored.payoutDetails, { paypalEmail: 'pp@example.com' });
    assert.equal(stored.taxId, 'T-1');
    assert.match((await ownerBrowser.get(`/admin/affiliates/${a.id}`)).text, /value="pp@example.com"/);
  });

  test('staff create an affiliate with its payout details in one call', async () => {
    const res = await owners.post('/affiliates', {
      name: 'Created',
      email: 'created@example.com',
      payoutMethod: 'other',
      payoutDetails: { text: 'Wise: @created' },
    });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.payoutDetails, { text: 'Wise: @created' });
    assertError(
      await owners.post('/affiliates', { name: 'X', email: 'x@example.com', payoutDetails: { text: 'a' } }),
      422,
      'validation_failed',
    );
  });
});
