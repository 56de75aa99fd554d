import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import type { PluginInfo, PluginRegistry } from '../plugins/registry.js';
import { changePlugin, type PluginChange } from './plugins.js';

/** Activating a plugin and changing its settings, saved and audited (SPEC §8). */
export class PluginSettings {
  constructor(
    private readonly db: Knex,
    private readonly registry: PluginRegistry,
  ) {}

  change(name: string, change: PluginChange, actor: Actor): Promise<PluginInfo> {
    return changePlugin(this.db, this.registry, name, change, actor);
  }
}
