import { createRequire } from 'node:module';

/** Country of an IP from the GeoIP database shipped in the geoip-country package (no download at run time). */
const require = createRequire(import.meta.url);
const geoip = require('geoip-country') as { lookup(ip: string): { country: string } | null };

export function countryOf(ip: string | null | undefined): string | null {
  if (!ip) return null;
  try {
    return geoip.lookup(ip.replace(/^::ffff:/, ''))?.country ?? null;
  } catch {
    return null;
  }
}
