import type Router from '@koa/router';
import type { Readable } from 'node:stream';
import { listFormat, sendCsv } from '../csv-response.js';
import { z } from 'zod';
import type { AppContext, AppCustom, AppState } from '../context.js';
import { requireRole } from '../middleware.js';
import { idParam, pageQuery, parse, requireStrict, type PageQuery } from '../../validation.js';
import type { HttpServices } from '../context.js';
import type { Actor, Role } from '../../services/actor.js';
import type { Page } from '../../store/rows.js';
import { KEY_LENGTH } from '../../domain/limits.js';
import { fieldError } from '../../errors.js';

/** What a REST collection needs from its service. */
export interface CrudService<T, C, P, F> {
  list(filters: F, page: PageQuery): Promise<Page<T>>;
  get(id: number): Promise<T>;
  create(input: C, actor: Actor): Promise<T>;
  update(id: number, patch: P, actor: Actor): Promise<T>;
  remove(id: number, actor: Actor): Promise<void>;
}

export interface CrudOptions<T, C, P, FS extends z.ZodObject> {
  path: string;
  roles: Role[];
  filters: FS;
  create: z.ZodType<C>;
  patch: z.ZodType<P>;
  service: (s: HttpServices) => CrudService<T, C, P, z.output<FS>>;
  /** The object as this actor may see it (secrets masked for managers); it may read more, e.g. the campaign URL. */
  toJson?: (item: T, actor: Actor, ctx: AppContext) => unknown;
  /** `format=csv`: the whole filtered list as a streamed CSV download (SPEC §13). */
  csv?: { name: string; stream: (s: HttpServices, filters: z.output<FS>) => Readable };
}

export const bodyOf = (ctx: { request: { body?: unknown } }): unknown => {
  const body = ctx.request.body;
  return body === undefined ? {} : body;
};

/*
 * Every API route reads its input through these three (SPEC §10a): the schema must be strict at
 * every depth (checked once per schema), so an unknown or misspelled key is a 422 naming it by its
 * dotted path instead of being dropped.
 */

/** A request body (an empty one is `{}`); routes that take none pass `nothing`. */
export function parseBody<S extends z.ZodType>(
  ctx: { request: { body?: unknown } },
  schema: S,
  input: unknown = bodyOf(ctx),
): z.output<S> {
  return parse(requireStrict(schema), input);
}

/** A query string; routes that read none pass `nothing`, so even a stray parameter is refused. */
export function parseQuery<S extends z.ZodType>(ctx: { query: unknown }, schema: S): z.output<S> {
  return parse(requireStrict(schema), ctx.query, 'parameter');
}

/** Neither body fields nor query parameters. */
export const nothing = z.strictObject({});

/**
 * For a route that takes no input at all (DELETE): a stray query parameter or body field is a 422
 * naming it, before anything changes, so `?force=true` or `{"cascade":true}` never reads as honoured.
 */
export function refuseInput(ctx: { query: unknown; request: { body?: unknown } }): void {
  parseQuery(ctx, nothing);
  parseBody(ctx, nothing);
}

const listSchemas = new WeakMap<z.ZodObject, z.ZodObject>();

/** A list's query: `page`, `perPage` and the list's own filters, nothing else. */
export function parseList<FS extends z.ZodObject>(
  ctx: { query: unknown },
  filters: FS,
): { page: PageQuery; filters: z.output<FS> } {
  let schema = listSchemas.get(filters);
  if (!schema) listSchemas.set(filters, (schema = pageQuery.extend(filters.shape)));
  const { page, perPage, ...rest } = parseQuery(ctx, schema) as PageQuery & Record<string, unknown>;
  // A period must not end before it starts: times (ms) end before `to` (exclusive, see
  // isoTimeParam), report days include both ends.
  const { from, to } = rest as { from?: number | string; to?: number | string };
  if (from !== undefined && to !== undefined && (from > to || (typeof from === 'number' && from === to)))
    throw fieldError('from', 'must not be after `to`');
  return { page: { page, perPage }, filters: rest as z.output<FS> };
}

/**
 * The five routes of a SPEC §9 collection: list (page pagination and filters), create (201),
 * read, PATCH, DELETE (204, or 409 when history depends on the object).
 */
export function crudRoutes<T, C, P, FS extends z.ZodObject>(
  router: Router<AppState, AppCustom>,
  o: CrudOptions<T, C, P, FS>,
): void {
  const toJson = o.toJson ?? ((x: T) => x);
  const json = (ctx: AppContext) => (x: T) => toJson(x, ctx.state.user as Actor, ctx);
  const guard = requireRole(...o.roles);
  const listFilters = o.csv ? o.filters.extend({ format: listFormat }) : o.filters;
  router.get(o.path, guard, async (ctx) => {
    const { page, filters: all } = parseList(ctx, listFilters);
    const { format, ...filters } = all as z.output<FS> & { format?: string };
    if (o.csv && format === 'csv') return sendCsv(ctx, o.csv.name, o.csv.stream(ctx.services, filters as z.output<FS>));
    const result = await o.service(ctx.services).list(filters as z.output<FS>, page);
    ctx.body = { ...result, data: await Promise.all(result.data.map(json(ctx))) };
  });
  router.post(o.path, guard, async (ctx) => {
    const input = parseBody(ctx, o.create);
    ctx.status = 201;
    ctx.body = await json(ctx)(await o.service(ctx.services).create(input, ctx.state.user as Actor));
  });
  router.get(`${o.path}/:id`, guard, async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    parseQuery(ctx, nothing);
    ctx.body = await json(ctx)(await o.service(ctx.services).get(id));
  });
  router.patch(`${o.path}/:id`, guard, async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    const patch = parseBody(ctx, o.patch);
    ctx.body = await json(ctx)(await o.service(ctx.services).update(id, patch, ctx.state.user as Actor));
  });
  router.delete(`${o.path}/:id`, guard, async (ctx) => {
    const { id } = parse(idParam, ctx.params);
    refuseInput(ctx);
    await o.service(ctx.services).remove(id, ctx.state.user as Actor);
    ctx.status = 204;
  });
}

/** Query filters: optional, typed, unknown enum values refused with 422 (filter schemas are z.strictObject). */
export const optionalId = z.coerce.number().int().positive().max(2_147_483_647).optional();
export const optionalBool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .optional();
export const searchTerm = z.string().trim().max(KEY_LENGTH).optional();
