import { createHmac, timingSafeEqual } from 'node:crypto';
import Stripe from 'stripe';

/*
 * How each store platform signs its webhooks (SPEC §14), checked on the body's exact bytes.
 * Stripe: the official library (`Stripe-Signature`: timestamp and HMAC, 5 minutes' tolerance).
 * Shopify (`X-Shopify-Hmac-Sha256`) and WooCommerce (`X-WC-Webhook-Signature`): base64
 * HMAC-SHA256 of the body with the secret, compared in constant time.
 */

export type SignatureCheck<T = undefined> = { ok: true; value: T } | { ok: false; reason: string };

/** Verifies and parses a Stripe event; `invalidJson` when the signed body is not JSON. */
export function verifyStripe(
  rawBody: Buffer,
  header: string | undefined,
  secret: string,
  nowMs: number,
): SignatureCheck<unknown> | { ok: false; invalidJson: true } {
  if (!secret) return { ok: false, reason: 'no Stripe signing secret is set in the integrations plugin' };
  if (!header) return { ok: false, reason: 'the Stripe-Signature header is missing' };
  try {
    return { ok: true, value: Stripe.webhooks.constructEvent(rawBody, header, secret, undefined, undefined, nowMs) };
  } catch (err) {
    // The signature held but the body is not JSON: constructEvent parses after verifying.
    if (err instanceof SyntaxError) return { ok: false, invalidJson: true };
    const message = err instanceof Error ? err.message.split('\n')[0]?.trim() : '';
    return { ok: false, reason: `Stripe-Signature does not verify: ${message || 'invalid'}` };
  }
}

/** Shopify's and WooCommerce's scheme: the header is base64(HMAC-SHA256(secret, body)). */
export function verifyBase64Hmac(
  rawBody: Buffer,
  header: string | undefined,
  secret: string,
  headerName: string,
): SignatureCheck {
  if (!secret) return { ok: false, reason: 'no signing secret is set for this platform in the integrations plugin' };
  if (!header) return { ok: false, reason: `the ${headerName} header is missing` };
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(header.trim(), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: `${headerName} does not match the body signed with the secret` };
  return { ok: true, value: undefined };
}
