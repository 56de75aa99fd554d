import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { CHROME_LINUX, OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created, assertError } from '../helpers/assert.js';
import { approvedAffiliate } from '../helpers/programme.js';

/* SPEC §9: deleting an object that recorded history references is a 409 that says to archive it. */

type Api = ReturnType<typeof api>;

describe(`DELETE of a campaign, affiliate or banner with history on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  let campaign: number;
  let banner: number;
  let affiliate: number;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaign = created(
      await a.post('/campaigns', { name: 'With history', destinationUrl: 'https://shop.example/' }),
      'campaign',
    );
    banner = created(await a.post('/banners', { campaignId: campaign, name: 'Header', type: 'link' }), 'banner');
    affiliate = await approvedAffiliate(a, 'Ann', 'ann');
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=ann&a_bid=${banner}&a_cid=${campaign}` },
      headers: { 'user-agent': CHROME_LINUX },
    });
    assert.equal(click.status, 200, click.text);
    assert.equal(click.body.bannerId, banner, 'the click names the banner');
    assert.equal(click.body.affiliateId, affiliate, 'the click names the affiliate');
  });
  after(async () => {
    await app.close();
  });

  for (const [what, path] of [
    ['a banner', () => `/banners/${banner}`],
    ['an affiliate', () => `/affiliates/${affiliate}`],
    ['a campaign', () => `/campaigns/${campaign}`],
  ] as const) {
    test(`${what} that a recorded click names answers 409 “archive it instead” and stays`, async () => {
      const res = await a.delete(path());
      assertError(res, 409, 'conflict');
      assert.match(res.body.error.message, /archive it instead/);
      assert.equal((await a.get(path())).status, 200, `${what} is still there`);
      const archived = await a.patch(path(), { archived: true });
      assert.equal(archived.status, 200, archived.text);
      assert.equal(archived.body.archived, true);
    });
  }
});
