import { randomBytes } from 'node:crypto';

/*
 * Ids handed to browsers: a 48-bit millisecond time prefix followed by random bits, URL-safe.
 * The prefix makes new ids sort by time, so inserting them appends to the database indexes
 * instead of touching random pages (cheaper group commits); the random part keeps them
 * unguessable. Random bytes are drawn from a pool to avoid one system call per id.
 */

let pool = randomBytes(8192);
let offset = 0;

function random(n: number): Buffer {
  if (offset + n > pool.length) {
    pool = randomBytes(8192);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}

function timeOrdered(randomLength: number, now: number): string {
  const buf = Buffer.allocUnsafe(6 + randomLength);
  buf.writeUIntBE(Math.max(0, Math.min(now, 2 ** 48 - 1)), 0, 6);
  random(randomLength).copy(buf, 6);
  return buf.toString('base64url');
}

/** Visitor ids: 128 random bits after the time prefix (SPEC §4.3: ≥ 128 bits, URL-safe). */
export const newVisitorId = (now = Date.now()) => timeOrdered(16, now);

const VISITOR_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** A visitor id from a client, or null when it is missing or not of our shape. */
export function validVisitorId(value: unknown): string | null {
  return typeof value === 'string' && VISITOR_ID.test(value) ? value : null;
}

/** Click ids (subids): 96 random bits after the time prefix. */
export const newClickId = (now = Date.now()) => timeOrdered(12, now);
