import type { ConfigCache } from '../services/config-cache.js';
import type { SharedState } from '../services/shared-state.js';
import type { Platform } from '../domain/integrations/types.js';
import type { LifetimeBinding } from '../store/lifetime-customers.js';

/*
 * What plugins may call besides their hooks (SPEC §8): narrow services, never the database. The
 * services implement these interfaces; plugins import them from here, so neither side imports
 * the other's wiring.
 */

/** One webhook delivery as it arrived, with the platform's signing secret from the plugin settings. */
export interface WebhookDelivery {
  platform: Platform;
  rawBody: Buffer;
  header(name: string): string | undefined;
  /** '' when none is set: every delivery then fails verification. */
  secret: string;
}

export interface WebhookAnswer {
  status: number;
  body: unknown;
}

/** What the `integrations` plugin's endpoints call. */
export interface StoreWebhookReceiver {
  receive(delivery: WebhookDelivery): Promise<WebhookAnswer>;
}

/** The lifetime-commissions plugin's bound customers: first binding wins, never moved. */
export interface LifetimeCustomerBook {
  bind(binding: LifetimeBinding): Promise<void>;
  find(customerKey: string): Promise<LifetimeBinding | null>;
}

/** What built-in plugins receive besides their hooks. */
export interface BuiltinDeps {
  cache: ConfigCache;
  clock: () => number;
  lifetimeCustomers: LifetimeCustomerBook;
  /** The values every server process shares (SPEC §16); in memory when not given. */
  shared?: SharedState;
}

/**
 * Every hook (SPEC §8) and what it carries, so a wrong name or payload does not compile. The
 * module that fires a hook declares it beside its payload types (`declare module
 * '../plugins/contract.js' { interface HookActions { … } }`), so the contract imports no service.
 * Actions: name → the callbacks' arguments. Filters: name → [the value filtered, …arguments].
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface HookActions {}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface HookFilters {}

/** A map of hook names to argument lists (the engine is generic over it; tests use their own). */
export type HookMap<M> = { [K in keyof M]: unknown[] };
export type Tail<T extends unknown[]> = T extends [unknown, ...infer R] ? R : T;
export type ActionFn<M extends HookMap<M>, K extends keyof M> = (...args: M[K]) => void | Promise<void>;
export type FilterFn<M extends HookMap<M>, K extends keyof M> = (
  value: M[K][0],
  ...args: Tail<M[K]>
) => M[K][0] | Promise<M[K][0]>;
