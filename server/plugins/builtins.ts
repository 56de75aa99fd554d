import type { AffixPlugin } from './types.js';
import type { BuiltinDeps } from './contract.js';
import { createFraudProtection } from './fraud-protection/index.js';
import { createWebhooks } from './webhooks/index.js';
import { createMultiTier } from './multi-tier/index.js';
import { createLifetimeCommissions } from './lifetime-commissions/index.js';
import { createIntegrations } from './integrations/index.js';

export type { BuiltinDeps };

/** The built-in plugins (SPEC §8), one folder each. */
export const builtinPlugins = (deps: BuiltinDeps): AffixPlugin[] => [
  createFraudProtection(deps.shared),
  createLifetimeCommissions(deps),
  createMultiTier(deps),
  createWebhooks(deps),
  createIntegrations(),
];
