import type { Next } from 'koa';
import type { AppContext } from '../context.js';
import type { Views } from '../views.js';
import { render, form } from './render.js';

/**
 * A confirmation step before every destructive admin action (SPEC §13), without JavaScript:
 * the action's button posts its form as before; unless the form carries `confirm=yes`, the answer
 * is a page stating what will happen, with the same fields and `confirm=yes` behind a button, and
 * a way back. Nothing changes until that button is pressed. Registered as its own route just
 * before the action's route on the same path: `router.post(path, confirmFirst(views, describe))`.
 */
export interface Confirmation {
  /** "Delete the campaign “Shoes”?" */
  question: string;
  /** What happens, in the user's words; what cannot be undone. */
  consequences: string[];
  /** The button: "Delete the campaign". */
  action: string;
  /** Where Cancel leads. */
  back: string;
  /** The main navigation entry to highlight. */
  nav?: string;
}

/** A route's context: the request and its path parameters. */
export type RouteContext = AppContext & { params: Record<string, string> };
type Describe = (ctx: RouteContext) => Confirmation | null | Promise<Confirmation | null>;

/** Route middleware; `describe` answers null when this request needs no confirmation (e.g. a bulk approve). */
export function confirmFirst(views: Views, describe: Describe) {
  return async (ctx: RouteContext, next: Next) => {
    const body = form.body(ctx);
    if (form.text(body.confirm) === 'yes') return next();
    const confirmation = await describe(ctx);
    if (!confirmation) return next();
    const fields = Object.entries(body)
      .filter(([name]) => name !== '_csrf' && name !== 'confirm')
      .flatMap(([name, v]) =>
        (Array.isArray(v) ? v : [v]).filter((x) => x !== undefined).map((value) => ({ name, value })),
      );
    render(ctx, views, 'admin/confirm', {
      title: confirmation.question,
      nav: confirmation.nav,
      confirmation,
      action: ctx.path,
      fields,
    });
  };
}
