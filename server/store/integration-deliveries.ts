import type { Knex } from 'knex';
import { dialectHelper, type Cell } from '../db/index.js';
import { paginate, parseJson, toIso, type Page } from './rows.js';
import { KEY_LENGTH, TEXT_LENGTH, cut } from '../domain/limits.js';
import type { PageQuery } from '../validation.js';
import type { Platform } from '../domain/integrations/types.js';

/** The delivery log of the store integrations, which is also their replay guard (SPEC §14). */

export const DELIVERY_OUTCOMES = [
  'processing',
  'sale',
  'refund',
  'chargeback',
  'declined',
  'duplicate',
  'ignored',
  'unknown_order',
  'bad_signature',
  'invalid',
  'failed',
] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export interface DeliveryRow {
  received_at: number;
  platform: Platform;
  event_type: string | null;
  event_id: string | null;
  order_id: string | null;
  dedupe_key: string | null;
  outcome: DeliveryOutcome;
  status: number | null;
  sale_id: number | null;
  refund_id: number | null;
  message: string | null;
  answer: string | null;
  duplicate_of: number | null;
}

export interface Delivery {
  id: number;
  receivedAt: string | null;
  platform: Platform;
  eventType: string | null;
  eventId: string | null;
  orderId: string | null;
  outcome: DeliveryOutcome;
  status: number | null;
  saleId: number | null;
  refundId: number | null;
  message: string | null;
  duplicateOf: number | null;
}

/** A finished delivery's answer, repeated to its replays. */
export interface StoredAnswer {
  id: number;
  outcome: DeliveryOutcome;
  saleId: number | null;
  refundId: number | null;
  receivedAt: number;
  status: number | null;
  body: unknown;
}

type Stored = DeliveryRow & { id: number | string };

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const toDelivery = (r: Stored): Delivery => ({
  id: Number(r.id),
  receivedAt: toIso(r.received_at),
  platform: r.platform,
  eventType: r.event_type,
  eventId: r.event_id,
  orderId: r.order_id,
  outcome: r.outcome,
  status: num(r.status),
  saleId: num(r.sale_id),
  refundId: num(r.refund_id),
  message: r.message,
  duplicateOf: num(r.duplicate_of),
});

/** Column sizes of the table: longer values are cut, never refused (a delivery is always logged). */
function capped(row: Partial<DeliveryRow>): Record<string, Cell> {
  const out: Record<string, Cell> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v as Cell;
  if ('event_type' in row) out.event_type = cut(row.event_type, 100);
  if ('event_id' in row) out.event_id = cut(row.event_id, KEY_LENGTH);
  if ('order_id' in row) out.order_id = cut(row.order_id, KEY_LENGTH);
  if ('message' in row) out.message = cut(row.message, TEXT_LENGTH);
  return out;
}

export async function insertDelivery(db: Knex, row: DeliveryRow): Promise<number> {
  return dialectHelper(db).insertOne(db, 'integration_deliveries', capped(row));
}

/**
 * Inserts a delivery holding `row.dedupe_key`, or answers the delivery that already holds it.
 * A unique key decides, so two processes receiving the same event at once act once.
 */
export async function claimDelivery(
  db: Knex,
  row: DeliveryRow & { dedupe_key: string },
): Promise<{ claimed: true; id: number } | { claimed: false; first: StoredAnswer }> {
  for (;;) {
    try {
      return { claimed: true, id: await insertDelivery(db, row) };
    } catch (err) {
      if (!dialectHelper(db).isUniqueViolation(err)) throw err;
    }
    const first = (await db('integration_deliveries').where({ dedupe_key: row.dedupe_key }).first()) as
      Stored | undefined;
    // Released between the insert and the read: claim it again.
    if (!first) continue;
    return {
      claimed: false,
      first: {
        id: Number(first.id),
        outcome: first.outcome,
        saleId: num(first.sale_id),
        refundId: num(first.refund_id),
        receivedAt: Number(first.received_at),
        status: num(first.status),
        body: parseJson<unknown>(first.answer, null),
      },
    };
  }
}

/** Records what came of a delivery; `dedupe_key: null` frees its key for a retry. */
export async function finishDelivery(db: Knex, id: number, patch: Partial<DeliveryRow>): Promise<void> {
  await db('integration_deliveries').where({ id }).update(capped(patch));
}

/** Frees the key of a delivery still `processing` (its process stopped before finishing). */
export async function abandonDelivery(db: Knex, id: number, message: string): Promise<boolean> {
  const n = await db('integration_deliveries')
    .where({ id, outcome: 'processing' })
    .update(capped({ dedupe_key: null, outcome: 'failed', message }));
  return Number(n) > 0;
}

export interface DeliveryFilters {
  platform?: Platform;
}

export async function listDeliveries(db: Knex, f: DeliveryFilters, page: PageQuery): Promise<Page<Delivery>> {
  const q = db('integration_deliveries').select('*');
  if (f.platform) q.where('platform', f.platform);
  return paginate<Stored, Delivery>(q, page, toDelivery);
}

/** Deletes deliveries received before `before` (ms). */
export async function pruneDeliveries(db: Knex, before: number): Promise<number> {
  return Number(await db('integration_deliveries').where('received_at', '<', before).delete());
}
