import type Router from '@koa/router';
import { listFormat, sendCsv } from '../csv-response.js';
import { revertBody } from '../../schemas/commission-revert.js';
import { z } from 'zod';
import type { AppContext, AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { jsonBody } from '../tracking.js';
import { answerOnce, authenticateServer } from './server-calls.js';
import { pickOrderSale } from '../../services/refunds.js';
import { nothing, optionalId, parseBody, parseList, parseQuery, refuseInput } from './crud.js';
import { forbidden } from '../../errors.js';
import { amount, id as idSchema, isoTimeParam, parse } from '../../validation.js';
import type { Actor } from '../../services/actor.js';
import { COMMISSION_STATUSES, commissionFor } from '../../services/commission-lifecycle.js';
import { commissionJson, commissionPageJson } from '../presenters/commissions.js';
import { refundResultJson } from '../presenters/refunds.js';
import { payoutBatchDetailJson, payoutBatchPageJson, payoutPreviewJson } from '../presenters/payout-batches.js';
import { KEY_LENGTH, TEXT_LENGTH } from '../../domain/limits.js';

const MERCHANT = ['owner', 'manager'] as const;
const KINDS = ['sale', 'action', 'click', 'impression', 'refund', 'chargeback'] as const;
const MAX_BULK = 1000;

const commissionFilters = z.strictObject({
  format: listFormat,
  status: z.enum(COMMISSION_STATUSES).optional(),
  kind: z.enum(KINDS).optional(),
  campaignId: optionalId,
  affiliateId: optionalId,
  saleId: optionalId,
  batchId: optionalId,
  from: isoTimeParam(false),
  to: isoTimeParam(true),
});

const reason = z
  .string({ error: 'must be text' })
  .trim()
  .max(TEXT_LENGTH, `at most ${TEXT_LENGTH} characters`)
  .nullish()
  .transform((v) => (v ? v : null));

const reviewBody = z.strictObject({ reason });
const bulkBody = z.strictObject({
  ids: z
    .array(idSchema, { error: 'must be a list of commission ids' })
    .min(1, 'must name at least one commission')
    .max(MAX_BULK, `at most ${MAX_BULK} ids`),
  action: z.enum(['approve', 'decline'], { error: 'must be "approve" or "decline"' }),
  reason,
});

/** A refund amount: a JSON number in the sale's currency, more than 0 and within the limit (SPEC §10a). */
const refundAmount = z
  .number({ error: 'must be a number (the amount in the sale currency), or left out for a full refund' })
  .nullish()
  .transform((v, ctx) => {
    if (v === null || v === undefined) return null;
    const units = amount.safeParse(v);
    if (!units.success) {
      ctx.addIssue({ code: 'custom', message: units.error.issues[0]?.message ?? 'must be a decimal number' });
      return z.NEVER;
    }
    if (units.data === 0) ctx.addIssue({ code: 'custom', message: 'must be greater than 0' });
    return units.data;
  });
const refundBody = z.strictObject({
  amount: refundAmount,
  type: z.enum(['refund', 'chargeback'], { error: 'must be "refund" or "chargeback"' }),
  /** The store's own id of this refund: a replay under it answers the first answer (SPEC §10a). */
  refundId: z
    .string({ error: 'must be text' })
    .trim()
    .min(1, 'must not be empty')
    .max(KEY_LENGTH, `at most ${KEY_LENGTH} characters`)
    .optional(),
});
const refundParams = z.object({
  orderId: z.string().min(1, 'is required').max(KEY_LENGTH, `at most ${KEY_LENGTH} characters`),
});
const refundQuery = z.strictObject({ campaignId: optionalId });

const batchBody = z.strictObject({
  minimum: amount.optional(),
  note: z.string({ error: 'must be text' }).trim().max(TEXT_LENGTH, `at most ${TEXT_LENGTH} characters`).nullish(),
});
const minimumQuery = z.strictObject({ minimum: amount.optional() });
const batchExportQuery = z.strictObject({ format: z.enum(['csv', 'paypal']).default('csv') });
const batchReadQuery = z.strictObject({ format: z.enum(['json', 'csv', 'paypal']).optional() });
const batchFilters = z.strictObject({ status: z.enum(['open', 'paid']).optional() });

const actorOf = (ctx: AppContext) => ctx.state.user as Actor;

/** Who made a refund: the signed-in merchant, or the store's server by signature. */
const refundActor = (ctx: AppContext): Actor =>
  ctx.state.user ?? { userId: null, label: 'store server (X-Affix-Signature)', role: 'system', affiliateId: null };

/** Commissions (SPEC §6.3), refunds and chargebacks (§6.4) and payout batches (§6.6). */
export function commissionApiRoutes(router: Router<AppState, AppCustom>): void {
  commissionRoutes(router);
  refundRoutes(router);
  payoutBatchRoutes(router);
}

/** Listing, reading and reviewing commissions (SPEC §6.3). */
function commissionRoutes(router: Router<AppState, AppCustom>): void {
  router.get('/commissions', requireRole(...MERCHANT, 'affiliate'), async (ctx) => {
    const actor = actorOf(ctx);
    const { page, filters: all } = parseList(ctx, commissionFilters);
    const { format, ...filters } = all;
    if (format === 'csv') {
      // The export carries the merchant's cut: staff only.
      if (actor.role === 'affiliate') throw forbidden('The commissions export is for the merchant');
      return sendCsv(ctx, 'commissions', ctx.services.commissionQueue.csv(filters));
    }
    const result = await ctx.services.commissionLifecycle.list(filters, page, actor);
    const json = commissionPageJson(result);
    ctx.body = { ...json, data: json.data.map((c) => commissionFor(actor, c)) };
  });
  router.get('/commissions/:id', requireRole(...MERCHANT, 'affiliate'), async (ctx) => {
    const { id } = parse(z.object({ id: idSchema }), ctx.params);
    parseQuery(ctx, nothing);
    const actor = actorOf(ctx);
    ctx.body = commissionFor(actor, commissionJson(await ctx.services.commissionLifecycle.get(id, actor)));
  });
  router.post('/commissions/bulk', requireRole(...MERCHANT), async (ctx) => {
    const body = parseBody(ctx, bulkBody);
    ctx.body = await ctx.services.commissionLifecycle.bulk(body.ids, body.action, body.reason, actorOf(ctx));
  });
  for (const action of ['approve', 'decline'] as const) {
    router.post(`/commissions/:id/${action}`, requireRole(...MERCHANT), async (ctx) => {
      const { id } = parse(z.object({ id: idSchema }), ctx.params);
      const body = parseBody(ctx, reviewBody);
      ctx.body = commissionJson(await ctx.services.commissionLifecycle.review(id, action, body.reason, actorOf(ctx)));
    });
  }

  // An approved commission found wrong after approval: declined, with the reason (SPEC §13).
  router.post('/commissions/:id/revert', requireRole(...MERCHANT), async (ctx) => {
    const { id } = parse(z.object({ id: idSchema }), ctx.params);
    const body = parseBody(ctx, revertBody);
    ctx.body = commissionJson(await ctx.services.commissionLifecycle.revert(id, body.reason, actorOf(ctx)));
  });
}

/** A refund or chargeback of an order's sale, by the merchant or the store's server (SPEC §6.4). */
function refundRoutes(router: Router<AppState, AppCustom>): void {
  router.post('/sales/:orderId/refund', async (ctx) => {
    if (ctx.state.user?.role === 'affiliate') throw forbidden('Affiliates cannot refund sales');
    const { orderId } = parse(refundParams, ctx.params);
    const { campaignId } = parseQuery(ctx, refundQuery);
    const refunds = ctx.services.refunds;
    let sales: Awaited<ReturnType<typeof refunds.salesOfOrder>> | undefined;
    const salesOfOrder = async () => (sales ??= await refunds.salesOfOrder(orderId, campaignId));
    // A signature must be made with the key of the sale's campaign; an unknown order has none.
    const caller = await authenticateServer(ctx, async () => {
      const found = await salesOfOrder();
      if (!found.length) pickOrderSale(orderId, campaignId, found);
      return found.map((s) => s.campaignId);
    });
    const body = parseBody(ctx, refundBody, jsonBody(ctx));
    // A signature speaks for its own campaign: the sale is the order's sale there.
    const candidates = (await salesOfOrder()).filter(
      (s) => caller.kind !== 'signature' || s.campaignId === caller.campaignId,
    );
    const sale = pickOrderSale(orderId, caller.kind === 'signature' ? caller.campaignId : campaignId, candidates);
    await answerOnce(ctx, caller, body.refundId ? { saleId: sale.id, refundId: body.refundId } : null, async () => ({
      status: 200,
      body: refundResultJson(
        await refunds.refundSale(sale.id, { amount: body.amount, type: body.type }, refundActor(ctx)),
      ),
    }));
  });
}

/** Payout batches: preview, create, export, mark paid, remove (SPEC §6.6). */
function payoutBatchRoutes(router: Router<AppState, AppCustom>): void {
  router.get('/payout-batches/preview', requireRole(...MERCHANT), async (ctx) => {
    const { minimum } = parseQuery(ctx, minimumQuery);
    ctx.body = payoutPreviewJson(await ctx.services.payoutBatches.preview(minimum));
  });
  router.get('/payout-batches', requireRole(...MERCHANT), async (ctx) => {
    const { page, filters } = parseList(ctx, batchFilters);
    ctx.body = payoutBatchPageJson(await ctx.services.payoutBatches.list(filters, page));
  });
  router.post('/payout-batches', requireRole(...MERCHANT), async (ctx) => {
    const body = parseBody(ctx, batchBody);
    ctx.status = 201;
    ctx.body = payoutBatchDetailJson(
      await ctx.services.payoutBatches.create({ minimum: body.minimum, note: body.note ?? null }, actorOf(ctx)),
    );
  });
  router.get('/payout-batches/:id', requireRole(...MERCHANT), async (ctx) => {
    const { id } = parse(z.object({ id: idSchema }), ctx.params);
    const { format } = parseQuery(ctx, batchReadQuery);
    if (format === 'csv' || format === 'paypal') {
      const paypal = format === 'paypal';
      ctx.type = 'text/csv; charset=utf-8';
      ctx.attachment(`payout-batch-${id}${paypal ? '-paypal' : ''}.csv`);
      ctx.body = paypal ? await ctx.services.payoutBatches.paypalCsv(id) : await ctx.services.payoutBatches.csv(id);
      return;
    }
    ctx.body = payoutBatchDetailJson(await ctx.services.payoutBatches.get(id));
  });
  // `format=paypal`: the PayPal Payouts bulk file of the batch's PayPal affiliates (SPEC §13).
  router.get('/payout-batches/:id/csv', requireRole(...MERCHANT), async (ctx) => {
    const { id } = parse(z.object({ id: idSchema }), ctx.params);
    const { format } = parseQuery(ctx, batchExportQuery);
    const paypal = format === 'paypal';
    const csv = paypal ? await ctx.services.payoutBatches.paypalCsv(id) : await ctx.services.payoutBatches.csv(id);
    ctx.type = 'text/csv; charset=utf-8';
    ctx.attachment(`payout-batch-${id}${paypal ? '-paypal' : ''}.csv`);
    ctx.body = csv;
  });
  router.post('/payout-batches/:id/mark-paid', requireRole(...MERCHANT), async (ctx) => {
    const { id } = parse(z.object({ id: idSchema }), ctx.params);
    parseBody(ctx, nothing);
    ctx.body = payoutBatchDetailJson(await ctx.services.payoutBatches.markPaid(id, actorOf(ctx)));
  });
  router.delete('/payout-batches/:id', requireRole(...MERCHANT), async (ctx) => {
    const { id } = parse(z.object({ id: idSchema }), ctx.params);
    refuseInput(ctx);
    await ctx.services.payoutBatches.remove(id, actorOf(ctx));
    ctx.status = 204;
  });
}
