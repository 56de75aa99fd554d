import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Hooks } from '../../server/plugins/hooks.js';
import {
  PluginRegistry,
  PluginSettingsError,
  type PluginState,
  type PluginStateStore,
} from '../../server/plugins/registry.js';
import type { AffixPlugin, Logger, PluginContext } from '../../server/plugins/types.js';

/** The filters this file's test plugins define. */
declare module '../../server/plugins/contract.js' {
  interface HookFilters {
    count: [n: number];
    amount: [v: number];
  }
}

// Compile-time check that a real pino logger fits the Logger the host asks for.
const _pinoFits: Logger = pino({ enabled: false });
void _pinoFits;

type Level = keyof Logger;
function recordingLog() {
  const calls: Array<{ level: Level; obj: Record<string, unknown>; msg: string | undefined }> = [];
  const at =
    (level: Level) =>
    (obj: object, msg?: string): void =>
      void calls.push({ level, obj: obj as Record<string, unknown>, msg });
  return { calls, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

class MemoryStore implements PluginStateStore {
  readonly rows = new Map<string, PluginState>();
  async load(): Promise<PluginState[]> {
    return [...this.rows.values()].map((r) => structuredClone(r));
  }
  async save(state: PluginState): Promise<void> {
    this.rows.set(state.name, structuredClone(state));
  }
}

function setup(builtins: AffixPlugin[], store = new MemoryStore(), pluginsDir: string | null = null) {
  const log = recordingLog();
  const hooks = new Hooks(log);
  const registry = new PluginRegistry({ hooks, log, builtins, pluginsDir, store });
  return { log, hooks, registry, store };
}

const counter: AffixPlugin = {
  name: 'counter',
  title: 'Counter',
  description: 'Adds one',
  settings: [
    { key: 'step', label: 'Step', type: 'number', default: 1 },
    { key: 'enabled', label: 'Enabled', type: 'boolean', default: true },
    { key: 'mode', label: 'Mode', type: 'enum', default: 'add', options: ['add', 'multiply'] },
    { key: 'tags', label: 'Tags', type: 'string[]', default: [] },
    { key: 'label', label: 'Label', type: 'string', default: 'x' },
  ],
  register(hooks, ctx) {
    hooks.addFilter('count', (n: number) => {
      const step = ctx.settings().step as number;
      return ctx.settings().mode === 'multiply' ? n * step : n + step;
    });
  },
};

describe('PluginRegistry with built-in plugins', () => {
  test('reload applies what another process saved: activation, settings, deactivation', async () => {
    const store = new MemoryStore();
    const theirs = setup([counter], store);
    let changes = 0;
    const log = recordingLog();
    const changed = new PluginRegistry({
      hooks: new Hooks(log),
      log,
      builtins: [counter],
      store,
      onChange: () => void changes++,
    });
    await Promise.all([theirs.registry.init(), changed.init()]);

    await changed.setActive('counter', true);
    await changed.updateSettings('counter', { step: 5 });
    assert.equal(changes, 2, 'each saved change is announced');
    assert.equal(theirs.hooks.has('count'), false, 'nothing applies before the reload');
    await theirs.registry.reload();
    assert.equal(theirs.registry.isActive('counter'), true);
    assert.equal(await theirs.hooks.applyFilters('count', 10), 15);
    await theirs.registry.reload();
    assert.equal(await theirs.hooks.applyFilters('count', 10), 15, 'a reload without a change registers nothing twice');

    await changed.setActive('counter', false);
    await theirs.registry.reload();
    assert.equal(theirs.registry.isActive('counter'), false);
    assert.equal(theirs.hooks.has('count'), false);
  });

  test('plugins start inactive; activation adds their hooks and deactivation removes them', async () => {
    const { hooks, registry, store } = setup([counter]);
    await registry.init();
    assert.equal(registry.isActive('counter'), false);
    assert.equal(hooks.has('count'), false);

    const shown = await registry.setActive('counter', true);
    assert.equal(shown.active, true);
    assert.equal(registry.isActive('counter'), true);
    assert.equal(await hooks.applyFilters('count', 10), 11);
    assert.deepEqual(store.rows.get('counter'), { name: 'counter', active: true, settings: {} });

    await registry.setActive('counter', false);
    assert.equal(registry.isActive('counter'), false);
    assert.equal(hooks.has('count'), false);
    assert.equal(store.rows.get('counter')?.active, false);
  });

  test('state and settings persist: a second registry on the same store sees them', async () => {
    const first = setup([counter]);
    await first.registry.init();
    await first.registry.setActive('counter', true);
    await first.registry.updateSettings('counter', { step: 5, tags: ['a'] });

    const second = setup([counter], first.store);
    await second.registry.init();
    assert.equal(second.registry.isActive('counter'), true);
    assert.equal(second.registry.get('counter')?.settings.step, 5);
    assert.equal(await second.hooks.applyFilters('count', 10), 15);
  });

  test('list() merges settings over defaults, is sorted by name and shows the source', async () => {
    const zed: AffixPlugin = { name: 'zed', title: 'Zed', description: '', register() {} };
    const { registry } = setup([zed, counter]);
    await registry.init();
    await registry.updateSettings('counter', { mode: 'multiply' });
    const list = registry.list();
    assert.deepEqual(
      list.map((p) => p.name),
      ['counter', 'zed'],
    );
    assert.deepEqual(list[0]?.settings, { step: 1, enabled: true, mode: 'multiply', tags: [], label: 'x' });
    assert.equal(list[0]?.source, 'builtin');
    assert.equal(list[0]?.settingDefs.length, 5);
    assert.equal(registry.get('nope'), undefined);
  });

  test('settings() on the context returns new values at once', async () => {
    const { hooks, registry } = setup([counter]);
    await registry.init();
    await registry.setActive('counter', true);
    await registry.updateSettings('counter', { step: 3, mode: 'multiply' });
    assert.equal(await hooks.applyFilters('count', 10), 30);
  });

  test('invalid settings throw PluginSettingsError naming the key, and nothing is saved', async () => {
    const { registry, store } = setup([counter]);
    await registry.init();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ step: '5' }, 'step'],
      [{ step: Number.NaN }, 'step'],
      [{ enabled: 'yes' }, 'enabled'],
      [{ mode: 'divide' }, 'mode'],
      [{ tags: ['a', 1] }, 'tags'],
      [{ label: 7 }, 'label'],
      [{ colour: 'red' }, 'colour'],
      [{ step: 2, nope: true }, 'nope'],
    ];
    for (const [partial, key] of cases) {
      await assert.rejects(registry.updateSettings('counter', partial), (err: unknown) => {
        assert.ok(err instanceof PluginSettingsError);
        assert.equal(err.field, key);
        assert.match(err.message, new RegExp(`^${key}: `));
        return true;
      });
    }
    assert.equal(store.rows.size, 0);
    assert.equal(registry.get('counter')?.settings.step, 1);
  });

  test('an unknown plugin name is a not-found error', async () => {
    const { registry } = setup([counter]);
    await registry.init();
    await assert.rejects(registry.setActive('ghost', true), /Plugin ghost not found/);
    await assert.rejects(registry.updateSettings('ghost', {}), /Plugin ghost not found/);
  });

  test('a plugin whose register throws is marked failed, its partial hooks removed, and stays active in storage', async () => {
    const broken: AffixPlugin = {
      name: 'broken',
      title: 'Broken',
      description: '',
      async register(hooks) {
        hooks.addAction('sale.recorded', () => {});
        hooks.addFilter('sale.payouts', (v) => v);
        throw new Error('bad config');
      },
    };
    const store = new MemoryStore();
    await store.save({ name: 'broken', active: true, settings: {} });
    await store.save({ name: 'counter', active: true, settings: {} });
    const { hooks, registry, log } = setup([broken, counter], store);
    await registry.init();

    assert.equal(hooks.has('sale.recorded'), false);
    assert.equal(hooks.has('sale.payouts'), false);
    assert.equal(registry.isActive('counter'), true, 'other plugins are unaffected');
    assert.equal(registry.isActive('broken'), false);
    const shown = registry.get('broken');
    assert.equal(shown?.active, true);
    assert.equal(shown?.error, 'bad config');
    assert.equal(store.rows.get('broken')?.active, true);
    assert.ok(log.calls.some((c) => c.level === 'error' && c.obj.plugin === 'broken'));

    // Deactivating clears the failure.
    await registry.setActive('broken', false);
    assert.equal(registry.get('broken')?.error, undefined);
  });

  test('the context log tags lines with the plugin name', async () => {
    let ctxSeen: PluginContext | undefined;
    const talker: AffixPlugin = {
      name: 'talker',
      title: 'Talker',
      description: '',
      register(_hooks, ctx) {
        ctxSeen = ctx;
        ctx.log.info({ n: 1 }, 'hello');
      },
    };
    const { registry, log } = setup([talker]);
    await registry.init();
    await registry.setActive('talker', true);
    assert.ok(ctxSeen);
    assert.deepEqual(log.calls.at(-1), { level: 'info', obj: { plugin: 'talker', n: 1 }, msg: 'hello' });
  });

  test('a duplicate built-in name is logged and skipped', async () => {
    const { registry, log } = setup([counter, { ...counter, title: 'Other' }]);
    await registry.init();
    assert.equal(registry.list().length, 1);
    assert.equal(registry.get('counter')?.title, 'Counter');
    assert.ok(log.calls.some((c) => /duplicate/.test(c.msg ?? '') && c.obj.plugin === 'counter'));
  });
});

describe('PluginRegistry with a PLUGINS_DIR', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'affix-plugins-'));
    const write = (rel: string, body: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), body);
    };
    write(
      'good.mjs',
      `export default {
        name: 'good', title: 'Good', description: 'Doubles',
        settings: [{ key: 'factor', label: 'Factor', type: 'number', default: 2 }],
        register(hooks, ctx) { hooks.addFilter('amount', (v) => v * ctx.settings().factor); },
      };`,
    );
    write('syntax-error.mjs', `export default { name: 'oops', register() { `);
    write('throws-at-import.mjs', `throw new Error('import boom');`);
    write('no-register.mjs', `export default { name: 'lazy', title: 'Lazy', description: '' };`);
    write(
      'folder-plugin/index.mjs',
      `export const plugin = { name: 'folder', register(hooks) { hooks.addAction('sale.recorded', () => {}); } };`,
    );
    write('folder-plugin/helper.mjs', `export default { name: 'not-loaded', register() {} };`);
    write('empty-folder/README.md', 'nothing here');
    write('notes.txt', 'not a plugin');
    write('dup.mjs', `export default { name: 'counter', title: 'Dup', description: '', register() {} };`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('loads good file and folder plugins; logs and skips broken, shapeless and duplicate ones', async () => {
    const { registry, log } = setup([counter], new MemoryStore(), dir);
    await registry.init();
    const list = registry.list();
    assert.deepEqual(
      list.map((p) => [p.name, p.source]),
      [
        ['counter', 'builtin'],
        ['folder', 'directory'],
        ['good', 'directory'],
      ],
    );
    // A plain-JS plugin without a title gets its name.
    assert.equal(registry.get('folder')?.title, 'folder');

    const errorsFor = (needle: string) =>
      log.calls.filter((c) => c.level === 'error' && String(c.obj.file ?? c.obj.from ?? '').includes(needle));
    assert.match(errorsFor('syntax-error.mjs')[0]?.msg ?? '', /failed to load/);
    assert.match(errorsFor('throws-at-import.mjs')[0]?.msg ?? '', /failed to load/);
    assert.match(errorsFor('no-register.mjs')[0]?.msg ?? '', /not a plugin/);
    assert.match(errorsFor('dup.mjs')[0]?.msg ?? '', /duplicate/);
    assert.equal(errorsFor('helper.mjs').length, 0);
    assert.equal(errorsFor('notes.txt').length, 0);
  });

  test('directory plugins activate, use their settings and persist like built-ins', async () => {
    const first = setup([], new MemoryStore(), dir);
    await first.registry.init();
    await first.registry.setActive('good', true);
    await first.registry.setActive('folder', true);
    assert.equal(await first.hooks.applyFilters('amount', 5), 10);
    assert.equal(first.hooks.has('sale.recorded'), true);
    await first.registry.updateSettings('good', { factor: 3 });
    assert.equal(await first.hooks.applyFilters('amount', 5), 15);

    const second = setup([], first.store, dir);
    await second.registry.init();
    assert.equal(await second.hooks.applyFilters('amount', 5), 15);
    await second.registry.setActive('folder', false);
    assert.equal(second.hooks.has('sale.recorded'), false);
  });

  test('a missing directory is logged, and the built-ins still load', async () => {
    const { registry, log } = setup([counter], new MemoryStore(), path.join(dir, 'does-not-exist'));
    await registry.init();
    assert.deepEqual(
      registry.list().map((p) => p.name),
      ['counter'],
    );
    assert.ok(log.calls.some((c) => c.level === 'error' && /plugins directory/.test(c.msg ?? '')));
  });
});
