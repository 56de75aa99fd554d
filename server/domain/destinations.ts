/**
 * Where an affiliate link leads (SPEC §4.2, §10a). The destination is always a URL the merchant
 * stored: the banner's, else the campaign's, else the site URL setting. The request only adds
 * query parameters to it; it never replaces one the merchant put in the stored URL.
 */

export interface StoredDestinations {
  banner: string | null | undefined;
  campaign: string | null | undefined;
  siteUrl: string | null | undefined;
}

/** The stored URL the link leads to, or null when the merchant has set none. */
export function linkDestination(stored: StoredDestinations): string | null {
  return stored.banner ?? stored.campaign ?? stored.siteUrl ?? null;
}

/**
 * The destination with the link's parameters added (those the stored URL does not already carry)
 * and the visitor id as `affix_vid`, so the storefront snippet can bind the visit.
 */
export function withLinkParams(destination: string, params: Record<string, string>, visitorId: string): string {
  const target = new URL(destination);
  for (const [k, v] of Object.entries(params)) if (!target.searchParams.has(k)) target.searchParams.set(k, v);
  target.searchParams.set('affix_vid', visitorId);
  return target.href;
}
