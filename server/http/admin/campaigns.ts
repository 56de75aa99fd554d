import type Router from '@koa/router';
import type { AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';

export function campaignPages(_router: Router<AppState, AppCustom>, _views: Views): void {}
