import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited } from './audit.js';
import { randomToken } from './random.js';
import { fieldError } from '../errors.js';
import { loadSettingRows, saveSettingRows } from '../store/settings.js';
import {
  defaultSettings,
  duplicateUrlParam,
  mergeSettings,
  settingsSchema,
  type Settings,
  type SettingsPatch,
} from '../domain/settings.js';
import { validationError } from '../validation.js';
import { TEXT_BYTES, byteLength } from '../domain/limits.js';

/**
 * Global settings (SPEC §2), read from memory on every request. `load()` fills the cache at
 * start; every change goes through `update()`, which saves and refreshes the cache.
 */
export class SettingsService {
  private cached: Settings | null = null;

  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void = () => {},
  ) {}

  async load(): Promise<Settings> {
    const rows = await loadSettingRows(this.db);
    if (typeof rows.postbackKey !== 'string') {
      // First start: persist the generated postback key so it survives restarts.
      rows.postbackKey = randomToken(18);
      await saveSettingRows(this.db, { postbackKey: rows.postbackKey });
    }
    const defaults = defaultSettings(rows.postbackKey as string);
    const merged = mergeSettings(defaults, rows as SettingsPatch);
    // A stored value that no longer fits the schema falls back to its default instead of breaking tracking.
    const parsed = settingsSchema.safeParse(merged);
    this.cached = parsed.success ? parsed.data : defaults;
    return this.cached;
  }

  get(): Settings {
    if (!this.cached) throw new Error('settings not loaded');
    return this.cached;
  }

  async update(patch: SettingsPatch, actor: Actor): Promise<Settings> {
    const next = mergeSettings(this.get(), patch);
    const parsed = settingsSchema.safeParse(next);
    if (!parsed.success) throw validationError(parsed.error);
    const clash = duplicateUrlParam(parsed.data.urlParams, Object.keys(patch.urlParams ?? {}));
    if (clash) throw fieldError(clash, 'is the same parameter name as another URL parameter');
    const changed: Partial<Settings> = {};
    for (const key of Object.keys(patch) as Array<keyof Settings>) {
      (changed as Record<string, unknown>)[key] = parsed.data[key];
      const tooBig = oversizedField(key, parsed.data[key]);
      if (tooBig) throw fieldError(tooBig, 'is too large to store (at most 64 KB)');
    }
    await audited(this.db, actor, 'settings.updated', 'settings', async (trx) => {
      await saveSettingRows(trx, changed);
      // The audit log keeps that the postback key changed, never the key.
      const details = 'postbackKey' in changed ? { ...changed, postbackKey: '***' } : changed;
      return { result: null, objectId: null, details };
    });
    this.cached = parsed.data;
    this.onChange();
    return this.cached;
  }

  regeneratePostbackKey(actor: Actor): Promise<Settings> {
    return this.update({ postbackKey: randomToken(18) }, actor);
  }
}

/** Each setting is one TEXT row (65,535 bytes on MySQL); names the field that makes a value too big, or null. */
function oversizedField(key: string, value: unknown): string | null {
  const bytes = (v: unknown) => byteLength(JSON.stringify(v) ?? '');
  if (bytes(value) <= TEXT_BYTES) return null;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const [largest] = Object.entries(value).sort((x, y) => bytes(y[1]) - bytes(x[1]));
    if (largest) return `${key}.${largest[0]}`;
  }
  return key;
}
