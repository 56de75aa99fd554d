import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { buildSnippet, renderSnippet, snippetConfig, type SnippetConfig } from '../../server/services/snippet-build.js';
import { defaultSettings } from '../../server/domain/settings.js';

/*
 * The rendered snippet run in a bare VM with a fake window: the configuration is baked in as
 * data, the queue is replayed, and the configured parameter names decide the automatic click.
 * (The real browser behaviour is covered by test/e2e/storefront-attribution.test.ts.)
 */

interface Sent {
  url: string;
  body: string;
}

function run(code: string, opts: { search: string; queue?: unknown[][] }) {
  const fetched: Sent[] = [];
  const beacons: Sent[] = [];
  const cookies = new Map<string, string>();
  const store = new Map<string, string>();
  const stub = function (...args: unknown[]) {
    (stub.q ??= []).push(args);
  } as ((...args: unknown[]) => unknown) & { q?: unknown[][]; v?: number };
  for (const args of opts.queue ?? []) stub(...args);
  const window: Record<string, unknown> = { affix: stub };
  const sandbox = {
    window,
    location: { search: opts.search, href: `https://shop.example.com/${opts.search}`, protocol: 'https:' },
    document: {
      referrer: '',
      get cookie() {
        return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      },
      set cookie(line: string) {
        const [pair] = line.split(';');
        const [k, v] = (pair ?? '').split('=');
        if (/max-age=0\b/.test(line)) cookies.delete(k!);
        else cookies.set(k!, v ?? '');
      },
    },
    localStorage: {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    },
    navigator: {
      sendBeacon: (url: string, blob: Blob) => {
        void blob.text().then((body) => beacons.push({ url, body }));
        return true;
      },
    },
    fetch: async (url: string, init: { body: string }) => {
      fetched.push({ url, body: init.body });
      return { ok: true, json: async () => ({ visitorId: 'V'.repeat(22) }) };
    },
    URLSearchParams,
    Blob,
    Promise,
    JSON,
    Image: class {
      src = '';
    },
  };
  vm.runInNewContext(code, sandbox);
  return { window, fetched, beacons, cookies, store };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('the rendered snippet', () => {
  let code: string;
  before(async () => {
    code = await buildSnippet();
  });

  const config = (patch: Partial<SnippetConfig> = {}): SnippetConfig => ({
    ...snippetConfig(defaultSettings('x'.repeat(24)), 'https://track.example.com/'),
    ...patch,
  });

  test('the configuration is baked in as data, even with quotes and line separators', () => {
    const odd = config({ endpoint: 'https://track.example.com/"\\\u2028' });
    const text = renderSnippet(code, odd);
    assert.ok(!text.includes('__AFFIX_CONFIG__'));
    assert.doesNotThrow(() => new vm.Script(text));
    assert.equal(config().endpoint, 'https://track.example.com', 'no trailing slash');
  });

  test('renamed parameters: the automatic click follows the configured affiliate name', async () => {
    const renamed = renderSnippet(code, config({ params: { ...config().params, affiliate: 'ref' } }));
    const hit = run(renamed, { search: '?ref=ann' });
    await settle();
    assert.equal(hit.fetched.length, 1);
    assert.equal(hit.fetched[0]?.url, 'https://track.example.com/t/click');
    assert.equal(JSON.parse(hit.fetched[0]!.body).url, 'https://shop.example.com/?ref=ann');
    assert.equal(hit.cookies.get('affix_vid'), 'V'.repeat(22), 'the answered visitor id is stored');
    assert.equal(hit.store.get('affix_vid'), 'V'.repeat(22));

    const miss = run(renamed, { search: '?a_aid=ann' });
    await settle();
    assert.equal(miss.fetched.length, 0, 'the default name no longer triggers a click');
  });

  test('the queue is replayed in order and a sale carries the visitor id', async () => {
    const text = renderSnippet(code, config());
    const r = run(text, {
      search: '?affix_vid=' + 'R'.repeat(22),
      queue: [['sale', { orderId: 'A-1', totalCost: 10 }], ['bogus'], ['sale', 'garbage']],
    });
    await settle();
    assert.equal(r.fetched.length, 0, 'a redirect already recorded the click');
    assert.equal(r.beacons.length, 1);
    assert.equal(r.beacons[0]?.url, 'https://track.example.com/t/sale');
    assert.deepEqual(JSON.parse(r.beacons[0]!.body), { orderId: 'A-1', totalCost: 10, visitorId: 'R'.repeat(22) });
    const affix = r.window.affix as ((c: string) => Promise<string | null>) & { v?: number };
    assert.equal(affix.v, 1, 'window.affix is the real function now');
    assert.equal(await affix('visitorId'), 'R'.repeat(22));
  });

  test('GDPR mode: nothing stored and no click until consent', async () => {
    const r = run(renderSnippet(code, config({ gdpr: true })), { search: '?a_aid=ann' });
    await settle();
    assert.equal(r.fetched.length, 0);
    assert.equal(r.cookies.size + r.store.size, 0);
    const affix = r.window.affix as (c: string, d?: unknown) => Promise<string | null> | undefined;
    affix('consent', true);
    assert.equal(await affix('visitorId'), 'V'.repeat(22));
    assert.equal(r.fetched.length, 1);
    assert.equal(JSON.parse(r.fetched[0]!.body).consent, true, 'the click tells the tracker it may set its cookie');
    assert.equal(r.cookies.get('affix_vid'), 'V'.repeat(22));
    affix('consent', false);
    assert.equal(r.cookies.has('affix_vid'), false);
    assert.equal(r.store.has('affix_vid'), false);
  });
});
