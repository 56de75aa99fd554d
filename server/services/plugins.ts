import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { recordAudit } from '../store/audit.js';
import { notFound } from '../errors.js';
import { auditablePluginSettings } from './secrets.js';
import type { PluginInfo, PluginRegistry } from '../plugins/registry.js';

export interface PluginChange {
  active?: boolean;
  settings?: Record<string, unknown>;
}

/**
 * Activates, deactivates or reconfigures a plugin and records who did it in the audit log.
 * Settings are validated (and saved) before the activation changes, so a bad value changes nothing.
 */
export async function changePlugin(
  db: Knex,
  registry: PluginRegistry,
  name: string,
  change: PluginChange,
  actor: Actor,
): Promise<PluginInfo> {
  const before = registry.get(name);
  if (!before) throw notFound('plugin', name);
  if (change.settings) await registry.updateSettings(name, change.settings);
  if (change.active !== undefined) await registry.setActive(name, change.active);
  const details: Record<string, unknown> = {};
  if (change.active !== undefined) details.active = change.active;
  if (change.settings) details.settings = auditablePluginSettings(before.settingDefs, change.settings);
  await recordAudit(db, actor, 'plugin.updated', 'plugin', name, details);
  return registry.get(name) as PluginInfo;
}
