import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import type { AffixPlugin } from '../../server/plugins/types.js';
import { assertError, assertFieldError } from '../helpers/assert.js';

/** The filter this file's test plugin defines. */
declare module '../../server/plugins/contract.js' {
  interface HookFilters {
    'test.greeting': [value: string];
  }
}

type Api = ReturnType<typeof api>;

/** A plugin that appends its greeting to the `test.greeting` filter while active. */
const greeter: AffixPlugin = {
  name: 'greeter',
  title: 'Greeter',
  description: 'Greets in tests',
  settings: [
    { key: 'greeting', label: 'Greeting', type: 'string', default: 'hello' },
    { key: 'times', label: 'Times', type: 'number', default: 1 },
    { key: 'mode', label: 'Mode', type: 'enum', options: ['quiet', 'loud'], default: 'quiet' },
    { key: 'names', label: 'Names', type: 'string[]', default: [] },
  ],
  register(hooks, ctx) {
    hooks.addFilter('test.greeting', (value) => `${value} ${String(ctx.settings().greeting)}`);
  },
};
const silent: AffixPlugin = { name: 'silent', title: 'Silent', description: 'Has no settings', register() {} };

describe('/api/v1/settings and /api/v1/plugins', () => {
  let app: TestApp;
  let a: Api;

  before(async () => {
    app = await startTestApp({ builtins: [greeter, silent] });
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app.close();
  });

  describe('settings', () => {
    test('GET returns the SPEC §2 defaults', async () => {
      const res = await a.get('/settings');
      assert.equal(res.status, 200);
      const s = res.body;
      assert.deepEqual(s.urlParams, {
        affiliate: 'a_aid',
        banner: 'a_bid',
        campaign: 'a_cid',
        channel: 'chan',
        data1: 'data1',
        data2: 'data2',
      });
      assert.equal(s.cookieDays, 60);
      assert.equal(s.overwriteCookie, false);
      assert.equal(s.gdprMode, false);
      assert.equal(s.baseCurrency, 'USD');
      assert.deepEqual(s.exchangeRates, {});
      assert.equal(s.timezone, 'UTC');
      assert.equal(s.defaultApproval, 'manual');
      assert.equal(s.siteUrl, null);
      assert.equal(s.affiliateSignup, 'approval');
      assert.equal(typeof s.postbackKey, 'string');
      assert.ok(s.postbackKey.length >= 16, 'a generated postback key');
      assert.equal(typeof s.fraud, 'object');
    });

    test('PATCH a nested urlParams.affiliate keeps the other names', async () => {
      const res = await a.patch('/settings', { urlParams: { affiliate: 'ref' } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.urlParams, {
        affiliate: 'ref',
        banner: 'a_bid',
        campaign: 'a_cid',
        channel: 'chan',
        data1: 'data1',
        data2: 'data2',
      });
      assert.equal(res.body.cookieDays, 60, 'other settings unchanged');
      assert.deepEqual((await a.get('/settings')).body.urlParams, res.body.urlParams);
    });

    test('PATCH several fields at once, and they survive a reload from the database', async () => {
      // The affiliate parameter renamed, as the test above leaves it: the PATCH below must keep it.
      assert.equal((await a.patch('/settings', { urlParams: { affiliate: 'ref' } })).status, 200);
      const patch = {
        cookieDays: 30,
        overwriteCookie: true,
        gdprMode: true,
        baseCurrency: 'eur',
        exchangeRates: { usd: 0.92, GBP: 1.17 },
        timezone: 'Europe/Berlin',
        defaultApproval: 'auto',
        siteUrl: 'https://shop.example.com/',
        affiliateSignup: 'open',
      };
      const res = await a.patch('/settings', patch);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.baseCurrency, 'EUR');
      assert.deepEqual(res.body.exchangeRates, { USD: 0.92, GBP: 1.17 });
      assert.equal(res.body.timezone, 'Europe/Berlin');
      assert.equal(res.body.siteUrl, 'https://shop.example.com/');
      const postbackKey = res.body.postbackKey;

      await app.services.settings.load(); // as after a restart
      const reloaded = (await a.get('/settings')).body;
      assert.deepEqual(reloaded, res.body);
      assert.equal(reloaded.postbackKey, postbackKey, 'the postback key is kept');
      assert.equal(reloaded.urlParams.affiliate, 'ref');
    });

    test('exchangeRates is replaced whole; siteUrl can be cleared', async () => {
      const res = await a.patch('/settings', { exchangeRates: { CAD: 0.68 }, siteUrl: null });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.exchangeRates, { CAD: 0.68 });
      assert.equal(res.body.siteUrl, null);
    });

    test('bad values are 422 naming the field, and change nothing', async () => {
      // The affiliate parameter is ref (as the tests above leave it), so a banner parameter ref clashes.
      assert.equal((await a.patch('/settings', { urlParams: { affiliate: 'ref' } })).status, 200);
      const before = (await a.get('/settings')).body;
      assertFieldError(await a.patch('/settings', { urlParams: { banner: 'ref' } }), 'urlParams.banner');
      assertFieldError(await a.patch('/settings', { urlParams: { affiliate: 'A_BID' } }), 'urlParams.affiliate');
      assertFieldError(await a.patch('/settings', { urlParams: { banner: '1bad' } }), 'urlParams.banner');
      assertFieldError(await a.patch('/settings', { urlParams: { banner: { $ne: '' } } }), 'urlParams.banner');
      assertFieldError(await a.patch('/settings', { timezone: 'Mars/Olympus_Mons' }), 'timezone');
      assertFieldError(await a.patch('/settings', { exchangeRates: { EUR: -1 } }), 'exchangeRates.EUR');
      assertFieldError(await a.patch('/settings', { exchangeRates: { EUR: 0 } }), 'exchangeRates.EUR');
      assertFieldError(await a.patch('/settings', { exchangeRates: { EUR: '1.1' } }), 'exchangeRates.EUR');
      assertFieldError(await a.patch('/settings', { baseCurrency: 'EURO' }), 'baseCurrency');
      assertFieldError(await a.patch('/settings', { cookieDays: -5 }), 'cookieDays');
      assertFieldError(await a.patch('/settings', { cookieDays: '60' }), 'cookieDays');
      assertFieldError(await a.patch('/settings', { defaultApproval: 'sometimes' }), 'defaultApproval');
      assertFieldError(await a.patch('/settings', { affiliateSignup: 'invite' }), 'affiliateSignup');
      assertFieldError(await a.patch('/settings', { siteUrl: 'javascript:alert(1)' }), 'siteUrl');
      assertFieldError(await a.patch('/settings', { gdprMode: 'on' }), 'gdprMode');
      assertFieldError(await a.patch('/settings', { postbackKey: "x'; DROP TABLE settings; --" }), 'postbackKey');
      assertFieldError(await a.patch('/settings', { cookieDays: 10, timezone: 'Nowhere/City' }), 'timezone');
      assertError(await a.raw('PATCH', '/settings', undefined, { raw: '{"cookieDays": 10' }), 400, 'invalid_json');
      assertError(
        await a.patch('/settings', { siteUrl: `https://shop.example/${'x'.repeat(110 * 1024)}` }),
        413,
        'payload_too_large',
      );
      // 4,500 CIDR ranges fit the request limit but not one MySQL TEXT row: refused alike on SQLite.
      const blockedIps = Array.from({ length: 4_500 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`);
      assertFieldError(await a.patch('/settings', { fraud: { blockedIps } }), 'fraud.blockedIps');
      assert.deepEqual((await a.get('/settings')).body, before, 'nothing changed');
    });

    test('regenerating the postback key replaces it', async () => {
      const before = (await a.get('/settings')).body.postbackKey;
      const res = await a.post('/settings/regenerate-postback-key');
      assert.equal(res.status, 200);
      assert.notEqual(res.body.postbackKey, before);
      assert.match(res.body.postbackKey, /^[A-Za-z0-9_-]{16,64}$/);
      assert.equal((await a.get('/settings')).body.postbackKey, res.body.postbackKey);
    });

    test('settings changes are in the audit log with the actor email', async () => {
      for (const cookieDays of [41, 42, 43, 44]) assert.equal((await a.patch('/settings', { cookieDays })).status, 200);
      await a.patch('/settings', { cookieDays: 45 });
      const log = await a.get('/audit-log?objectType=settings');
      assert.equal(log.status, 200);
      const entries = log.body.data as Array<{ action: string; actor: string; details: Record<string, unknown> }>;
      assert.ok(entries.length >= 5);
      for (const e of entries) {
        assert.equal(e.action, 'settings.updated');
        assert.equal(e.actor, OWNER.email);
      }
      assert.equal(entries[0]!.details.cookieDays, 45, 'the newest entry first, with what changed');
    });
  });

  describe('plugins', () => {
    test('the list shows every plugin, inactive until turned on, with its settings', async () => {
      const res = await a.get('/plugins');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.pagination, { page: 1, perPage: 2, total: 2, totalPages: 1 });
      const names = res.body.data.map((p: { name: string }) => p.name);
      assert.deepEqual(names, ['greeter', 'silent']);
      const g = res.body.data[0];
      assert.equal(g.title, 'Greeter');
      assert.equal(g.active, false);
      assert.deepEqual(g.settings, { greeting: 'hello', times: 1, mode: 'quiet', names: [] });
      assert.equal(g.settingDefs.length, 4);
      assert.equal(
        await app.services.hooks.applyFilters('test.greeting', 'say'),
        'say',
        'an inactive plugin has no hooks',
      );
    });

    test('GET one plugin; an unknown plugin is 404', async () => {
      const res = await a.get('/plugins/greeter');
      assert.equal(res.status, 200);
      assert.equal(res.body.name, 'greeter');
      assertError(await a.get('/plugins/nope'), 404, 'not_found');
      assertError(await a.patch('/plugins/nope', { active: true }), 404, 'not_found');
    });

    test('PATCH activates, configures and deactivates a plugin', async () => {
      const on = await a.patch('/plugins/greeter', {
        active: true,
        settings: { greeting: 'hi', mode: 'loud', names: ['Ann'] },
      });
      assert.equal(on.status, 200, on.text);
      assert.equal(on.body.active, true);
      assert.deepEqual(on.body.settings, { greeting: 'hi', times: 1, mode: 'loud', names: ['Ann'] });
      assert.equal(await app.services.hooks.applyFilters('test.greeting', 'say'), 'say hi');

      const changed = await a.patch('/plugins/greeter', { settings: { greeting: 'hey' } });
      assert.deepEqual(
        changed.body.settings,
        { greeting: 'hey', times: 1, mode: 'loud', names: ['Ann'] },
        'other settings kept',
      );
      assert.equal(
        await app.services.hooks.applyFilters('test.greeting', 'say'),
        'say hey',
        'the running plugin sees the change',
      );
      assert.equal((await a.get('/plugins')).body.data[0].active, true);

      const off = await a.patch('/plugins/greeter', { active: false });
      assert.equal(off.body.active, false);
      assert.equal(await app.services.hooks.applyFilters('test.greeting', 'say'), 'say');
      assert.equal((await a.get('/plugins/greeter')).body.settings.greeting, 'hey', 'settings survive deactivation');
    });

    test('bad settings are 422 naming the key by its dotted path, and nothing is saved', async () => {
      const before = (await a.get('/plugins/greeter')).body;
      assert.equal(before.active, false, 'the plugin starts inactive');
      assertFieldError(await a.patch('/plugins/greeter', { settings: { times: 'many' } }), 'settings.times');
      assertFieldError(await a.patch('/plugins/greeter', { settings: { mode: 'shouting' } }), 'settings.mode');
      assertFieldError(await a.patch('/plugins/greeter', { settings: { names: [1, 2] } }), 'settings.names');
      assertFieldError(
        await a.patch('/plugins/greeter', { settings: { greeting: 'ok', unknownKey: 1 } }),
        'settings.unknownKey',
      );
      assertFieldError(await a.patch('/plugins/greeter', { active: 'yes' }), 'active');
      assertFieldError(await a.patch('/plugins/greeter', { settings: 'greeting=x' }), 'settings');
      assertFieldError(
        await a.patch('/plugins/greeter', { active: true, settings: { times: 'many' } }),
        'settings.times',
      );
      assertFieldError(await a.patch('/plugins/greeter', { settings: { greeting: 'g'.repeat(70_000) } }), 'settings');
      const now = (await a.get('/plugins/greeter')).body;
      assert.deepEqual(now.settings, before.settings, 'a refused batch saves none of its values');
      assert.equal(now.settings.greeting === 'ok', false);
      assert.equal(now.active, false, 'a refused PATCH does not activate');
    });

    test('plugin changes are in the audit log with the actor email', async () => {
      type Entry = { action: string; actor: string; details: Record<string, unknown> };
      const read = async () => {
        const log = await a.get('/audit-log?objectType=plugin&objectId=greeter');
        assert.equal(log.status, 200);
        return log.body.data as Entry[];
      };
      const earlier = (await read()).length;
      assert.equal((await a.patch('/plugins/greeter', { active: true })).status, 200);
      assert.equal((await a.patch('/plugins/greeter', { settings: { greeting: 'hey' } })).status, 200);
      assertFieldError(await a.patch('/plugins/greeter', { settings: { times: 'many' } }), 'settings.times');
      assert.equal((await a.patch('/plugins/greeter', { active: false })).status, 200);
      const entries = (await read()).slice(0, 3);
      assert.equal((await read()).length, earlier + 3, 'one entry per accepted PATCH, none for a refused one');
      for (const e of entries) assert.equal(e.actor, OWNER.email);
      assert.deepEqual(
        entries.map((e) => e.details.active),
        [false, undefined, true],
      );
    });

    test('a manager may read plugins but not change them', async () => {
      assert.equal((await a.post('/users', { email: 'mgr@example.com', password: 'manager password 1' })).status, 201);
      const mgr = api(app.url, await tokenFor(app.url, 'mgr@example.com', 'manager password 1'));
      assert.equal((await mgr.get('/plugins')).status, 200);
      assertError(await mgr.patch('/plugins/greeter', { active: true }), 403, 'forbidden');
      assert.equal((await a.get('/plugins/greeter')).body.active, false);
    });
  });

  test('the audit log lists pages newest first and filters by object', async () => {
    // Two changes of its own to list: a setting and a user.
    assert.equal((await a.patch('/settings', { cookieDays: 61 })).status, 200);
    assert.equal(
      (await a.post('/users', { email: 'auditor@example.com', password: 'auditor password 1' })).status,
      201,
    );
    const all = await a.get('/audit-log?perPage=1&page=2');
    assert.equal(all.status, 200);
    assert.equal(all.body.data.length, 1);
    assert.equal(all.body.pagination.page, 2);
    assert.equal(all.body.pagination.perPage, 1);
    const first = (await a.get('/audit-log?perPage=1')).body.data[0];
    assert.ok(first.id > all.body.data[0].id, 'newest first');
    assert.ok(Date.parse(first.at) >= Date.parse(all.body.data[0].at));
    const users = await a.get('/audit-log?objectType=user');
    assert.ok(users.body.data.some((e: { action: string }) => e.action === 'user.created'));
  });
});
