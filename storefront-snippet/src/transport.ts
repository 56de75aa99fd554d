/// <reference lib="dom" />
import { config } from './config.js';

export type Json = Record<string, unknown>;

/**
 * POSTs JSON as `text/plain` (a simple request: no CORS preflight) with the tracker's cookie.
 * Resolves to the JSON answer, or null on any failure; never rejects.
 */
export function post(path: string, body: string): Promise<Json | null> {
  try {
    return fetch(config.endpoint + path, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'text/plain' },
      keepalive: true,
      credentials: 'include',
    })
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null);
  } catch {
    return Promise.resolve(null);
  }
}

/** Sends when the answer is not needed: a beacon survives the page being closed. */
export function beacon(path: string, data: Json): void {
  const body = JSON.stringify(data);
  try {
    if (navigator.sendBeacon(config.endpoint + path, new Blob([body], { type: 'text/plain' }))) return;
  } catch {
    /* no beacon support, or refused: fall back to fetch */
  }
  void post(path, body);
}

/** A GET through an image (the impression pixel). */
export function pixel(path: string, query: URLSearchParams): void {
  new Image().src = config.endpoint + path + '?' + query.toString();
}
