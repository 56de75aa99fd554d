import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { recordAudit } from '../store/audit.js';
import { transaction } from '../db/transaction.js';

/** Runs a change and its audit entry in one transaction: no change without its log line. */
export async function audited<T>(
  db: Knex,
  actor: Actor,
  action: string,
  objectType: string,
  change: (
    trx: Knex.Transaction,
  ) => Promise<{ result: T; objectId: number | string | null; details?: Record<string, unknown> }>,
): Promise<T> {
  return transaction(db, async (trx) => {
    const { result, objectId, details } = await change(trx);
    await recordAudit(trx, actor, action, objectType, objectId, details);
    return result;
  });
}

/** The fields of a patch that were sent, for the audit entry (secrets left out). */
export function changedFields(patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) out[k] = /password|secret/i.test(k) ? '***' : v;
  return out;
}
