import Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { accountPages } from './account.js';
import { programmePages } from './pages.js';
import { settingsPages } from './settings.js';
import { profilePages } from './profile.js';

/** The affiliate portal (SPEC §9): sign-up, sign-in, and the signed-in affiliate's own pages. */
export function portalRouter(views: Views): Router<AppState, AppCustom> {
  const router = new Router<AppState, AppCustom>();
  accountPages(router, views);
  programmePages(router, views);
  settingsPages(router, views);
  profilePages(router, views);
  return router;
}
