/**
 * A small HTTP client for tests: JSON calls with an optional bearer token, and an `Agent`
 * that keeps cookies like a browser for the admin's form flows.
 */
export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as-is (no JSON encoding), e.g. malformed JSON. */
  raw?: string;
  token?: string;
  headers?: Record<string, string>;
}

export async function request<T = any>(
  base: string,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) {
    body = opts.raw;
    headers['content-type'] ??= 'application/json';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** An API client bound to one base URL and token. */
export function api(base: string, token?: string) {
  const call = <T = any>(
    method: string,
    path: string,
    body?: unknown,
    extra: Omit<RequestOptions, 'body' | 'token'> = {},
  ) => request<T>(base, method, `/api/v1${path}`, { ...extra, body, token });
  return {
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body?: unknown) => call<T>('POST', path, body ?? {}),
    patch: <T = any>(path: string, body?: unknown) => call<T>('PATCH', path, body ?? {}),
    delete: <T = any>(path: string) => call<T>('DELETE', path),
    raw: call,
  };
}

/** Signs in through the API and returns a bearer token. */
export async function tokenFor(base: string, email: string, password: string): Promise<string> {
  const res = await request<{ token: string }>(base, 'POST', '/api/v1/auth/token', { body: { email, password } });
  if (res.status !== 200) throw new Error(`token for ${email}: ${res.status} ${res.text}`);
  return res.body.token;
}

/** The `_csrf` value of the first form in a page, or null. */
const pageCsrfToken = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? null;

/**
 * A cookie-keeping client that behaves like a browser without JavaScript. Like a browser it
 * repeats the CSRF token of the last page it was shown (a new session means a new token).
 */
export class Agent {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page seen in the current session (null: fetch a page first). */
  csrfToken: string | null = null;
  constructor(private readonly base: string) {}

  private store(res: Response, text: string): void {
    const session = this.cookies.get('affix_session');
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    if (this.cookies.get('affix_session') !== session) this.csrfToken = null;
    const token = pageCsrfToken(text);
    // A page rendered before the session changed carries the old session's token.
    if (token && this.cookies.get('affix_session') === session) this.csrfToken = token;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string): Promise<{ status: number; text: string; location: string | null }> {
    const res = await fetch(this.base + path, {
      headers: { cookie: this.cookieHeader(), accept: 'text/html' },
      redirect: 'manual',
    });
    const text = await res.text();
    this.store(res, text);
    return { status: res.status, text, location: res.headers.get('location') };
  }

  /** The current CSRF token: from the last page, else from the area's start page (following its redirects). */
  async currentCsrfToken(path: string): Promise<string> {
    if (this.csrfToken) return this.csrfToken;
    let next: string | null = path.startsWith('/portal') ? '/portal' : '/admin';
    for (let hops = 0; next && hops < 4 && !this.csrfToken; hops++) next = (await this.get(next)).location;
    return this.csrfToken ?? '';
  }

  /** Posts a urlencoded form; the page's CSRF token is added unless `csrf: false` (or a given string). */
  async post(path: string, fields: Record<string, string | string[]>, opts: { csrf?: boolean | string } = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
    if (opts.csrf !== false)
      params.set('_csrf', typeof opts.csrf === 'string' ? opts.csrf : await this.currentCsrfToken(path));
    const res = await fetch(this.base + path, {
      method: 'POST',
      headers: {
        cookie: this.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/html',
      },
      body: params.toString(),
      redirect: 'manual',
    });
    const text = await res.text();
    this.store(res, text);
    return { status: res.status, text, location: res.headers.get('location') };
  }
}

/** A desktop Chrome user agent: a real browser, not a bot, for the fraud rules and the device dimensions. */
export const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** The same Chrome on Linux. */
export const CHROME_LINUX =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** Chrome on Linux with a version of its own: one more distinct browser (a new visitor) for each n. */
export const browserUa = (n: number) =>
  `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.${n}.0 Safari/537.36`;

/** Safari on an iPhone: a mobile device for the device dimensions. */
export const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** Google's crawler: a bot by its user agent. */
export const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

export const OWNER = { email: 'owner@example.com', password: 'correct horse battery' };

/** Creates the owner through the setup page and returns a signed-in agent. */
export async function setupOwner(base: string): Promise<Agent> {
  const agent = new Agent(base);
  await agent.get('/admin/setup');
  const res = await agent.post('/admin/setup', { name: 'Olivia Owner', ...OWNER });
  if (res.status !== 302) throw new Error(`setup failed: ${res.status} ${res.text.slice(0, 300)}`);
  return agent;
}
