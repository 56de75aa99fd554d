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

/** A cookie-keeping client that behaves like a browser without JavaScript. */
export class Agent {
  readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  private store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string): Promise<{ status: number; text: string; location: string | null }> {
    const res = await fetch(this.base + path, {
      headers: { cookie: this.cookieHeader(), accept: 'text/html' },
      redirect: 'manual',
    });
    this.store(res);
    return { status: res.status, text: await res.text(), location: res.headers.get('location') };
  }

  /** Posts a urlencoded form; the CSRF token from the cookie is added unless `csrf: false`. */
  async post(path: string, fields: Record<string, string | string[]>, opts: { csrf?: boolean | string } = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
    if (opts.csrf !== false)
      params.set('_csrf', typeof opts.csrf === 'string' ? opts.csrf : (this.cookies.get('affix_csrf') ?? ''));
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
    this.store(res);
    return { status: res.status, text: await res.text(), location: res.headers.get('location') };
  }
}

export const OWNER = { email: 'owner@example.com', password: 'correct horse battery' };

/** Creates the owner through the setup page and returns a signed-in agent. */
export async function setupOwner(base: string): Promise<Agent> {
  const agent = new Agent(base);
  await agent.get('/admin/setup');
  const res = await agent.post('/admin/setup', { name: 'Olivia Owner', ...OWNER });
  if (res.status !== 302) throw new Error(`setup failed: ${res.status} ${res.text.slice(0, 300)}`);
  return agent;
}
