import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { AppCustom, AppState } from './context.js';

const staticDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../admin-views/static');
const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The admin's few static assets, read once at start and served with an ETag. */
export function staticRouter(): Router<AppState, AppCustom> {
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  if (fs.existsSync(staticDir)) {
    for (const name of fs.readdirSync(staticDir)) {
      const type = TYPES[path.extname(name)];
      if (!type) continue;
      const body = fs.readFileSync(path.join(staticDir, name));
      files.set(name, { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` });
    }
  }
  const router = new Router<AppState, AppCustom>();
  // Browsers ask for /favicon.ico on pages that name none (a JSON error page, a plain redirect).
  router.get('/favicon.ico', (ctx) => {
    if (!files.has('favicon.svg')) return;
    ctx.status = 301;
    ctx.redirect('/static/favicon.svg');
  });
  router.get('/static/:name', (ctx) => {
    const file = files.get(ctx.params.name ?? '');
    if (!file) return;
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.set('ETag', file.etag);
    if (ctx.get('If-None-Match') === file.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = file.type;
    ctx.body = file.body;
  });
  return router;
}
