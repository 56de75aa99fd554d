import type Router from '@koa/router';
import { z } from 'zod';
import type { AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { idParam, pageQuery, parse, type PageQuery } from '../../validation.js';
import type { Services } from '../../container.js';
import type { Actor, Role } from '../../services/actor.js';
import type { Page } from '../../store/rows.js';
import { KEY_LENGTH } from '../../domain/limits.js';

/** What a REST collection needs from its service. */
export interface CrudService<T, C, P, F> {
  list(filters: F, page: PageQuery): Promise<Page<T>>;
  get(id: number): Promise<T>;
  create(input: C, actor: Actor): Promise<T>;
  update(id: number, patch: P, actor: Actor): Promise<T>;
  remove(id: number, actor: Actor): Promise<void>;
}

export interface CrudOptions<T, C, P, F> {
  path: string;
  roles: Role[];
  filters: z.ZodType<F>;
  create: z.ZodType<C>;
  patch: z.ZodType<P>;
  service: (s: Services) => CrudService<T, C, P, F>;
  toJson?: (item: T) => unknown;
}

export const bodyOf = (ctx: { request: { body?: unknown } }): unknown => {
  const body = ctx.request.body;
  return body === undefined ? {} : body;
};

/**
 * The five routes of a SPEC §9 collection: list (page pagination and filters), create (201),
 * read, PATCH, DELETE (204, or 409 when history depends on the object).
 */
export function crudRoutes<T, C, P, F>(router: Router<AppState, AppCustom>, o: CrudOptions<T, C, P, F>): void {
  const json = o.toJson ?? ((x: T) => x);
  const guard = requireRole(...o.roles);
  router.get(o.path, guard, async (ctx) => {
    const page = parse(pageQuery, { page: ctx.query.page, perPage: ctx.query.perPage });
    const filters = parse(o.filters, ctx.query);
    const result = await o.service(ctx.services).list(filters, page);
    ctx.body = { ...result, data: result.data.map(json) };
  });
  router.post(o.path, guard, async (ctx) => {
    const input = parse(o.create, bodyOf(ctx));
    ctx.status = 201;
    ctx.body = json(await o.service(ctx.services).create(input, ctx.state.user as Actor));
  });
  router.get(`${o.path}/:id`, guard, async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    ctx.body = json(await o.service(ctx.services).get(id));
  });
  router.patch(`${o.path}/:id`, guard, async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    const patch = parse(o.patch, bodyOf(ctx));
    ctx.body = json(await o.service(ctx.services).update(id, patch, ctx.state.user as Actor));
  });
  router.delete(`${o.path}/:id`, guard, async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    await o.service(ctx.services).remove(id, ctx.state.user as Actor);
    ctx.status = 204;
  });
}

/** Query filters: optional, typed, unknown enum values refused with 422. */
export const optionalId = z.coerce.number().int().positive().max(2_147_483_647).optional();
export const optionalBool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .optional();
export const searchTerm = z.string().trim().max(KEY_LENGTH).optional();
