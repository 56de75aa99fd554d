import type { Knex } from 'knex';
import { parseJson, paginate, toIso, type Page } from './rows.js';
import type { PageQuery } from '../validation.js';
import { isSecretMail } from '../domain/mail-templates.js';

/** What the API and the admin show instead of the body of a mail carrying a one-time link. */
export const WITHHELD_BODY = '(withheld: this mail carries a one-time link)';

/** Queries of the outbox of outgoing notifications (SPEC §7.6). Rows are never deleted. */

/** `not_sent`: a mail kept while no SMTP server is configured (SPEC §13); never delivered. */
export const OUTBOX_STATUSES = ['pending', 'delivered', 'failed', 'not_sent'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** A row as the delivery worker needs it. */
export interface OutboxRow {
  id: number;
  createdAt: number;
  event: string;
  channel: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lockedUntil: number;
  deliveredAt: number | null;
  lastError: string | null;
}

/** A row as the API shows it. */
export interface OutboxEntry {
  id: number;
  createdAt: string | null;
  event: string;
  channel: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
}

interface Row {
  id: number | string;
  created_at: number | string;
  event: string;
  channel: string;
  method: string;
  url: string;
  headers: string;
  body: string | null;
  status: OutboxStatus;
  attempts: number | string;
  next_attempt_at: number | string;
  locked_until: number | string;
  delivered_at: number | string | null;
  last_error: string | null;
}

const toRow = (r: Row): OutboxRow => ({
  id: Number(r.id),
  createdAt: Number(r.created_at),
  event: r.event,
  channel: r.channel,
  method: r.method,
  url: r.url,
  headers: parseJson<Record<string, string>>(r.headers, {}),
  body: r.body,
  status: r.status,
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at),
  lockedUntil: Number(r.locked_until),
  deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  lastError: r.last_error,
});

export const toOutboxEntry = (r: OutboxRow): OutboxEntry => ({
  id: r.id,
  createdAt: toIso(r.createdAt),
  event: r.event,
  channel: r.channel,
  method: r.method,
  url: r.url,
  headers: r.headers,
  body: r.channel === 'mail' && isSecretMail(r.event) ? WITHHELD_BODY : r.body,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.status === 'pending' ? toIso(r.nextAttemptAt) : null,
  deliveredAt: toIso(r.deliveredAt),
  lastError: r.lastError,
});

/** A message to queue: pending (due now) or `not_sent`. */
export interface NewOutboxRow {
  channel: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  status: 'pending' | 'not_sent';
}

/** Queues messages of one event, due at once, in one INSERT. */
export async function insertOutboxRows(db: Knex, event: string, rows: NewOutboxRow[], now: number): Promise<void> {
  await db('outbox').insert(
    rows.map((m) => ({
      created_at: now,
      event,
      channel: m.channel,
      method: m.method,
      url: m.url,
      headers: JSON.stringify(m.headers),
      body: m.body,
      status: m.status,
      attempts: 0,
      next_attempt_at: now,
      locked_until: 0,
    })),
  );
}

/** Pending rows that are due and not locked by a sender, oldest first. */
export async function dueOutboxRows(db: Knex, now: number, limit: number): Promise<OutboxRow[]> {
  const rows = (await db('outbox')
    .where('status', 'pending')
    .andWhere('next_attempt_at', '<=', now)
    .andWhere('locked_until', '<', now)
    .orderBy('id', 'asc')
    .limit(limit)
    .select('*')) as Row[];
  return rows.map(toRow);
}

/**
 * Locks one row for sending until `lockUntil`. The UPDATE repeats every condition of
 * `dueOutboxRows` plus the attempts seen, so of several processes racing for a row exactly one
 * changes it; the others see 0 affected rows and skip it.
 */
export async function claimOutboxRow(db: Knex, row: OutboxRow, now: number, lockUntil: number): Promise<boolean> {
  const changed = await db('outbox')
    .where({ id: row.id, status: 'pending', attempts: row.attempts })
    .andWhere('next_attempt_at', '<=', now)
    .andWhere('locked_until', '<', now)
    .update({ locked_until: lockUntil });
  return Number(changed) === 1;
}

/** Marks a sent row delivered; a row is delivered once and never sent again. */
export async function markOutboxDelivered(db: Knex, id: number, now: number, attempts: number): Promise<boolean> {
  const changed = await db('outbox')
    .where({ id, status: 'pending' })
    .update({ status: 'delivered', delivered_at: now, attempts, locked_until: 0, last_error: null });
  return Number(changed) === 1;
}

/**
 * Records a failed attempt and releases the lock: back to pending with the next attempt time,
 * or failed for good. Only while this sender still holds the lock it took.
 */
export async function markOutboxAttemptFailed(
  db: Knex,
  id: number,
  lockUntil: number,
  change: { status: 'pending' | 'failed'; attempts: number; nextAttemptAt: number; lastError: string },
): Promise<boolean> {
  const changed = await db('outbox')
    .where({ id, status: 'pending', locked_until: lockUntil })
    .update({
      status: change.status,
      attempts: change.attempts,
      next_attempt_at: change.nextAttemptAt,
      locked_until: 0,
      last_error: change.lastError.slice(0, 500),
    });
  return Number(changed) === 1;
}

export async function getOutboxRow(db: Knex, id: number): Promise<OutboxRow | null> {
  const row = (await db('outbox').where({ id }).first()) as Row | undefined;
  return row ? toRow(row) : null;
}

export interface OutboxFilters {
  status?: OutboxStatus;
  channel?: string;
  event?: string;
}

export async function listOutbox(db: Knex, f: OutboxFilters, page: PageQuery): Promise<Page<OutboxEntry>> {
  const q = db('outbox').select('*');
  if (f.status) q.where('status', f.status);
  if (f.channel) q.where('channel', f.channel);
  if (f.event) q.where('event', f.event);
  return paginate<Row, OutboxEntry>(q, page, (r) => toOutboxEntry(toRow(r)));
}

/** Queues a failed row again for a fresh round of attempts, due now. False when it is not failed. */
export async function requeueFailedOutboxRow(db: Knex, id: number, now: number): Promise<boolean> {
  const changed = await db('outbox')
    .where({ id, status: 'failed' })
    .update({ status: 'pending', attempts: 0, next_attempt_at: now, locked_until: 0 });
  return Number(changed) === 1;
}

/** A mail as the Mail page lists it: recipient and subject, never the body (SPEC §13). */
export interface MailEntry {
  id: number;
  createdAt: string | null;
  template: string;
  to: string;
  subject: string;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
}

export async function listMails(db: Knex, status: OutboxStatus | undefined, page: PageQuery): Promise<Page<MailEntry>> {
  const q = db('outbox').where('channel', 'mail').select('*');
  if (status) q.where('status', status);
  return paginate<Row, MailEntry>(q, page, (raw) => {
    const r = toRow(raw);
    const mail = parseJson<{ to?: string; subject?: string }>(r.body, {});
    return {
      id: r.id,
      createdAt: toIso(r.createdAt),
      template: r.event,
      to: mail.to ?? r.url.replace(/^mailto:/, ''),
      subject: mail.subject ?? '',
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: r.status === 'pending' ? toIso(r.nextAttemptAt) : null,
      deliveredAt: toIso(r.deliveredAt),
      lastError: r.lastError,
    };
  });
}
