import assert from 'node:assert/strict';
import type { JsonResponse } from './http.js';

/** The SPEC §9 error shape with this status and code, and a message for people. */
export function assertError(res: JsonResponse, status: number, code: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text.slice(0, 300)}`);
  assert.equal(res.body?.error?.code, code, res.text.slice(0, 300));
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(res.body.error.message.length > 0);
}

/** 422 validation_failed whose details name `field`. */
export function assertFieldError(res: JsonResponse, field: string): void {
  assertError(res, 422, 'validation_failed');
  const fields = (res.body.error.details as Array<{ field: string }>).map((d) => d.field);
  assert.ok(fields.includes(field), `expected a detail for "${field}", got ${JSON.stringify(res.body.error.details)}`);
}

/** A list answer `{ data, pagination }` with these numbers. */
export function assertPage(res: JsonResponse, expected: { page: number; perPage: number; total: number }): void {
  assert.equal(res.status, 200, res.text.slice(0, 300));
  assert.ok(Array.isArray(res.body.data));
  assert.deepEqual(res.body.pagination, {
    ...expected,
    totalPages: Math.max(1, Math.ceil(expected.total / expected.perPage)),
  });
}

/** The ids of a list answer, sorted. */
export const ids = (res: JsonResponse) =>
  (res.body.data as Array<{ id: number }>).map((x) => x.id).sort((a, b) => a - b);

/** A `201 Created` answer; the id of what it created. */
export function created(res: JsonResponse, what: string): number {
  assert.equal(res.status, 201, `${what}: ${res.status} ${res.text.slice(0, 400)}`);
  return res.body.id as number;
}

/** A `201 Created` or `200` answer (an object created or found again); its id. */
export function savedId(res: JsonResponse, what: string): number {
  assert.ok(res.status === 201 || res.status === 200, `${what}: ${res.status} ${res.text.slice(0, 400)}`);
  return res.body.id as number;
}
