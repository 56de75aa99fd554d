import { decimalText, type Units } from './money.js';

/** An amount for a macro, in units: printed with up to 4 decimals and no trailing zeros (SPEC §14). */
export interface MacroAmount {
  units: Units;
}

export const macroAmount = (units: Units): MacroAmount => ({ units });

/** A value computed only when the template names its macro (e.g. `{random}`). */
export type LazyMacro = () => string;

export type MacroValue = string | number | MacroAmount | LazyMacro | null | undefined;

/** A URL's scheme and authority (`https://user@host:port`), the part a macro must not write. */
const AUTHORITY = /^[^/?#]*:\/\/[^/?#]*/;

const MACRO = /\{([a-z0-9_]+)\}/gi;
/** One macro, for a test (a global pattern would keep its place between calls). */
const ANY_MACRO = new RegExp(MACRO.source, 'i');

/** Whether a URL template has a `{macro}` in its scheme or host (refused when stored). */
export const macroInAuthority = (template: string): boolean => ANY_MACRO.test(AUTHORITY.exec(template)?.[0] ?? '');

/**
 * `{macro}` placeholders in URLs the merchant stores (landing and offer URLs, postback URLs):
 * replaced with URL-encoded values. A macro whose value is `undefined` stays as written (it is
 * not one Affix knows); `null` becomes empty. Amounts come as MacroAmount, so every macro prints
 * them the same way ("12.345", "10"). Only the path, query and fragment are filled: a value
 * written into the host (`https://shop.example{sub_id_1}` with `.evil.example`) would choose
 * where the visitor or a postback goes, so a macro in the scheme or host stays as written.
 */
export function fillMacros(template: string, values: Record<string, MacroValue>): string {
  const fixed = AUTHORITY.exec(template)?.[0] ?? '';
  return (
    fixed +
    template.slice(fixed.length).replace(MACRO, (whole, name: string) => {
      const key = name.toLowerCase();
      // Own keys only: `{constructor}` or `{__proto__}` are not macros Affix knows.
      const v = Object.hasOwn(values, key) ? values[key] : undefined;
      if (v === undefined) return whole;
      const text =
        v === null ? '' : typeof v === 'function' ? v() : typeof v === 'object' ? decimalText(v.units) : String(v);
      return encodeURIComponent(text);
    })
  );
}

/**
 * What Keitaro's macros name beyond the click's ids (SPEC §14): `{campaign_name}`, `{os}`,
 * `{browser}`, `{language}`, `{referrer}`, `{keyword}`, `{landing_id}` and `{offer_id}` (the
 * landing's and offer's position in the flow, from 1), `{date}` (YYYY-MM-DD in the report zone),
 * `{random}`, `{user_agent}`, `{device_type}`. A macro with no value for this event prints empty.
 */
export interface KeitaroMacroFacts {
  campaignName?: string | null;
  os?: string | null;
  browser?: string | null;
  language?: string | null;
  referrer?: string | null;
  keyword?: string | null;
  /** 0-based positions as stored; printed from 1. */
  landingIndex?: number | null;
  offerIndex?: number | null;
  /** The event's day in the report time zone. */
  date: string;
  /** A random source for `{random}`, drawn from only when the template names it. */
  random: () => number;
  userAgent?: string | null;
  deviceType?: string | null;
}

/** A 0-based position printed from 1. */
const position = (i: number | null | undefined) => (i === null || i === undefined ? null : i + 1);
/** `{random}`: drawn only when a template names it. */
const randomMacro =
  (random: () => number): LazyMacro =>
  () =>
    String(Math.floor(random() * 1_000_000_000));

export function keitaroMacros(k: KeitaroMacroFacts): Record<string, MacroValue> {
  return {
    campaign_name: k.campaignName ?? null,
    os: k.os ?? null,
    browser: k.browser ?? null,
    language: k.language ?? null,
    referrer: k.referrer ?? null,
    keyword: k.keyword ?? null,
    landing_id: position(k.landingIndex),
    offer_id: position(k.offerIndex),
    date: k.date,
    random: randomMacro(k.random),
    user_agent: k.userAgent ?? null,
    device_type: k.deviceType ?? null,
  };
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
  /** Keitaro's further macros (SPEC §14); without them only the ones above are known. */
  keitaro?: KeitaroMacroFacts;
}

/**
 * The macros of landing and offer URLs (SPEC §7.2) for one click. One object literal of a fixed
 * shape (this runs for every campaign-URL visit): a macro without a value for this click is
 * undefined, which fillMacros leaves as written, as if the key were absent.
 */
export function clickMacros(c: ClickMacroFacts): Record<string, MacroValue> {
  const k = c.keitaro;
  const s = c.subIds;
  return {
    campaign_name: k && (k.campaignName ?? null),
    os: k && (k.os ?? null),
    browser: k && (k.browser ?? null),
    language: k && (k.language ?? null),
    referrer: k && (k.referrer ?? null),
    keyword: k && (k.keyword ?? null),
    landing_id: k && position(k.landingIndex),
    offer_id: k && position(k.offerIndex),
    date: k?.date,
    random: k && randomMacro(k.random),
    user_agent: k && (k.userAgent ?? null),
    device_type: k && (k.deviceType ?? null),
    subid: c.subid,
    campaign_id: c.campaignId,
    flow_id: c.flowId,
    affiliate_id: c.affiliateId,
    source: c.source,
    cost: macroAmount(c.cost),
    country: c.country,
    ip: c.ip,
    external_id: c.externalId,
    sub_id_1: s.sub_id_1 ?? null,
    sub_id_2: s.sub_id_2 ?? null,
    sub_id_3: s.sub_id_3 ?? null,
    sub_id_4: s.sub_id_4 ?? null,
    sub_id_5: s.sub_id_5 ?? null,
    sub_id_6: s.sub_id_6 ?? null,
    sub_id_7: s.sub_id_7 ?? null,
    sub_id_8: s.sub_id_8 ?? null,
    sub_id_9: s.sub_id_9 ?? null,
    sub_id_10: s.sub_id_10 ?? null,
    sub_id_11: s.sub_id_11 ?? null,
    sub_id_12: s.sub_id_12 ?? null,
    sub_id_13: s.sub_id_13 ?? null,
    sub_id_14: s.sub_id_14 ?? null,
    sub_id_15: s.sub_id_15 ?? null,
  };
}

/** A sale's or action's commission as its affiliate's `postbackUrl` prints it (SPEC §7.6). */
export interface SaleCommissionMacroFacts {
  commissionId: number;
  saleId: number;
  orderId: string | null;
  kind: 'sale' | 'action';
  campaignId: number;
  campaignName: string | null;
  affiliateId: number;
  channel: string | null;
  /** The commission in units of the base currency. */
  amount: Units;
  currency: string;
  status: string;
  /** The sale's day in the report time zone. */
  day: string;
  /** A random source for `{random}`. */
  random: () => number;
}

/** The macros of an affiliate's postback URL for a sale's commission. */
export function saleCommissionMacros(c: SaleCommissionMacroFacts): Record<string, MacroValue> {
  return {
    // A sale names no click: the click's macros ({os}, {browser}, …) print empty.
    ...keitaroMacros({ campaignName: c.campaignName, date: c.day, random: c.random }),
    commission_id: c.commissionId,
    sale_id: c.saleId,
    order_id: c.orderId,
    amount: macroAmount(c.amount),
    commission: macroAmount(c.amount),
    currency: c.currency,
    status: c.status,
    campaign_id: c.campaignId,
    affiliate_id: c.affiliateId,
    channel: c.channel,
    kind: c.kind,
  };
}
