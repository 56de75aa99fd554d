import type { AffixPlugin } from './types.js';

/** The built-in plugins (SPEC §8). Each lives in its own folder and is added here as it lands. */
export const builtinPlugins: AffixPlugin[] = [];
