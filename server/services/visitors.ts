import { randomBytes } from 'node:crypto';

/** Visitor ids: ≥ 128 random bits, URL-safe (SPEC §4.3). */
export const newVisitorId = () => randomBytes(16).toString('base64url');

const VISITOR_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** A visitor id from a client, or null when it is missing or not of our shape. */
export function validVisitorId(value: unknown): string | null {
  return typeof value === 'string' && VISITOR_ID.test(value) ? value : null;
}

/** Click ids (subids): 96 random bits, URL-safe. */
export const newClickId = () => randomBytes(12).toString('base64url');
