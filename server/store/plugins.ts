import type { Knex } from 'knex';
import { toBool, parseJson } from './rows.js';
import type { PluginState, PluginStateStore } from '../plugins/registry.js';

/** The database side of the plugin registry: activation and settings per plugin. */
export class PluginStateTable implements PluginStateStore {
  constructor(private readonly db: Knex) {}

  async load(): Promise<PluginState[]> {
    const rows = (await this.db('plugins').select('*')) as Array<{ name: string; active: number | boolean; settings: string }>;
    return rows.map((r) => ({ name: r.name, active: toBool(r.active), settings: parseJson(r.settings, {}) }));
  }

  async save(state: PluginState): Promise<void> {
    await this.db('plugins')
      .insert({ name: state.name, active: state.active, settings: JSON.stringify(state.settings), updated_at: Date.now() })
      .onConflict('name')
      .merge();
  }
}
