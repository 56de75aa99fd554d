import http from 'node:http';
import { CHROME_LINUX } from './http.js';

/** What a visitor's GET came back with. */
export interface Visit {
  status: number;
  location: string | null;
  body: string;
  setCookies: string[];
}

export interface VisitOptions {
  /** The Host header (campaign URLs are chosen by it); default the tracker's own address. */
  host?: string;
  /** The visitor's address, sent as X-Forwarded-For (the test app trusts the proxy). */
  ip?: string;
  ua?: string;
  cookie?: string;
}

/** A GET through node:http, so the Host header can be chosen (fetch does not allow it). */
export function visit(baseUrl: string, path: string, o: VisitOptions = {}): Promise<Visit> {
  const port = Number(new URL(baseUrl).port);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: o.host ?? `127.0.0.1:${port}`, 'user-agent': o.ua ?? CHROME_LINUX };
    if (o.ip) headers['x-forwarded-for'] = o.ip;
    if (o.cookie) headers.cookie = o.cookie;
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location ?? null,
          body: Buffer.concat(chunks).toString('utf8'),
          setCookies: res.headers['set-cookie'] ?? [],
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A query parameter of a redirect's Location. */
export const paramOf = (location: string | null, name: string): string | null =>
  location ? new URL(location).searchParams.get(name) : null;
