import type { AffixPlugin } from './types.js';
import { createFraudProtection } from './fraud-protection/index.js';

/** The built-in plugins (SPEC §8). Each lives in its own folder and is added here as it lands. */
export const builtinPlugins = (): AffixPlugin[] => [createFraudProtection()];
