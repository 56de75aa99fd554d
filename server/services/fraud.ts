import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Hooks } from '../plugins/hooks.js';
import type { Settings } from '../domain/settings.js';
import { countDroppedEvent } from '../store/dropped-counts.js';
import { dayIn } from '../domain/time.js';
import { CODE_LENGTH, clip } from '../domain/limits.js';
import type { Platform } from '../domain/integrations/types.js';

/** What the fraud check (plugin `fraud-protection`, filters `click.fraudCheck` / `sale.fraudCheck`) decides. */
export type FraudVerdict = { action: 'allow' } | { action: 'decline' | 'drop'; rule: string; reason: string };

/** Where an event came from: the storefront (snippet, redirect link), a campaign URL, or a server (the API, a postback, a store platform's webhook). */
export type EventSource = 'snippet' | 'redirect' | 'campaign' | 'api' | 'postback' | Platform;

/** What a fraud rule looks at besides the traffic: the event and the `fraud.*` settings. */
export interface FraudSubject {
  kind: 'click' | 'sale';
  source: EventSource;
  campaignId: number;
  affiliateId: number | null;
  affiliateEmail?: string | null;
  bannerId?: number | null;
  visitorId: string | null;
  customerId?: string | null;
  orderId?: string | null;
  fraud: Settings['fraud'];
}

export interface TrafficContext {
  ip: string;
  userAgent: string;
  referrer: string | null;
  country: string | null;
  at: number;
}

/** Runs the fraud filters and counts what they drop (SPEC §5.5); shared by clicks and sales. */
export class FraudGate {
  constructor(
    private readonly db: Knex,
    private readonly hooks: Hooks,
    private readonly log: Logger,
  ) {}

  /** A plugin error never blocks tracking (the hook host logs and skips it). */
  check(traffic: TrafficContext, subject: FraudSubject): Promise<FraudVerdict> {
    return this.hooks.applyFilters(`${subject.kind}.fraudCheck`, { action: 'allow' }, traffic, subject);
  }

  async countDropped(kind: 'click' | 'sale', rule: string, at: number, timeZone: string): Promise<void> {
    await countDroppedEvent(this.db, dayIn(at, timeZone), kind, clip(rule, CODE_LENGTH));
    this.log.info({ kind, reason: rule }, 'event dropped by a fraud rule');
  }
}

declare module '../plugins/contract.js' {
  interface HookFilters {
    'click.fraudCheck': [verdict: FraudVerdict, traffic: TrafficContext, subject: FraudSubject];
    'sale.fraudCheck': [verdict: FraudVerdict, traffic: TrafficContext, subject: FraudSubject];
  }
}
