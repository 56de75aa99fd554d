import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from './actor.js';
import { recordAudit } from '../store/audit.js';
import { AppError, notFound } from '../errors.js';
import { PluginSettingsError, settingProblems, type PluginInfo, type PluginRegistry } from '../plugins/registry.js';
import type { PluginSettingDef } from '../plugins/types.js';
import { auditablePluginSettings } from './secrets.js';

export interface PluginChange {
  active?: boolean;
  settings?: Record<string, unknown>;
}

const patchSchemas = new WeakMap<PluginSettingDef[], z.ZodType<PluginChange>>();

/**
 * The body of PATCH /api/v1/plugins/:name: `active`, and `settings` holding only the keys the
 * plugin declares, each checked against its definition (SPEC §10a: unknown keys are named, a bad
 * list entry by its index: `settings.urls.3`). The address rule is the registry's, afterwards.
 */
export function pluginPatchSchema(defs: PluginSettingDef[]): z.ZodType<PluginChange> {
  let schema = patchSchemas.get(defs);
  if (!schema) {
    const settings = Object.fromEntries(
      defs.map((def) => [
        def.key,
        // custom, not unknown: the strictness check (SPEC §10a) reads `unknown` as a hole in the schema.
        z
          .custom<unknown>()
          .superRefine((value, ctx) => {
            for (const { message, index } of settingProblems(def, value))
              ctx.addIssue({ code: 'custom', message, path: index === undefined ? [] : [index] });
          })
          .optional(),
      ]),
    );
    schema = z.strictObject({ active: z.boolean().optional(), settings: z.strictObject(settings).optional() });
    patchSchemas.set(defs, schema);
  }
  return schema;
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
  if (change.settings) await registry.updateSettings(name, change.settings).catch(namedInBody);
  if (change.active !== undefined) await registry.setActive(name, change.active);
  const details: Record<string, unknown> = {};
  if (change.active !== undefined) details.active = change.active;
  if (change.settings) details.settings = auditablePluginSettings(before.settingDefs, change.settings);
  await recordAudit(db, actor, 'plugin.updated', 'plugin', name, details);
  return registry.get(name) as PluginInfo;
}

/**
 * A refused setting named also by its place in the request body (`settings.urls.1`), as the body
 * schema names the others; the bare key stays first-listed for clients that read it.
 */
function namedInBody(err: unknown): never {
  if (!(err instanceof PluginSettingsError)) throw err;
  const field = `settings.${err.field}${err.index === undefined ? '' : `.${err.index}`}`;
  throw new AppError('validation_failed', err.message, [
    { field: err.field, message: err.problem },
    { field, message: err.problem },
  ]);
}
