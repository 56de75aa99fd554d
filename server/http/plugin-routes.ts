import type { Next } from 'koa';
import type { AppContext } from './context.js';
import { AppError } from '../errors.js';
import { methodNotAllowed } from './middleware.js';

/** Plugin endpoints take bodies up to this size (a large Shopify order is a few hundred KB). */
export const PLUGIN_BODY_LIMIT = 1024 * 1024;

/**
 * The endpoints plugins own (`/<plugin name>/<path>`, SPEC §8), answered before the general body
 * parser: the plugin gets the body's exact bytes, which signatures are computed on. A path under
 * an inactive plugin answers 404.
 */
export function pluginRoutes() {
  return async (ctx: AppContext & { disableBodyParser?: boolean }, next: Next) => {
    const found = ctx.services.plugins.resolveRoute(ctx.method, ctx.path);
    if (!found) return next();
    if (found.kind === 'inactive')
      throw new AppError(
        'not_found',
        `The ${found.title} plugin is not active: the owner activates it on the admin Plugins page`,
      );
    if (found.kind === 'none') {
      if (found.allowed.length) {
        ctx.set('Allow', found.allowed.join(', '));
        throw methodNotAllowed(ctx, found.allowed.join(', '));
      }
      throw new AppError('not_found', `No route for ${ctx.method} ${ctx.path}`);
    }
    ctx.disableBodyParser = true;
    const rawBody = await readBody(ctx, PLUGIN_BODY_LIMIT);
    const answer = await found.handle(
      {
        method: ctx.method,
        path: ctx.path.slice(found.plugin.length + 2),
        header: (name) => ctx.get(name) || undefined,
        rawBody,
        ip: ctx.ip,
      },
      { integrations: ctx.services.integrations },
    );
    ctx.status = answer.status;
    ctx.body = answer.body ?? null;
  };
}

async function readBody(ctx: AppContext, limit: number): Promise<Buffer> {
  if (Number(ctx.get('Content-Length') || 0) > limit) {
    ctx.req.resume();
    throw new AppError('payload_too_large', 'The request body is too large');
  }
  const body = await new Promise<Buffer | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    ctx.req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    ctx.req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks)));
    ctx.req.on('error', reject);
  });
  if (body === null) throw new AppError('payload_too_large', 'The request body is too large');
  return body;
}
