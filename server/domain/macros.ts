import { decimalText, type Units } from './money.js';

/** An amount for a macro, in units: printed with up to 4 decimals and no trailing zeros (SPEC §14). */
export interface MacroAmount {
  units: Units;
}

export const macroAmount = (units: Units): MacroAmount => ({ units });

export type MacroValue = string | number | MacroAmount | null | undefined;

/**
 * `{macro}` placeholders in URLs the merchant stores (landing and offer URLs, postback URLs):
 * replaced with URL-encoded values. A macro whose value is `undefined` stays as written (it is
 * not one Affix knows); `null` becomes empty. Amounts come as MacroAmount, so every macro prints
 * them the same way ("12.345", "10").
 */
export function fillMacros(template: string, values: Record<string, MacroValue>): string {
  return template.replace(/\{([a-z0-9_]+)\}/gi, (whole, name: string) => {
    const key = name.toLowerCase();
    // Own keys only: `{constructor}` or `{__proto__}` are not macros Affix knows.
    const v = Object.hasOwn(values, key) ? values[key] : undefined;
    if (v === undefined) return whole;
    return encodeURIComponent(v === null ? '' : typeof v === 'object' ? decimalText(v.units) : String(v));
  });
}

export interface ClickMacroFacts {
  subid: string;
  campaignId: number;
  flowId: number | null;
  affiliateId: number | null;
  source: string | null;
  /** The click's cost in units of the base currency. */
  cost: Units;
  country: string | null;
  ip: string | null;
  externalId: string | null;
  subIds: Record<string, string>;
}

/** The macros of landing and offer URLs (SPEC §7.2) for one click. */
export function clickMacros(c: ClickMacroFacts): Record<string, MacroValue> {
  const values: Record<string, MacroValue> = {
    subid: c.subid,
    campaign_id: c.campaignId,
    flow_id: c.flowId,
    affiliate_id: c.affiliateId,
    source: c.source,
    cost: macroAmount(c.cost),
    country: c.country,
    ip: c.ip,
    external_id: c.externalId,
  };
  for (let n = 1; n <= 15; n++) values[`sub_id_${n}`] = c.subIds[`sub_id_${n}`] ?? null;
  return values;
}
