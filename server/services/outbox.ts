import type { Knex } from 'knex';
import type { Hooks } from '../plugins/hooks.js';
import { URL_LENGTH, clip } from '../domain/limits.js';
import { insertOutboxRows } from '../store/outbox.js';

/**
 * One outgoing notification, stored in the outbox until delivered (SPEC §7.6): an HTTP request,
 * or a mail (`channel: 'mail'`, `method: 'SMTP'`, `url` `mailto:<recipient>`, the rendered mail
 * as JSON in `body`; SPEC §13).
 */
export interface OutboxMessage {
  channel: 'webhook' | 'affiliate_postback' | 'source_postback' | 'mail';
  method: 'GET' | 'POST' | 'SMTP';
  url: string;
  headers?: Record<string, string>;
  body?: string | null;
  /** `not_sent`: kept, never delivered (mail while no SMTP server is configured). */
  status?: 'pending' | 'not_sent';
}

/** Composes more outbox rows for an event in its transaction (the mail service: commission mails). */
export type OutboxListener = (trx: Knex, event: OutboxEvent, payload: Record<string, unknown>) => Promise<void>;

export type OutboxEvent =
  'commission.created' | 'commission.approved' | 'commission.declined' | 'commission.reversed' | 'conversion.created';

/**
 * Writes notifications in the caller's transaction, so an event and its notifications commit
 * together and a restart loses nothing. Plugins add messages through the `outbox.messages`
 * filter (the webhooks plugin signs and posts every event); the delivery worker sends them.
 */
export class Outbox {
  /** Called once the transaction that queued messages has committed (the delivery worker's `notify`). */
  onQueued: (() => void) | null = null;
  /** Called for every event, in its transaction (set once when the services are wired). */
  onEvent: OutboxListener | null = null;

  constructor(
    private readonly hooks: Hooks,
    private readonly clock: () => number = Date.now,
  ) {}

  async emit(
    trx: Knex,
    event: OutboxEvent,
    payload: Record<string, unknown>,
    messages: OutboxMessage[] = [],
  ): Promise<void> {
    if (this.onEvent) await this.onEvent(trx, event, payload);
    const all = await this.hooks.applyFilters('outbox.messages', messages, event, payload);
    await this.queue(trx, event, all);
  }

  /**
   * Writes messages in the caller's transaction as they are, without the plugins' filter: mails
   * (their `event` is the template name) and other messages that are no webhook event.
   */
  async queue(trx: Knex, event: string, all: OutboxMessage[]): Promise<void> {
    if (!all.length) return;
    const now = this.clock();
    await insertOutboxRows(
      trx,
      event,
      all.map((m) => ({
        channel: m.channel,
        method: m.method,
        url: clip(m.url, URL_LENGTH),
        headers: m.headers ?? {},
        body: m.body ?? null,
        status: m.status ?? 'pending',
      })),
      now,
    );
    const onQueued = this.onQueued;
    if (onQueued && all.some((m) => m.status !== 'not_sent')) {
      // Kick the worker after the commit rather than waiting for its next poll; before the
      // commit it could not see the rows.
      let outer = trx as unknown as { parentTransaction?: unknown; executionPromise?: Promise<unknown> };
      while (outer.parentTransaction) outer = outer.parentTransaction as typeof outer;
      const committed = outer.executionPromise;
      if (committed) committed.then(onQueued, () => undefined);
      else queueMicrotask(onQueued);
    }
  }
}

declare module '../plugins/contract.js' {
  interface HookFilters {
    'outbox.messages': [messages: OutboxMessage[], event: OutboxEvent, payload: Record<string, unknown>];
  }
}
