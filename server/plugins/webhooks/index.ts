import { randomUUID } from 'node:crypto';
import { MAX_OUTGOING_URLS, type AffixPlugin, type Logger } from '../types.js';
import type { BuiltinDeps } from '../contract.js';
import type { OutboxEvent, OutboxMessage } from '../../services/outbox.js';
import { sign } from '../../services/signature.js';

/** Every event the outbox emits (SPEC §7.6); the `events` setting may name only these. */
export const WEBHOOK_EVENTS: readonly OutboxEvent[] = [
  'commission.created',
  'commission.approved',
  'commission.declined',
  'commission.reversed',
  'conversion.created',
];

export const SIGNATURE_HEADER = 'X-Affix-Signature';
export const EVENT_HEADER = 'X-Affix-Event';

/** The JSON body of every webhook request. */
export interface WebhookBody {
  /** The event's id: the same in the request to each URL and in every retry. */
  id: string;
  event: OutboxEvent;
  /** When the event happened (ISO 8601, UTC). */
  createdAt: string;
  data: Record<string, unknown>;
}

interface WebhookSettings {
  urls: string[];
  secret: string;
  events: string[];
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

function read(settings: Record<string, unknown>): WebhookSettings {
  return {
    urls: strings(settings.urls),
    secret: typeof settings.secret === 'string' ? settings.secret : '',
    events: strings(settings.events),
  };
}

const isHttpUrl = (v: string): boolean => {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

/**
 * Webhooks (SPEC §7.6): every event, or the ones chosen, is POSTed as JSON to each configured
 * URL through the outbox, so it is written in the event's transaction and retried with back-off.
 *
 * Signing: `X-Affix-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>` as for
 * server-to-server sales (SPEC §4.2). The body is signed when the row is written AND signed
 * again by the `outbox.request` filter just before each attempt, with the secret of that moment.
 * Why both: retries run for hours (back-off up to 1 h, 12 attempts), while a receiver rejects a
 * timestamp more than 5 minutes away from its clock, so only a send-time signature verifies on a
 * retry, and a rotated secret applies to what is still queued. The write-time signature stays in
 * the row as the fallback sent when the plugin is inactive at delivery (then only a prompt first
 * attempt verifies). The stored body never contains the secret.
 */
export function createWebhooks(deps: Pick<BuiltinDeps, 'clock'>): AffixPlugin {
  return {
    name: 'webhooks',
    title: 'Webhooks',
    description:
      'POSTs commission and conversion events as signed JSON to your endpoints, with retries. Verify X-Affix-Signature like a server-to-server sale signature; de-duplicate with X-Affix-Delivery.',
    settings: [
      {
        key: 'urls',
        label: 'Endpoint URLs',
        type: 'string[]',
        default: [],
        help: `Each event is POSTed to every http(s) URL here (at most ${MAX_OUTGOING_URLS}, each once). Only public addresses: no loopback, private or link-local ones.`,
        outgoingUrl: true,
      },
      {
        key: 'secret',
        label: 'Signing secret',
        type: 'string',
        default: '',
        secret: true,
        help: 'Signs every request: X-Affix-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>. Without a secret requests go out unsigned.',
      },
      {
        key: 'events',
        label: 'Events',
        type: 'string[]',
        default: [],
        // A misspelled event would otherwise be kept and silently turn every webhook off.
        options: [...WEBHOOK_EVENTS],
        help: `Empty sends all: ${WEBHOOK_EVENTS.join(', ')}.`,
      },
    ],
    register(hooks, ctx) {
      const warned = new Set<string>();
      const warnOnce = (log: Logger, key: string, fields: object, msg: string) => {
        if (warned.has(key)) return;
        warned.add(key);
        log.warn(fields, msg);
      };

      hooks.addFilter('outbox.messages', (messages, event, payload) => {
        const s = read(ctx.settings());
        if (!s.urls.length) return messages;
        if (s.events.length && !s.events.includes(event)) return messages;
        const urls = [...new Set(s.urls.map((u) => u.trim()))].filter((u) => {
          if (isHttpUrl(u)) return true;
          warnOnce(ctx.log, `url:${u}`, { url: u }, 'webhook URL is not an http(s) URL; skipped');
          return false;
        });
        if (!urls.length) return messages;
        if (!s.secret) warnOnce(ctx.log, 'secret', {}, 'webhooks have no signing secret; requests go out unsigned');
        const now = deps.clock();
        const body: WebhookBody = { id: randomUUID(), event, createdAt: new Date(now).toISOString(), data: payload };
        const text = JSON.stringify(body);
        const headers: Record<string, string> = { 'Content-Type': 'application/json', [EVENT_HEADER]: event };
        if (s.secret) headers[SIGNATURE_HEADER] = sign(s.secret, text, Math.floor(now / 1000));
        return [
          ...messages,
          ...urls.map((url): OutboxMessage => ({
            channel: 'webhook',
            method: 'POST',
            url,
            headers: { ...headers },
            body: text,
          })),
        ];
      });

      // Re-sign at send time (see above). Only this plugin's rows: webhook channel with our event header.
      hooks.addFilter('outbox.request', (req, delivery) => {
        if (delivery.channel !== 'webhook' || req.body === null || !(EVENT_HEADER in req.headers)) return req;
        const { secret } = read(ctx.settings());
        if (!secret) return req;
        return {
          ...req,
          headers: { ...req.headers, [SIGNATURE_HEADER]: sign(secret, req.body, Math.floor(delivery.now / 1000)) },
        };
      });
    },
  };
}
