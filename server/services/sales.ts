import { createHash } from 'node:crypto';
import { transaction } from '../db/transaction.js';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { GroupWriter } from '../ingest/group-writer.js';
import type { PendingSale, SaleWrite } from '../ingest/sale-writer.js';
import type { z } from 'zod';
import type { ConfigCache, ConfigSnapshot } from './config-cache.js';
import type { Hooks } from '../plugins/hooks.js';
import type { FraudGate } from './fraud.js';
import { matchSale, explainTrace, type MatchTrace } from '../domain/matching.js';
import { fromUnits, multiplyByRate, multiplyByRateWithin, SCALE, type Units } from '../domain/money.js';
import { rateToBase } from '../domain/currency.js';
import { essentialSaleFields, optionalSaleFields, saleBodyFields, type SaleInput } from '../schemas/tracking.js';
import { AppError, fieldError } from '../errors.js';
import { parse, unknownKeyMessage, unknownKeys, validationFailed, withoutKeys } from '../validation.js';
import { AMOUNT_LIMIT_MESSAGE, IP_LENGTH, KEY_LENGTH, MAX_AMOUNT_UNITS, TEXT_LENGTH, cut } from '../domain/limits.js';
import { findSaleByOrderKey, insertSale, type Sale, type SaleRow, type SaleStatus } from '../store/sales.js';
import { referralsOfVisitor } from '../store/clicks.js';
import { findSubscription, lastClickCountry, type SubscriptionRecord } from '../store/subscriptions.js';
import { recurringWindowEnd, withinRecurringMonths, type PayoutDef } from '../domain/payouts.js';
import type { SubscriptionReferral } from '../domain/matching.js';
import { countryOf } from './geo.js';
import type { CommissionService, CommissionPlanResult, CommissionSummary } from './commissions.js';
import { addDailyStats, type StatsDelta } from '../store/daily-stats.js';
import { dayIn } from '../domain/time.js';
import { commissionStatusFor, type CurrentSaleStatus } from '../domain/sale-status.js';
import { saleFigures } from '../domain/report-figures.js';
import type { Platform } from '../domain/integrations/types.js';

export interface SaleRequest {
  kind: 'sale' | 'action';
  body: unknown;
  /** Authenticated by signature or API token: may set `status` and `affiliateId` (SPEC §4.2). */
  signed: boolean;
  /**
   * The campaign whose secret key signed the request (unset: a merchant token). `status` and
   * `affiliateId` are honoured only when the sale lands in that campaign (SPEC §10a).
   */
  signedCampaignId?: number;
  ip: string;
  userAgent: string;
  /** The visitor id from the server cookie, used when the body carries none. */
  cookieVisitorId: string | null;
  /**
   * `api` bodies are strict: an unknown field is a 422; elsewhere it is dropped with a warning
   * (SPEC §10a). A store platform's name: the sale came from its webhook (SPEC §14).
   */
  source: 'snippet' | 'api' | 'postback' | Platform;
}

export interface SaleResult {
  saleId: number | null;
  matchedBy: string;
  campaignId: number;
  affiliateId: number | null;
  /** As recorded; for a repeated order, the original sale's status now (from its commissions). */
  status: CurrentSaleStatus;
  declineReason: string | null;
  commissions: CommissionSummary[];
  /** True when this order was already recorded: the original result is answered. */
  duplicate: boolean;
  /** Fields that were dropped because they were invalid (the event was stored without them). */
  warnings: Array<{ field: string; message: string }>;
}

export interface SimulationResult extends SaleResult {
  trace: MatchTrace;
  explanation: string[];
  /** The commissions the sale would create, with the payout chosen and why. */
  plannedCommissions: Array<{
    tier: number;
    affiliateId: number;
    amount: number;
    merchantAmount: number;
    payoutId: number | null;
    detail: Record<string, unknown>;
  }>;
  payoutExplanation: string[];
}

/** A lifetime binding offered to rule 1 by a plugin through the `sale.matchCandidates` filter. */
export interface LifetimeCandidate {
  affiliateId: number;
  campaignId: number | null;
  detail: string;
}

interface Prepared {
  input: SaleInput;
  warnings: Array<{ field: string; message: string }>;
  snap: ConfigSnapshot;
  trace: MatchTrace;
  currency: string;
  rate: Units;
  status: SaleStatus;
  declineReason: string | null;
  dropped: { rule: string } | null;
  at: number;
  commissions: CommissionPlanResult;
  /** `customerId`, else the visitor id (body or cookie): the key of a lifetime binding (rule 1). */
  customerKey: string | null;
  /** The subscription's first attributed sale, when this sale is a renewal. */
  subscription: SubscriptionRecord | null;
}

/** The sale's currency and its rate to the base currency; its amounts must stay in range once converted. */
function currencyOf(input: SaleInput, settings: ConfigSnapshot['settings']): { currency: string; rate: Units } {
  const currency = input.currency ?? settings.baseCurrency;
  const rate = rateToBase(currency, settings);
  if (rate === null) {
    throw fieldError(
      'currency',
      `unknown currency ${currency}: add its exchange rate to ${settings.baseCurrency} in settings`,
    );
  }
  if (currency !== settings.baseCurrency) checkConverted(input, rate, settings.baseCurrency);
  return { currency, rate };
}

/**
 * The status a stored sale gets: the campaign's approval (else the default), or the `status` of a
 * signed request when the key that signed it is the sale's campaign's (else a warning).
 */
function statusOf(
  req: SaleRequest,
  input: SaleInput,
  snap: ConfigSnapshot,
  trace: MatchTrace,
  warnings: Prepared['warnings'],
): SaleStatus {
  const campaign = snap.campaigns.get(trace.campaignId);
  const vouched = req.signed && (req.signedCampaignId === undefined || req.signedCampaignId === trace.campaignId);
  if (vouched && input.status) return input.status;
  if (req.signed && input.status) {
    const warning = {
      field: 'status',
      message: `is honoured only in campaign ${req.signedCampaignId}, whose key signed the request; ignored`,
    };
    warnings.push(warning);
    trace.notes.push(`${warning.field} ${warning.message}`);
  }
  return commissionStatusFor(campaign?.approval, snap.settings.defaultApproval);
}

const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Whether renewals of a subscription are still attributed (SPEC §14): within the `recurringMonths`
 * of the RECURRING payouts that pay its affiliate in its campaign (the longest; null = while it
 * lasts). A campaign without such a payout sets no limit; its renewals simply earn nothing.
 */
export function subscriptionReferral(
  subscriptionId: string,
  record: SubscriptionRecord | null,
  payouts: PayoutDef[],
  at: number,
): SubscriptionReferral {
  if (!record) return { subscriptionId, first: null, closed: null };
  const first = { campaignId: record.campaignId, affiliateId: record.affiliateId, at: record.firstSaleAt };
  const recurring = payouts.filter(
    (p) => p.type === 'RECURRING' && (p.kind === 'general' || p.affiliateIds.includes(record.affiliateId)),
  );
  if (!recurring.length || recurring.some((p) => p.recurringMonths === null))
    return { subscriptionId, first, closed: null };
  const longest = recurring.reduce((a, b) => ((b.recurringMonths ?? 0) > (a.recurringMonths ?? 0) ? b : a));
  const months = longest.recurringMonths as number;
  if (withinRecurringMonths(record.firstSaleAt, months, at)) return { subscriptionId, first, closed: null };
  return {
    subscriptionId,
    first,
    closed: `subscription ${subscriptionId} first sold on ${dayText(record.firstSaleAt)} is past the ${months} recurringMonths of payout ${longest.id} "${longest.title}" (renewals until ${dayText(recurringWindowEnd(record.firstSaleAt, months) - 1)}): this renewal is no longer attributed to affiliate ${record.affiliateId} nor paid`,
  };
}

/** SPEC §10a: each amount stays within the limit once converted to the base currency too. */
function checkConverted(input: SaleInput, rate: Units, baseCurrency: string): void {
  const check = (field: string, units: Units | undefined) => {
    if (units !== undefined && multiplyByRateWithin(units, rate, MAX_AMOUNT_UNITS) === null)
      throw fieldError(field, `${AMOUNT_LIMIT_MESSAGE} once converted to ${baseCurrency}`);
  };
  check('totalCost', input.totalCost);
  if (input.fixedCost?.kind === 'amount') check('fixedCost', input.fixedCost.units);
  input.items?.forEach((item, i) => check(`items.${i}.totalCost`, item.totalCost));
}

/** A random source seeded by the order, so a retried order picks the same campaign among ties. */
function orderRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32BE(0) || 1;
  return () => {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}

const SALE_FIELDS = new Set(Object.keys(saleBodyFields.shape));
/**
 * A sale body whose keys are all sale fields and which has no `items` (the one field holding
 * objects whose keys are checked too): no key is unknown, so the schema is not run for that.
 */
const onlyFlatSaleFields = (body: Record<string, unknown>) => {
  for (const k of Object.keys(body)) if (!SALE_FIELDS.has(k) || k === 'items') return false;
  return true;
};

/** Recording sales and actions (SPEC §4.2, §5.2–5.4). */
export class SaleService {
  constructor(
    private readonly db: Knex,
    private readonly cache: ConfigCache,
    private readonly hooks: Hooks,
    private readonly fraud: FraudGate,
    private readonly commissions: CommissionService,
    /** The sale writer (ingest/sale-writer.ts), drained on shutdown by the container. */
    private readonly writer: GroupWriter<PendingSale, SaleWrite>,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    private readonly random?: () => number,
  ) {}

  async record(req: SaleRequest): Promise<SaleResult> {
    const p = await this.prepare(req);
    const base = {
      matchedBy: p.trace.matchedBy,
      campaignId: p.trace.campaignId,
      affiliateId: p.trace.affiliate?.affiliateId ?? null,
      commissions: [] as CommissionSummary[],
      warnings: p.warnings,
    };
    const row = this.toRow(req, p);
    if (p.dropped) {
      // A retry of an order already stored is answered with it (SPEC §5.4), not dropped as a new one.
      const original = row.order_key ? await findSaleByOrderKey(this.db, row.campaign_id, row.order_key) : null;
      if (original) return this.resultOf(original, p.warnings);
      await this.fraud.countDropped('sale', p.dropped.rule, p.at, p.snap.settings.timezone);
      return { ...base, saleId: null, status: 'declined', declineReason: p.declineReason, duplicate: false };
    }
    const written = await this.writer.write(this.pending(req, p, row));
    if (written.kind === 'created') {
      const result: SaleResult = {
        ...base,
        saleId: written.id,
        commissions: written.commissions,
        status: row.status,
        declineReason: row.decline_reason,
        duplicate: false,
      };
      await this.hooks.doAction('sale.recorded', {
        ...result,
        kind: req.kind,
        input: p.input,
        customerKey: p.customerKey,
      });
      return result;
    }
    // Idempotent: a repeated order is answered with the original result (SPEC §5.4).
    const original = await findSaleByOrderKey(this.db, row.campaign_id, row.order_key as string);
    if (!original) throw new Error(`order ${row.order_id} conflicted but its sale was not found`);
    if (p.snap.settings.duplicateOrders === 'decline') {
      const copy: SaleRow = {
        ...row,
        order_key: null,
        status: 'declined',
        current_status: 'declined',
        decline_reason: `duplicate of sale ${original.id}`,
        duplicate_of: original.id,
      };
      await transaction(this.db, async (trx) => {
        await insertSale(trx, copy);
        await addDailyStats(trx, [this.statsOf(copy, p)]);
      });
    }
    return this.resultOf(original, p.warnings);
  }

  /** Runs matching on a body without saving anything (POST /api/v1/simulate/sale). */
  async simulate(req: SaleRequest): Promise<SimulationResult> {
    const p = await this.prepare(req);
    return {
      saleId: null,
      matchedBy: p.trace.matchedBy,
      campaignId: p.trace.campaignId,
      affiliateId: p.trace.affiliate?.affiliateId ?? null,
      status: p.dropped ? 'declined' : p.status,
      declineReason: p.declineReason,
      commissions: [],
      duplicate: false,
      warnings: p.warnings,
      trace: p.trace,
      explanation: [...explainTrace(p.trace), ...p.commissions.explanation],
      plannedCommissions: p.commissions.commissions.map((c) => ({
        tier: c.tier,
        affiliateId: c.affiliateId,
        amount: fromUnits(c.amount),
        merchantAmount: fromUnits(c.merchantAmount),
        payoutId: c.payoutId,
        detail: c.detail,
      })),
      payoutExplanation: p.commissions.explanation,
    };
  }

  resultOf(sale: Sale, warnings: SaleResult['warnings'] = []): SaleResult {
    return {
      saleId: sale.id,
      matchedBy: sale.matchedBy,
      campaignId: sale.campaignId,
      affiliateId: sale.affiliateId,
      status: sale.status,
      declineReason: sale.declineReason,
      commissions: [],
      duplicate: true,
      warnings,
    };
  }

  /**
   * Validates the body: essential fields reject with 422; optional ones are dropped with a warning.
   * Unknown fields are a 422 when `strict` (the API), else dropped with a warning (/t/*).
   */
  parseBody(
    kind: 'sale' | 'action',
    body: unknown,
    signed: boolean,
    strict = false,
  ): { input: SaleInput; warnings: SaleResult['warnings'] } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AppError('validation_failed', '(body): must be a JSON object', [
        { field: '(body)', message: 'must be a JSON object' },
      ]);
    }
    let raw = body as Record<string, unknown>;
    const warnings: SaleResult['warnings'] = [];
    const unknown = onlyFlatSaleFields(raw) ? [] : unknownKeys(saleBodyFields, raw);
    if (unknown.length) {
      if (strict) throw validationFailed(unknown.map((k) => ({ field: k.field, message: unknownKeyMessage(k) })));
      for (const k of unknown) warnings.push({ field: k.field, message: unknownKeyMessage(k, 'field', true) });
      raw = withoutKeys(
        raw,
        unknown.map((k) => k.path),
      );
    }
    // `status` is honoured only on signed requests; elsewhere it is ignored, so a bad value must not reject the event.
    const essential = parse(essentialSaleFields, signed ? raw : { ...raw, status: undefined });
    if (kind === 'sale' && essential.orderId === undefined) throw fieldError('orderId', 'is required');
    if (kind === 'action' && essential.actionCode === undefined) throw fieldError('actionCode', 'is required');
    const input: SaleInput = { ...essential };
    for (const [field, schema] of Object.entries(optionalSaleFields) as Array<
      [keyof typeof optionalSaleFields, z.ZodType]
    >) {
      const value = raw[field];
      if (value === undefined || value === null || value === '') continue;
      const result = schema.safeParse(value);
      if (result.success) (input as Record<string, unknown>)[field] = result.data;
      else warnings.push({ field, message: `${result.error.issues[0]?.message ?? 'invalid'}; ignored` });
    }
    if (raw.status !== undefined && raw.status !== null && raw.status !== '' && !signed) {
      warnings.push({ field: 'status', message: 'is honoured only on signed server-to-server requests; ignored' });
    }
    return { input, warnings };
  }

  private async prepare(req: SaleRequest): Promise<Prepared> {
    const { input, warnings } = this.parseBody(req.kind, req.body, req.signed, req.source === 'api');
    const snap = await this.cache.snapshot();
    const { currency, rate } = currencyOf(input, snap.settings);
    if (warnings.length)
      this.log.warn({ warnings, kind: req.kind }, 'tracking event stored without its invalid fields');
    const at = this.clock();
    const visitorId = input.visitorId ?? req.cookieVisitorId ?? null;
    const customerKey = input.customerId ?? visitorId;
    const { trace, coupon, subscription } = await this.match(req, input, snap, at, visitorId, customerKey);
    for (const w of warnings) trace.notes.push(`${w.field} ${w.message}`);
    const { declineReason, dropped } = await this.screen(req, input, snap, trace, at, visitorId);
    const status = declineReason ? 'declined' : statusOf(req, input, snap, trace, warnings);
    const country = await this.goalCountry(input, snap, trace, visitorId);
    const commissions =
      status === 'declined'
        ? { plan: null, commissions: [], explanation: [`The ${req.kind} is declined: no commission.`] }
        : await this.commissions.plan(snap, {
            kind: req.kind,
            actionCode: input.actionCode ?? null,
            campaignId: trace.campaignId,
            affiliateId: trace.affiliate?.affiliateId ?? null,
            couponPayoutId: trace.matchedBy === 'coupon' ? (coupon?.payoutId ?? null) : null,
            totalCost: input.totalCost ?? null,
            exchangeRate: rate,
            productId: input.productId ?? null,
            items: input.items ?? [],
            fixedCost: input.fixedCost ?? null,
            country,
            subscription: input.subscriptionId
              ? { subscriptionId: input.subscriptionId, firstSaleAt: subscription?.firstSaleAt ?? null, at }
              : null,
          });
    return {
      input,
      warnings,
      snap,
      trace,
      currency,
      rate,
      status,
      declineReason,
      dropped,
      at,
      commissions,
      customerKey,
      subscription,
    };
  }

  /** The matching of SPEC §5 over what the body, the visitor's referrals and the plugins say. */
  private async match(
    req: SaleRequest,
    input: SaleInput,
    snap: ConfigSnapshot,
    at: number,
    visitorId: string | null,
    customerKey: string | null,
  ) {
    const settings = snap.settings;
    const productIds = [
      ...new Set([input.productId, ...(input.items ?? []).map((i) => i.productId)].filter((x): x is string => !!x)),
    ];
    const lifetimeCandidates = await this.hooks.applyFilters('sale.matchCandidates', [], {
      customerId: input.customerId ?? null,
      visitorId,
      customerKey,
      input,
    });
    const coupon = snap.coupon(input.coupon);
    const subscription = input.subscriptionId ? await findSubscription(this.db, input.subscriptionId) : null;
    const trace = matchSale(
      {
        subscription: input.subscriptionId
          ? subscriptionReferral(
              input.subscriptionId,
              subscription,
              subscription ? snap.payoutsOf(subscription.campaignId) : [],
              at,
            )
          : null,
        couponCampaignRecognition: settings.couponCampaignRecognition,
        lifetime: lifetimeCandidates[0] ?? null,
        couponCode: input.coupon ?? null,
        coupon,
        bannerId: input.bannerId,
        banner: input.bannerId !== undefined ? snap.banner(input.bannerId) : undefined,
        campaignId: input.campaignId,
        productIds,
        productCampaigns: snap.productCampaigns(productIds),
        referrals: visitorId ? await referralsOfVisitor(this.db, visitorId) : [],
        explicitAffiliateId: input.affiliateId,
        explicitAffiliate: input.affiliateId !== undefined ? snap.affiliateByRef(input.affiliateId) : undefined,
        signed: req.signed,
        ...(req.signedCampaignId === undefined ? {} : { signedCampaignId: req.signedCampaignId }),
        now: at,
      },
      snap,
      settings,
      this.random ?? orderRandom(`${req.kind}:${input.actionCode ?? ''}:${input.orderId ?? at}`),
    );
    return { trace, coupon, subscription };
  }

  /** Fraud protection (SPEC §5.5): a drop stores the sale declined and answers as if accepted. */
  private async screen(
    req: SaleRequest,
    input: SaleInput,
    snap: ConfigSnapshot,
    trace: MatchTrace,
    at: number,
    visitorId: string | null,
  ): Promise<{ declineReason: string | null; dropped: Prepared['dropped'] }> {
    const affiliateId = trace.affiliate?.affiliateId ?? null;
    const verdict = await this.fraud.check(
      { ip: req.ip, userAgent: req.userAgent, referrer: null, country: countryOf(req.ip), at },
      {
        kind: 'sale',
        source: req.source,
        campaignId: trace.campaignId,
        affiliateId,
        affiliateEmail: affiliateId === null ? null : (snap.affiliates.get(affiliateId)?.email ?? null),
        visitorId,
        customerId: input.customerId ?? null,
        orderId: input.orderId ?? null,
        fraud: snap.settings.fraud,
      },
    );
    if (verdict.action === 'drop') return { declineReason: verdict.reason, dropped: { rule: verdict.rule } };
    if (verdict.action === 'decline') return { declineReason: trace.declineReason ?? verdict.reason, dropped: null };
    return { declineReason: trace.declineReason, dropped: null };
  }

  /** Payout goals by country: the visitor's click (GeoIP), else the sale's own `country` field. */
  private async goalCountry(
    input: SaleInput,
    snap: ConfigSnapshot,
    trace: MatchTrace,
    visitorId: string | null,
  ): Promise<string | null> {
    const needsCountry = snap.payoutsOf(trace.campaignId).some((p) => (p.goal?.countries?.length ?? 0) > 0);
    if (!needsCountry) return input.country ?? null;
    const country = (visitorId ? await lastClickCountry(this.db, visitorId) : null) ?? input.country ?? null;
    trace.notes.push(
      country === null
        ? "the visitor's country is unknown (no click country, no country field): goals naming countries do not apply"
        : `the visitor's country for payout goals: ${country}`,
    );
    return country;
  }

  /**
   * What the writer stores with the sale: its rollup figures, the subscription it starts and its
   * planned commissions with what their notifications print.
   */
  private pending(req: SaleRequest, p: Prepared, row: SaleRow): PendingSale {
    const snap = p.snap;
    return {
      row,
      stats: this.statsOf(row, p),
      // The first attributed sale of a subscription decides where its renewals go (SPEC §14).
      subscription:
        row.subscription_id &&
        !p.subscription &&
        row.affiliate_id !== null &&
        row.status !== 'declined' &&
        req.kind === 'sale'
          ? {
              subscriptionId: row.subscription_id,
              campaignId: row.campaign_id,
              affiliateId: row.affiliate_id,
              firstSaleAt: row.at,
            }
          : null,
      commissions:
        row.status === 'declined'
          ? null
          : {
              day: dayIn(p.at, snap.settings.timezone),
              currency: snap.settings.baseCurrency,
              campaignName: snap.campaigns.get(row.campaign_id)?.name ?? null,
              planned: p.commissions.commissions.map((c) => ({
                commission: c,
                postbackUrl: c.tier === 1 ? snap.affiliates.get(c.affiliateId)?.postbackUrl || null : null,
              })),
            },
    };
  }

  /**
   * The sale's contribution to the daily rollup (domain/report-figures.ts): a declined sale counts
   * apart and earns no revenue; the payment of a postback conversion adds only its commissions.
   */
  private statsOf(row: SaleRow, p: Prepared): StatsDelta {
    const figures = saleFigures({
      kind: row.kind,
      status: row.status,
      source: row.source,
      totalCostBase: row.total_cost_base,
    });
    return {
      day: dayIn(p.at, p.snap.settings.timezone),
      campaign_id: row.campaign_id,
      affiliate_id: row.affiliate_id ?? 0,
      banner_id: row.banner_id ?? 0,
      ...figures,
      declined_sales: row.status === 'declined' && row.source !== 'postback' ? 1 : 0,
    };
  }

  private toRow(req: SaleRequest, p: Prepared): SaleRow {
    const i = p.input;
    const orderKey =
      i.orderId === undefined
        ? null
        : req.kind === 'sale'
          ? `sale:${i.orderId}`
          : `action:${i.actionCode ?? ''}:${i.orderId}`;
    const data: Record<string, string> = {};
    for (const k of ['data1', 'data2', 'data3', 'data4', 'data5'] as const)
      if (i[k] !== undefined) data[k] = i[k] as string;
    const fixedCost = i.fixedCost
      ? i.fixedCost.kind === 'percent'
        ? `${i.fixedCost.units / SCALE}%`
        : String(i.fixedCost.units / SCALE)
      : null;
    return {
      at: p.at,
      kind: req.kind,
      action_code: i.actionCode ?? null,
      order_id: i.orderId ?? null,
      order_key:
        orderKey && orderKey.length <= KEY_LENGTH
          ? orderKey
          : orderKey
            ? createHash('sha256').update(orderKey).digest('hex')
            : null,
      campaign_id: p.trace.campaignId,
      affiliate_id: p.trace.affiliate?.affiliateId ?? null,
      banner_id: i.bannerId !== undefined && p.snap.banner(i.bannerId) ? i.bannerId : null,
      status: p.status,
      // Its commissions are written with the sale's status, so they agree with it at first.
      current_status: p.status,
      decline_reason: cut(p.declineReason, TEXT_LENGTH),
      matched_by: p.trace.matchedBy,
      total_cost: i.totalCost ?? null,
      fixed_cost: fixedCost,
      currency: p.currency,
      total_cost_base: i.totalCost === undefined ? null : multiplyByRate(i.totalCost, p.rate),
      exchange_rate: p.rate,
      product_id: i.productId ?? null,
      coupon: i.coupon ?? null,
      channel: i.channel ?? null,
      customer_id: i.customerId ?? null,
      visitor_id: i.visitorId ?? (req.cookieVisitorId || null),
      subscription_id: i.subscriptionId ?? null,
      data: JSON.stringify(data),
      items: JSON.stringify(i.items ?? []),
      ip: cut(req.ip, IP_LENGTH),
      source: req.source,
      duplicate_of: null,
      trace: JSON.stringify(p.trace),
    };
  }
}

/** The `sale.recorded` payload (SPEC §8): the sale's result, its kind, input and customer key. */
export type RecordedSale = SaleResult & { kind: 'sale' | 'action'; input: SaleInput; customerKey?: string | null };

/** The `sale.matchCandidates` arguments. */
export interface CandidateArgs {
  customerId: string | null;
  visitorId: string | null;
  customerKey: string | null;
  input: SaleInput;
}

declare module '../plugins/contract.js' {
  interface HookActions {
    'sale.recorded': [sale: RecordedSale];
  }
  interface HookFilters {
    'sale.matchCandidates': [candidates: LifetimeCandidate[], args: CandidateArgs];
  }
}
