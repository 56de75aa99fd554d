import type { Knex } from 'knex';
import type { Actor } from '../services/actor.js';
import { parseJson, toIso, paginate, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';
import { CODE_LENGTH, KEY_LENGTH, TEXT_BYTES, clip } from '../domain/limits.js';

export interface AuditEntry {
  id: number;
  at: string | null;
  actorUserId: number | null;
  actor: string;
  action: string;
  objectType: string;
  objectId: string | null;
  details: Record<string, unknown>;
}

interface AuditRow {
  id: number;
  at: number;
  actor_user_id: number | null;
  actor: string;
  action: string;
  object_type: string;
  object_id: string | null;
  details: string;
}

export async function recordAudit(
  db: Knex,
  actor: Actor,
  action: string,
  objectType: string,
  objectId: string | number | null,
  details: Record<string, unknown> = {},
  at = Date.now(),
): Promise<void> {
  await db('audit_log').insert({
    at,
    actor_user_id: actor.userId,
    actor: clip(actor.label, KEY_LENGTH),
    action,
    object_type: objectType,
    object_id: objectId === null ? null : clip(String(objectId), CODE_LENGTH),
    details: detailsText(details),
  });
}

/** audit_log.details is TEXT (65,535 bytes on MySQL): large values are summarised, never allowed to fail the change. */
const DETAILS_MAX_BYTES = TEXT_BYTES;
function detailsText(details: Record<string, unknown>): string {
  const text = JSON.stringify(details);
  if (Buffer.byteLength(text, 'utf8') <= DETAILS_MAX_BYTES) return text;
  const shrunk: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
    shrunk[key] = bytes > 1_000 ? { truncated: true, bytes } : value;
  }
  const second = JSON.stringify(shrunk);
  return Buffer.byteLength(second, 'utf8') <= DETAILS_MAX_BYTES
    ? second
    : JSON.stringify({ truncated: true, keys: Object.keys(details).slice(0, 100) });
}

const toEntry = (r: AuditRow): AuditEntry => ({
  id: Number(r.id),
  at: toIso(r.at),
  actorUserId: r.actor_user_id,
  actor: r.actor,
  action: r.action,
  objectType: r.object_type,
  objectId: r.object_id,
  details: parseJson(r.details, {}),
});

export async function listAudit(
  db: Knex,
  filters: { objectType?: string; objectId?: string },
  page: PageQuery,
): Promise<Page<AuditEntry>> {
  const q = db('audit_log');
  if (filters.objectType) q.where('object_type', filters.objectType);
  if (filters.objectId) q.where('object_id', filters.objectId);
  return paginate<AuditRow, AuditEntry>(q, page, toEntry);
}
