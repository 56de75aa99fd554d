import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, parseDatabaseUrl } from '../../server/config.js';

/** Asserts loadConfig refuses `env` with a ConfigError whose message names `variable`. */
function refuses(env: Record<string, string>, variable: string): void {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.match(err.message, new RegExp(variable), `the message should name ${variable}: ${err.message}`);
      return true;
    },
    `${JSON.stringify(env)} must be refused`,
  );
}

describe('loadConfig', () => {
  test('an empty environment gives a working SQLite setup on port 3000', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.databaseUrl, 'sqlite:data/affix.sqlite');
    assert.deepEqual(c.database, { client: 'sqlite', filename: 'data/affix.sqlite' });
    assert.equal(c.secret, null, 'unset: generated and kept in the database');
    assert.equal(c.publicUrl, null);
    assert.equal(c.ownerEmail, null);
    assert.equal(c.ownerPassword, null);
    assert.equal(c.pluginsDir, null);
    assert.equal(c.logLevel, 'info');
  });

  test('empty strings count as unset', () => {
    const c = loadConfig({ PORT: '', DATABASE_URL: '  ', AFFIX_SECRET: '', LOG_LEVEL: '' });
    assert.equal(c.port, 3000);
    assert.equal(c.databaseUrl, 'sqlite:data/affix.sqlite');
    assert.equal(c.secret, null);
    assert.equal(c.logLevel, 'info');
  });

  test('reads every variable', () => {
    const secret = 's'.repeat(32);
    const c = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'sqlite:/var/lib/affix/db.sqlite',
      PUBLIC_URL: 'https://track.example.com/',
      AFFIX_SECRET: secret,
      AFFIX_OWNER_EMAIL: 'boss@example.com',
      AFFIX_OWNER_PASSWORD: 'long enough password',
      PLUGINS_DIR: '/opt/affix/plugins',
      LOG_LEVEL: 'warn',
    });
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.deepEqual(c.database, { client: 'sqlite', filename: '/var/lib/affix/db.sqlite' });
    assert.equal(c.publicUrl, 'https://track.example.com', 'the trailing slash is dropped');
    assert.equal(c.secret, secret);
    assert.equal(c.ownerEmail, 'boss@example.com');
    assert.equal(c.ownerPassword, 'long enough password');
    assert.equal(c.pluginsDir, '/opt/affix/plugins');
    assert.equal(c.logLevel, 'warn');
  });

  test('a mysql URL is parsed into its parts, with escapes decoded', () => {
    const c = loadConfig({ DATABASE_URL: 'mysql://affix:p%40ss%3Aword@db.internal:3307/affix_prod' });
    assert.deepEqual(c.database, {
      client: 'mysql',
      host: 'db.internal',
      port: 3307,
      user: 'affix',
      password: 'p@ss:word',
      database: 'affix_prod',
    });
  });

  test('a mysql URL without port or user gets 3306 and root', () => {
    assert.deepEqual(parseDatabaseUrl('mysql://localhost/affix'), {
      client: 'mysql',
      host: 'localhost',
      port: 3306,
      user: 'root',
      password: '',
      database: 'affix',
    });
    assert.equal(parseDatabaseUrl('mariadb://u:p@h/d').client, 'mysql');
  });

  test('bad PORT values are refused naming PORT', () => {
    for (const PORT of ['abc', '70000', '3.5', '-1', '0x50', '1e3', '80 80']) refuses({ PORT }, 'PORT');
    assert.equal(loadConfig({ PORT: '0' }).port, 0);
    assert.equal(loadConfig({ PORT: '65535' }).port, 65535);
  });

  test('a DATABASE_URL with another scheme, no database or no path is refused naming DATABASE_URL', () => {
    for (const DATABASE_URL of [
      'postgres://u@h/db',
      'mongodb://h/db',
      'mysql://h:3306/',
      'not a url',
      'sqlite:',
      'file:affix.db',
    ]) {
      refuses({ DATABASE_URL }, 'DATABASE_URL');
    }
  });

  test('a short AFFIX_SECRET is refused naming AFFIX_SECRET', () => {
    refuses({ AFFIX_SECRET: 'too-short' }, 'AFFIX_SECRET');
    refuses({ AFFIX_SECRET: 'x'.repeat(31) }, 'AFFIX_SECRET');
    assert.equal(loadConfig({ AFFIX_SECRET: 'x'.repeat(32) }).secret, 'x'.repeat(32));
  });

  test('the owner email and password come together', () => {
    refuses({ AFFIX_OWNER_EMAIL: 'boss@example.com' }, 'AFFIX_OWNER_PASSWORD');
    refuses({ AFFIX_OWNER_PASSWORD: 'long enough password' }, 'AFFIX_OWNER_EMAIL');
    refuses({ AFFIX_OWNER_EMAIL: 'not-an-email', AFFIX_OWNER_PASSWORD: 'long enough password' }, 'AFFIX_OWNER_EMAIL');
    refuses({ AFFIX_OWNER_EMAIL: 'boss@example.com', AFFIX_OWNER_PASSWORD: 'short' }, 'AFFIX_OWNER_PASSWORD');
  });

  test('PUBLIC_URL must be http(s) and LOG_LEVEL a known level', () => {
    refuses({ PUBLIC_URL: 'ftp://track.example.com' }, 'PUBLIC_URL');
    refuses({ PUBLIC_URL: 'javascript:alert(1)' }, 'PUBLIC_URL');
    refuses({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL');
  });
});

test('TRUST_PROXY: off by default; true = one proxy hop; a hop count; a list of proxy addresses or ranges', () => {
  assert.deepEqual(loadConfig({}).trustProxy, { kind: 'none' });
  assert.deepEqual(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, { kind: 'none' });
  assert.deepEqual(loadConfig({ TRUST_PROXY: '0' }).trustProxy, { kind: 'none' });
  assert.deepEqual(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, { kind: 'hops', hops: 1 });
  assert.deepEqual(loadConfig({ TRUST_PROXY: '1' }).trustProxy, { kind: 'hops', hops: 1 });
  assert.deepEqual(loadConfig({ TRUST_PROXY: '2' }).trustProxy, { kind: 'hops', hops: 2 });
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.0.2.7,::1' }).trustProxy, {
    kind: 'proxies',
    proxies: ['10.0.0.0/8', '192.0.2.7', '::1'],
  });
  for (const bad of ['maybe', '11', '10.0.0.0/33', '10.0.0.1,nope', '-1', ','])
    refuses({ TRUST_PROXY: bad }, 'TRUST_PROXY');
});

test('HTTP limits: defaults suited to a tracker, whole numbers in range, headers within the request time', () => {
  assert.deepEqual(loadConfig({}).http, {
    maxConnections: 2000,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
  });
  const set = loadConfig({
    HTTP_MAX_CONNECTIONS: '500',
    HTTP_HEADERS_TIMEOUT_MS: '2000',
    HTTP_REQUEST_TIMEOUT_MS: '4000',
    HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
  }).http;
  assert.deepEqual(set, {
    maxConnections: 500,
    headersTimeoutMs: 2000,
    requestTimeoutMs: 4000,
    keepAliveTimeoutMs: 65000,
  });
  for (const name of [
    'HTTP_MAX_CONNECTIONS',
    'HTTP_HEADERS_TIMEOUT_MS',
    'HTTP_REQUEST_TIMEOUT_MS',
    'HTTP_KEEP_ALIVE_TIMEOUT_MS',
  ])
    for (const bad of ['0', '-5', 'lots', '1e3', '1.5', '99999999999']) refuses({ [name]: bad }, name);
  refuses({ HTTP_HEADERS_TIMEOUT_MS: '40000', HTTP_REQUEST_TIMEOUT_MS: '30000' }, 'HTTP_HEADERS_TIMEOUT_MS');
});

test('AFFIX_ALLOW_PRIVATE_TARGETS is off by default and accepts only true/false', () => {
  assert.equal(loadConfig({}).allowPrivateTargets, false);
  assert.equal(loadConfig({ AFFIX_ALLOW_PRIVATE_TARGETS: 'true' }).allowPrivateTargets, true);
  assert.equal(loadConfig({ AFFIX_ALLOW_PRIVATE_TARGETS: '0' }).allowPrivateTargets, false);
  refuses({ AFFIX_ALLOW_PRIVATE_TARGETS: 'yes please' }, 'AFFIX_ALLOW_PRIVATE_TARGETS');
});

describe('WORKERS and REDIS_URL (SPEC §16)', () => {
  test('WORKERS: unset is one process, 0 is one per core, a number is that many', async () => {
    const { availableParallelism } = await import('node:os');
    assert.equal(loadConfig({}).workers, 1);
    assert.equal(loadConfig({ WORKERS: '0' }).workers, availableParallelism());
    assert.equal(loadConfig({ WORKERS: '3' }).workers, 3);
  });
  test('WORKERS that is not a whole number from 0 to 256 is refused, naming WORKERS', () => {
    for (const bad of ['two', '-1', '1.5', '0x2', '257']) refuses({ WORKERS: bad }, 'WORKERS');
  });
  test('REDIS_URL must be a redis:// URL', () => {
    assert.equal(loadConfig({}).redisUrl, null);
    assert.equal(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl, 'redis://127.0.0.1:6379');
    refuses({ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL');
  });
});

test('SMTP_URL and MAIL_FROM (SPEC §13): unset means mail is off; a bad value is refused naming the variable', () => {
  assert.deepEqual(loadConfig({}).mail, { smtpUrl: null, from: 'Affix <affix@localhost>' });
  assert.deepEqual(
    loadConfig({ SMTP_URL: 'smtps://u:p@mail.example.com:465', MAIL_FROM: 'Shop <a@shop.example>' }).mail,
    {
      smtpUrl: 'smtps://u:p@mail.example.com:465',
      from: 'Shop <a@shop.example>',
    },
  );
  assert.equal(loadConfig({ MAIL_FROM: 'a@shop.example' }).mail.from, 'a@shop.example');
  refuses({ SMTP_URL: 'http://mail.example.com' }, 'SMTP_URL');
  refuses({ SMTP_URL: 'smtp://' }, 'SMTP_URL');
  refuses({ MAIL_FROM: 'not an address' }, 'MAIL_FROM');
  refuses({ MAIL_FROM: 'Shop <a@shop.example>\r\nBcc: x@evil.example' }, 'MAIL_FROM');
});
