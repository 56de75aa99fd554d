import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { parseBody } from './crud.js';
import { KEY_LENGTH } from '../../domain/limits.js';

export const NEW_PASSWORD = z.string().min(10, 'must be at least 10 characters').max(200, 'at most 200 characters');

export const resetRequestBody = z.strictObject({
  email: z.string().trim().min(1, 'is required').max(KEY_LENGTH, `at most ${KEY_LENGTH} characters`),
});
export const resetConfirmBody = z.strictObject({
  token: z.string().trim().min(1, 'is required').max(200, 'at most 200 characters'),
  password: NEW_PASSWORD,
});

/** The one answer to every reset request: it does not tell whether the address has an account. */
export const RESET_REQUESTED = {
  message: 'If an account uses this address, a mail with a link to choose a new password is on its way.',
} as const;

/** Password reset for staff and affiliates (SPEC §13). */
export function passwordResetRoutes(router: Router<AppState, AppCustom>): void {
  router.post('/auth/password-reset', async (ctx) => {
    const { email } = parseBody(ctx, resetRequestBody);
    await ctx.services.accounts.requestPasswordReset(email);
    ctx.status = 202;
    ctx.body = RESET_REQUESTED;
  });
  router.post('/auth/password-reset/confirm', async (ctx) => {
    const { token, password } = parseBody(ctx, resetConfirmBody);
    const done = await ctx.services.accounts.confirmPasswordReset(token, password);
    ctx.body = {
      message: 'Your password has been changed. Sign in with the new password.',
      signIn: done.role === 'affiliate' ? '/portal/login' : '/admin/login',
    };
  });
}
