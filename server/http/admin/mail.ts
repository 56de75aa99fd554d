import type Router from '@koa/router';
import { z } from 'zod';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render, flash, form } from './render.js';
import { pageLinks } from './form-values.js';
import { requireRole } from '../middleware.js';
import { idParam, parse, pageQuery } from '../../validation.js';
import { AppError } from '../../errors.js';
import { OUTBOX_STATUSES } from '../../store/outbox.js';
import { MAIL_TEMPLATES, type MAIL_PARTS, type MailSource } from '../../domain/mail-templates.js';
import type { Actor } from '../../services/actor.js';
import type { RenderedMail } from '../../domain/mail-templates.js';

const mailFilters = pageQuery.extend({ status: z.enum(OUTBOX_STATUSES).optional() });

const STATUS_WORDS: Record<string, string> = {
  delivered: 'Sent',
  failed: 'Failed',
  pending: 'Waiting',
  not_sent: 'Not sent (e-mail not configured)',
};

/** The Mail page (sent, failed, waiting, not sent) and Settings → E-mails (SPEC §13). */
export function mailPages(router: Router<AppState, AppCustom>, views: Views): void {
  mailLogPages(router, views);
  emailTemplatePages(router, views);
}

function mailLogPages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/mail', async (ctx) => {
    const q = parse(mailFilters, { ...ctx.query, status: ctx.query.status || undefined }, 'parameter');
    const result = await ctx.services.mail.list(q.status, { page: q.page, perPage: q.perPage });
    render(ctx, views, 'admin/mail', {
      title: 'Mail',
      nav: 'mail',
      status: q.status ?? '',
      statuses: OUTBOX_STATUSES.map((value) => ({ value, label: STATUS_WORDS[value] ?? value })),
      mails: result.data.map((m) => ({ ...m, statusLabel: STATUS_WORDS[m.status] ?? m.status })),
      pagination: result.pagination,
      ...pageLinks('/admin/mail', { status: q.status }, result.pagination),
    });
  });

  // A failed mail gets a fresh round of tries (after the mail server or the address was fixed).
  router.post('/admin/mail/:id/retry', async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    try {
      await ctx.services.mailRetry.retry(id, ctx.state.user as Actor);
      flash(ctx, 'success', `Mail ${id} is queued again.`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(ctx, 'error', err.message);
    }
    ctx.redirect('/admin/mail');
  });
}

function emailTemplatePages(router: Router<AppState, AppCustom>, views: Views): void {
  router.get('/admin/settings/emails', async (ctx) => {
    render(ctx, views, 'admin/mail-templates', {
      title: 'E-mails',
      nav: 'settings',
      templates: await ctx.services.mail.templates(),
    });
  });

  const editPage = async (
    ctx: AppContext & { params: Record<string, string> },
    extra: { values?: MailSource & { enabled: boolean }; errors?: Record<string, string>; preview?: RenderedMail } = {},
  ) => {
    const t = await ctx.services.mail.template(ctx.params.name ?? '');
    // The preview shows the mail's own inline styles; its frame is sandboxed (no scripts, no forms).
    const csp = ctx.response.get('Content-Security-Policy');
    if (csp) ctx.set('Content-Security-Policy', csp.replace(/style-src 'self'/, "style-src 'self' 'unsafe-inline'"));
    render(ctx, views, 'admin/mail-template', {
      title: `E-mail ${t.name}`,
      nav: 'settings',
      template: t,
      info: MAIL_TEMPLATES[t.name],
      sampleJson: JSON.stringify(MAIL_TEMPLATES[t.name].sample, null, 2),
      readOnly: ctx.state.user?.role !== 'owner',
      values: extra.values ?? { ...t.source, enabled: t.enabled },
      errors: extra.errors,
      preview: extra.preview ?? (await ctx.services.mail.preview(t.name)),
    });
  };

  router.get('/admin/settings/emails/:name', (ctx) => editPage(ctx));

  // Editing templates is the owner's, as other settings are.
  router.post('/admin/settings/emails/:name', requireRole('owner'), async (ctx) => {
    const name = ctx.params.name ?? '';
    await ctx.services.mail.template(name);
    const body = form.body(ctx);
    const action = form.text(body.action) ?? 'save';
    const raw = (p: (typeof MAIL_PARTS)[number]) => {
      const v = body[p];
      return (Array.isArray(v) ? v[0] : v) ?? '';
    };
    const values = {
      subject: raw('subject'),
      text: raw('text'),
      html: raw('html'),
      enabled: form.checkbox(body.enabled),
    };
    try {
      if (action === 'default') {
        const t = await ctx.services.mail.template(name);
        await ctx.services.mail.saveTemplate(name, { ...t.defaults, enabled: values.enabled }, ctx.state.user as Actor);
        flash(ctx, 'success', 'The default text is back.');
        return ctx.redirect(`/admin/settings/emails/${encodeURIComponent(name)}`);
      }
      if (action === 'preview') {
        const preview = await ctx.services.mail.preview(name, values);
        return editPage(ctx, { values, preview });
      }
      await ctx.services.mail.saveTemplate(name, values, ctx.state.user as Actor);
      flash(
        ctx,
        'success',
        values.enabled ? 'E-mail saved.' : 'E-mail saved; it is switched off and will not be sent.',
      );
      ctx.redirect(`/admin/settings/emails/${encodeURIComponent(name)}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 422) throw err;
      ctx.status = 422;
      const errors: Record<string, string> = {};
      for (const d of (Array.isArray(err.details) ? err.details : []) as Array<{ field: string; message: string }>)
        errors[d.field] ??= `${d.field}: ${d.message}`;
      errors._form = `Not saved: ${err.message}`;
      const t = await ctx.services.mail.template(name);
      await editPage(ctx, { values, errors, preview: await ctx.services.mail.preview(name, t.source) });
    }
  });
}
