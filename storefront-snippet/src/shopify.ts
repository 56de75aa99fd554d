/// <reference lib="dom" />
import { readCookie, readStore, writeStore } from './storage.js';

/*
 * A Shopify order carries no visitor id of its own: on a Shopify store the snippet writes it into
 * the cart attribute `affix_vid`, which Shopify copies into the order's note_attributes for the
 * orders/paid webhook (SPEC §14). Once per visitor id and cart (the `cart` cookie): after a
 * checkout Shopify starts a new cart, which is tagged again. An empty id (consent withdrawn)
 * clears the attribute.
 */

const SENT = 'affix_cart';
const cartKey = (id: string) => id + '|' + (readCookie('cart') || '');

export function tagShopifyCart(id: string): void {
  try {
    const shopify = (window as unknown as { Shopify?: { routes?: { root?: string } } }).Shopify;
    if (!shopify || readStore(SENT) === cartKey(id)) return;
    const body = new URLSearchParams();
    body.set('attributes[affix_vid]', id);
    fetch(((shopify.routes && shopify.routes.root) || '/') + 'cart/update.js', {
      method: 'POST',
      body,
      credentials: 'same-origin',
    })
      // The key is read after the answer: the first update creates the cart and its cookie.
      .then((r) => r.ok && writeStore(SENT, id ? cartKey(id) : null))
      .catch(() => {});
  } catch {
    /* never into the page */
  }
}
