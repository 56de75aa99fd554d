import { createHash, timingSafeEqual } from 'node:crypto';
import { transaction } from '../db/transaction.js';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ConfigCache } from './config-cache.js';
import type { Outbox, OutboxMessage } from './outbox.js';
import type { SaleService } from './sales.js';
import { AppError, fieldError } from '../errors.js';
import { amount, parse } from '../validation.js';
import { asUnits, fromUnits, multiplyByRate, multiplyByRateWithin, ZERO, type Units } from '../domain/money.js';
import { rateToBase } from '../domain/currency.js';
import { conversionCost, type CostModel } from '../domain/costs.js';
import { fillMacros, keitaroMacros, macroAmount, type MacroValue } from '../domain/macros.js';
import { dayIn } from '../domain/time.js';
import { conversionFigures, figuresChange } from '../domain/report-figures.js';
import { addDailyStats, addDimensionStats, addTrafficStats, dimensionDeltas } from '../store/daily-stats.js';
import { clickValues, hourIn } from '../domain/report-dimensions.js';
import { parseJson } from '../store/rows.js';
import { clickBySubid, type StoredClick } from '../store/clicks.js';
import {
  findConversionByDedupeKey,
  insertConversion,
  paidSalesOfOrder,
  updateConversion,
  type StoredConversion,
} from '../store/conversions.js';
import {
  AMOUNT_LIMIT_MESSAGE,
  charLength,
  jsonWithin,
  KEY_LENGTH,
  MAX_AMOUNT_UNITS,
  TEXT_BYTES,
} from '../domain/limits.js';
import { dialectHelper } from '../db/index.js';

export type ConversionStatus = 'lead' | 'sale' | 'rejected' | 'rebill';

/** SPEC §7.5: the status changes a later postback may make. */
const ALLOWED: Record<ConversionStatus, ConversionStatus[]> = {
  lead: ['sale', 'rejected'],
  sale: ['rejected'],
  rebill: ['rejected'],
  rejected: [],
};

/**
 * The key that makes a repeated postback idempotent: subid and tid, or (longer than the column)
 * its SHA-256. `lookup` also finds a long key stored whole before keys were hashed (SQLite kept it).
 */
function dedupeKeyOf(subid: string, tid: string | undefined): { stored: string; lookup: string[] } {
  const whole = `${subid}|${tid ?? ''}`;
  if (charLength(whole) <= KEY_LENGTH) return { stored: whole, lookup: [whole] };
  const hashed = `sha256:${createHash('sha256').update(whole).digest('hex')}`;
  return { stored: hashed, lookup: [hashed, whole] };
}

export const canChange = (from: ConversionStatus, to: ConversionStatus) => ALLOWED[from].includes(to);

/** A postback amount: plain decimal text in [0, 1,000,000,000] (SPEC §10a), as units. */
const money = z
  .string()
  .trim()
  .regex(/^\d{1,12}(\.\d{1,8})?$/, 'must be a non-negative decimal number such as 12.50')
  .transform((v, ctx) => {
    const units = amount.safeParse(v);
    if (units.success) return units.data;
    ctx.addIssue({ code: 'custom', message: units.error.issues[0]?.message ?? 'must be a decimal number' });
    return z.NEVER;
  });

const postbackParams = z.object({
  subid: z.string().trim().min(1, 'is required').max(64, 'at most 64 characters'),
  status: z.string().trim().max(64).optional(),
  payout: money.optional(),
  revenue: money.optional(),
  currency: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{3}$/, 'must be a 3-letter currency code')
    .transform((c) => c.toUpperCase())
    .optional(),
  tid: z.string().trim().min(1).max(KEY_LENGTH, `at most ${KEY_LENGTH} characters`).optional(),
  lead_status: z.string().trim().max(64).optional(),
  sale_status: z.string().trim().max(64).optional(),
  rejected_status: z.string().trim().max(64).optional(),
});

/** The parameters a postback reads; the others (sub ids, macros) are carried as sent. */
export const POSTBACK_FIELDS: ReadonlySet<string> = new Set(Object.keys(postbackParams.shape));

/** What a postback reads and answers of a stored conversion, with our status words. */
type ConversionRow = Pick<
  StoredConversion,
  'created_at' | 'click_id' | 'tid' | 'revenue' | 'revenue_base' | 'cost' | 'currency' | 'sale_id'
> & { id: number; status: ConversionStatus; previous_status: ConversionStatus | null };

export interface ConversionResult {
  conversionId: number;
  subid: string;
  tid: string | null;
  status: ConversionStatus;
  previousStatus: ConversionStatus | null;
  duplicate: boolean;
  campaignId: number;
  revenue: number;
  currency: string;
  saleId: number | null;
}

/** A postback checked against its click and the settings. */
interface Postback {
  p: z.infer<typeof postbackParams>;
  status: ConversionStatus;
  snap: Awaited<ReturnType<ConfigCache['snapshot']>>;
  click: StoredClick;
  currency: string;
  rate: Units;
  revenue: Units | null;
  now: number;
}

interface Outcome {
  row: ConversionRow;
  duplicate: boolean;
  changed: boolean;
}

/**
 * A conversion's figures (or their change) on the day and hour `at` falls on in the time zone:
 * the daily rollup, the campaign-URL traffic rollup and the dimension rollups, with the click's values.
 */
async function addConversionFigures(
  trx: Knex,
  click: StoredClick,
  at: number,
  timezone: string,
  figures: { conversions: number; sales: number; revenue: number; cost: number } & Record<string, number>,
): Promise<void> {
  const day = dayIn(at, timezone);
  const { conversions, sales, revenue, cost } = figures;
  await addDailyStats(trx, [
    { day, campaign_id: click.campaign_id, affiliate_id: click.affiliate_id ?? 0, banner_id: 0, ...figures },
  ]);
  await addTrafficStats(trx, [
    {
      day,
      campaign_id: click.campaign_id,
      flow_id: click.flow_id ?? 0,
      landing_index: click.landing_index ?? -1,
      offer_index: click.offer_index ?? -1,
      source_id: click.source_id ?? 0,
      country: click.country ?? '',
      conversions,
      sales,
      revenue,
      cost,
    },
  ]);
  await addDimensionStats(
    trx,
    dimensionDeltas(
      { day, campaign_id: click.campaign_id, flow_id: click.flow_id ?? 0 },
      clickValues(click, hourIn(at, timezone)),
      { conversions, sales, revenue, cost },
    ),
  );
}

/** Conversions from postbacks (SPEC §7.5). */
export class ConversionService {
  constructor(
    private readonly db: Knex,
    private readonly cache: ConfigCache,
    private readonly outbox: Outbox,
    private readonly sales: SaleService,
    /** Reverses what a sale paid (a full refund of its commissions), for `rejected`. */
    private readonly reverseSale: (saleId: number, reason: string) => Promise<void>,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  checkKey(given: string, expected: string): void {
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new AppError('unauthorized', 'Wrong postback key');
  }

  /** The network's status word → ours, through `lead_status` / `sale_status` / `rejected_status`. */
  private statusOf(p: z.infer<typeof postbackParams>): ConversionStatus {
    const word = (p.status ?? 'sale').toLowerCase();
    if (p.sale_status && word === p.sale_status.toLowerCase()) return 'sale';
    if (p.lead_status && word === p.lead_status.toLowerCase()) return 'lead';
    if (p.rejected_status && word === p.rejected_status.toLowerCase()) return 'rejected';
    if (word === 'lead' || word === 'sale' || word === 'rejected' || word === 'rebill') return word;
    throw fieldError(
      'status',
      `"${word.slice(0, 40)}" is not lead, sale, rejected or rebill (map your network's words with lead_status, sale_status, rejected_status)`,
    );
  }

  async record(raw: Record<string, string>): Promise<ConversionResult> {
    const pb = await this.postbackOf(raw);
    const dedupeKey = dedupeKeyOf(pb.click.click_id, pb.p.tid);
    // The same postback sent twice at once: the loser of the race on dedupe_key runs again and
    // finds the winner's row, so it is answered as a duplicate instead of a 500.
    const outcome = await transaction(
      this.db,
      async (trx) => {
        const existing = (await findConversionByDedupeKey(trx, dedupeKey.lookup)) as ConversionRow | undefined;
        if (!existing) return this.insertNew(trx, pb, raw, dedupeKey.stored);
        if (existing.status === pb.status) return { row: existing, duplicate: true, changed: false };
        return this.changeStatus(trx, pb, existing);
      },
      { retryIf: (err) => dialectHelper(this.db).isUniqueViolation(err) },
    );

    // The click's affiliate is paid by the campaign's payouts (SPEC §7.5), idempotently by order id,
    // so a retried postback also completes a payment a crash interrupted.
    const { click } = pb;
    const saleId = await this.payAffiliate(click, outcome.row, pb.p.tid ?? null);
    return {
      conversionId: Number(outcome.row.id),
      subid: click.click_id,
      tid: outcome.row.tid,
      status: outcome.row.status,
      previousStatus: outcome.row.previous_status,
      duplicate: outcome.duplicate,
      campaignId: click.campaign_id,
      revenue: fromUnits(asUnits(Number(outcome.row.revenue))),
      currency: outcome.row.currency,
      saleId,
    };
  }

  /** The postback checked against its click and the settings: status, currency, revenue in range. */
  private async postbackOf(raw: Record<string, string>): Promise<Postback> {
    const p = parse(postbackParams, raw);
    const status = this.statusOf(p);
    const snap = await this.cache.snapshot();
    const settings = snap.settings;
    const click: StoredClick | undefined = await clickBySubid(this.db, p.subid);
    if (!click)
      throw new AppError(
        'not_found',
        `Unknown subid ${JSON.stringify(p.subid).slice(0, 70)}: no click has this subid`,
        { subid: p.subid },
      );
    if (status === 'rebill' && !p.tid) throw fieldError('tid', 'a rebill needs its own tid');
    const currency = p.currency ?? settings.baseCurrency;
    const rate = rateToBase(currency, settings);
    if (rate === null) throw fieldError('currency', `unknown currency ${currency}: add its exchange rate in settings`);
    const revenue: Units | null = p.payout ?? p.revenue ?? null;
    if (revenue !== null && multiplyByRateWithin(revenue, rate, MAX_AMOUNT_UNITS) === null)
      throw fieldError(
        p.payout !== undefined ? 'payout' : 'revenue',
        `${AMOUNT_LIMIT_MESSAGE} once converted to ${settings.baseCurrency}`,
      );
    return { p, status, snap, click, currency, rate, revenue, now: this.clock() };
  }

  /** A later postback of a stored conversion: its new status and revenue, and the figures' change. */
  private async changeStatus(trx: Knex, pb: Postback, existing: ConversionRow): Promise<Outcome> {
    const { status, click, rate, currency, revenue, now, snap } = pb;
    if (!canChange(existing.status, status)) {
      throw new AppError(
        'conflict',
        `A ${existing.status} conversion cannot become ${status} (allowed: ${ALLOWED[existing.status].join(', ') || 'none'})`,
        {
          currentStatus: existing.status,
        },
      );
    }
    const newRevenue = revenue ?? asUnits(Number(existing.revenue));
    const newBase = multiplyByRate(newRevenue, rate);
    await updateConversion(trx, existing.id, {
      status,
      previous_status: existing.status,
      revenue: newRevenue,
      revenue_base: newBase,
      currency,
      updated_at: now,
    });
    // The cost follows the new status and revenue (CPS costs only a sale: a lead that becomes one costs now).
    const campaign = snap.campaigns.get(click.campaign_id);
    const oldCost = asUnits(Number(existing.cost));
    const newCost = campaign ? this.costOf(campaign, status, newBase) : oldCost;
    if (newCost !== oldCost) await updateConversion(trx, existing.id, { cost: newCost });
    const change = figuresChange(
      conversionFigures(existing.status, asUnits(Number(existing.revenue_base))),
      conversionFigures(status, newBase),
    );
    // A conversion's figures stay on the day it arrived: a later status changes that day's.
    await addConversionFigures(trx, click, Number(existing.created_at), snap.settings.timezone, {
      ...change,
      cost: newCost - oldCost,
    });
    const row = {
      ...existing,
      status,
      previous_status: existing.status,
      revenue: newRevenue,
      revenue_base: newBase,
      currency,
      cost: newCost,
    };
    await this.notify(trx, snap, click, row, now);
    return { row, duplicate: false, changed: true };
  }

  /** A first postback for this subid and tid: the conversion row and its figures. */
  private async insertNew(trx: Knex, pb: Postback, raw: Record<string, string>, dedupeKey: string): Promise<Outcome> {
    const { p, status, click, rate, currency, revenue, now, snap } = pb;
    const base = multiplyByRate(revenue ?? ZERO, rate);
    const campaign = snap.campaigns.get(click.campaign_id);
    const cost = campaign ? this.costOf(campaign, status, base) : 0;
    const id = await insertConversion(trx, {
      created_at: now,
      updated_at: now,
      click_id: click.click_id,
      tid: p.tid ?? null,
      campaign_id: click.campaign_id,
      flow_id: click.flow_id,
      landing_index: click.landing_index,
      offer_index: click.offer_index,
      source_id: click.source_id,
      affiliate_id: click.affiliate_id,
      status,
      previous_status: null,
      revenue: revenue ?? 0,
      currency,
      revenue_base: base,
      cost,
      sale_id: null,
      // The postback's own fields first; other parameters as far as the column holds them.
      params: jsonWithin(raw, TEXT_BYTES, Object.keys(postbackParams.shape)),
      dedupe_key: dedupeKey,
    });
    await addConversionFigures(trx, click, now, snap.settings.timezone, { ...conversionFigures(status, base), cost });
    const row: ConversionRow = {
      id: Number(id),
      created_at: now,
      click_id: click.click_id,
      tid: p.tid ?? null,
      status,
      previous_status: null,
      revenue: revenue ?? 0,
      revenue_base: base,
      cost,
      currency,
      sale_id: null,
    };
    await this.notify(trx, snap, click, row, now);
    return { row, duplicate: false, changed: true };
  }

  /** The campaign's cost of a conversion (SPEC §7.4: CPA, CPS on sales, REVSHARE of the revenue). */
  private costOf(
    campaign: { costModel?: string | null; costValue?: Units | null; trafficLoss?: Units | null },
    status: ConversionStatus,
    revenueBase: Units,
  ): Units {
    return conversionCost(
      (campaign.costModel ?? 'CPC') as CostModel,
      campaign.costValue ?? ZERO,
      status,
      revenueBase,
      campaign.trafficLoss ?? ZERO,
    );
  }

  /** Outgoing postbacks: the source's URL with macros, and the `conversion.created` webhook event. */
  private async notify(
    trx: Knex,
    snap: Awaited<ReturnType<ConfigCache['snapshot']>>,
    click: StoredClick,
    c: ConversionRow,
    now: number,
  ): Promise<void> {
    const source = click.source_id ? snap.sources.get(click.source_id) : undefined;
    const subIds = parseJson<Record<string, string>>(click.sub_ids, {});
    const messages: OutboxMessage[] = [];
    if (source?.postbackUrl) {
      const values: Record<string, MacroValue> = {
        subid: click.click_id,
        external_id: click.external_id,
        status: c.status,
        payout: macroAmount(asUnits(Number(c.revenue))),
        revenue: macroAmount(asUnits(Number(c.revenue))),
        currency: c.currency,
        tid: c.tid,
        campaign_id: click.campaign_id,
        flow_id: click.flow_id,
        ...keitaroMacros({
          campaignName: snap.campaigns.get(click.campaign_id)?.name ?? null,
          os: click.os,
          browser: click.browser,
          language: click.language,
          referrer: click.referrer,
          keyword: subIds.keyword ?? null,
          landingIndex: click.landing_index,
          offerIndex: click.offer_index,
          date: dayIn(now, snap.settings.timezone),
          // {random} is a cache-buster, not a rule: any source will do.
          random: Math.random,
          userAgent: click.user_agent,
          deviceType: click.device,
        }),
      };
      for (let n = 1; n <= 15; n++) values[`sub_id_${n}`] = subIds[`sub_id_${n}`] ?? null;
      messages.push({ channel: 'source_postback', method: 'GET', url: fillMacros(source.postbackUrl, values) });
    }
    await this.outbox.emit(
      trx,
      'conversion.created',
      {
        conversion: {
          id: Number(c.id),
          subid: click.click_id,
          tid: c.tid,
          status: c.status,
          previousStatus: c.previous_status,
          revenue: fromUnits(asUnits(Number(c.revenue))),
          currency: c.currency,
          campaignId: click.campaign_id,
          flowId: click.flow_id,
          sourceId: click.source_id,
          at: new Date(now).toISOString(),
        },
      },
      messages,
    );
  }

  private async payAffiliate(click: StoredClick, c: ConversionRow, tid: string | null): Promise<number | null> {
    if (click.affiliate_id === null) return null;
    const orderId = tid ?? click.click_id;
    const pay = async (kind: 'sale' | 'action', body: Record<string, unknown>) => {
      const result = await this.sales.record({
        kind,
        body: {
          campaignId: click.campaign_id,
          affiliateId: String(click.affiliate_id),
          visitorId: click.visitor_id,
          currency: c.currency,
          ...body,
        },
        signed: true,
        ip: '',
        userAgent: 'postback',
        cookieVisitorId: null,
        source: 'postback',
      });
      if (result.saleId !== null) await updateConversion(this.db, c.id, { sale_id: result.saleId });
      return result.saleId;
    };
    try {
      if (c.status === 'sale' || c.status === 'rebill')
        return await pay('sale', { orderId, totalCost: fromUnits(asUnits(Number(c.revenue))) });
      if (c.status === 'lead')
        return await pay('action', { actionCode: 'lead', orderId, totalCost: fromUnits(asUnits(Number(c.revenue))) });
      if (c.status === 'rejected') {
        // Everything this conversion paid: the lead's action and the sale it became (same order id).
        const paid = await paidSalesOfOrder(this.db, click.campaign_id, orderId);
        for (const id of paid) await this.reverseSale(id, 'the network rejected the conversion');
        return c.sale_id === null ? null : Number(c.sale_id);
      }
    } catch (err) {
      this.log.error({ err, subid: click.click_id }, 'conversion stored but the affiliate payment failed');
    }
    return c.sale_id === null ? null : Number(c.sale_id);
  }
}
