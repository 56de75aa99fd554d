/**
 * Uniqueness (SPEC §7.3): a device is identified by its cookie when `cookie` is chosen and a
 * cookie is available (never in GDPR mode), else by IP + user agent (`ip_ua`) or IP alone (`ip`).
 * A visit is unique in a scope when the device was not seen there within the TTL.
 */
import { createHash } from 'node:crypto';

export type UniquenessMode = 'ip_ua' | 'ip' | 'cookie';

export function deviceKey(mode: UniquenessMode, cookieId: string | null, ip: string, userAgent: string): string {
  if (mode === 'cookie' && cookieId) return `c:${cookieId}`.slice(0, 64);
  const basis = mode === 'ip' ? `ip|${ip}` : `ipua|${ip}|${userAgent}`;
  return createHash('sha256').update(basis).digest('base64url').slice(0, 43);
}

export const isUniqueVisit = (lastSeen: number | null, now: number, ttlHours: number) =>
  lastSeen === null || now - lastSeen >= ttlHours * 3_600_000;

/** The scopes uniqueness is decided for: the campaign, the flow and all campaigns at once. */
export const scopes = (campaignId: number, flowId: number | null) => ({
  campaign: `c${campaignId}`,
  flow: flowId === null ? null : `f${flowId}`,
  global: 'g',
});
