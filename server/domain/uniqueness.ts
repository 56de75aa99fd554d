/**
 * Uniqueness (SPEC §7.3): a device is identified by its cookie when `cookie` is chosen and a
 * cookie is available (never in GDPR mode), else by IP + user agent (`ip_ua`) or IP alone (`ip`).
 * A visit is unique in a scope when the device was not seen there within the TTL.
 */
import { createHash } from 'node:crypto';

export type UniquenessMode = 'ip_ua' | 'ip' | 'cookie';

/**
 * The lengths a visitor hash is cut to, one per use. Each value is stored and compared later
 * (visitor ids in GDPR mode, impression visitor keys, uniqueness marks), so none may change.
 */
export const VISITOR_HASH_LENGTH = { visitorId: 22, impressionKey: 32, deviceKey: 43 } as const;

/**
 * A visitor recognised without a cookie: the base64url SHA-256 of `parts` joined with `|`
 * (IP and user agent, or a mode tag first), cut to `length` characters (43 at most).
 */
export function visitorHash(parts: readonly string[], length: number): string {
  return createHash('sha256').update(parts.join('|')).digest('base64url').slice(0, length);
}

export function deviceKey(mode: UniquenessMode, cookieId: string | null, ip: string, userAgent: string): string {
  if (mode === 'cookie' && cookieId) return `c:${cookieId}`.slice(0, 64);
  return visitorHash(mode === 'ip' ? ['ip', ip] : ['ipua', ip, userAgent], VISITOR_HASH_LENGTH.deviceKey);
}

export const isUniqueVisit = (lastSeen: number | null, now: number, ttlHours: number) =>
  lastSeen === null || now - lastSeen >= ttlHours * 3_600_000;

/** The scopes uniqueness is decided for: the campaign, the flow and all campaigns at once. */
export const scopes = (campaignId: number, flowId: number | null) => ({
  campaign: `c${campaignId}`,
  flow: flowId === null ? null : `f${flowId}`,
  global: 'g',
});
