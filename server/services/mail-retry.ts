import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import type { OutboxWorker } from './outbox-worker.js';
import { getOutboxRow, type OutboxEntry } from '../store/outbox.js';
import { AppError } from '../errors.js';

/** A failed mail of the Mail page given a fresh round of tries (SPEC §13). */
export class MailRetry {
  constructor(
    private readonly db: Knex,
    private readonly worker: OutboxWorker,
  ) {}

  /** 404 unless `id` is a mail (not a webhook); 409 when it has not failed. */
  async retry(id: number, actor: Actor): Promise<OutboxEntry> {
    const row = await getOutboxRow(this.db, id);
    if (!row || row.channel !== 'mail') throw new AppError('not_found', `Mail ${id} not found`);
    return this.worker.retry(id, actor);
  }
}
