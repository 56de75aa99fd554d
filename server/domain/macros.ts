/**
 * `{macro}` placeholders in URLs the merchant stores (landing and offer URLs, postback URLs):
 * replaced with URL-encoded values. A macro whose value is `undefined` stays as written (it is
 * not one Affix knows); `null` becomes empty.
 */
export function fillMacros(template: string, values: Record<string, string | number | null | undefined>): string {
  return template.replace(/\{([a-z0-9_]+)\}/gi, (whole, name: string) => {
    const key = name.toLowerCase();
    // Own keys only: `{constructor}` or `{__proto__}` are not macros Affix knows.
    const v = Object.hasOwn(values, key) ? values[key] : undefined;
    return v === undefined ? whole : encodeURIComponent(v === null ? '' : String(v));
  });
}

export interface ClickMacroFacts {
  subid: string;
  campaignId: number;
  flowId: number | null;
  affiliateId: number | null;
  source: string | null;
  /** Already formatted, e.g. "0.0500". */
  cost: string;
  country: string | null;
  ip: string | null;
  externalId: string | null;
  subIds: Record<string, string>;
}

/** The macros of landing and offer URLs (SPEC §7.2) for one click. */
export function clickMacros(c: ClickMacroFacts): Record<string, string | number | null> {
  const values: Record<string, string | number | null> = {
    subid: c.subid,
    campaign_id: c.campaignId,
    flow_id: c.flowId,
    affiliate_id: c.affiliateId,
    source: c.source,
    cost: c.cost,
    country: c.country,
    ip: c.ip,
    external_id: c.externalId,
  };
  for (let n = 1; n <= 15; n++) values[`sub_id_${n}`] = c.subIds[`sub_id_${n}`] ?? null;
  return values;
}
