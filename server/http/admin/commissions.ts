import { plural, agree } from '../../messages.js';
import type Router from '@koa/router';
import { csvLink } from './csv-link.js';
import { sendCsv } from '../csv-response.js';
import { decimalText } from '../../domain/money.js';
import { z } from 'zod';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render, flash, form, handleForm } from './render.js';
import { revertBody } from '../../schemas/commission-revert.js';
import { confirmFirst } from './confirm.js';
import {
  allAffiliates,
  bodyOf,
  idParam,
  pageLinks,
  pageOf,
  queryEnum,
  safeBack,
  valueAt,
  valuesAt,
} from './form-values.js';
import { AppError, notFound } from '../../errors.js';
import { amount as amountSchema, id as idSchema, parse } from '../../validation.js';
import { add, formatMoney, negate, toUnits, unitsToFixed, ZERO, type Units } from '../../domain/money.js';
import { commissionJson } from '../presenters/commissions.js';
import type { Actor } from '../../services/actor.js';
import { COMMISSION_STATUSES, type ReviewAction } from '../../services/commission-lifecycle.js';
import type { Commission } from '../../store/commissions.js';
import type { PayoutItem } from '../../services/payout-batches.js';
import type { PayoutDetails } from '../../schemas/affiliate-profile.js';
import { friendlyFormatIBAN } from 'ibantools';
import { TEXT_LENGTH, cut } from '../../domain/limits.js';
import { refundView } from '../presenters/refunds.js';

const KINDS = ['sale', 'action', 'click', 'impression', 'refund', 'chargeback'] as const;
const MAX_BULK = 1000;

const actor = (ctx: AppContext) => ctx.state.user as Actor;
const refundForm = z.object({
  amount: amountSchema.nullable(),
  type: z.enum(['refund', 'chargeback'], { error: 'must be "refund" or "chargeback"' }),
});
const refundInput = (body: Record<string, unknown>) => {
  const text = form.text(valueAt(body, 'amount'));
  return { amount: text ? text : null, type: form.text(valueAt(body, 'type')) };
};
const numberFilter = (raw: unknown) => (typeof raw === 'string' && /^\d{1,10}$/.test(raw) ? Number(raw) : undefined);
const dayFilter = (raw: unknown) =>
  typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(raw) && !Number.isNaN(Date.parse(raw)) ? raw : undefined;
const money = (units: Units, currency: string) => formatMoney(units, currency);
/** The commissions queue's filters, from its query string or a form repeating them. */
function queueFilters(src: Record<string, unknown>) {
  const one = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  return {
    status: queryEnum(COMMISSION_STATUSES, one(src.status)),
    kind: queryEnum(KINDS, one(src.kind)),
    campaignId: numberFilter(one(src.campaignId)),
    affiliateId: numberFilter(one(src.affiliateId)),
    batchId: numberFilter(one(src.batchId)),
    from: dayFilter(one(src.from)),
    to: dayFilter(one(src.to)),
  };
}
const storeFiltersOf = (f: ReturnType<typeof queueFilters>) => ({
  ...f,
  from: f.from ? Date.parse(f.from) : undefined,
  to: f.to ? Date.parse(f.to) + 86_400_000 : undefined,
});
const reasonOf = (ctx: AppContext) => {
  const text = form.text(valueAt(bodyOf(ctx), 'reason'));
  return cut(text, TEXT_LENGTH);
};

/** What a commission was computed from, in a merchant's words: "10% of 108.00 USD". */
function basisText(c: Commission): string {
  if (c.kind === 'refund' || c.kind === 'chargeback') {
    const why = typeof c.detail.reason === 'string' ? c.detail.reason : c.statusReason;
    return why ?? c.kind;
  }
  if (!c.rate) {
    const lines = Array.isArray(c.detail.lines) ? c.detail.lines.length : 0;
    return lines > 1 ? `sum of ${lines} items` : '';
  }
  if (c.rate.unit === 'percent') {
    return `${decimalText(c.rate.value)}% of ${c.basis === null ? 'no amount' : money(c.basis, c.currency)}`;
  }
  const per = money(c.rate.value, c.currency);
  if (c.kind === 'impression') return `${per} per 1,000 × ${c.quantity.toLocaleString('en-US')} impressions`;
  if (c.kind === 'click') return `${per} × ${c.quantity} clicks`;
  return c.quantity > 1 ? `${per} × ${c.quantity}` : per;
}

async function namer(ctx: AppContext) {
  const snap = await ctx.services.cache.snapshot();
  return {
    snap,
    campaign: (id: number) => snap.campaigns.get(id)?.name ?? `#${id}`,
    affiliate: (id: number) => snap.affiliates.get(id)?.name ?? `#${id}`,
    payout: (campaignId: number, id: number | null) =>
      id === null ? null : (snap.payoutsOf(campaignId).find((p) => p.id === id)?.title ?? `#${id}`),
  };
}

async function commissionRows(ctx: AppContext, list: Commission[]) {
  const names = await namer(ctx);
  return list.map((c) => ({
    ...commissionJson(c),
    amountText: money(c.amount, c.currency),
    negative: c.amount < 0,
    basisText: basisText(c),
    payoutTitle: names.payout(c.campaignId, c.payoutId),
    campaignName: names.campaign(c.campaignId),
    affiliateName: names.affiliate(c.affiliateId),
    pending: c.status === 'pending',
    revertable: c.status === 'approved' && c.batchId === null,
  }));
}

/**
 * The sale page's commissions and refunds, and what is left to refund (for the refund form on
 * admin/sale.hbs). The sale page route in tracking.ts adds these to its data.
 */
export async function saleMoneyView(ctx: AppContext, saleId: number): Promise<Record<string, unknown>> {
  const { commissions, refunds, sale, refundable, remaining } = await ctx.services.saleRefunds.moneyOf(saleId);
  const refunded = sale?.refunded ?? 0;
  const currency = sale?.currency ?? '';
  return {
    saleCommissions: await commissionRows(ctx, commissions),
    saleRefunds: refunds.map((r) => refundView(r, currency)),
    refundedText: refunded ? formatMoney(refunded, currency) : null,
    refundable,
    remainingText: remaining === null ? null : formatMoney(remaining, currency),
    remainingValue: remaining === null ? '' : unitsToFixed(remaining, 2),
  };
}

/**
 * What a refund did to the sale's commissions, in words: "cut 1 commission by 2.00 USD, added
 * 1 negative line" for a partial refund, "reversed 2 commissions" when nothing was paid yet.
 */
export function refundSummary(commissions: Commission[]): string {
  const lines = commissions.filter((c) => c.parentId !== null && c.amount < 0);
  const reversed = commissions.filter((c) => c.status === 'reversed' && c.amount >= 0);
  const cut = new Set(lines.map((c) => c.parentId));
  const parts: string[] = [];
  if (reversed.length) parts.push(`reversed ${plural(reversed.length, 'commission')}`);
  if (lines.length) {
    const byCurrency = new Map<string, Units>();
    for (const c of lines) byCurrency.set(c.currency, add(byCurrency.get(c.currency) ?? ZERO, negate(c.amount)));
    const by = [...byCurrency].map(([currency, units]) => formatMoney(units, currency)).join(' + ');
    parts.push(`cut ${plural(cut.size, 'commission')} by ${by}`, `added ${plural(lines.length, 'negative line')}`);
  }
  return parts.length ? parts.join(', ') : 'no commission changed';
}

function bulkMessage(action: ReviewAction, updated: number[], skipped: Array<{ id: number; reason: string }>): string {
  const done = action === 'approve' ? 'Approved' : 'Declined';
  const parts = [`${done} ${plural(updated.length, 'commission')}.`];
  if (skipped.length) {
    const shown = skipped.slice(0, 5).map((s) => `#${s.id} ${s.reason}`);
    parts.push(
      `Skipped ${plural(skipped.length, 'commission')}: ${shown.join('; ')}${skipped.length > 5 ? '; …' : ''}.`,
    );
  }
  return parts.join(' ');
}

const PAYOUT_METHOD_LABELS = { paypal: 'PayPal', bank: 'Bank transfer', other: 'Other' } as const;

/** The details an affiliate gave, on one line for the batch table. */
const payoutDetailsText = (d: PayoutDetails | null) =>
  d
    ? [d.paypalEmail, d.accountName, d.iban && friendlyFormatIBAN(d.iban), d.bic, d.text].filter(Boolean).join(' · ')
    : '';

const itemRow = (i: PayoutItem, currency: string) => ({ ...i, amountText: money(i.amount, currency) });

/** The commissions queue, refunds from the sale page, and payout batches (SPEC §6.3, §6.4, §6.6, §9). */
export function commissionPages(router: Router<AppState, AppCustom>, views: Views): void {
  registerCommissionQueue(router, views);
  registerBulkMatching(router, views);
  registerBulkSelected(router, views);
  registerCommissionReview(router, views);
  registerSaleRefund(router, views);
  registerPayoutBatchList(router, views);
  registerPayoutBatchView(router, views);
  registerPayoutBatchActions(router, views);
}

/** GET /admin/commissions: the queue with its filters, totals by status and the CSV export. */
function registerCommissionQueue(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/commissions', async (ctx) => {
    const names = await namer(ctx);
    const filters = queueFilters(ctx.query);
    const storeFilters = storeFiltersOf(filters);
    if (ctx.query.format === 'csv') return sendCsv(ctx, 'commissions', ctx.services.commissionQueue.csv(storeFilters));
    const result = await ctx.services.commissionLifecycle.list(storeFilters, pageOf(ctx, 50), actor(ctx));
    const linkFilters = Object.fromEntries(
      Object.entries(filters).map(([k, v]) => [k, v === undefined ? undefined : String(v)]),
    );
    const currency = names.snap.settings.baseCurrency;
    const statusLink = (status: string | undefined) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...linkFilters, status })) if (v) params.set(k, v);
      const qs = params.toString();
      return qs ? `/admin/commissions?${qs}` : '/admin/commissions';
    };
    const rows = await commissionRows(ctx, result.data);
    render(ctx, views, 'admin/commissions', {
      csvUrl: csvLink(ctx),
      title: 'Commissions',
      nav: 'commissions',
      filters,
      filtered: Object.values(filters).some((v) => v !== undefined),
      statuses: COMMISSION_STATUSES,
      kinds: KINDS,
      campaigns: [...names.snap.campaigns.values()].sort((a, b) => a.name.localeCompare(b.name)),
      affiliates: await allAffiliates(ctx),
      totals: COMMISSION_STATUSES.map((s) => ({
        status: s,
        count: result.totals[s].count,
        amountText: money(result.totals[s].amount, currency),
        url: statusLink(s),
        current: filters.status === s,
      })),
      allUrl: statusLink(undefined),
      commissions: rows,
      anyPending: rows.some((r) => r.pending),
      matchingPending: result.totals.pending.count,
      matchingFields: Object.entries(filters)
        .filter(([, v]) => v !== undefined)
        .map(([name, value]) => ({ name, value: String(value) })),
      back: ctx.originalUrl,
      backEncoded: encodeURIComponent(ctx.originalUrl),
      pagination: result.pagination,
      ...pageLinks('/admin/commissions', linkFilters, result.pagination),
    });
  });
}

/** Approve or decline every pending commission the queue's filters match. */
function registerBulkMatching(router: Router<AppState, AppCustom>, views: Views): void {
  // "Select all matching": every pending commission the queue's filters match, after a
  // confirmation stating how many (the page shows one page of them; this acts on all).
  const matchingIds = async (ctx: AppContext) => {
    const filters = queueFilters(bodyOf(ctx) as Record<string, unknown>);
    if (filters.status && filters.status !== 'pending') return [];
    return ctx.services.commissionQueue.pendingIds(storeFiltersOf({ ...filters, status: 'pending' }));
  };
  router.post(
    '/admin/commissions/bulk-matching',
    confirmFirst(views, async (ctx) => {
      const body = bodyOf(ctx);
      const action = queryEnum(['approve', 'decline'] as const, form.text(valueAt(body, 'action')));
      if (!action) return null;
      const n = (await matchingIds(ctx)).length;
      if (!n) return null;
      const verb = action === 'approve' ? 'Approve' : 'Decline';
      return {
        question: `${verb} all ${plural(n, 'pending commission', 'pending commissions')} matching these filters?`,
        consequences: [
          `${plural(n, 'commission', 'commissions')} — every pending one the filters match, not only this page — ${n === 1 ? 'is' : 'are'} ${action === 'approve' ? 'approved and can be paid in the next payout batch' : 'declined and will not be paid'}.`,
          action === 'approve'
            ? 'An approved commission can later be reverted to declined, one by one, with a reason.'
            : 'A declined commission cannot be approved again.',
        ],
        action: `${verb} ${plural(n, 'commission', 'commissions')}`,
        back: safeBack(valueAt(body, 'back'), '/admin/commissions'),
        nav: 'commissions',
      };
    }),
  );
  router.post('/admin/commissions/bulk-matching', async (ctx) => {
    const body = bodyOf(ctx);
    const back = safeBack(valueAt(body, 'back'), '/admin/commissions');
    const action = queryEnum(['approve', 'decline'] as const, form.text(valueAt(body, 'action')));
    if (!action) {
      flash(ctx, 'error', 'Choose Approve or Decline.');
      return ctx.redirect(back);
    }
    const ids = await matchingIds(ctx);
    const updated: number[] = [];
    const skipped: Array<{ id: number; reason: string }> = [];
    for (let i = 0; i < ids.length; i += MAX_BULK) {
      const r = await ctx.services.commissionLifecycle.bulk(
        ids.slice(i, i + MAX_BULK),
        action,
        reasonOf(ctx),
        actor(ctx),
      );
      updated.push(...r.updated);
      skipped.push(...r.skipped);
    }
    if (!ids.length) flash(ctx, 'error', 'No pending commission matches these filters.');
    else flash(ctx, updated.length ? 'success' : 'error', bulkMessage(action, updated, skipped));
    ctx.redirect(back);
  });
}

/** Approve or decline the ticked commissions of one page. */
function registerBulkSelected(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/commissions/bulk',
    confirmFirst(views, async (ctx) => {
      const body = bodyOf(ctx);
      const ids = valuesAt(body, 'ids');
      // Approving needs no confirmation; nothing ticked is answered by the action itself.
      if (form.text(valueAt(body, 'action')) !== 'decline' || !ids.length || ids.length > MAX_BULK) return null;
      return {
        question: `Decline ${plural(ids.length, 'commission')}?`,
        consequences: [
          `The ${plural(ids.length, 'ticked pending commission is', 'ticked pending commissions are')} declined and will not be paid; the affiliates see the reason you gave.`,
          'A declined commission cannot be approved again.',
        ],
        action: `Decline ${plural(ids.length, 'commission')}`,
        back: safeBack(valueAt(body, 'back'), '/admin/commissions'),
        nav: 'commissions',
      };
    }),
  );
  router.post('/admin/commissions/bulk', async (ctx) => {
    const body = bodyOf(ctx);
    const back = safeBack(valueAt(body, 'back'), '/admin/commissions');
    const action = queryEnum(['approve', 'decline'] as const, form.text(valueAt(body, 'action')));
    const raw = valuesAt(body, 'ids');
    if (!action) {
      flash(ctx, 'error', 'Choose Approve or Decline.');
      return ctx.redirect(back);
    }
    if (!raw.length) {
      flash(ctx, 'error', 'Tick at least one commission first.');
      return ctx.redirect(back);
    }
    const ids = z.array(idSchema).max(MAX_BULK).safeParse(raw);
    if (!ids.success) {
      flash(ctx, 'error', `Select at most ${MAX_BULK} commissions, by their checkboxes.`);
      return ctx.redirect(back);
    }
    const result = await ctx.services.commissionLifecycle.bulk(ids.data, action, reasonOf(ctx), actor(ctx));
    flash(ctx, result.updated.length ? 'success' : 'error', bulkMessage(action, result.updated, result.skipped));
    ctx.redirect(back);
  });
}

/** One commission: approve, decline, or revert an approved one to declined (SPEC §6.3). */
function registerCommissionReview(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/commissions/:id/decline',
    confirmFirst(views, async (ctx) => {
      const c = await ctx.services.commissionLifecycle.get(idParam(ctx), actor(ctx));
      const snap = await ctx.services.cache.snapshot();
      const who = snap.affiliates.get(c.affiliateId)?.name ?? `affiliate #${c.affiliateId}`;
      return {
        question: `Decline commission #${c.id}?`,
        consequences: [
          `${money(c.amount, c.currency)} for ${who} is declined and will not be paid.`,
          'A declined commission cannot be approved again.',
        ],
        action: 'Decline the commission',
        back: safeBack(valueAt(bodyOf(ctx), 'back'), '/admin/commissions'),
        nav: 'commissions',
      };
    }),
  );
  for (const action of ['approve', 'decline'] as const) {
    router.post(`/admin/commissions/:id/${action}`, async (ctx) => {
      const id = idParam(ctx);
      const back = safeBack(valueAt(bodyOf(ctx), 'back'), '/admin/commissions');
      try {
        const c = await ctx.services.commissionLifecycle.review(id, action, reasonOf(ctx), actor(ctx));
        flash(ctx, 'success', `Commission #${c.id} ${c.status}.`);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        flash(ctx, 'error', err.message);
      }
      ctx.redirect(back);
    });
  }

  // Reverting an approved commission: a page that asks for the reason and says what happens.
  const revertPage = async (ctx: AppContext, id: number, data: Record<string, unknown> = {}) => {
    const c = await ctx.services.commissionLifecycle.get(id, actor(ctx));
    const currency = ctx.services.settings.get().baseCurrency;
    render(ctx, views, 'admin/commission-revert', {
      title: `Revert commission #${c.id} to declined?`,
      nav: 'commissions',
      commission: { ...commissionJson(c), amountText: money(c.amount, c.currency || currency) },
      revertable: c.status === 'approved' && c.batchId === null,
      back: safeBack(valueAt(bodyOf(ctx), 'back') ?? (ctx.query.back as string | undefined), '/admin/commissions'),
      values: {},
      ...data,
    });
  };
  router.get('/admin/commissions/:id/revert', async (ctx) => revertPage(ctx, idParam(ctx)));
  router.post('/admin/commissions/:id/revert', async (ctx) => {
    const id = idParam(ctx);
    const body = bodyOf(ctx);
    const reason = form.text(valueAt(body, 'reason')) ?? '';
    await handleForm(
      ctx,
      async () => {
        const input = parse(revertBody, { reason });
        const c = await ctx.services.commissionLifecycle.revert(id, input.reason, actor(ctx));
        flash(ctx, 'success', `Commission #${c.id} reverted to declined: ${input.reason}`);
        ctx.redirect(safeBack(valueAt(body, 'back'), '/admin/commissions'));
      },
      (errors) => revertPage(ctx, id, { errors, values: { reason } }),
    );
  });
}

/** A refund or chargeback from the sale page (SPEC §6.4). */
function registerSaleRefund(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/sales/:id/refund',
    confirmFirst(views, async (ctx) => {
      const input = refundForm.safeParse(refundInput(bodyOf(ctx)));
      const found = await ctx.services.saleRefunds.toConfirm(idParam(ctx), input.success ? input.data.amount : null);
      // What the refund would refuse (a bad amount, more than is left, a declined sale or an
      // action) is answered by the action itself, without asking first.
      if (!input.success || !found) return null;
      const { sale, remaining: left } = found;
      const amount =
        input.data.amount !== null
          ? formatMoney(input.data.amount, sale.currency)
          : left === null
            ? 'the whole sale'
            : formatMoney(left, sale.currency);
      const chargeback = input.data.type === 'chargeback';
      return {
        question: `${chargeback ? 'Record a chargeback of' : 'Refund'} ${amount} of sale ${sale.orderId ? `order ${sale.orderId}` : `#${sale.id}`}?`,
        consequences: [
          'Its commissions are reduced by the refunded share (or reversed when nothing is left); paid ones get a negative commission that the next payout batch nets.',
          `This records ${chargeback ? 'a chargeback' : 'a refund'} and cannot be undone.`,
        ],
        action: chargeback ? 'Record the chargeback' : 'Refund',
        back: `/admin/sales/${sale.id}`,
        nav: 'sales',
      };
    }),
  );
  router.post('/admin/sales/:id/refund', async (ctx) => {
    const id = idParam(ctx);
    const body = bodyOf(ctx);
    const back = `/admin/sales/${id}`;
    try {
      const input = parse(refundForm, refundInput(body));
      const result = await ctx.services.refunds.refundSale(id, input, actor(ctx));
      const what = result.type === 'chargeback' ? 'Chargeback' : 'Refund';
      flash(
        ctx,
        'success',
        `${what} of ${formatMoney(toUnits(result.amount), result.currency)} recorded: ${refundSummary(result.commissions)}.`,
      );
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      if (err.status === 404) throw notFound('sale');
      flash(ctx, 'error', `Not recorded: ${err.message}`);
    }
    ctx.redirect(back);
  });
}

/** Payout batches: the preview, the list and a new batch (SPEC §6.6). */
function registerPayoutBatchList(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/payout-batches', async (ctx) => {
    const settings = ctx.services.settings.get();
    const rawMinimum = typeof ctx.query.minimum === 'string' ? ctx.query.minimum.trim() : '';
    const parsed = rawMinimum ? amountSchema.safeParse(rawMinimum) : null;
    const minimum = parsed?.success ? parsed.data : undefined;
    const preview = await ctx.services.payoutBatches.preview(minimum);
    const batches = await ctx.services.payoutBatches.list({}, pageOf(ctx, 25));
    render(ctx, views, 'admin/payout-batches', {
      title: 'Payout batches',
      nav: 'payouts',
      minimumValue: decimalText(preview.minimum),
      minimumError: parsed && !parsed.success ? 'must be a non-negative amount, such as 50' : null,
      settingMinimum: formatMoney(toUnits(settings.payoutMinimum ?? 0), preview.currency),
      preview: {
        ...preview,
        totalText: money(preview.total, preview.currency),
        data: preview.data.map((i) => itemRow(i, preview.currency)),
        carriedOver: preview.carriedOver.map((i) => ({ ...itemRow(i, preview.currency), reason: i.reason })),
      },
      batches: batches.data.map((b) => ({
        ...b,
        totalText: money(b.total, b.currency),
        minimumText: money(b.minimum, b.currency),
      })),
      pagination: batches.pagination,
      ...pageLinks('/admin/payout-batches', {}, batches.pagination),
    });
  });

  router.post('/admin/payout-batches', async (ctx) => {
    const body = bodyOf(ctx);
    try {
      const minimumText = form.text(valueAt(body, 'minimum'));
      const input = parse(
        z.object({
          minimum: amountSchema.optional(),
          note: z.string().trim().max(TEXT_LENGTH, `at most ${TEXT_LENGTH} characters`).optional(),
        }),
        { minimum: minimumText ? minimumText : undefined, note: form.text(valueAt(body, 'note')) || undefined },
      );
      const batch = await ctx.services.payoutBatches.create(
        { minimum: input.minimum, note: input.note ?? null },
        actor(ctx),
      );
      flash(
        ctx,
        'success',
        `Payout batch #${batch.id} created: ${plural(batch.affiliates, 'affiliate')}, ${money(batch.total, batch.currency)}.`,
      );
      ctx.redirect(`/admin/payout-batches/${batch.id}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      flash(ctx, 'error', err.message);
      ctx.redirect('/admin/payout-batches');
    }
  });
}

/** One payout batch and its CSV files (plain and PayPal Payouts). */
function registerPayoutBatchView(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/payout-batches/:id', async (ctx) => {
    const id = idParam(ctx);
    const batch = await ctx.services.payoutBatches.get(id).catch((err: unknown) => {
      if (err instanceof AppError && err.status === 404) throw notFound('page');
      throw err;
    });
    render(ctx, views, 'admin/payout-batch', {
      title: `Payout batch #${batch.id}`,
      nav: 'payouts',
      batch: {
        ...batch,
        totalText: money(batch.total, batch.currency),
        minimumText: money(batch.minimum, batch.currency),
      },
      open: batch.status === 'open',
      items: batch.items.map((i) => ({
        ...itemRow(i, batch.currency),
        method: i.payoutMethod ? PAYOUT_METHOD_LABELS[i.payoutMethod] : null,
        details: payoutDetailsText(i.payoutDetails),
        missing: i.missingPayoutDetails.join(', '),
      })),
      paypalCount: batch.items.filter((i) => i.payoutMethod === 'paypal' && !i.missingPayoutDetails.length).length,
      missingCount: batch.items.filter((i) => i.missingPayoutDetails.length).length,
    });
  });

  router.get('/admin/payout-batches/:id/csv', async (ctx) => {
    const id = idParam(ctx);
    const paypal = ctx.query.format === 'paypal';
    const csv = paypal ? await ctx.services.payoutBatches.paypalCsv(id) : await ctx.services.payoutBatches.csv(id);
    if (paypal) {
      ctx.type = 'text/csv; charset=utf-8';
      ctx.attachment(`payout-batch-${id}-paypal.csv`);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = csv;
      return;
    }
    ctx.type = 'text/csv; charset=utf-8';
    ctx.attachment(`payout-batch-${id}.csv`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = csv;
  });
}

/** Marking a payout batch paid, or deleting it, each after a confirmation. */
function registerPayoutBatchActions(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/payout-batches/:id/mark-paid',
    confirmFirst(views, async (ctx) => {
      const batch = await ctx.services.payoutBatches.get(idParam(ctx));
      return {
        question: `Mark payout batch #${batch.id} paid?`,
        consequences: [
          `Its ${plural(batch.commissions, 'commission', 'commissions')} for ${plural(batch.affiliates, 'affiliate', 'affiliates')} (${money(batch.total, batch.currency)}) become paid, and the affiliates are told.`,
          'Do this once you have sent the money; it cannot be undone.',
        ],
        action: 'Mark the batch paid',
        back: `/admin/payout-batches/${batch.id}`,
        nav: 'payouts',
      };
    }),
  );
  router.post('/admin/payout-batches/:id/mark-paid', async (ctx) => {
    const id = idParam(ctx);
    try {
      const batch = await ctx.services.payoutBatches.markPaid(id, actor(ctx));
      flash(
        ctx,
        'success',
        `Payout batch #${batch.id} marked paid: ${plural(batch.commissions, 'commission')} ${agree(batch.commissions, 'is', 'are')} now paid.`,
      );
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      flash(ctx, 'error', err.message);
    }
    ctx.redirect(`/admin/payout-batches/${id}`);
  });

  router.post(
    '/admin/payout-batches/:id/delete',
    confirmFirst(views, async (ctx) => {
      const batch = await ctx.services.payoutBatches.get(idParam(ctx));
      return {
        question: `Delete payout batch #${batch.id}?`,
        consequences: [
          `Its ${plural(batch.commissions, 'commission', 'commissions')} (${money(batch.total, batch.currency)}) leave the batch and are offered again in the next one.`,
          'This cannot be undone.',
        ],
        action: 'Delete the batch',
        back: `/admin/payout-batches/${batch.id}`,
        nav: 'payouts',
      };
    }),
  );
  router.post('/admin/payout-batches/:id/delete', async (ctx) => {
    const id = idParam(ctx);
    try {
      await ctx.services.payoutBatches.remove(id, actor(ctx));
      flash(ctx, 'success', `Payout batch #${id} deleted; its commissions will be offered in the next batch.`);
      ctx.redirect('/admin/payout-batches');
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      flash(ctx, 'error', err.message);
      ctx.redirect(`/admin/payout-batches/${id}`);
    }
  });
}
