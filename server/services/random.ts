import { randomBytes } from 'node:crypto';

/** URL-safe random tokens (visitor ids, secret keys, generated refIds). */
export const randomToken = (bytes = 24) => randomBytes(bytes).toString('base64url');

const ALPHANUM = 'abcdefghijkmnpqrstuvwxyz23456789';
/** Short human-friendly codes without look-alike characters. */
export function randomCode(length = 8): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHANUM[b % ALPHANUM.length];
  return out;
}
