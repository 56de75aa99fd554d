import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor, type JsonResponse } from '../helpers/http.js';
import { assertFieldError } from '../helpers/assert.js';
import { deferred } from '../helpers/async.js';
import { builtinPlugins } from '../../server/plugins/builtins.js';
import { WEBHOOK_EVENTS } from '../../server/plugins/webhooks/index.js';
import { OutgoingHttp } from '../../server/services/outgoing-http.js';
import type { AffixPlugin } from '../../server/plugins/types.js';

/*
 * Plugin settings are checked like every other API input (SPEC §10, §10a): a webhook URL must be
 * an http(s) URL the address rule lets Affix call, the list is short and has no repeats, and the
 * events are ones Affix emits (§7.6). The cheap checks answer before any name is looked up; the
 * lookups run side by side and outside the queue that applies plugin changes one at a time, so a
 * slow resolver holds up only the change that waits for it.
 */

type Api = ReturnType<typeof api>;

/** A plugin of this file: the same rules apply to any plugin's declared settings. */
const probe: AffixPlugin = {
  name: 'probe',
  title: 'Probe',
  description: 'Declares checked settings',
  settings: [
    { key: 'callback', label: 'Callback', type: 'string', default: '', outgoingUrl: true },
    { key: 'colours', label: 'Colours', type: 'string[]', default: [], options: ['red', 'green'], maxItems: 2 },
  ],
  register() {},
};

/** The detail of a 422 naming `field`. */
function detail(res: JsonResponse, field: string): string {
  assertFieldError(res, field);
  return (res.body.error.details as Array<{ field: string; message: string }>).find((d) => d.field === field)!.message;
}

describe(`plugin settings are validated before they are saved (SPEC §8, §10a) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: Api;
  // Every address check the app makes goes through OutgoingHttp.problem: the tests see (and may hold) each.
  const realProblem = OutgoingHttp.prototype.problem;
  let looked: string[] = [];
  let hold: ((url: string) => Promise<string | null> | null) | null = null;

  const storedRow = async (name: string) => {
    const row = (await app.services.db('plugins').where({ name }).first()) as { settings: string } | undefined;
    return row ? (JSON.parse(row.settings) as Record<string, unknown>) : null;
  };

  before(async () => {
    OutgoingHttp.prototype.problem = function (this: OutgoingHttp, url: string) {
      looked.push(url);
      return hold?.(url) ?? realProblem.call(this, url);
    };
    app = await startTestApp({ builtins: (deps) => [...builtinPlugins(deps), probe] });
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    OutgoingHttp.prototype.problem = realProblem;
    await app.close();
  });
  beforeEach(() => {
    looked = [];
    hold = null;
  });

  test('bad webhook URLs and events are 422 naming the entry, and nothing is stored', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ urls: ['not a url'] }, 'settings.urls.0', /http\(s\) URL/],
      [{ urls: ['https://hooks.example/in', 'ftp://example.com/'] }, 'settings.urls.1', /http\(s\) URL/],
      [{ urls: ['javascript:alert(1)'] }, 'settings.urls.0', /http\(s\) URL/],
      [{ urls: [''] }, 'settings.urls.0', /http\(s\) URL/],
      [{ urls: [`https://hooks.example/${'x'.repeat(2048)}`] }, 'settings.urls.0', /at most 2048/],
      [{ urls: ['https://hooks.example/in', 'https://HOOKS.example/in'] }, 'settings.urls.1', /entry 0/],
      [{ urls: 'https://hooks.example/in' }, 'settings.urls', /list/],
      [{ urls: ['https://hooks.example/in', 7] }, 'settings.urls', /list/],
      [{ events: ['bogus.event'] }, 'settings.events.0', /must be one of: commission\.created/],
      [{ events: ['commission.created', 'Commission.Approved'] }, 'settings.events.1', /must be one of/],
      [
        { events: ['commission.created'], urls: ['https://hooks.example/in', 'mailto:x@example.com'] },
        'settings.urls.1',
        /http\(s\)/,
      ],
    ];
    for (const [settings, field, message] of cases) {
      const res = await a.patch('/plugins/webhooks', { settings });
      assert.match(detail(res, field), message, `${JSON.stringify(settings).slice(0, 120)}: ${res.text.slice(0, 300)}`);
    }
    assert.deepEqual(looked, [], 'no address was looked up for a value refused by the cheap checks');
    assert.equal(await storedRow('webhooks'), null, 'nothing stored');
    const now = (await a.get('/plugins/webhooks')).body.settings;
    assert.deepEqual(now.urls, []);
    assert.deepEqual(now.events, []);
  });

  test('a list longer than the limit is refused at once, before any lookup', async () => {
    const same = Array.from({ length: 2000 }, () => 'https://example.com/');
    const res = await a.patch('/plugins/webhooks', { settings: { urls: same } });
    assert.match(detail(res, 'settings.urls'), /at most 20/);
    const distinct = Array.from({ length: 21 }, (_, i) => `https://hooks.example/${i}`);
    assert.match(
      detail(await a.patch('/plugins/webhooks', { settings: { urls: distinct } }), 'settings.urls'),
      /at most 20/,
    );
    assert.deepEqual(looked, []);
    assert.equal(await storedRow('webhooks'), null);
  });

  test('the address rule still refuses internal targets, naming the entry', async () => {
    const res = await a.patch('/plugins/webhooks', {
      settings: { urls: ['https://hooks.example/in', 'http://127.0.0.1:3306/'] },
    });
    assert.match(detail(res, 'settings.urls.1'), /public address/);
    assert.match(detail(res, 'urls'), /127\.0\.0\.1:3306.*public address/);
    assert.equal(await storedRow('webhooks'), null);
  });

  test('valid settings are saved as sent, and every URL was checked', async () => {
    const urls = Array.from({ length: 20 }, (_, i) => `https://hooks.example/in/${i}`);
    const settings = { urls, secret: 'whsec_abc', events: ['commission.created', 'conversion.created'] };
    const res = await a.patch('/plugins/webhooks', { settings });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([...looked].sort(), [...urls].sort());
    assert.deepEqual(await storedRow('webhooks'), settings);
    const got = (await a.get('/plugins/webhooks')).body.settings;
    assert.deepEqual(got.urls, urls);
    assert.deepEqual(got.events, settings.events);
    // Every event Affix emits may be chosen; an empty list still means all.
    const all = await a.patch('/plugins/webhooks', { settings: { events: [...WEBHOOK_EVENTS] } });
    assert.equal(all.status, 200, all.text);
    assert.equal((await a.patch('/plugins/webhooks', { settings: { events: [], urls: [] } })).status, 200);
    assert.deepEqual(await storedRow('webhooks'), { urls: [], secret: 'whsec_abc', events: [] });
  });

  test('any plugin’s declared rules apply: allowed values, list length, a single outgoing URL', async () => {
    assert.match(
      detail(await a.patch('/plugins/probe', { settings: { colours: ['blue'] } }), 'settings.colours.0'),
      /red, green/,
    );
    assert.match(
      detail(await a.patch('/plugins/probe', { settings: { colours: ['red', 'green', 'red'] } }), 'settings.colours'),
      /at most 2/,
    );
    assert.match(
      detail(await a.patch('/plugins/probe', { settings: { callback: 'ftp://x.example/' } }), 'settings.callback'),
      /http\(s\)/,
    );
    assert.match(
      detail(await a.patch('/plugins/probe', { settings: { callback: 'http://10.0.0.1/' } }), 'callback'),
      /public address/,
    );
    assert.equal(await storedRow('probe'), null);
    const ok = await a.patch('/plugins/probe', { settings: { callback: '', colours: ['green'] } });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(await storedRow('probe'), { callback: '', colours: ['green'] });
  });

  test('the address checks of one change run side by side', async () => {
    const urls = ['https://a.example/', 'https://b.example/', 'https://c.example/'];
    let inFlight = 0;
    let most = 0;
    const all = deferred<null>();
    hold = (url) => {
      if (!urls.includes(url)) return null;
      inFlight += 1;
      most = Math.max(most, inFlight);
      if (inFlight === urls.length) all.resolve(null);
      // One at a time (the defect), a check must still end, or the test would hang: it ends by itself.
      const alone = new Promise<null>((r) => setTimeout(r, 500, null));
      return Promise.race([all.promise, alone]).finally(() => (inFlight -= 1));
    };
    const res = await a.patch('/plugins/webhooks', { settings: { urls } });
    assert.equal(res.status, 200, res.text);
    assert.equal(most, urls.length, 'all the checks were under way at once');
  });

  test('a slow address check holds up neither another plugin’s change nor a reload', async () => {
    const entered = deferred();
    const release = deferred<null>();
    hold = (url) => {
      if (!url.includes('slow.example')) return null;
      entered.resolve();
      return release.promise;
    };
    const done: string[] = [];
    const slow = a.patch('/plugins/webhooks', { settings: { urls: ['https://slow.example/in'] } }).then((res) => {
      done.push('slow');
      return res;
    });
    await entered.promise;
    // Held behind the slow change (the defect), the others could never finish first: release it
    // after a while so the test fails on the order instead of hanging.
    let fellBack = false;
    const fallback = setTimeout(() => {
      fellBack = true;
      release.resolve(null);
    }, 3000);
    const other = a.patch('/plugins/probe', { active: true, settings: { colours: ['red'] } }).then((res) => {
      done.push('other');
      return res;
    });
    const reload = app.services.plugins.reload().then(() => done.push('reload'));
    await Promise.all([other, reload]);
    const slowStillHeld = !fellBack;
    release.resolve(null);
    clearTimeout(fallback);
    const [slowRes, otherRes] = await Promise.all([slow, other]);
    assert.ok(slowStillHeld, `the others waited for the slow check: finished in the order ${done.join(', ')}`);
    assert.deepEqual(done.slice().sort(), ['other', 'reload', 'slow']);
    assert.equal(done.at(-1), 'slow', `finished in the order ${done.join(', ')}`);
    assert.equal(otherRes.status, 200, otherRes.text);
    assert.equal(slowRes.status, 200, slowRes.text);
    assert.deepEqual((await storedRow('webhooks'))?.urls, ['https://slow.example/in']);
    assert.deepEqual(await storedRow('probe'), { callback: '', colours: ['red'] });
    assert.equal((await a.get('/plugins/probe')).body.active, true);
    assert.deepEqual((await a.get('/plugins/webhooks')).body.settings.urls, ['https://slow.example/in']);
  });
});
