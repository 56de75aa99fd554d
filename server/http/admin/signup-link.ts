import type { AppContext } from '../context.js';
import { trackerOrigin } from '../portal/session.js';

/** The affiliate portal's sign-up page as the merchant shares it, and whether it is open now. */
export function signupLink(ctx: AppContext): { url: string; mode: string; closed: boolean } {
  const mode = ctx.services.settings.get().affiliateSignup;
  return {
    url: `${trackerOrigin(ctx).replace(/\/+$/, '')}/portal/signup`,
    mode,
    closed: mode === 'closed',
  };
}
