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
