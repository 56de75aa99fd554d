import { signupLink } from './signup-link.js';
import type Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render, flash, handleForm, form } from './render.js';
import { confirmFirst } from './confirm.js';
import { csvLink } from './csv-link.js';
import { sendCsv } from '../csv-response.js';
import {
  allAffiliates,
  bodyOf,
  conflictMessage,
  idParam,
  pageLinks,
  pageOf,
  queryEnum,
  queryText,
  safeBack,
  summarise,
  valueAt,
} from './form-values.js';
import * as s from '../../schemas/programme.js';
import { parse } from '../../validation.js';
import { AppError } from '../../errors.js';
import type { Actor } from '../../services/actor.js';
import type { Affiliate } from '../../store/affiliates.js';
import { profileInputFromForm, profileValues, profileValuesFromBody } from './profile-form.js';

type Body = Record<string, unknown>;
type Errors = Record<string, string>;

const AFFILIATE_FIELDS = [
  'refId',
  'name',
  'email',
  'status',
  'parentId',
  'overwriteCookie',
  'postbackUrl',
  'password',
  'archived',
  'website',
  'promotionMethod',
  'taxId',
  'payoutMethod',
  'payoutDetails.paypalEmail',
  'payoutDetails.accountName',
  'payoutDetails.iban',
  'payoutDetails.bic',
  'payoutDetails.text',
];

const actor = (ctx: AppContext) => ctx.state.user as Actor;
const text = (body: Body, path: string) => form.text(valueAt(body, path));

const statusOptions = [
  { value: 'approved', label: 'Approved — earns commissions' },
  { value: 'pending', label: 'Pending — waiting for your review' },
  { value: 'declined', label: 'Declined — earns nothing' },
];

function affiliateValues(a: Affiliate) {
  return {
    refId: a.refId,
    name: a.name,
    email: a.email,
    status: a.status,
    parentId: a.parentId === null ? '' : String(a.parentId),
    overwriteCookie: a.overwriteCookie === null ? '' : String(a.overwriteCookie),
    postbackUrl: a.postbackUrl ?? '',
    archived: a.archived ? 'on' : '',
    ...profileValues(a),
  };
}

// The password is never sent back into the page.
function valuesFromBody(body: Body) {
  const v: Record<string, unknown> = {};
  for (const f of AFFILIATE_FIELDS) if (f !== 'password') v[f] = valueAt(body, f);
  return { ...v, ...profileValuesFromBody(body) };
}

/** The affiliate form as the JSON body the API takes. An empty refId on create means "generate one". */
function affiliateInput(body: Body, creating: boolean) {
  const password = valueAt(body, 'password');
  const refId = text(body, 'refId');
  return {
    refId: creating ? refId || undefined : (refId ?? ''),
    name: text(body, 'name') ?? '',
    email: text(body, 'email') ?? '',
    status: text(body, 'status') || undefined,
    parentId: form.nullable(valueAt(body, 'parentId')),
    overwriteCookie: form.triState(valueAt(body, 'overwriteCookie')),
    postbackUrl: text(body, 'postbackUrl') ?? null,
    password: typeof password === 'string' && password !== '' ? password : undefined,
    ...(creating ? {} : { archived: form.checkbox(valueAt(body, 'archived')) }),
    ...profileInputFromForm(profileValuesFromBody(body)),
  };
}

function globals(ctx: AppContext) {
  const g = ctx.services.settings.get();
  return { overwriteCookie: g.overwriteCookie ? 'last click wins' : 'first click wins' };
}

/** The affiliates pages: the list, the new and edit forms, approval and deletion. */
export function affiliatePages(router: Router<AppState, AppCustom>, views: Views): void {
  affiliateList(router, views);
  const formPage = affiliateFormPage(views);
  affiliateForms(router, formPage);
  affiliateActions(router, views);
}

function affiliateList(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/affiliates', async (ctx) => {
    const filters = {
      status: queryEnum(s.AFFILIATE_STATUSES, ctx.query.status),
      q: queryText(ctx.query.q),
      archived: ctx.query.archived === '1' ? '1' : undefined,
    };
    const storeFilters = { status: filters.status, q: filters.q, ...(filters.archived ? {} : { archived: false }) };
    if (ctx.query.format === 'csv') return sendCsv(ctx, 'affiliates', ctx.services.affiliateOverview.csv(storeFilters));
    const [result, everyone] = await Promise.all([
      ctx.services.affiliates.list(storeFilters, pageOf(ctx)),
      allAffiliates(ctx),
    ]);
    const byId = new Map(everyone.map((a) => [a.id, a]));
    render(ctx, views, 'admin/affiliates', {
      title: filters.status === 'pending' ? 'Affiliates waiting for approval' : 'Affiliates',
      nav: 'affiliates',
      signup: signupLink(ctx),
      filters,
      filtered: Boolean(filters.status || filters.q),
      statuses: s.AFFILIATE_STATUSES,
      affiliates: result.data.map((a) => ({
        ...a,
        parentName: a.parentId === null ? null : (byId.get(a.parentId)?.name ?? `#${a.parentId}`),
        pending: a.status === 'pending',
      })),
      back: ctx.originalUrl,
      csvUrl: csvLink(ctx),
      pagination: result.pagination,
      ...pageLinks('/admin/affiliates', filters, result.pagination),
    });
  });
}

type FormPage = (
  ctx: AppContext,
  page: 'admin/affiliate-new' | 'admin/affiliate-edit',
  data: Record<string, unknown>,
  self?: number,
) => Promise<void>;

/** Renders the new or edit form with the parent choices (every affiliate but the one edited). */
function affiliateFormPage(views: Views): FormPage {
  return async (ctx, page, data, self) => {
    const everyone = await allAffiliates(ctx);
    render(ctx, views, page, {
      nav: 'affiliates',
      statusOptions,
      globals: globals(ctx),
      parentChoices: everyone.filter((a) => a.id !== self).map((a) => ({ id: a.id, label: `${a.name} (${a.refId})` })),
      ...data,
    });
  };
}

function affiliateForms(router: Router<AppState, AppCustom>, formPage: FormPage): void {
  router.get('/admin/affiliates/new', async (ctx) => {
    await formPage(ctx, 'admin/affiliate-new', {
      title: 'New affiliate',
      values: { status: 'approved', overwriteCookie: '', parentId: '' },
    });
  });
  router.post('/admin/affiliates/new', async (ctx) => {
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const input = parse(s.affiliateCreate, affiliateInput(body, true));
        const affiliate = await ctx.services.affiliates.create(input, actor(ctx));
        flash(ctx, 'success', `Affiliate “${affiliate.name}” created with ID ${affiliate.refId}.`);
        ctx.redirect(`/admin/affiliates/${affiliate.id}`);
      },
      (errors) =>
        formPage(ctx, 'admin/affiliate-new', {
          title: 'New affiliate',
          values: valuesFromBody(body),
          errors: summarise(errors, AFFILIATE_FIELDS),
        }),
    );
  });

  const editPage = async (ctx: AppContext, affiliate: Affiliate, values: unknown, errors?: Errors) => {
    const settings = ctx.services.settings.get();
    const figures = await ctx.services.affiliateOverview.figures(
      affiliate.id,
      ctx.services.clock(),
      settings.timezone,
      settings.baseCurrency,
    );
    await formPage(
      ctx,
      'admin/affiliate-edit',
      { title: `${affiliate.name} · Affiliates`, affiliate, values, errors, figures },
      affiliate.id,
    );
  };

  router.get('/admin/affiliates/:id', async (ctx) => {
    const affiliate = await ctx.services.affiliates.get(idParam(ctx));
    await editPage(ctx, affiliate, affiliateValues(affiliate));
  });
  router.post('/admin/affiliates/:id', async (ctx) => {
    const affiliate = await ctx.services.affiliates.get(idParam(ctx));
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const patch = parse(s.affiliatePatch, affiliateInput(body, false));
        await ctx.services.affiliates.update(affiliate.id, patch, actor(ctx));
        flash(
          ctx,
          'success',
          patch.password ? 'Affiliate saved; the new password works from now on.' : 'Affiliate saved.',
        );
        ctx.redirect(`/admin/affiliates/${affiliate.id}`);
      },
      (errors) => editPage(ctx, affiliate, valuesFromBody(body), summarise(errors, AFFILIATE_FIELDS)),
    );
  });
}

/** Approve, decline (confirmed first) and delete (confirmed first; refused while it has history). */
function affiliateActions(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/affiliates/:id/decline',
    confirmFirst(views, async (ctx) => {
      const affiliate = await ctx.services.affiliates.get(idParam(ctx));
      return {
        question: `Decline the affiliate “${affiliate.name}”?`,
        consequences: [
          `${affiliate.name} can no longer sign in to the affiliate portal.`,
          'Their links stop earning: new clicks and sales are declined.',
          'Commissions already earned keep their status; you can approve the affiliate again later.',
        ],
        action: 'Decline the affiliate',
        back: `/admin/affiliates/${affiliate.id}`,
        nav: 'affiliates',
      };
    }),
  );
  for (const [action, status, done] of [
    ['approve', 'approved', 'approved'],
    ['decline', 'declined', 'declined'],
  ] as const) {
    router.post(`/admin/affiliates/:id/${action}`, async (ctx) => {
      const id = idParam(ctx);
      const affiliate = await ctx.services.affiliates.setStatus(id, status, actor(ctx));
      flash(ctx, 'success', `Affiliate “${affiliate.name}” ${done}.`);
      ctx.redirect(safeBack(valueAt(bodyOf(ctx), 'back'), `/admin/affiliates/${id}`));
    });
  }

  router.post(
    '/admin/affiliates/:id/delete',
    confirmFirst(views, async (ctx) => {
      const affiliate = await ctx.services.affiliates.get(idParam(ctx));
      return {
        question: `Delete the affiliate “${affiliate.name}”?`,
        consequences: [
          `The affiliate ${affiliate.refId}, their portal account, personal payouts and coupons are deleted. This cannot be undone.`,
          'An affiliate with clicks, sales or commissions cannot be deleted: decline or archive them instead.',
        ],
        action: 'Delete the affiliate',
        back: `/admin/affiliates/${affiliate.id}`,
        nav: 'affiliates',
      };
    }),
  );
  router.post('/admin/affiliates/:id/delete', async (ctx) => {
    const affiliate = await ctx.services.affiliates.get(idParam(ctx));
    try {
      await ctx.services.affiliates.remove(affiliate.id, actor(ctx));
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(ctx, 'error', conflictMessage(err, 'affiliate'));
      return ctx.redirect(`/admin/affiliates/${affiliate.id}`);
    }
    flash(ctx, 'success', `Affiliate “${affiliate.name}” deleted.`);
    ctx.redirect('/admin/affiliates');
  });
}
