import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `X-Affix-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + rawBody)>` (SPEC §4.2),
 * valid within ±5 minutes. Used for server-to-server sales and for signing webhooks.
 */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function sign(secret: string, rawBody: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${rawBody}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** On success: which secret matched (`index` into the list) and the matching MAC (a replay has the same). */
export type SignatureCheck = { ok: true; secret: string; index: number; mac: string } | { ok: false; reason: string };

/**
 * Checks the header against the candidate secrets (callers pass the one key that may sign, or the
 * few a refund's order allows); says why it failed.
 */
export function verifySignature(header: string, rawBody: string, secrets: string[], nowMs: number): SignatureCheck {
  const parts = new Map<string, string[]>();
  for (const piece of header.split(',')) {
    const eq = piece.indexOf('=');
    if (eq <= 0) continue;
    const key = piece.slice(0, eq).trim();
    parts.set(key, [...(parts.get(key) ?? []), piece.slice(eq + 1).trim()]);
  }
  const t = parts.get('t')?.[0];
  const macs = (parts.get('v1') ?? []).filter((m) => /^[0-9a-f]{64}$/i.test(m));
  if (!t || !/^\d{1,12}$/.test(t) || !macs.length)
    return { ok: false, reason: 'X-Affix-Signature must be "t=<unix seconds>,v1=<hex HMAC-SHA256>"' };
  if (Math.abs(nowMs / 1000 - Number(t)) > SIGNATURE_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'the signature timestamp is more than 5 minutes away from the server clock' };
  }
  for (const [index, secret] of secrets.entries()) {
    const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex'), 'hex');
    for (const mac of macs) {
      const given = Buffer.from(mac, 'hex');
      if (given.length === expected.length && timingSafeEqual(given, expected))
        return { ok: true, secret, index, mac: mac.toLowerCase() };
    }
  }
  return { ok: false, reason: 'the signature does not match the secret key' };
}
