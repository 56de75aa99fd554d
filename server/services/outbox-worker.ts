import type { Knex } from 'knex';
import type { Hooks } from '../plugins/hooks.js';
import type { Logger } from '../logger.js';
import type { Actor } from './actor.js';
import { conflict, notFound } from '../errors.js';
import { recordAudit } from '../store/audit.js';
import type { Page } from '../store/rows.js';
import type { PageQuery } from '../validation.js';
import { ForbiddenTarget, type OutgoingHttp } from './outgoing-http.js';
import {
  claimOutboxRow,
  dueOutboxRows,
  getOutboxRow,
  listOutbox,
  markOutboxAttemptFailed,
  markOutboxDelivered,
  requeueFailedOutboxRow,
  toOutboxEntry,
  type OutboxEntry,
  type OutboxFilters,
  type OutboxRow,
} from '../store/outbox.js';

export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_CAP_MS = 60 * 60 * 1000;

/**
 * The wait before the next try after `attempts` failed attempts: 10 s, 20 s, 40 s, … doubling,
 * capped at 1 h (12 attempts span about 3.4 hours).
 */
export function backoff(attempts: number, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  const n = Number.isNaN(attempts) ? 1 : Math.max(1, Math.floor(attempts));
  // 2 ** n reaches Infinity long after the cap; Math.min still answers the cap.
  return Math.min(capMs, baseMs * 2 ** (n - 1));
}

/** The HTTP request about to be sent for one outbox row; the `outbox.request` filter may change it. */
export interface OutboxRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/** What the `outbox.request` filter learns about the delivery (e.g. to sign it at send time). */
export interface OutboxDelivery {
  id: number;
  event: string;
  channel: string;
  /** 1 for the first try. */
  attempt: number;
  /** The worker's clock at send time (ms). */
  now: number;
}

export interface OutboxWorkerTuning {
  /** How often due rows are looked for (ms); `notify()` looks at once. */
  pollMs?: number;
  /** Rows looked at per cycle. */
  batchSize?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Attempts before a row is `failed`. */
  maxAttempts?: number;
  /** How long a claimed row stays locked to this sender (ms); longer than `timeoutMs`. */
  lockMs?: number;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
  /** The wait after `attempts` failed attempts (ms). */
  backoff?: (attempts: number) => number;
}

/** Sends the rows of the `mail` channel (the mail service, over SMTP). */
export interface MailSender {
  send(row: OutboxRow, timeoutMs: number): Promise<{ error: string | null; permanent: boolean }>;
}

export interface OutboxWorkerDeps extends OutboxWorkerTuning {
  db: Knex;
  hooks: Hooks;
  log: Logger;
  clock?: () => number;
  /** Sends the requests, under the outgoing-address rule (SPEC §10a). */
  http: OutgoingHttp;
  /** Delivers mails; without it a mail row fails for good. */
  mail?: MailSender;
}

export interface CycleResult {
  /** Due rows found. */
  due: number;
  delivered: number;
  /** Failed attempts that will be tried again. */
  retried: number;
  /** Rows that failed for good. */
  failed: number;
  /** Rows another sender claimed first, or that could not be recorded. */
  skipped: number;
}

type Outcome = Exclude<keyof CycleResult, 'due'>;

const USER_AGENT = 'Affix-Outbox/1';

/**
 * Delivers the outbox (SPEC §7.6). Each row is claimed by a guarded UPDATE right before it is
 * sent, so several workers (or server processes) on one database never send a row at the same
 * time, and a delivered row is never sent again. Rows are never deleted; a restart picks up what
 * is pending. Delivery is at least once: if the process dies between a receiver's 2xx and the
 * row being marked delivered, the row is sent again after its lock expires — receivers
 * de-duplicate with the `X-Affix-Delivery` header (the row id).
 */
export class OutboxWorker {
  private readonly db: Knex;
  private readonly hooks: Hooks;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly http: OutgoingHttp;
  private mail: MailSender | null;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly lockMs: number;
  private readonly timeoutMs: number;
  private readonly backoff: (attempts: number) => number;

  private running = false;
  private halting = false;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private readonly cycles = new Set<Promise<CycleResult>>();

  constructor(deps: OutboxWorkerDeps) {
    this.db = deps.db;
    this.hooks = deps.hooks;
    this.log = deps.log;
    this.clock = deps.clock ?? Date.now;
    this.http = deps.http;
    this.mail = deps.mail ?? null;
    this.pollMs = deps.pollMs ?? 500;
    this.batchSize = deps.batchSize ?? 50;
    this.concurrency = Math.max(1, deps.concurrency ?? 4);
    this.maxAttempts = Math.max(1, deps.maxAttempts ?? 12);
    this.timeoutMs = deps.timeoutMs ?? 10_000;
    this.lockMs = Math.max(deps.lockMs ?? 30_000, this.timeoutMs + 5_000);
    this.backoff = deps.backoff ?? ((attempts) => backoff(attempts));
  }

  /** Sets the mail sender (wired after the worker, which the mail service does not need). */
  setMailSender(mail: MailSender): void {
    this.mail = mail;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts polling (no-op when started). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Looks for due rows now, e.g. after a transaction that queued some committed. */
  notify(): void {
    if (!this.running) return;
    if (this.loop) this.again = true;
    else this.schedule(0);
  }

  /** Stops polling and waits for the requests in flight; rows not yet claimed stay pending. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.halting = true;
    try {
      await this.loop;
      await Promise.allSettled([...this.cycles]);
    } finally {
      this.halting = false;
    }
  }

  /** One cycle: sends the due rows (up to `batchSize`, `concurrency` at a time) and records the outcomes. */
  runOnce(): Promise<CycleResult> {
    const cycle = this.cycle();
    this.cycles.add(cycle);
    void cycle.then(
      () => this.cycles.delete(cycle),
      () => this.cycles.delete(cycle),
    );
    return cycle;
  }

  /** The outbox as merchants see it (newest first). */
  list(filters: OutboxFilters, page: PageQuery): Promise<Page<OutboxEntry>> {
    return listOutbox(this.db, filters, page);
  }

  async get(id: number): Promise<OutboxEntry> {
    const row = await getOutboxRow(this.db, id);
    if (!row) throw notFound('Outbox message', id);
    return toOutboxEntry(row);
  }

  /** Queues a failed row again for a fresh round of attempts. */
  async retry(id: number, actor: Actor): Promise<OutboxEntry> {
    const row = await getOutboxRow(this.db, id);
    if (!row) throw notFound('Outbox message', id);
    const now = this.clock();
    if (!(await requeueFailedOutboxRow(this.db, id, now))) {
      throw conflict(`Outbox message ${id} is ${row.status}; only failed messages can be retried`, {
        status: row.status,
      });
    }
    await recordAudit(
      this.db,
      actor,
      'outbox.retried',
      'outbox',
      id,
      { previousAttempts: row.attempts, lastError: row.lastError },
      now,
    );
    this.notify();
    return this.get(id);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
    // The HTTP server keeps a running process alive; the worker alone should not.
    this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    if (!this.running || this.loop) return;
    this.again = false;
    this.loop = this.runOnce()
      .then(
        (r) => r.due >= this.batchSize,
        (err: unknown) => {
          this.log.error({ err }, 'outbox delivery cycle failed; retrying at the next poll');
          return false;
        },
      )
      .then((more) => {
        this.loop = null;
        // A full batch may leave more due rows; a notify() during the cycle means new ones.
        if (this.running) this.schedule(more || this.again ? 0 : this.pollMs);
      });
  }

  private async cycle(): Promise<CycleResult> {
    const result: CycleResult = { due: 0, delivered: 0, retried: 0, failed: 0, skipped: 0 };
    if (this.halting) return result;
    const due = await dueOutboxRows(this.db, this.clock(), this.batchSize);
    result.due = due.length;
    let next = 0;
    const lane = async () => {
      while (!this.halting && next < due.length) {
        const row = due[next++]!;
        result[await this.deliver(row)]++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, due.length) }, lane));
    return result;
  }

  private async deliver(row: OutboxRow): Promise<Outcome> {
    const claimedAt = this.clock();
    const lockUntil = claimedAt + this.lockMs;
    try {
      // Claimed one by one right before sending, so the lock only has to outlast one request.
      if (!(await claimOutboxRow(this.db, row, claimedAt, lockUntil))) return 'skipped';
    } catch (err) {
      this.log.error({ err, outboxId: row.id }, 'could not claim an outbox message');
      return 'skipped';
    }
    const attempt = row.attempts + 1;
    const { error, permanent } = await this.send(row, attempt);
    const now = this.clock();
    try {
      if (error === null) {
        await markOutboxDelivered(this.db, row.id, now, attempt);
        return 'delivered';
      }
      const failed = permanent || attempt >= this.maxAttempts;
      const recorded = await markOutboxAttemptFailed(this.db, row.id, lockUntil, {
        status: failed ? 'failed' : 'pending',
        attempts: attempt,
        nextAttemptAt: failed ? now : now + this.backoff(attempt),
        lastError: error,
      });
      if (!recorded) return 'skipped';
      const fields = { outboxId: row.id, event: row.event, channel: row.channel, attempt, error };
      if (failed) this.log.warn(fields, 'outbox message failed for good');
      else this.log.info(fields, 'outbox delivery failed; will retry');
      return failed ? 'failed' : 'retried';
    } catch (err) {
      // The row stays locked until its lock expires and is then tried again.
      this.log.error({ err, outboxId: row.id }, 'could not record an outbox delivery');
      return 'skipped';
    }
  }

  /** Sends one row; `error` is null on a 2xx answer. */
  private async send(row: OutboxRow, attempt: number): Promise<{ error: string | null; permanent: boolean }> {
    if (row.channel === 'mail') {
      if (!this.mail) return { error: 'no mail sender is configured', permanent: true };
      try {
        return await this.mail.send(row, this.timeoutMs);
      } catch (err) {
        return { error: this.describe(err), permanent: false };
      }
    }
    let url: URL;
    try {
      url = new URL(row.url);
    } catch {
      return { error: 'the URL is not valid', permanent: true };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return { error: `unsupported URL scheme ${url.protocol}`, permanent: true };
    try {
      const delivery: OutboxDelivery = {
        id: row.id,
        event: row.event,
        channel: row.channel,
        attempt,
        now: this.clock(),
      };
      const req = await this.hooks.applyFilters(
        'outbox.request',
        { method: row.method, url: row.url, headers: { 'User-Agent': USER_AGENT, ...row.headers }, body: row.body },
        delivery,
      );
      const bodyless = req.method === 'GET' || req.method === 'HEAD';
      // Sent to the filtered URL: the address rule applies to whatever a filter made of it.
      const res = await this.http.send({
        method: req.method,
        url: req.url,
        // Set last, so no filter can drop the id receivers de-duplicate by.
        headers: { ...req.headers, 'X-Affix-Delivery': String(row.id) },
        body: bodyless ? null : req.body,
        timeoutMs: this.timeoutMs,
      });
      const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      if (res.status >= 200 && res.status < 300) return { error: null, permanent: false };
      if (res.status >= 300 && res.status < 400) {
        // A redirect could lead anywhere, internal addresses included: the URL must be fixed instead.
        const to = res.location ? ` (Location: ${res.location.slice(0, 300)})` : '';
        return { error: `${status}: redirects are not followed${to}; store the final URL`, permanent: true };
      }
      return { error: status, permanent: false };
    } catch (err) {
      if (err instanceof ForbiddenTarget) return { error: `refused: ${err.message}`, permanent: true };
      return { error: this.describe(err), permanent: false };
    }
  }

  private describe(err: unknown): string {
    if (err instanceof Error) {
      if (err.name === 'TimeoutError') return `no answer within ${this.timeoutMs / 1000} s`;
      const cause = (err as { cause?: unknown }).cause;
      const detail = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : '';
      return (detail ? `${err.message}: ${detail}` : err.message).slice(0, 500);
    }
    return String(err).slice(0, 500);
  }
}

declare module '../plugins/contract.js' {
  interface HookFilters {
    'outbox.request': [request: OutboxRequest, delivery: OutboxDelivery];
  }
}
