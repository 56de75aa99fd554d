import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Hooks } from '../../server/plugins/hooks.js';
import { PluginRegistry, type PluginState, type PluginStateStore } from '../../server/plugins/registry.js';
import type { AffixPlugin, PluginRequest, PluginServices } from '../../server/plugins/types.js';

/* Plugins that own HTTP endpoints (SPEC §8, §14): mounted under /<name>/ only while active. */

class MemoryStore implements PluginStateStore {
  readonly rows = new Map<string, PluginState>();
  async load(): Promise<PluginState[]> {
    return [...this.rows.values()].map((r) => structuredClone(r));
  }
  async save(state: PluginState): Promise<void> {
    this.rows.set(state.name, structuredClone(state));
  }
}

const errors: string[] = [];
const log = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (obj: object, msg?: string) => void errors.push(`${msg} ${JSON.stringify(obj)}`),
};

const request = (body = ''): PluginRequest => ({
  method: 'POST',
  path: 'echo',
  header: (name) => (name.toLowerCase() === 'x-test' ? 'yes' : undefined),
  rawBody: Buffer.from(body),
  ip: '127.0.0.1',
});
const services = {} as PluginServices;

const echo: AffixPlugin = {
  name: 'echo',
  title: 'Echo',
  description: 'Answers with what it got',
  settings: [{ key: 'prefix', label: 'Prefix', type: 'string', default: '>' }],
  routes: [
    {
      method: 'POST',
      path: 'echo',
      handle: async (req, ctx) => ({
        status: 200,
        body: { said: `${String(ctx.settings().prefix)}${req.rawBody.toString('utf8')}`, header: req.header('X-Test') },
      }),
    },
  ],
  register() {},
};

async function registry(plugins: AffixPlugin[]) {
  const r = new PluginRegistry({ hooks: new Hooks(log), log, builtins: plugins, store: new MemoryStore() });
  await r.init();
  return r;
}

describe('plugin routes', () => {
  test('a route answers only while its plugin is active, with the current settings', async () => {
    const r = await registry([echo]);
    assert.deepEqual(r.resolveRoute('POST', '/echo/echo'), { kind: 'inactive', plugin: 'echo', title: 'Echo' });

    await r.setActive('echo', true);
    const found = r.resolveRoute('POST', '/echo/echo');
    assert.equal(found?.kind, 'route');
    if (found?.kind !== 'route') return;
    assert.deepEqual(await found.handle(request('hi'), services), {
      status: 200,
      body: { said: '>hi', header: 'yes' },
    });
    await r.updateSettings('echo', { prefix: '$' });
    assert.deepEqual((await found.handle(request('hi'), services)).body, { said: '$hi', header: 'yes' });

    await r.setActive('echo', false);
    assert.equal(r.resolveRoute('POST', '/echo/echo')?.kind, 'inactive');
  });

  test('other paths and methods under the prefix are named; paths of the core are not the plugins’', async () => {
    const r = await registry([echo]);
    await r.setActive('echo', true);
    assert.deepEqual(r.resolveRoute('GET', '/echo/echo'), { kind: 'none', plugin: 'echo', allowed: ['POST'] });
    assert.deepEqual(r.resolveRoute('POST', '/echo/other'), { kind: 'none', plugin: 'echo', allowed: [] });
    assert.equal(r.resolveRoute('POST', '/admin/plugins'), null);
    assert.equal(r.resolveRoute('POST', '/echo'), null, 'one segment is a campaign alias');
    assert.equal(r.resolveRoute('POST', '/other/echo'), null);
  });

  test('a plugin named like a core path cannot take it over', async () => {
    errors.length = 0;
    const r = await registry([{ ...echo, name: 'admin' }]);
    await r.setActive('admin', true);
    assert.equal(r.resolveRoute('POST', '/admin/echo'), null);
    assert.ok(
      errors.some((e) => /core path/.test(e)),
      errors.join('\n'),
    );
  });

  test('routes are listed in the plugin info', async () => {
    const r = await registry([echo]);
    assert.deepEqual(r.get('echo')?.routes, [{ method: 'POST', path: '/echo/echo' }]);
  });
});
