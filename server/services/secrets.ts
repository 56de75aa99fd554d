import type { Actor } from './actor.js';
import type { Campaign } from '../store/campaigns.js';
import type { Settings } from '../domain/settings.js';
import type { PluginInfo } from '../plugins/registry.js';
import type { PluginSettingDef } from '../plugins/types.js';

/**
 * Secrets — a campaign's `secretKey` and Click API `apiToken`, the `postbackKey`, plugin settings
 * marked `secret` (the webhook signing secret) — are the owner's. Everyone else who may read the
 * object sees them masked, and the audit log never holds them.
 */

/** `••••1a2b`: tells which secret is set without giving it away (short ones show nothing of it). */
export function maskSecret(value: string): string {
  if (!value) return value;
  return value.length >= 12 ? `••••${value.slice(-4)}` : '••••';
}

export const seesSecrets = (actor: Pick<Actor, 'role'> | null | undefined) => actor?.role === 'owner';

export function campaignFor(actor: Pick<Actor, 'role'> | null | undefined, c: Campaign): Campaign {
  if (seesSecrets(actor)) return c;
  return { ...c, secretKey: maskSecret(c.secretKey), apiToken: c.apiToken === null ? null : maskSecret(c.apiToken) };
}

export function settingsFor(actor: Pick<Actor, 'role'> | null | undefined, s: Settings): Settings {
  return seesSecrets(actor) ? s : { ...s, postbackKey: maskSecret(s.postbackKey) };
}

const secretKeys = (defs: PluginSettingDef[]) => new Set(defs.filter((d) => d.secret).map((d) => d.key));

/** A plugin's settings with its secret ones masked. */
export function pluginFor(actor: Pick<Actor, 'role'> | null | undefined, p: PluginInfo): PluginInfo {
  if (seesSecrets(actor)) return p;
  const secret = secretKeys(p.settingDefs);
  const settings = Object.fromEntries(
    Object.entries(p.settings).map(([k, v]) => [k, secret.has(k) && typeof v === 'string' ? maskSecret(v) : v]),
  );
  return { ...p, settings };
}

/** Plugin settings as the audit log keeps them: secret values replaced by `***`. */
export function auditablePluginSettings(defs: PluginSettingDef[], values: Record<string, unknown>) {
  const secret = secretKeys(defs);
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, secret.has(k) ? '***' : v]));
}
