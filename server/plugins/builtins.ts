import type { Knex } from 'knex';
import type { AffixPlugin } from './types.js';
import type { ConfigCache } from '../services/config-cache.js';
import type { SharedState } from '../services/shared-state.js';
import { createFraudProtection } from './fraud-protection/index.js';
import { createWebhooks } from './webhooks/index.js';
import { createMultiTier } from './multi-tier/index.js';
import { createLifetimeCommissions } from './lifetime-commissions/index.js';
import { createIntegrations } from './integrations/index.js';

/** What built-in plugins may use besides their hooks: the database and the configuration cache. */
export interface BuiltinDeps {
  db: Knex;
  cache: ConfigCache;
  clock: () => number;
  /** The values every server process shares (SPEC §16); in memory when not given. */
  shared?: SharedState;
}

/** The built-in plugins (SPEC §8), one folder each. */
export const builtinPlugins = (deps: BuiltinDeps): AffixPlugin[] => [
  createFraudProtection(deps.shared),
  createLifetimeCommissions(deps),
  createMultiTier(deps),
  createWebhooks(deps),
  createIntegrations(),
];
