import type { ParameterizedContext } from 'koa';
import type { RouterContext } from '@koa/router';
import type { AuthUser } from '../services/auth.js';
import type { Services } from '../container.js';
import type { PortalService } from '../services/portal.js';

export interface AppState {
  user: AuthUser | null;
  /** How the user was authenticated: a bearer token or the session cookie. */
  authVia: 'bearer' | 'session' | null;
  /** The id of the signed-in session (the CSRF token is bound to it); null without one. */
  sessionId: string | null;
  csrfToken: string;
  flash: Flash | null;
}

export interface Flash {
  type: 'success' | 'error';
  message: string;
}

/**
 * What routes receive (`ctx.services`): every service and the affiliate portal's, never the
 * database handle; routes reach data through services only.
 */
export type HttpServices = Omit<Services, 'db'> & { readonly portal: PortalService };

export interface AppCustom {
  services: HttpServices;
}

export type AppContext = ParameterizedContext<AppState, AppCustom>;
export type AppRouterContext = RouterContext<AppState, AppCustom>;
