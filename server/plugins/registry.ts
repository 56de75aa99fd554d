import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppError, notFound } from '../errors.js';
import { httpUrl } from '../validation.js';
import type { Hooks } from './hooks.js';
import {
  MAX_OUTGOING_URLS,
  type AffixPlugin,
  type Logger,
  type PluginContext,
  type PluginRequest,
  type PluginResponse,
  type PluginRoute,
  type PluginServices,
  type PluginSettingDef,
} from './types.js';

/** One plugin's row as kept in the database; `settings` holds only the values an admin set. */
export interface PluginState {
  name: string;
  active: boolean;
  settings: Record<string, unknown>;
}

export interface PluginStateStore {
  load(): Promise<PluginState[]>;
  save(state: PluginState): Promise<void>;
}

export interface PluginInfo {
  name: string;
  title: string;
  description: string;
  /** As chosen by the admin; a plugin that failed to register stays active and carries `error`. */
  active: boolean;
  source: 'builtin' | 'directory';
  settings: Record<string, unknown>;
  settingDefs: PluginSettingDef[];
  /** The endpoints it owns (answered while it is active). */
  routes: Array<{ method: PluginRoute['method']; path: string }>;
  error?: string;
}

/**
 * What a request to `/<plugin name>/<path>` reaches: a route of an active plugin, an inactive
 * plugin, or nothing at that path (`allowed`: the methods the path has).
 */
export type RouteResolution =
  | { kind: 'route'; plugin: string; handle(req: PluginRequest, services: PluginServices): Promise<PluginResponse> }
  | { kind: 'inactive'; plugin: string; title: string }
  | { kind: 'none'; plugin: string; allowed: string[] };

/** First path segments of the core's own endpoints: no plugin may own routes there. */
const CORE_PATHS = new Set([
  'admin',
  'api',
  'api.php',
  'click_api',
  'healthz',
  'lp',
  'portal',
  'postback',
  'r',
  'snippet.js',
  'static',
  't',
]);

/**
 * A settings value that does not fit its definition; a validation_failed error naming the key
 * (as the admin form shows it), and `index`, the list entry at fault, when there is one.
 */
export class PluginSettingsError extends AppError {
  override name = 'PluginSettingsError';
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly index?: number,
  ) {
    super('validation_failed', `${field}: ${problem}`, [{ field, message: problem }]);
  }
}

interface Loaded {
  plugin: AffixPlugin;
  source: PluginInfo['source'];
  active: boolean;
  /** Its hooks were registered (or registering failed) for the current activation. */
  registered: boolean;
  stored: Record<string, unknown>;
  routes: PluginRoute[];
  // Cached and frozen: plugins read settings() on hot paths and must not mutate them.
  settings: Readonly<Record<string, unknown>>;
  error?: string;
}

export interface PluginRegistryDeps {
  hooks: Hooks;
  log: Logger;
  builtins: AffixPlugin[];
  pluginsDir?: string | null;
  store: PluginStateStore;
  /** Why Affix may not call a URL (null: it may), for settings marked `outgoingUrl`. */
  checkUrl?: (url: string) => Promise<string | null>;
  /** Called after a change is saved, so other processes on the database apply it too (`reload`). */
  onChange?: () => void;
}

/**
 * Knows every plugin (built-in and from PLUGINS_DIR), which are active, and their settings.
 * Plugins without a stored state start inactive: the admin turns them on.
 */
export class PluginRegistry {
  private readonly plugins = new Map<string, Loaded>();
  private initialized = false;
  /** Changes and reloads run one at a time, so a reload never interleaves with a local change. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: PluginRegistryDeps) {}

  async init(): Promise<void> {
    if (this.initialized) return;
    this.initialized = true;
    for (const plugin of this.deps.builtins) this.add(plugin, 'builtin', 'builtin');
    if (this.deps.pluginsDir) {
      for (const { file, plugin } of await this.loadDirectory(this.deps.pluginsDir))
        this.add(plugin, 'directory', file);
    }
    await this.apply(await this.deps.store.load());
  }

  /**
   * Applies the stored state again (another process changed it): plugins switched on register
   * their hooks, plugins switched off lose them, and settings take their stored values.
   */
  reload(): Promise<void> {
    return this.serial(async () => this.apply(await this.deps.store.load()));
  }

  private async apply(states: PluginState[]): Promise<void> {
    const stored = new Map(states.map((s) => [s.name, s]));
    for (const entry of this.plugins.values()) {
      const state = stored.get(entry.plugin.name);
      // A plugin without a row is inactive with its defaults; a row for a plugin not on disk is ignored.
      const active = state ? Boolean(state.active) : false; // tolerate 0/1 from SQLite
      const settings = state && isRecord(state.settings) ? state.settings : {};
      if (JSON.stringify(settings) !== JSON.stringify(entry.stored)) {
        entry.stored = settings;
        entry.settings = effectiveSettings(entry.plugin, settings);
      }
      if (active !== entry.active || entry.registered !== active) await this.switchTo(entry, active);
    }
  }

  /** Drops the plugin's hooks and, when `active`, registers it again (which also retries a failed one). */
  private async switchTo(entry: Loaded, active: boolean): Promise<void> {
    entry.active = active;
    this.deps.hooks.removeOwner(entry.plugin.name);
    entry.registered = false;
    delete entry.error;
    if (active) await this.register(entry);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  list(): PluginInfo[] {
    return [...this.plugins.values()].map(info).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): PluginInfo | undefined {
    const entry = this.plugins.get(name);
    return entry && info(entry);
  }

  /** True when the plugin is active and its hooks are live (it did not fail to register). */
  isActive(name: string): boolean {
    const entry = this.plugins.get(name);
    return entry !== undefined && entry.active && entry.error === undefined;
  }

  /** The plugin endpoint `path` reaches, or null when the path is not under a plugin's prefix (the core's). */
  resolveRoute(method: string, path: string): RouteResolution | null {
    const match = /^\/([^/]+)\/(.+)$/.exec(path);
    if (!match) return null;
    const [, name = '', rest = ''] = match;
    const entry = this.plugins.get(name);
    if (!entry || !entry.routes.length) return null;
    if (!this.isActive(name)) return { kind: 'inactive', plugin: name, title: entry.plugin.title };
    const atPath = entry.routes.filter((r) => r.path === rest);
    const route = atPath.find((r) => r.method === method.toUpperCase());
    if (!route) return { kind: 'none', plugin: name, allowed: atPath.map((r) => r.method) };
    const log = tagged(this.deps.log, name);
    return {
      kind: 'route',
      plugin: name,
      handle: (req, services) => route.handle(req, { settings: () => entry.settings, log, services }),
    };
  }

  /** Saves first, so a database failure leaves the running hooks unchanged. Returns the new state. */
  async setActive(name: string, active: boolean): Promise<PluginInfo> {
    const entry = this.mustGet(name);
    return this.serial(async () => {
      await this.deps.store.save({ name, active, settings: entry.stored });
      // Re-activating also retries a plugin that failed to register.
      await this.switchTo(entry, active);
      this.deps.onChange?.();
      return info(entry);
    });
  }

  /**
   * Validates every value before saving any; returns the plugin's settings merged over defaults.
   * The cheap checks (shape, length, scheme, allowed values) come first; then the addresses are
   * looked up, side by side and before joining the queue, so a slow resolver delays only this
   * change, never another plugin's change or a reload.
   */
  async updateSettings(name: string, partial: Record<string, unknown>): Promise<Record<string, unknown>> {
    const entry = this.mustGet(name);
    const defs = new Map((entry.plugin.settings ?? []).map((d) => [d.key, d]));
    for (const [key, value] of Object.entries(partial)) {
      const def = defs.get(key);
      if (!def) throw new PluginSettingsError(key, 'is not a setting of this plugin');
      const [problem] = settingProblems(def, value);
      if (problem?.index === undefined) {
        if (problem) throw new PluginSettingsError(key, problem.message);
      } else {
        // The admin form shows one message per setting: say which line it is about.
        const entry = JSON.stringify(String((value as unknown[])[problem.index]).slice(0, 100));
        throw new PluginSettingsError(key, `${entry} ${problem.message}`, problem.index);
      }
    }
    await this.checkAddresses(defs, partial);
    return this.serial(() => this.saveSettings(entry, defs, partial));
  }

  /** The outgoing-address rule for every URL in `partial` (already checked to be http(s) URLs). */
  private async checkAddresses(defs: Map<string, PluginSettingDef>, partial: Record<string, unknown>): Promise<void> {
    const { checkUrl } = this.deps;
    if (!checkUrl) return;
    const targets = Object.entries(partial).flatMap(([key, value]) => {
      if (!defs.get(key)?.outgoingUrl) return [];
      const urls = typeof value === 'string' ? [value] : (value as string[]);
      return urls
        .map((url, i) => ({ key, url: url.trim(), index: typeof value === 'string' ? undefined : i }))
        .filter((t) => t.url !== '');
    });
    const refusals = await Promise.all(targets.map((t) => checkUrl(t.url)));
    const at = refusals.findIndex((r) => r !== null);
    const target = targets[at];
    if (target) throw new PluginSettingsError(target.key, `${target.url} ${refusals[at]}`, target.index);
  }

  private async saveSettings(
    entry: Loaded,
    defs: Map<string, PluginSettingDef>,
    partial: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const { name } = entry.plugin;
    // Merged inside the queue: a change saved meanwhile (by this process or a reload) is kept.
    const stored = { ...pickKnown(entry.stored, defs), ...partial };
    await this.deps.store.save({ name, active: entry.active, settings: stored });
    entry.stored = stored;
    entry.settings = effectiveSettings(entry.plugin, stored);
    this.deps.onChange?.();
    return entry.settings;
  }

  private mustGet(name: string): Loaded {
    const entry = this.plugins.get(name);
    if (!entry) throw notFound('Plugin', name);
    return entry;
  }

  private add(plugin: AffixPlugin, source: PluginInfo['source'], from: string): void {
    if (this.plugins.has(plugin.name)) {
      this.deps.log.error({ plugin: plugin.name, from }, 'duplicate plugin name; skipped');
      return;
    }
    let routes = plugin.routes ?? [];
    if (routes.length && CORE_PATHS.has(plugin.name)) {
      this.deps.log.error(
        { plugin: plugin.name, from },
        `a plugin named like a core path (/${plugin.name}/) cannot own routes; its routes are ignored`,
      );
      routes = [];
    }
    this.plugins.set(plugin.name, {
      plugin,
      source,
      active: false,
      registered: false,
      stored: {},
      routes,
      settings: effectiveSettings(plugin, {}),
    });
  }

  private async register(entry: Loaded): Promise<void> {
    const { name } = entry.plugin;
    const ctx: PluginContext = { settings: () => entry.settings, log: tagged(this.deps.log, name) };
    entry.registered = true;
    try {
      await entry.plugin.register(this.deps.hooks.forOwner(name), ctx);
    } catch (err) {
      // Hooks added before the throw would run half a plugin; drop them all.
      this.deps.hooks.removeOwner(name);
      entry.error = err instanceof Error ? err.message : String(err);
      this.deps.log.error({ err, plugin: name }, 'plugin failed to register; its hooks were removed');
    }
  }

  /** Each `*.js`/`*.mjs` file, or folder with `index.js`/`index.mjs`, in name order. */
  private async loadDirectory(dir: string): Promise<Array<{ file: string; plugin: AffixPlugin }>> {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      this.deps.log.error({ err, dir }, 'cannot read the plugins directory; no extra plugins loaded');
      return [];
    }
    const found: Array<{ file: string; plugin: AffixPlugin }> = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const file = await entryFile(path.join(dir, name));
      if (!file) continue;
      try {
        const mod: unknown = await import(pathToFileURL(file).href);
        const plugin = pluginExport(mod);
        if (plugin) found.push({ file, plugin });
        else this.deps.log.error({ file }, 'not a plugin (needs a name and a register function); skipped');
      } catch (err) {
        this.deps.log.error({ err, file }, 'plugin failed to load; skipped');
      }
    }
    return found;
  }
}

function info(entry: Loaded): PluginInfo {
  const { plugin } = entry;
  const out: PluginInfo = {
    name: plugin.name,
    title: plugin.title,
    description: plugin.description,
    active: entry.active,
    source: entry.source,
    settings: { ...entry.settings },
    settingDefs: plugin.settings ?? [],
    routes: entry.routes.map((r) => ({ method: r.method, path: `/${plugin.name}/${r.path}` })),
  };
  if (entry.error !== undefined) out.error = entry.error;
  return out;
}

async function entryFile(p: string): Promise<string | null> {
  const s = await stat(p).catch(() => null);
  if (s?.isFile()) return /\.m?js$/.test(p) ? p : null;
  if (!s?.isDirectory()) return null;
  for (const index of ['index.js', 'index.mjs']) {
    const file = path.join(p, index);
    if ((await stat(file).catch(() => null))?.isFile()) return file;
  }
  return null;
}

/** The plugin a module exports: `default`, a named `plugin`, or (CommonJS) `module.exports.plugin`. */
function pluginExport(mod: unknown): AffixPlugin | null {
  if (!isRecord(mod)) return null;
  const candidates = [mod.default, mod.plugin, isRecord(mod.default) ? mod.default.plugin : undefined];
  for (const c of candidates) {
    const plugin = asPlugin(c);
    if (plugin) return plugin;
  }
  return null;
}

// Directory plugins are untyped JS: check the shape and fill the optional-looking fields.
function asPlugin(v: unknown): AffixPlugin | null {
  if (!isRecord(v) || typeof v.name !== 'string' || v.name === '' || typeof v.register !== 'function') return null;
  if (v.settings !== undefined && !Array.isArray(v.settings)) return null;
  if (v.routes !== undefined && !(Array.isArray(v.routes) && v.routes.every(isRoute))) return null;
  const plugin = v as unknown as AffixPlugin;
  return {
    name: plugin.name,
    title: typeof v.title === 'string' ? v.title : plugin.name,
    description: typeof v.description === 'string' ? v.description : '',
    ...(plugin.settings ? { settings: plugin.settings } : {}),
    ...(plugin.routes ? { routes: plugin.routes } : {}),
    register: (hooks, ctx) => plugin.register(hooks, ctx),
  };
}

const isRoute = (r: unknown): boolean =>
  isRecord(r) &&
  (r.method === 'GET' || r.method === 'POST') &&
  typeof r.path === 'string' &&
  /^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(r.path) &&
  typeof r.handle === 'function';

/**
 * Defaults, overridden by stored values that still have their definition's type (a plugin update
 * may change it). Only the type: a value saved before a rule was tightened (a 25th URL, an event
 * name no longer emitted) stays as the admin left it rather than turning into the default at an
 * upgrade, and shows up at the field when the admin saves next; the plugin skips what it cannot use.
 */
function effectiveSettings(plugin: AffixPlugin, stored: Record<string, unknown>): Readonly<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const def of plugin.settings ?? []) {
    const value =
      Object.hasOwn(stored, def.key) && typeProblem(def, stored[def.key]) === null ? stored[def.key] : def.default;
    out[def.key] = Array.isArray(value) ? Object.freeze([...value]) : value;
  }
  return Object.freeze(out);
}

function pickKnown(stored: Record<string, unknown>, defs: Map<string, PluginSettingDef>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(stored).filter(([key]) => defs.has(key)));
}

/** What is wrong with a setting's value; `index` is the list entry at fault, when one is. */
export interface SettingProblem {
  message: string;
  index?: number;
}

/**
 * Every way `value` does not fit `def` (none: it fits). No I/O: the outgoing-address rule is the
 * registry's to check afterwards. A list too long is one problem, its entries are not looked at.
 */
export function settingProblems(def: PluginSettingDef, value: unknown): SettingProblem[] {
  const wrongType = typeProblem(def, value);
  if (wrongType) return [{ message: wrongType }];
  if (def.type === 'string' && def.outgoingUrl) {
    const problem = (value as string).trim() === '' ? null : urlProblem(value as string);
    return problem ? [{ message: problem }] : [];
  }
  if (def.type !== 'string[]') return [];
  const list = value as string[];
  const max = def.outgoingUrl ? Math.min(def.maxItems ?? MAX_OUTGOING_URLS, MAX_OUTGOING_URLS) : def.maxItems;
  if (max !== undefined && list.length > max) return [{ message: `must hold at most ${max} entries` }];
  const problems: SettingProblem[] = [];
  // Repeated URLs are refused, not collapsed: the API stores what was sent, and an admin who
  // pasted one endpoint twice learns it, rather than wondering where the copy went.
  const seen = new Map<string, number>();
  for (const [index, entry] of list.entries()) {
    if (def.options && !def.options.includes(entry)) {
      problems.push({ index, message: `must be one of: ${def.options.join(', ')}` });
      continue;
    }
    if (!def.outgoingUrl) continue;
    const problem = urlProblem(entry);
    if (problem) {
      problems.push({ index, message: problem });
      continue;
    }
    const href = new URL(entry.trim()).href; // https://HOOKS.example/in is https://hooks.example/in
    const first = seen.get(href);
    if (first === undefined) seen.set(href, index);
    else problems.push({ index, message: `is listed twice (first as entry ${first})` });
  }
  return problems;
}

/** Why `url` is not a URL Affix may be told to call, by the rule of every other URL field (null: it is). */
function urlProblem(url: string): string | null {
  const result = httpUrl.safeParse(url);
  return result.success ? null : (result.error.issues[0]?.message ?? 'must be an http(s) URL');
}

/** Null when `value` has the type `def` declares (and an enum one of its options), otherwise what is wrong. */
function typeProblem(def: PluginSettingDef, value: unknown): string | null {
  switch (def.type) {
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'must be a number';
    case 'string':
      return typeof value === 'string' ? null : 'must be a string';
    case 'string[]':
      return Array.isArray(value) && value.every((s) => typeof s === 'string') ? null : 'must be a list of strings';
    case 'enum':
      return typeof value === 'string' && (def.options ?? []).includes(value)
        ? null
        : `must be one of: ${(def.options ?? []).join(', ')}`;
    default:
      return 'has an unknown setting type';
  }
}

/** The plugin's log, each line tagged with its name. */
function tagged(log: Logger, plugin: string): Logger {
  const wrap =
    (level: keyof Logger) =>
    (obj: object, msg?: string): void =>
      // An Error's fields are not enumerable; pino serialises it under `err`.
      log[level](obj instanceof Error ? { plugin, err: obj } : { plugin, ...obj }, msg);
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
