import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ConfigCache } from './config-cache.js';
import { dayIn } from '../domain/time.js';
import {
  deleteClicksBefore,
  deleteExpiredSharedValues,
  deleteImpressionVisitorsBefore,
  deleteUniquenessMarksBefore,
} from '../store/pruning.js';
import { takeLease } from '../store/leases.js';
import { randomToken } from './random.js';

/** The lease of the pruning job: one process of all sharing the database prunes per interval. */
export const PRUNING_LEASE = 'pruning';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface PruningTuning {
  /** Delay of the first run after start (ms). */
  firstRunMs?: number;
  /** Time between runs (ms). */
  intervalMs?: number;
  /** Rows per delete statement. */
  batchSize?: number;
}

export interface PruneResult {
  uniquenessMarks: number;
  impressionVisitors: number;
  /** Expired shared counters (fraud windows, clickLimit days, sign-in brake). */
  sharedValues: number;
  /** Raw clicks older than `clickRetentionDays` (none when it is 0). */
  clicks: number;
}

/** What a scheduled run did: pruned, or left it to the process holding the lease. */
export type ScheduledRun = { ran: true; result: PruneResult } | { ran: false };

/**
 * Tables that grow with every visitor are pruned by age (SPEC §16): a uniqueness mark is needed
 * for the longest uniqueness TTL of any campaign (a visit is unique again after it), an
 * impression visitor for its report day only (yesterday is kept too, for a change of time zone).
 * Runs periodically beside the outbox worker, in small batches.
 */
export class Pruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = true;
  private readonly firstRunMs: number;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  /** This process, as the holder of the pruning lease. */
  readonly holder = `${process.pid}-${randomToken(8)}`;

  constructor(
    private readonly db: Knex,
    private readonly cache: ConfigCache,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    tuning: PruningTuning = {},
  ) {
    this.firstRunMs = tuning.firstRunMs ?? 60_000;
    this.intervalMs = tuning.intervalMs ?? 10 * 60_000;
    this.batchSize = tuning.batchSize ?? 500;
  }

  /** Prunes both tables once, batch by batch; returns how many rows went. */
  async pruneOnce(): Promise<PruneResult> {
    const snap = await this.cache.snapshot();
    const now = this.clock();
    const ttlHours = Math.max(24, ...[...snap.campaigns.values()].map((c) => c.uniquenessTtlHours ?? 24));
    const uniquenessMarks = await this.inBatches((n) => deleteUniquenessMarksBefore(this.db, now - ttlHours * HOUR, n));
    const yesterday = dayIn(now - DAY, snap.settings.timezone);
    const impressionVisitors = await this.inBatches((n) => deleteImpressionVisitorsBefore(this.db, yesterday, n));
    const sharedValues = await this.inBatches((n) => deleteExpiredSharedValues(this.db, now, n));
    const retention = snap.settings.clickRetentionDays;
    const clicks =
      retention > 0 ? await this.inBatches((n) => deleteClicksBefore(this.db, now - retention * DAY, n)) : 0;
    if (uniquenessMarks || impressionVisitors || sharedValues || clicks)
      this.log.info(
        { uniquenessMarks, impressionVisitors, sharedValues, clicks, ttlHours },
        'pruned old uniqueness marks and impression visitors',
      );
    return { uniquenessMarks, impressionVisitors, sharedValues, clicks };
  }

  /**
   * A scheduled run (SPEC §16): only the process holding the pruning lease prunes, so several
   * processes on one database never prune the same rows twice over. The lease lasts a little
   * longer than the interval, so its holder renews it at its next run; when the holder is gone,
   * another process takes it over once it expires.
   */
  async runIfLeaseHolder(): Promise<ScheduledRun> {
    const now = this.clock();
    if (!(await takeLease(this.db, PRUNING_LEASE, this.holder, now, now + this.leaseMs()))) return { ran: false };
    return { ran: true, result: await this.pruneOnce() };
  }

  private leaseMs(): number {
    return Math.round(this.intervalMs * 1.5);
  }

  private async inBatches(deleteBatch: (n: number) => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await deleteBatch(this.batchSize);
      total += n;
      if (n < this.batchSize) return total;
      // Let the writers of tracking events in between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.firstRunMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runIfLeaseHolder()
        .catch((err: unknown) => this.log.error({ err }, 'pruning failed; it runs again later'))
        .finally(() => {
          this.running = null;
          this.schedule(this.intervalMs);
        });
    }, ms);
    this.timer.unref();
  }
}
