import type Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { parseBody } from './crud.js';
import { ownProfile } from '../portal/settings.js';
import type { AuthUser } from '../../services/auth.js';

/** What an affiliate token may change about its own affiliate: name and postback URL. */
export function portalApiRoutes(router: Router<AppState, AppCustom>): void {
  router.patch('/me/affiliate', requireRole('affiliate'), async (ctx) => {
    const user = ctx.state.user as AuthUser;
    const patch = parseBody(ctx, ownProfile);
    ctx.body = await ctx.services.portal.updateProfile(user.affiliateId, patch, user);
  });
}
