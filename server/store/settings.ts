import type { Knex } from 'knex';
import { parseJson } from './rows.js';

/** Settings rows: one per top-level key, the value as JSON. */
export async function loadSettingRows(db: Knex): Promise<Record<string, unknown>> {
  const rows = (await db('settings').select('key', 'value')) as Array<{ key: string; value: string }>;
  const out: Record<string, unknown> = {};
  for (const r of rows) out[r.key] = parseJson<unknown>(r.value, null);
  return out;
}

export async function saveSettingRows(db: Knex, values: Record<string, unknown>, now = Date.now()): Promise<void> {
  for (const [key, value] of Object.entries(values)) {
    await db('settings')
      .insert({ key, value: JSON.stringify(value), updated_at: now })
      .onConflict('key')
      .merge();
  }
}
