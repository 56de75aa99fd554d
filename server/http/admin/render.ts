import type { AppContext, Flash } from '../context.js';
import { FLASH_COOKIE } from '../middleware.js';
import type { Views } from '../views.js';
import { AppError, type FieldError } from '../../errors.js';
import { mainNav } from './nav.js';

/** Sets a one-time message shown on the next page (after a redirect). */
export function flash(ctx: AppContext, type: Flash['type'], message: string): void {
  ctx.cookies.set(FLASH_COOKIE, Buffer.from(JSON.stringify({ type, message })).toString('base64url'), {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    overwrite: true,
  });
}

function takeFlash(ctx: AppContext): Flash | null {
  const raw = ctx.cookies.get(FLASH_COOKIE);
  if (!raw) return null;
  ctx.cookies.set(FLASH_COOKIE, null);
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Flash;
    return (parsed.type === 'success' || parsed.type === 'error') && typeof parsed.message === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** Renders a page inside the layout with what every page needs: user, CSRF token, flash, nav. */
export function render(
  ctx: AppContext,
  views: Views,
  page: string,
  data: Record<string, unknown> = {},
  layout = 'main',
): void {
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = views.render(
    page,
    {
      user: ctx.state.user,
      isOwner: ctx.state.user?.role === 'owner',
      csrfToken: ctx.state.csrfToken,
      flash: takeFlash(ctx),
      path: ctx.path,
      // Dates on every page are shown in the merchant's time zone (the `timezone` setting).
      timezone: ctx.services.settings.get().timezone,
      mainNav: layout === 'main' && ctx.state.user ? mainNav(data.nav, ctx.state.user.role === 'owner') : null,
      // The admin's banner while no SMTP server is configured (SPEC §13).
      mailOff: ctx.state.user && ctx.state.user.role !== 'affiliate' ? !ctx.services.mail.configured : false,
      ...data,
    },
    layout,
  );
}

/** Field errors of a failed form as `{ field: message }` for the `fieldError` view helper. */
export function errorsByField(err: AppError): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(err.details)) for (const d of err.details as FieldError[]) out[d.field] ??= d.message;
  if (!Object.keys(out).length) out._form = err.message;
  return out;
}

/** Runs a form action: on a validation error, re-renders the form with the errors and the values sent. */
export async function handleForm(
  ctx: AppContext,
  action: () => Promise<void>,
  onInvalid: (errors: Record<string, string>, message: string) => void | Promise<void>,
): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof AppError && (err.status === 422 || err.status === 409 || err.status === 400)) {
      ctx.status = err.status;
      await onInvalid(errorsByField(err), err.message);
      return;
    }
    throw err;
  }
}

type FormValue = string | string[] | undefined;

/**
 * HTML form values → the JSON shapes the API schemas expect: empty text → null (or left out),
 * checkboxes → booleans, numbers from number inputs, lists from comma/newline text.
 */
export const form = {
  body(ctx: AppContext): Record<string, FormValue> {
    const body = ctx.request.body;
    return body && typeof body === 'object' ? (body as Record<string, FormValue>) : {};
  },
  text(v: FormValue): string | undefined {
    const s = Array.isArray(v) ? v[0] : v;
    return s === undefined ? undefined : s.trim();
  },
  nullable(v: FormValue): string | null {
    const s = form.text(v);
    return s ? s : null;
  },
  checkbox(v: FormValue): boolean {
    const s = form.text(v);
    return s === 'on' || s === 'true' || s === '1';
  },
  /** A select offering "inherit" (empty), "true" and "false". */
  triState(v: FormValue): boolean | null {
    const s = form.text(v);
    return s === 'true' ? true : s === 'false' ? false : null;
  },
  number(v: FormValue): number | string | null {
    const s = form.text(v);
    if (!s) return null;
    const n = Number(s);
    return Number.isFinite(n) ? n : s;
  },
  list(v: FormValue): string[] {
    const s = Array.isArray(v) ? v.join('\n') : (v ?? '');
    return s
      .split(/[\n,]/)
      .map((x) => x.trim())
      .filter(Boolean);
  },
};
