import type { Knex } from 'knex';
import type { Logger } from '../logger.js';
import type { Settings } from '../domain/settings.js';
import type { MailService } from './mail.js';
import { transaction } from '../db/transaction.js';
import { dayIn } from '../domain/time.js';
import { formatMoney } from '../domain/money.js';
import { commissionsOfDay, statsTotals } from '../store/daily-stats.js';
import { affiliateCreationTimes } from '../store/affiliates.js';
import { compareAndSetSystemValue, getOrCreateSystemValue, getSystemValue } from '../store/system.js';

const DAY = 86_400_000;
const LAST_DAY_KEY = 'mail.dailySummary.lastDay';

/** The calendar day before `day` (YYYY-MM-DD), whatever the zone's DST does. */
export function dayBefore(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
}

export interface DailySummaryTuning {
  /** How often the worker looks whether a new day began (ms). */
  checkMs?: number;
}

/**
 * `merchant.daily_summary` (SPEC §13, off by default): once the report zone's day has turned,
 * the owners get the figures of the day before. Sent once per day across every process: the day
 * is claimed in `system_kv` by a compare-and-set in the transaction that queues the mail.
 */
export class DailySummary {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly db: Knex,
    private readonly mail: MailService,
    private readonly settings: () => Settings,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    private readonly tuning: DailySummaryTuning = {},
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.running = this.runOnce()
        .catch((err: unknown) => this.log.error({ err }, 'daily summary failed; trying again later'))
        .finally(() => (this.running = null));
    };
    this.timer = setInterval(tick, this.tuning.checkMs ?? 5 * 60_000);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Queues the summary of the day before, unless it was queued already or the template is off. Answers the day sent. */
  async runOnce(): Promise<string | null> {
    if (!(await this.mail.template('merchant.daily_summary')).enabled) return null;
    const { timezone, baseCurrency } = this.settings();
    const now = this.clock();
    const day = dayBefore(dayIn(now, timezone));
    // '' sorts before every day: the key exists before processes race to move it on.
    await getOrCreateSystemValue(this.db, LAST_DAY_KEY, () => '');
    return transaction(this.db, async (trx) => {
      const last = (await getSystemValue(trx, LAST_DAY_KEY)) ?? '';
      if (last >= day) return null;
      // Compare-and-set: of several processes exactly one moves the day on and queues the mail.
      if (!(await compareAndSetSystemValue(trx, LAST_DAY_KEY, last, day))) return null;
      const totals = await statsTotals(trx, day, day);
      const commissions = await commissionsOfDay(trx, day);
      const recent = await affiliateCreationTimes(trx, now - 3 * DAY);
      await this.mail.queue(trx, 'merchant.daily_summary', await this.mail.ownerAddresses(trx), {
        day,
        clicks: totals.clicks,
        sales: totals.sales,
        revenue: formatMoney(totals.revenue),
        commissions: formatMoney(commissions),
        currency: baseCurrency,
        newAffiliates: recent.filter((at) => dayIn(at, timezone) === day).length,
        adminUrl: `${this.mail.origin()}/admin`,
      });
      return day;
    });
  }
}
