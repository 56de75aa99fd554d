import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import Cookies from 'cookies';
import accepts from 'accepts';
import encodeUrl from 'encodeurl';
import escapeHtml from 'escape-html';
import type { HttpServices } from './context.js';
import type { ResolvedTrust } from './client-ip.js';
import { clientAddress } from './client-ip.js';

/**
 * What the hot tracking handlers (`POST /t/click`, `/t/sale`, `/t/action`, `GET /r`,
 * `GET /<alias>`) read and write of a request: a small part of Koa's context. Koa's context has
 * every member with the same meaning, so the handlers are the same code on both; the lean front
 * (hot-front.ts) answers them with a `LeanExchange` instead, which costs a fraction of Koa's
 * request and response objects, middleware chain and router.
 */
export interface Exchange {
  readonly services: HttpServices;
  readonly req: IncomingMessage;
  readonly method: string;
  readonly path: string;
  readonly query: ParsedUrlQuery;
  readonly ip: string;
  readonly secure: boolean;
  readonly host: string;
  readonly href: string;
  readonly request: { body?: unknown };
  readonly cookies: {
    get(name: string): string | undefined;
    set(name: string, value: string, opts: Cookies.SetOption): unknown;
  };
  get(header: string): string;
  accepts(...types: string[]): string | false;
  set(header: string, value: string): void;
  vary(header: string): void;
  redirect(url: string): void;
  status: number;
  body: unknown;
  type: string;
}

/** Koa's content types for the short names the handlers use. */
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

/** The first of comma-separated header values, trimmed (as Koa reads X-Forwarded-*). */
const firstValue = (v: string) => {
  const comma = v.indexOf(',');
  return (comma === -1 ? v : v.slice(0, comma)).trim();
};

/** The statuses Koa keeps for a redirect (any other becomes 302). */
const REDIRECTS = new Set([300, 301, 302, 303, 305, 307, 308]);

/** How the lean front reads the proxy headers: the trust of the config, resolved once. */
export interface LeanTrust {
  resolved: ResolvedTrust;
  /** Any proxy trusted at all (Koa's `app.proxy`): X-Forwarded-Proto/Host may count. */
  proxy: boolean;
}

/**
 * One request answered without Koa, with the same meaning for each member as Koa's (client
 * address by `clientAddress`, protocol and host from trusted proxy headers only, cookies by the
 * `cookies` library Koa uses, the same answer to a JSON, text or HTML body and to a redirect).
 */
export class LeanExchange implements Exchange {
  readonly request: { body?: unknown } = {};
  readonly ip: string;
  private readonly viaProxy: boolean;
  private queryCache: ParsedUrlQuery | null = null;
  private cookieJar: Cookies | null = null;
  private statusSet = false;
  private statusCode = 404;
  private bodyValue: unknown = undefined;
  private contentType = '';

  constructor(
    readonly services: HttpServices,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly path: string,
    private readonly querystring: string,
    private readonly trust: LeanTrust,
  ) {
    const { ip, viaProxy } = clientAddress(req.socket.remoteAddress ?? '', this.get('X-Forwarded-For'), trust.resolved);
    this.ip = ip;
    this.viaProxy = viaProxy;
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get(header: string): string {
    const name = header.toLowerCase();
    const headers = this.req.headers;
    const value = name === 'referer' || name === 'referrer' ? headers.referrer || headers.referer : headers[name];
    return (Array.isArray(value) ? value.join(', ') : value) || '';
  }

  /** A forwarded header, only from a trusted proxy (clientIp drops it otherwise). */
  private forwarded(header: 'x-forwarded-proto' | 'x-forwarded-host'): string {
    if (!this.trust.proxy || (!this.viaProxy && this.trust.resolved.kind !== 'none')) return '';
    return this.get(header);
  }

  get secure(): boolean {
    if ((this.req.socket as { encrypted?: boolean }).encrypted) return true;
    const proto = this.forwarded('x-forwarded-proto');
    return proto !== '' && firstValue(proto).toLowerCase() === 'https';
  }

  get host(): string {
    const raw = this.forwarded('x-forwarded-host') || this.get('Host');
    if (!raw) return '';
    const host = firstValue(raw);
    if (!host.includes('@')) return host;
    try {
      return new URL(`http://${host}`).host;
    } catch {
      return '';
    }
  }

  get href(): string {
    const url = this.req.url ?? '/';
    if (/^https?:\/\//i.test(url)) return url;
    return `${this.secure ? 'https' : 'http'}://${this.host}${url}`;
  }

  get query(): ParsedUrlQuery {
    return (this.queryCache ??= parseQuery(this.querystring));
  }

  get cookies(): Cookies {
    return (this.cookieJar ??= new Cookies(this.req, this.res, { secure: this.secure }));
  }

  accepts(...types: string[]): string | false {
    return accepts(this.req).types(...types) as string | false;
  }

  set(header: string, value: string): void {
    this.res.setHeader(header, value);
  }

  vary(header: string): void {
    const current = this.res.getHeader('Vary');
    if (!current) this.res.setHeader('Vary', header);
    else if (
      !String(current)
        .split(/\s*,\s*/)
        .includes(header)
    )
      this.res.setHeader('Vary', `${String(current)}, ${header}`);
  }

  get status(): number {
    return this.statusCode;
  }

  set status(code: number) {
    this.statusSet = true;
    this.statusCode = code;
  }

  get body(): unknown {
    return this.bodyValue;
  }

  set body(value: unknown) {
    this.bodyValue = value;
    if (!this.statusSet) this.statusCode = 200;
  }

  get type(): string {
    return this.contentType;
  }

  set type(value: string) {
    this.contentType = TYPES[value] ?? value;
  }

  /** As Koa's: Location encoded, 302 unless a redirect status is set, a short text or HTML body. */
  redirect(url: string): void {
    const location = /^https?:\/\//i.test(url) ? new URL(url).toString() : url;
    this.set('Location', encodeUrl(location));
    if (!REDIRECTS.has(this.statusCode)) this.status = 302;
    if (this.accepts('html')) {
      this.type = 'html';
      this.body = `Redirecting to ${escapeHtml(location)}.`;
      return;
    }
    this.type = 'text';
    this.body = `Redirecting to ${location}.`;
  }

  /** Writes the answer: JSON for an object, text or HTML for a string (as Koa does). */
  respond(): void {
    const res = this.res;
    res.statusCode = this.statusCode;
    const body = this.bodyValue;
    if (body === undefined || body === null || this.statusCode === 204 || this.statusCode === 304) {
      res.end();
      return;
    }
    let text: string;
    if (typeof body === 'string') {
      text = body;
      if (!this.contentType) this.contentType = /^\s*</.test(text) ? TYPES.html! : TYPES.text!;
    } else {
      text = JSON.stringify(body);
      if (!this.contentType) this.contentType = TYPES.json!;
    }
    res.setHeader('Content-Type', this.contentType);
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  }
}
