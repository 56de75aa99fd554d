import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { AppError, conflict, fieldError } from '../errors.js';
import { minUnits, subtract, unitsToFixed, type Units } from '../domain/money.js';
import { parseJsonKeepingIds } from '../domain/json-ids.js';
import type { Intent, Platform, PlatformEvent } from '../domain/integrations/types.js';
import { stripeEvent } from '../domain/integrations/stripe.js';
import { shopifyEvent } from '../domain/integrations/shopify.js';
import { wooCommerceEvent } from '../domain/integrations/woocommerce.js';
import {
  abandonDelivery,
  claimDelivery,
  finishDelivery,
  insertDelivery,
  listDeliveries,
  pruneDeliveries,
  type Delivery,
  type DeliveryFilters,
  type DeliveryOutcome,
  type DeliveryRow,
  type StoredAnswer,
} from '../store/integration-deliveries.js';
import { salesWithOrderId, type RefundableSale } from '../store/refunds.js';
import { commissionsOfSale } from '../store/commissions.js';
import type { Page } from '../store/rows.js';
import type { PageQuery } from '../validation.js';
import type { Actor } from './actor.js';
import type { SaleService } from './sales.js';
import type { RefundInput, RefundService } from './refunds.js';
import type { CommissionLifecycle } from './commission-lifecycle.js';
import { verifyBase64Hmac, verifyStripe } from './webhook-signatures.js';
import type { StoreWebhookReceiver, WebhookAnswer, WebhookDelivery } from '../plugins/contract.js';

export type { StoreWebhookReceiver, WebhookAnswer, WebhookDelivery };

const PLATFORM_TITLES: Record<Platform, string> = { stripe: 'Stripe', shopify: 'Shopify', woocommerce: 'WooCommerce' };

/** A delivery still `processing` after this long was abandoned (its process stopped): a retry takes over. */
const ABANDONED_AFTER_MS = 2 * 60_000;
/** Deliveries are kept this long; the platforms stop retrying within days. */
const KEEP_MS = 90 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

interface Outcome {
  outcome: DeliveryOutcome;
  message: string;
  saleId?: number | null;
  refundId?: number | null;
  body: Record<string, unknown>;
}

type Read =
  | { kind: 'event'; event: PlatformEvent }
  | { kind: 'answered'; row: Partial<DeliveryRow>; answer: WebhookAnswer }
  | { kind: 'refused'; row: Partial<DeliveryRow>; error: AppError };

/**
 * Store platform webhooks (SPEC §14): verified on the raw body, answered once per event (a
 * replay gets the first answer), acted on through the sale, refund and commission services, and
 * logged per delivery. A 2xx means the sale or refund is stored; an error leaves the event free
 * for the platform's retry.
 */
export class IntegrationService implements StoreWebhookReceiver {
  private lastPrune = 0;

  constructor(
    private readonly db: Knex,
    private readonly sales: SaleService,
    private readonly refunds: RefundService,
    private readonly lifecycle: CommissionLifecycle,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async receive(d: WebhookDelivery): Promise<WebhookAnswer> {
    const now = this.clock();
    await this.prune(now);
    const read = this.read(d, now);
    const base = { received_at: now, platform: d.platform, dedupe_key: null, duplicate_of: null };
    if (read.kind === 'answered') {
      await insertDelivery(this.db, { ...emptyRow(), ...base, ...read.row, status: read.answer.status });
      return read.answer;
    }
    if (read.kind === 'refused') {
      await insertDelivery(this.db, { ...emptyRow(), ...base, ...read.row, status: read.error.status });
      throw read.error;
    }
    return this.handle(d.platform, read.event, now);
  }

  deliveries(filters: DeliveryFilters, page: PageQuery): Promise<Page<Delivery>> {
    return listDeliveries(this.db, filters, page);
  }

  /** Verifies, parses and maps a delivery; anything refused here is logged without acting. */
  private read(d: WebhookDelivery, now: number): Read {
    const h = (name: string) => d.header(name)?.slice(0, 191);
    const shown =
      d.platform === 'shopify'
        ? { event_type: h('X-Shopify-Topic') ?? null, event_id: h('X-Shopify-Webhook-Id') ?? null }
        : d.platform === 'woocommerce'
          ? { event_type: h('X-WC-Webhook-Topic') ?? null, event_id: h('X-WC-Webhook-Delivery-ID') ?? null }
          : { event_type: null, event_id: null };
    const refuse = (outcome: DeliveryOutcome, error: AppError): Read => ({
      kind: 'refused',
      row: { ...shown, outcome, message: error.message },
      error,
    });

    // WooCommerce pings a new webhook with a form body and no signature, and saves it only on a 200.
    const text = d.rawBody.toString('utf8');
    const ping = /^webhook_id=(\d{1,20})$/.exec(text);
    if (d.platform === 'woocommerce' && ping && !d.header('X-WC-Webhook-Signature')) {
      const body = { received: true, outcome: 'ignored', message: 'WooCommerce ping' };
      return {
        kind: 'answered',
        row: { event_type: 'ping', event_id: `webhook ${ping[1]}`, outcome: 'ignored', message: body.message },
        answer: { status: 200, body },
      };
    }

    let payload: unknown;
    if (d.platform === 'stripe') {
      const check = verifyStripe(d.rawBody, d.header('Stripe-Signature'), d.secret, now);
      if (!check.ok && 'invalidJson' in check)
        return refuse('invalid', new AppError('invalid_json', 'The request body is not valid JSON'));
      if (!check.ok) return refuse('bad_signature', new AppError('unauthorized', check.reason));
      payload = check.value;
    } else {
      const header = d.platform === 'shopify' ? 'X-Shopify-Hmac-Sha256' : 'X-WC-Webhook-Signature';
      const check = verifyBase64Hmac(d.rawBody, d.header(header), d.secret, header);
      if (!check.ok) return refuse('bad_signature', new AppError('unauthorized', check.reason));
      try {
        payload = parseJsonKeepingIds(text);
      } catch {
        return refuse('invalid', new AppError('invalid_json', 'The request body is not valid JSON'));
      }
    }

    try {
      return { kind: 'event', event: mapEvent(d, payload) };
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return refuse('invalid', err);
      throw err;
    }
  }

  private async handle(platform: Platform, event: PlatformEvent, now: number, retried = false): Promise<WebhookAnswer> {
    const row: DeliveryRow = {
      ...emptyRow(),
      received_at: now,
      platform,
      event_type: event.eventType,
      event_id: event.eventId,
      order_id: event.orderId,
      dedupe_key: event.dedupeKey === null ? null : dedupeHash(platform, event.dedupeKey),
      outcome: 'processing',
    };
    let id: number;
    if (row.dedupe_key !== null) {
      const claim = await claimDelivery(this.db, { ...row, dedupe_key: row.dedupe_key });
      if (!claim.claimed) {
        if (claim.first.outcome === 'processing' && now - claim.first.receivedAt > ABANDONED_AFTER_MS && !retried) {
          await abandonDelivery(
            this.db,
            claim.first.id,
            'not finished (the server stopped?); a later delivery retried it',
          );
          return this.handle(platform, event, now, true);
        }
        return this.replay(row, claim.first);
      }
      id = claim.id;
    } else {
      id = await insertDelivery(this.db, row);
    }

    let done: Outcome;
    try {
      done = await this.act(platform, event.intent);
    } catch (err) {
      const known = err instanceof AppError && err.status < 500;
      if (!known) this.log.error({ err, platform, eventId: event.eventId }, 'store webhook failed');
      // The key is freed: the platform's retry (or a corrected setting) acts again.
      await finishDelivery(this.db, id, {
        outcome: 'failed',
        status: known ? err.status : 500,
        message: known ? err.message : 'internal error; it has been logged',
        dedupe_key: null,
      });
      throw err;
    }
    const body = { received: true, ...done.body, outcome: done.outcome, message: done.message };
    await finishDelivery(this.db, id, {
      outcome: done.outcome,
      status: 200,
      sale_id: done.saleId ?? null,
      refund_id: done.refundId ?? null,
      message: done.message,
      answer: JSON.stringify(body),
    });
    return { status: 200, body };
  }

  /** A delivery of an event already received: the first answer, and nothing changes. */
  private async replay(row: DeliveryRow, first: StoredAnswer): Promise<WebhookAnswer> {
    const still = first.outcome === 'processing';
    const message = still
      ? `the first delivery (#${first.id}) is still being handled; retry later`
      : `replay of delivery #${first.id}: answered as the first time`;
    await insertDelivery(this.db, {
      ...row,
      dedupe_key: null,
      outcome: 'duplicate',
      status: still ? 409 : first.status,
      sale_id: first.saleId,
      refund_id: first.refundId,
      message,
      duplicate_of: first.id,
    });
    if (still) throw conflict(message, { retry: true });
    return { status: first.status ?? 200, body: first.body };
  }

  private act(platform: Platform, intent: Intent): Promise<Outcome> {
    const actor: Actor = {
      userId: null,
      label: `${PLATFORM_TITLES[platform]} webhook`,
      role: 'system',
      affiliateId: null,
    };
    switch (intent.kind) {
      case 'sale':
        return this.recordSale(platform, intent);
      case 'refund':
        return this.refund(intent, actor);
      case 'decline':
        return this.decline(intent, actor);
      case 'ignore':
        return Promise.resolve({ outcome: 'ignored', message: intent.reason, body: {} });
    }
  }

  private async recordSale(platform: Platform, { sale, buyer }: Extract<Intent, { kind: 'sale' }>): Promise<Outcome> {
    const body: Record<string, unknown> = {
      orderId: sale.orderId,
      totalCost: unitsToFixed(sale.totalCost),
      currency: sale.currency,
    };
    if (sale.customerId) body.customerId = sale.customerId;
    if (sale.visitorId) body.visitorId = sale.visitorId;
    if (sale.coupon) body.coupon = sale.coupon;
    if (sale.items.length)
      body.items = sale.items.map((i) => ({
        productId: i.productId,
        totalCost: unitsToFixed(i.totalCost),
        quantity: i.quantity,
      }));
    // Recurring commissions (SPEC §14): a renewal (sale.recurring) is attributed to the campaign
    // and affiliate of the subscription's first sale (matchedBy 'subscription').
    if (sale.subscriptionId) body.subscriptionId = sale.subscriptionId;
    const result = await this.sales.record({
      kind: 'sale',
      body,
      signed: true,
      ip: buyer.ip,
      userAgent: buyer.userAgent,
      cookieVisitorId: null,
      source: platform,
    });
    const notes = [
      ...(sale.subscriptionId ? [`subscription ${sale.subscriptionId}${sale.recurring ? ' (renewal)' : ''}`] : []),
      ...result.warnings.map((w) => `${w.field} ${w.message}`),
    ];
    const answer = {
      saleId: result.saleId,
      orderId: sale.orderId,
      matchedBy: result.matchedBy,
      campaignId: result.campaignId,
      affiliateId: result.affiliateId,
      status: result.status,
    };
    const tail = notes.length ? `; ${notes.join('; ')}` : '';
    if (result.saleId === null)
      return { outcome: 'ignored', message: `not recorded: ${result.declineReason ?? 'dropped'}${tail}`, body: answer };
    if (result.duplicate)
      return {
        outcome: 'duplicate',
        message: `order ${sale.orderId} was already recorded as sale ${result.saleId}${tail}`,
        saleId: result.saleId,
        body: answer,
      };
    const who = result.affiliateId === null ? 'no affiliate' : `affiliate ${result.affiliateId}`;
    return {
      outcome: 'sale',
      message: `sale ${result.saleId} of ${unitsToFixed(sale.totalCost, 2)} ${sale.currency} (${result.matchedBy}, ${who})${tail}`,
      saleId: result.saleId,
      body: answer,
    };
  }

  /** The sale of the first order id that has one; several campaigns recording the order is a conflict. */
  private async saleOf(orderIds: string[]): Promise<RefundableSale | null> {
    for (const orderId of orderIds) {
      const sales = await salesWithOrderId(this.db, orderId, undefined);
      if (sales.length > 1) {
        const campaigns = [...new Set(sales.map((s) => s.campaignId))].join(', ');
        throw conflict(
          `Order ${JSON.stringify(orderId)} was recorded in campaigns ${campaigns}: refund it from the admin, on the sale's page`,
        );
      }
      if (sales[0]) return sales[0];
    }
    return null;
  }

  private unknownOrder(orderIds: string[]): Outcome {
    return {
      outcome: 'unknown_order',
      message: `no sale is recorded for order ${orderIds.join(' or ')}: nothing changed`,
      body: { orderId: orderIds[0] ?? null },
    };
  }

  private async refund(intent: Extract<Intent, { kind: 'refund' }>, actor: Actor): Promise<Outcome> {
    const sale = await this.saleOf(intent.orderIds);
    if (!sale) return this.unknownOrder(intent.orderIds);
    const about = { saleId: sale.id, orderId: sale.orderId };
    const nothing = (why: string): Outcome => ({ outcome: 'ignored', message: why, saleId: sale.id, body: about });
    if (sale.status === 'declined') return nothing(`sale ${sale.id} is declined: there is nothing to reverse`);
    if (intent.currency && intent.currency !== sale.currency)
      throw fieldError(
        'currency',
        `the ${intent.type} is in ${intent.currency} but sale ${sale.id} is in ${sale.currency}`,
      );
    const money = (u: Units) => `${unitsToFixed(u, 2)} ${sale.currency}`;
    const left = sale.totalCost === null ? null : subtract(sale.totalCost, sale.refunded);
    if (left !== null && left <= 0)
      return nothing(`sale ${sale.id} is already refunded in full (${money(sale.refunded)})`);
    let input: RefundInput;
    const a = intent.amount;
    if (a.kind === 'upTo' && sale.totalCost !== null) {
      if (sale.refunded >= a.units) return nothing(`sale ${sale.id} is already refunded up to ${money(sale.refunded)}`);
      input = { amount: null, type: intent.type, refundedTotal: a.units };
    } else if (a.kind === 'exact' && left !== null) {
      // A platform refund may include what the sale's total left out: at most what is left.
      input = { amount: minUnits(a.units, left), type: intent.type };
    } else {
      input = { amount: null, type: intent.type };
    }
    const result = await this.refunds.refundSale(sale.id, input, actor);
    return {
      outcome: intent.type,
      message: `${intent.type} of ${result.amount} ${result.currency} on sale ${sale.id}${result.full ? ' (the whole order)' : ''}`,
      saleId: sale.id,
      refundId: result.refundId,
      body: {
        ...about,
        refundId: result.refundId,
        amount: result.amount,
        currency: result.currency,
        full: result.full,
      },
    };
  }

  /** A cancelled order: its pending commissions are declined; approved or paid ones stay (a refund reverses those). */
  private async decline(intent: Extract<Intent, { kind: 'decline' }>, actor: Actor): Promise<Outcome> {
    const sale = await this.saleOf(intent.orderIds);
    if (!sale) return this.unknownOrder(intent.orderIds);
    const originals = (await commissionsOfSale(this.db, sale.id)).filter((c) => c.parentId === null);
    const pending = originals.filter((c) => c.status === 'pending').map((c) => c.id);
    const others = originals.filter((c) => c.status !== 'pending' && c.status !== 'declined');
    const about = { saleId: sale.id, orderId: sale.orderId };
    const kept = others.length
      ? `; ${others.map((c) => `commission ${c.id} is ${c.status}`).join(', ')}: refund the order to reverse ${others.length > 1 ? 'them' : 'it'}`
      : '';
    if (!pending.length)
      return { outcome: 'ignored', message: `no pending commission to decline${kept}`, saleId: sale.id, body: about };
    const result = await this.lifecycle.bulk(pending, 'decline', intent.reason, actor);
    return {
      outcome: 'declined',
      message: `${result.updated.length} commission${result.updated.length === 1 ? '' : 's'} declined${kept}`,
      saleId: sale.id,
      body: { ...about, declined: result.updated },
    };
  }

  /** Forgets old deliveries, at most once an hour per process. */
  private async prune(now: number): Promise<void> {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    await pruneDeliveries(this.db, now - KEEP_MS);
  }
}

function mapEvent(d: WebhookDelivery, payload: unknown): PlatformEvent {
  switch (d.platform) {
    case 'stripe':
      return stripeEvent(payload);
    case 'shopify':
      return shopifyEvent({
        topic: d.header('X-Shopify-Topic'),
        webhookId: d.header('X-Shopify-Webhook-Id'),
        payload,
      });
    case 'woocommerce':
      return wooCommerceEvent({
        topic: d.header('X-WC-Webhook-Topic'),
        deliveryId: d.header('X-WC-Webhook-Delivery-ID'),
        payload,
      });
  }
}

/** Keys of any length compare exactly on both databases as a hash (SPEC §10a). */
const dedupeHash = (platform: Platform, key: string) =>
  createHash('sha256').update(`${platform}\0${key}`).digest('hex');

const emptyRow = (): Omit<DeliveryRow, 'received_at' | 'platform'> => ({
  event_type: null,
  event_id: null,
  order_id: null,
  dedupe_key: null,
  outcome: 'processing',
  status: null,
  sale_id: null,
  refund_id: null,
  message: null,
  answer: null,
  duplicate_of: null,
});
