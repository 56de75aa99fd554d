import type { Knex } from 'knex';
import { toBool, parseJson } from './rows.js';
import { AppError } from '../errors.js';
import type { PluginState, PluginStateStore } from '../plugins/registry.js';
import { TEXT_BYTES, byteLength } from '../domain/limits.js';

/** The database side of the plugin registry: activation and settings per plugin. */
export class PluginStateTable implements PluginStateStore {
  constructor(private readonly db: Knex) {}

  async load(): Promise<PluginState[]> {
    const rows = (await this.db('plugins').select('*')) as Array<{
      name: string;
      active: number | boolean;
      settings: string;
    }>;
    return rows.map((r) => ({ name: r.name, active: toBool(r.active), settings: parseJson(r.settings, {}) }));
  }

  async save(state: PluginState): Promise<void> {
    const settings = JSON.stringify(state.settings);
    // A TEXT column: 65,535 bytes on MySQL. Refused alike on SQLite so both databases agree.
    if (byteLength(settings) > TEXT_BYTES) {
      throw new AppError('validation_failed', 'settings: too large to store (at most 64 KB)', [
        { field: 'settings', message: 'too large to store (at most 64 KB)' },
      ]);
    }
    await this.db('plugins')
      .insert({ name: state.name, active: state.active, settings, updated_at: Date.now() })
      .onConflict('name')
      .merge();
  }
}
