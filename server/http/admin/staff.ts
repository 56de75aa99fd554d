import type Router from '@koa/router';
import { z } from 'zod';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render, flash, form, handleForm } from './render.js';
import { confirmFirst } from './confirm.js';
import { requireRole } from '../middleware.js';
import { idParam, parse } from '../../validation.js';
import type { Actor } from '../../services/actor.js';
import { KEY_LENGTH } from '../../domain/limits.js';

const inviteBody = z.object({
  email: z.email('must be an email address').max(KEY_LENGTH),
  role: z.enum(['owner', 'manager'], { message: 'must be owner or manager' }),
});
const roleBody = z.object({ role: z.enum(['owner', 'manager'], { message: 'must be owner or manager' }) });

/** Staff (SPEC §13): invite by e-mail, change role, remove. Changes are the owner's. */
export function staffPages(router: Router<AppState, AppCustom>, views: Views): void {
  const page = async (ctx: AppContext, data: Record<string, unknown> = {}) =>
    render(ctx, views, 'admin/staff', {
      title: 'Staff',
      nav: 'staff',
      staff: (await ctx.services.accounts.staff()).map((u) => ({ ...u, self: u.id === ctx.state.user?.userId })),
      readOnly: ctx.state.user?.role !== 'owner',
      mailConfigured: ctx.services.mail.configured,
      values: { role: 'manager' },
      ...data,
    });

  router.get('/admin/staff', (ctx) => page(ctx));

  router.post('/admin/staff/invite', requireRole('owner'), async (ctx) => {
    const body = form.body(ctx);
    const values = { email: form.text(body.email), role: form.text(body.role) };
    await handleForm(
      ctx,
      async () => {
        const input = parse(inviteBody, values);
        const { user, link, mailed } = await ctx.services.accounts.invite(
          input.email,
          input.role,
          ctx.state.user as Actor,
        );
        if (mailed) {
          flash(ctx, 'success', `Invitation sent to ${user.email}.`);
          return ctx.redirect('/admin/staff');
        }
        // No mail can carry it: the owner passes the link on personally.
        await page(ctx, { inviteLink: link, invitedEmail: user.email });
      },
      (errors) => page(ctx, { errors, values }),
    );
  });

  router.post('/admin/staff/:id/role', requireRole('owner'), async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    const body = form.body(ctx);
    await handleForm(
      ctx,
      async () => {
        const { role } = parse(roleBody, { role: form.text(body.role) });
        await ctx.services.accounts.changeRole(id, role, ctx.state.user as Actor);
        flash(ctx, 'success', `The role is now ${role}; that account signs in again.`);
        ctx.redirect('/admin/staff');
      },
      (errors) => page(ctx, { errors }),
    );
  });

  router.post(
    '/admin/staff/:id/remove',
    requireRole('owner'),
    confirmFirst(views, async (ctx) => {
      const { id } = parse(idParam, ctx.params);
      const member = await ctx.services.accounts.staffMember(id);
      return {
        question: `Remove ${member.email} from the staff?`,
        consequences: [
          `${member.email} is signed out at once and can no longer sign in to the admin.`,
          'This cannot be undone; invite the address again to give it access back.',
        ],
        action: 'Remove',
        back: '/admin/staff',
        nav: 'staff',
      };
    }),
  );
  router.post('/admin/staff/:id/remove', requireRole('owner'), async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    await handleForm(
      ctx,
      async () => {
        const member = await ctx.services.accounts.staffMember(id);
        await ctx.services.accounts.remove(id, ctx.state.user as Actor);
        flash(ctx, 'success', `${member.email} was removed.`);
        ctx.redirect('/admin/staff');
      },
      (errors) => page(ctx, { errors }),
    );
  });
}
