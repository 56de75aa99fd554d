/// <reference lib="dom" />
import { config } from './config.js';
import { readCookie, readStore, writeCookie, writeStore } from './storage.js';
import { tagShopifyCart } from './shopify.js';

/*
 * The visitor id (SPEC §4.1, §4.3) and the visitor's consent (GDPR mode). Before consent in
 * GDPR mode nothing is written; ids are only read, and kept in memory until consent comes.
 */

const VID = 'affix_vid';
const CONSENT = 'affix_consent';
const ID = /^[\w-]{16,64}$/;
const YEAR_DAYS = 365;

export const validId = (v: unknown): string | null => (typeof v === 'string' && ID.test(v) ? v : null);

/** A query parameter of the current page. */
export const urlParam = (name: string): string | null => new URLSearchParams(location.search).get(name);

/** null = not decided yet; read from the stored consent on load. */
let consent: boolean | null = null;
let id: string | null = null;
/** The id found before consent, used once consent is given. */
let candidate: string | null = null;

/** Whether the snippet may store ids and send clicks. */
export const allowed = (): boolean => (config.gdpr ? consent === true : consent !== false);

export const visitorId = (): string | null => id;

/** Stores the id in the cookie (refreshing its lifetime) and in localStorage, and on a Shopify store in the cart. */
export function remember(value: string): void {
  if (!allowed()) {
    candidate = value;
    return;
  }
  id = value;
  writeCookie(VID, value, Math.max(YEAR_DAYS, config.cookieDays));
  writeStore(VID, value);
  tagShopifyCart(value);
}

/**
 * Reads the id on load. The id a redirect link appended to this URL comes first: it is the one
 * the click that brought the visitor here was recorded under. Then the cookie, then localStorage.
 */
export function loadVisitor(): void {
  if (readCookie(CONSENT) === '1' || readStore(CONSENT) === '1') consent = true;
  const found = validId(urlParam(VID)) ?? validId(readCookie(VID)) ?? validId(readStore(VID));
  if (found) remember(found);
}

/** `affix('consent', true|false)`. */
export function setConsent(value: boolean): void {
  consent = value;
  if (value) {
    writeCookie(CONSENT, '1', YEAR_DAYS);
    writeStore(CONSENT, '1');
    if (candidate) remember(candidate);
  } else {
    writeCookie(VID, '', 0);
    writeCookie(CONSENT, '', 0);
    writeStore(VID, null);
    writeStore(CONSENT, null);
    if (id) tagShopifyCart('');
    id = candidate = null;
  }
}
