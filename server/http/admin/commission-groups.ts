import type Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render, flash, handleForm, form } from './render.js';
import { confirmFirst } from './confirm.js';
import {
  allAffiliates,
  bodyOf,
  conflictMessage,
  idParam,
  pageLinks,
  pageOf,
  summarise,
  valueAt,
  valuesAt,
} from './form-values.js';
import { commissionGroupCreate, commissionGroupPatch } from '../../schemas/programme.js';
import { parse } from '../../validation.js';
import { AppError } from '../../errors.js';
import type { Actor } from '../../services/actor.js';
import type { CommissionGroup } from '../../store/commission-groups.js';

/*
 * Commission groups (SPEC §14): list, create, edit and delete (after a confirmation). The form
 * posts the fields POST /api/v1/commission-groups takes, parsed by the same schema.
 */

type Body = Record<string, unknown>;
type Errors = Record<string, string>;
const actor = (ctx: AppContext) => ctx.state.user as Actor;

/** The form's fields as the API takes them; affiliate ids stay text so the schema names a bad one. */
const groupInput = (body: Body) => ({
  name: form.text(valueAt(body, 'name')) ?? '',
  affiliateIds: valuesAt(body, 'affiliateIds').map((v) => (/^\d+$/.test(v) ? Number(v) : v)),
});

type GroupValues = { name?: unknown; affiliateIds: string[] };

const choices = async (ctx: AppContext, selected: string[]) =>
  (await allAffiliates(ctx)).map((a) => ({
    id: a.id,
    label: `${a.name} (${a.refId})`,
    checked: selected.includes(String(a.id)),
  }));

/** The commission groups pages: the list with its create form, a group's edit form, deletion. */
export function commissionGroupPages(router: Router<AppState, AppCustom>, views: Views): void {
  groupListRoutes(router, views);
  groupEditRoutes(router, views);
  groupDeleteRoutes(router, views);
}

function groupListRoutes(router: Router<AppState, AppCustom>, views: Views): void {
  const listPage = async (ctx: AppContext, values: GroupValues, errors?: Errors) => {
    const [result, affiliates] = await Promise.all([
      ctx.services.commissionGroups.list({}, pageOf(ctx, 100)),
      allAffiliates(ctx),
    ]);
    const names = new Map(affiliates.map((a) => [a.id, a.name]));
    render(ctx, views, 'admin/commission-groups', {
      title: 'Commission groups',
      nav: 'affiliates',
      groups: result.data.map((g) => ({
        ...g,
        memberNames: g.affiliateIds.map((id) => names.get(id) ?? `#${id}`).join(', '),
        payoutCount: g.payoutIds.length,
      })),
      pagination: result.pagination.totalPages > 1 ? result.pagination : null,
      ...pageLinks('/admin/commission-groups', {}, result.pagination),
      values,
      affiliateChoices: await choices(ctx, values.affiliateIds),
      errors,
    });
  };

  router.get('/admin/commission-groups', async (ctx) => {
    await listPage(ctx, { affiliateIds: [] });
  });
  router.post('/admin/commission-groups', async (ctx) => {
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const group = await ctx.services.commissionGroups.create(
          parse(commissionGroupCreate, groupInput(body)),
          actor(ctx),
        );
        flash(ctx, 'success', `Commission group “${group.name}” created with ${group.affiliateIds.length} affiliates.`);
        ctx.redirect('/admin/commission-groups');
      },
      (errors) =>
        listPage(
          ctx,
          { name: valueAt(body, 'name'), affiliateIds: valuesAt(body, 'affiliateIds') },
          summarise(errors, ['name', 'affiliateIds']),
        ),
    );
  });
}

function groupEditRoutes(router: Router<AppState, AppCustom>, views: Views): void {
  const editPage = async (ctx: AppContext, group: CommissionGroup, values: GroupValues, errors?: Errors) => {
    render(ctx, views, 'admin/commission-group', {
      title: `Commission group “${group.name}”`,
      nav: 'affiliates',
      group,
      values,
      affiliateChoices: await choices(ctx, values.affiliateIds),
      errors,
    });
  };

  router.get('/admin/commission-groups/:id', async (ctx) => {
    const group = await ctx.services.commissionGroups.get(idParam(ctx));
    await editPage(ctx, group, { name: group.name, affiliateIds: group.affiliateIds.map(String) });
  });
  router.post('/admin/commission-groups/:id', async (ctx) => {
    const group = await ctx.services.commissionGroups.get(idParam(ctx));
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const saved = await ctx.services.commissionGroups.update(
          group.id,
          parse(commissionGroupPatch, groupInput(body)),
          actor(ctx),
        );
        flash(ctx, 'success', `Commission group “${saved.name}” saved.`);
        ctx.redirect(`/admin/commission-groups/${saved.id}`);
      },
      (errors) =>
        editPage(
          ctx,
          group,
          { name: valueAt(body, 'name'), affiliateIds: valuesAt(body, 'affiliateIds') },
          summarise(errors, ['name', 'affiliateIds']),
        ),
    );
  });
}

function groupDeleteRoutes(router: Router<AppState, AppCustom>, views: Views): void {
  router.post(
    '/admin/commission-groups/:id/delete',
    confirmFirst(views, async (ctx) => {
      const group = await ctx.services.commissionGroups.get(idParam(ctx));
      return {
        question: `Delete the commission group “${group.name}”?`,
        consequences: [
          `Its ${group.affiliateIds.length} affiliates stay, but personal payouts naming the group (${group.payoutIds.length}) no longer apply to them.`,
          'This cannot be undone.',
        ],
        action: 'Delete the group',
        back: '/admin/commission-groups',
        nav: 'affiliates',
      };
    }),
  );
  router.post('/admin/commission-groups/:id/delete', async (ctx) => {
    const group = await ctx.services.commissionGroups.get(idParam(ctx));
    try {
      await ctx.services.commissionGroups.remove(group.id, actor(ctx));
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(ctx, 'error', conflictMessage(err, 'commission group'));
      ctx.redirect('/admin/commission-groups');
      return;
    }
    flash(ctx, 'success', `Commission group “${group.name}” deleted.`);
    ctx.redirect('/admin/commission-groups');
  });
}
