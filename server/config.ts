import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** The environment of SPEC §11 as one typed, validated object. Defaults give a working SQLite setup. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  database: DatabaseTarget;
  publicUrl: string | null;
  secret: string | null;
  ownerEmail: string | null;
  ownerPassword: string | null;
  pluginsDir: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Let postbacks and webhooks reach loopback, private and link-local addresses (a closed network; SPEC §10a). */
  allowPrivateTargets: boolean;
  /** Which reverse proxies in front of Affix may say who the client is (X-Forwarded-For). */
  trustProxy: ProxyTrust;
  /** Limits of the HTTP server: held connections must not exhaust it. */
  http: HttpLimits;
  /**
   * Server processes on this host (node cluster, SPEC §16): 1 = no cluster; `WORKERS=0` is one
   * per core.
   */
  workers: number;
  /** Redis for the shared counters and configuration changes (SPEC §16); null = the database. */
  redisUrl: string | null;
  /** Outgoing mail (SPEC §13): without `smtpUrl` mails are kept as `not_sent`. */
  mail: { smtpUrl: string | null; from: string };
  /** Prefix of Affix's Redis keys and channel, so several installations can share one Redis. */
  redisPrefix: string;
}

export interface HttpLimits {
  /** Open connections at most; more are refused at once (and idle keep-alive ones give way near it). */
  maxConnections: number;
  /** Time for a client to send the request headers. */
  headersTimeoutMs: number;
  /** Time for a client to send the whole request, body included. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open after an answer. */
  keepAliveTimeoutMs: number;
}

/**
 * `none`: the socket peer is the client. `hops`: that many proxies of yours stand in front (the
 * peer is the nearest). `proxies`: only peers and hops in these addresses / CIDR ranges are proxies.
 */
export type ProxyTrust = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'proxies'; proxies: string[] };

export type DatabaseTarget =
  | { client: 'sqlite'; filename: string }
  | { client: 'mysql'; host: string; port: number; user: string; password: string; database: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** A whole number in [min, max] written in digits, with a default. */
const wholeNumber = (fallback: number, min: number, max: number) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .regex(/^\d{1,10}$/, `must be a whole number from ${min} to ${max}`)
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .default(fallback),
  );

const envSchema = z.object({
  // Digits only: Number() would also read "0x50" or "1e3" as a port.
  PORT: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .regex(/^\d{1,5}$/, 'must be a port number such as 3000')
      .transform(Number)
      .pipe(z.number().max(65535, 'must be at most 65535'))
      .default(3000),
  ),
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  DATABASE_URL: z.preprocess(emptyToUndefined, z.string().default('sqlite:data/affix.sqlite')),
  PUBLIC_URL: z.preprocess(
    emptyToUndefined,
    z.url({ protocol: /^https?$/, message: 'must be an http(s) URL such as https://track.example.com' }).optional(),
  ),
  AFFIX_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(32, 'must be at least 32 characters (or unset to generate one)').optional(),
  ),
  AFFIX_OWNER_EMAIL: z.preprocess(emptyToUndefined, z.email('must be an email address').optional()),
  AFFIX_OWNER_PASSWORD: z.preprocess(
    emptyToUndefined,
    z.string().min(10, 'must be at least 10 characters').max(200).optional(),
  ),
  PLUGINS_DIR: z.preprocess(emptyToUndefined, z.string().optional()),
  TRUST_PROXY: z.preprocess(emptyToUndefined, z.string().default('false').transform(parseProxyTrust)),
  HTTP_MAX_CONNECTIONS: wholeNumber(2000, 1, 1_000_000),
  HTTP_HEADERS_TIMEOUT_MS: wholeNumber(10_000, 100, 3_600_000),
  HTTP_REQUEST_TIMEOUT_MS: wholeNumber(30_000, 100, 3_600_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: wholeNumber(5_000, 100, 3_600_000),
  // 0 = one per core; at most 256 (a typo such as 1000 should not fork a thousand processes).
  WORKERS: wholeNumber(1, 0, 256),
  REDIS_URL: z.preprocess(
    emptyToUndefined,
    z
      .url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379' })
      .optional(),
  ),
  REDIS_PREFIX: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[\w:.-]{1,64}$/, 'must be 1-64 letters, digits or _ : . -')
      .default('affix:'),
  ),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  SMTP_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .refine(
        (v) => /^smtps?:\/\/[^/?#]/i.test(v) && URL.canParse(v),
        'must be smtp://user:pass@host:port or smtps://user:pass@host:port',
      )
      .optional(),
  ),
  MAIL_FROM: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .max(320)
      .refine(
        (v) => /^[^<>\r\n]*<[^<>@\s]+@[^<>@\s]+>$|^[^<>@\s\r\n]+@[^<>@\s\r\n]+$/.test(v),
        'must be an address such as affix@example.com or Shop <affix@example.com>',
      )
      .default('Affix <affix@localhost>'),
  ),
  AFFIX_ALLOW_PRIVATE_TARGETS: z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
  ),
});

const PROXY_TRUST_HELP =
  'must be false, true (one proxy), a number of proxy hops (1-10), or a comma-separated list of proxy addresses / CIDR ranges';

function validCidr(value: string): boolean {
  const [base = '', bits, extra] = value.split('/');
  const family = isIP(base);
  if (!family || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
}

function parseProxyTrust(raw: string, ctx: z.RefinementCtx): ProxyTrust {
  const v = raw.trim().toLowerCase();
  if (v === 'false' || v === '0') return { kind: 'none' };
  if (v === 'true') return { kind: 'hops', hops: 1 };
  if (/^\d+$/.test(v)) {
    if (Number(v) <= 10) return { kind: 'hops', hops: Number(v) };
  } else {
    const proxies = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (proxies.length && proxies.every(validCidr)) return { kind: 'proxies', proxies };
  }
  ctx.addIssue({ code: 'custom', message: PROXY_TRUST_HELP });
  return z.NEVER;
}

export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!filename) throw new ConfigError('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:data/affix.sqlite');
    return { client: 'sqlite', filename };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      'DATABASE_URL: not a URL; use mysql://user:pass@host:3306/db or sqlite:PATH (unset for sqlite:data/affix.sqlite)',
    );
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new ConfigError(`DATABASE_URL: unsupported scheme "${parsed.protocol}"; use mysql:// or sqlite:`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw new ConfigError('DATABASE_URL: the database name is missing (mysql://user:pass@host:3306/db)');
  return {
    client: 'mysql',
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username || 'root'),
    password: decodeURIComponent(parsed.password),
    database,
  };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = result.data;
  if ((e.AFFIX_OWNER_EMAIL === undefined) !== (e.AFFIX_OWNER_PASSWORD === undefined)) {
    throw new ConfigError('Invalid configuration:\n  AFFIX_OWNER_EMAIL and AFFIX_OWNER_PASSWORD must be set together');
  }
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      'Invalid configuration:\n  HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    database: parseDatabaseUrl(e.DATABASE_URL),
    publicUrl: e.PUBLIC_URL ? e.PUBLIC_URL.replace(/\/+$/, '') : null,
    secret: e.AFFIX_SECRET ?? null,
    ownerEmail: e.AFFIX_OWNER_EMAIL ?? null,
    ownerPassword: e.AFFIX_OWNER_PASSWORD ?? null,
    pluginsDir: e.PLUGINS_DIR ?? null,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    allowPrivateTargets: e.AFFIX_ALLOW_PRIVATE_TARGETS,
    http: {
      maxConnections: e.HTTP_MAX_CONNECTIONS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    workers: e.WORKERS === 0 ? availableParallelism() : e.WORKERS,
    redisUrl: e.REDIS_URL ?? null,
    mail: { smtpUrl: e.SMTP_URL ?? null, from: e.MAIL_FROM },
    redisPrefix: e.REDIS_PREFIX,
  };
}
