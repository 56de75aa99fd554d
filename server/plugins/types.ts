import type { Logger } from '../logger.js';
import type { ActionFn, FilterFn, HookActions, HookFilters, StoreWebhookReceiver } from './contract.js';

/**
 * The plugin contract (SPEC §8). A plugin is a plain object; built-ins live in one folder each
 * under server/plugins/, extra ones are loaded from PLUGINS_DIR by the registry.
 */

export type { Logger };

/**
 * What a plugin receives in `register`: every callback it adds is tagged with the plugin's name.
 * Names and payloads are checked against the hook contract (`HookActions`, `HookFilters`).
 */
export interface ScopedHooks {
  addAction<K extends keyof HookActions & string>(name: K, fn: ActionFn<HookActions, K>, priority?: number): void;
  addFilter<K extends keyof HookFilters & string>(name: K, fn: FilterFn<HookFilters, K>, priority?: number): void;
}

/**
 * The most URLs one `outgoingUrl` list may hold. Each is looked up when saved (SPEC §10a) and each
 * event is sent to every one: a handful is what a merchant needs, thousands would be a lookup storm.
 */
export const MAX_OUTGOING_URLS = 20;

export interface PluginSettingDef {
  key: string;
  label: string;
  type: 'boolean' | 'number' | 'string' | 'string[]' | 'enum';
  default: unknown;
  /**
   * The allowed values: of the value when `type` is 'enum', of each entry when 'string[]' (a
   * misspelled entry is refused, never kept to silently change what the plugin does).
   */
  options?: string[];
  /** 'string[]': the most entries the list may hold (an `outgoingUrl` list holds at most MAX_OUTGOING_URLS). */
  maxItems?: number;
  help?: string;
  /**
   * The value ('string', '' for none) or each value ('string[]') is a URL that Affix will call:
   * when saved it must be an http(s) URL of at most URL_LENGTH characters, a list holds at most
   * MAX_OUTGOING_URLS of them and none twice, and each must pass the outgoing-address rule
   * (SPEC §10a: public addresses only).
   */
  outgoingUrl?: boolean;
  /** A secret (a signing key, a password): shown to the owner only, masked to others, never audited. */
  secret?: boolean;
  /** The heading this setting is shown under; consecutive settings with the same one form a section. */
  section?: string;
}

export interface PluginContext {
  /** The plugin's current settings merged over the defaults; reflects updates at once. */
  settings: () => Record<string, unknown>;
  log: Logger;
}

/** A request to a plugin's endpoint. Nothing has read its body: signatures can be checked on it. */
export interface PluginRequest {
  method: string;
  /** The path below the plugin's prefix: `stripe/webhook` for `/integrations/stripe/webhook`. */
  path: string;
  header(name: string): string | undefined;
  /** The body's bytes exactly as sent. */
  rawBody: Buffer;
  ip: string;
}

/** The answer: a status and a JSON body. */
export interface PluginResponse {
  status: number;
  body: unknown;
}

/** The services a plugin's endpoint may call: use cases, never the database. */
export interface PluginServices {
  integrations: StoreWebhookReceiver;
}

export interface PluginRouteContext {
  /** The plugin's current settings merged over the defaults. */
  settings: () => Readonly<Record<string, unknown>>;
  log: Logger;
  services: PluginServices;
}

/**
 * An HTTP endpoint a plugin owns, at `/<plugin name>/<path>`. The registry mounts it while the
 * plugin is active; inactive, the path answers 404.
 */
export interface PluginRoute {
  method: 'GET' | 'POST';
  /** Below the plugin's prefix, without a leading slash: `stripe/webhook`. */
  path: string;
  handle(req: PluginRequest, ctx: PluginRouteContext): Promise<PluginResponse>;
}

export interface AffixPlugin {
  name: string;
  title: string;
  description: string;
  settings?: PluginSettingDef[];
  routes?: PluginRoute[];
  register(hooks: ScopedHooks, ctx: PluginContext): void | Promise<void>;
}
