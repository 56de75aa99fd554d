import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { dialectHelper } from '../db/index.js';
import {
  getSharedValue,
  insertSharedValue,
  replaceSharedValue,
  takeOverExpiredSharedValue,
} from '../store/shared-values.js';

/**
 * Where the values live that several server processes must agree on (SPEC §16): the fraud
 * duplicate windows, flow `clickLimit` counts and the sign-in brake. One operation is enough for
 * every rule: read a value, and replace it only if nobody changed it meanwhile (compare-and-set);
 * the rules retry on a lost race, so none is ever decided on a stale value.
 */
export interface SharedStore {
  /** The value of `key`, or null when it is absent or expired. */
  get(key: string): Promise<string | null>;
  /** Sets `key` to `next` for `ttlMs` if its value is still `expected` (null: absent). */
  compareAndSet(key: string, expected: string | null, next: string, ttlMs: number): Promise<boolean>;
}

/** In one process only: for tests of the rules and for plugins used without a server. */
export class MemorySharedStore implements SharedStore {
  private readonly values = new Map<string, { value: string; expiresAt: number }>();
  constructor(private readonly clock: () => number = Date.now) {}
  get(key: string): Promise<string | null> {
    const entry = this.values.get(key);
    return Promise.resolve(entry && entry.expiresAt > this.clock() ? entry.value : null);
  }
  async compareAndSet(key: string, expected: string | null, next: string, ttlMs: number): Promise<boolean> {
    if ((await this.get(key)) !== expected) return false;
    this.values.set(key, { value: next, expiresAt: this.clock() + ttlMs });
    if (this.values.size > 200_000) {
      const now = this.clock();
      for (const [k, e] of this.values) if (e.expiresAt <= now) this.values.delete(k);
    }
    return true;
  }
}

/** The database path (no Redis): the `shared_values` table, changed by guarded statements. */
export class DatabaseSharedStore implements SharedStore {
  constructor(
    private readonly db: Knex,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(key: string): Promise<string | null> {
    return getSharedValue(this.db, key, this.clock());
  }

  async compareAndSet(key: string, expected: string | null, next: string, ttlMs: number): Promise<boolean> {
    const now = this.clock();
    const helper = dialectHelper(this.db);
    try {
      if (expected === null) {
        // Absent: an expired row is taken over, else a new one is inserted; of two processes
        // inserting at once the unique key lets one win.
        if (await takeOverExpiredSharedValue(this.db, key, next, now + ttlMs, now)) return true;
        await insertSharedValue(this.db, key, next, now + ttlMs);
        return true;
      }
      return await replaceSharedValue(this.db, key, expected, next, now + ttlMs, now);
    } catch (err) {
      // Lost the race: a unique key taken meanwhile, or a conflict with another node (Galera).
      if (helper.isUniqueViolation(err) || helper.isRetriable(err)) return false;
      throw err;
    }
  }
}

const CAS_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if (ARGV[1] == '1' and v == false) or (ARGV[1] == '0' and v == ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
  return 1
end
return 0`;

/** Redis (`REDIS_URL`): the compare-and-set is one Lua script, atomic in Redis. */
export class RedisSharedStore implements SharedStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}
  get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key);
  }
  async compareAndSet(key: string, expected: string | null, next: string, ttlMs: number): Promise<boolean> {
    const done = (await this.redis.eval(
      CAS_SCRIPT,
      1,
      this.prefix + key,
      expected === null ? '1' : '0',
      expected ?? '',
      next,
      String(Math.max(1, Math.round(ttlMs))),
    )) as number;
    return done === 1;
  }
}

/** Keys of any length and content become short, fixed ones (the table's key is 100 characters). */
const keyOf = (kind: string, key: string) => `${kind}:${createHash('sha256').update(key).digest('base64url')}`;

/** How often "Redis is unreachable" is logged at most, while it stays so. */
const DOWN_LOG_MS = 30_000;

/**
 * The shared values every process reads the same (SPEC §16): kept in Redis when one is set and
 * reachable, else in the database. Redis failing never fails an event: the call is answered
 * from the database and the failure is logged (at most every 30 s while it lasts).
 */
export class SharedState {
  private lastDownLog = 0;

  constructor(
    private readonly fallback: SharedStore,
    private readonly redis: { store: SharedStore; client: Redis | null } | null = null,
    private readonly log: Logger | null = null,
  ) {}

  /** Which store this call uses: Redis while it is connected, else the database. */
  private store(): SharedStore {
    if (this.redis && (this.redis.client === null || this.redis.client.status === 'ready')) return this.redis.store;
    if (this.redis) this.down(new Error(`Redis is ${this.redis.client?.status ?? 'not set'}`));
    return this.fallback;
  }

  private down(err: unknown): void {
    const now = Date.now();
    if (now - this.lastDownLog < DOWN_LOG_MS) return;
    this.lastDownLog = now;
    this.log?.warn({ err }, 'Redis is unreachable: the shared counters use the database meanwhile');
  }

  /**
   * Reads `key` and replaces it with what `change` makes of it, atomically: `change` may run
   * again when another process changed the value meanwhile. `next: null` leaves it as it is.
   */
  async update<R>(
    kind: string,
    rawKey: string,
    ttlMs: number,
    change: (
      current: string | null,
    ) => { next: string | null; result: R } | Promise<{ next: string | null; result: R }>,
  ): Promise<R> {
    const key = keyOf(kind, rawKey);
    for (let attempt = 0; ; attempt++) {
      let store = this.store();
      let current: string | null;
      try {
        current = await store.get(key);
      } catch (err) {
        if (store === this.fallback) throw err;
        this.down(err);
        store = this.fallback;
        current = await store.get(key);
      }
      const { next, result } = await change(current);
      if (next === null || next === current) return result;
      let done: boolean;
      try {
        done = await store.compareAndSet(key, current, next, ttlMs);
      } catch (err) {
        if (store === this.fallback) throw err;
        this.down(err);
        continue;
      }
      if (done) return result;
      if (attempt > 1000) throw new Error(`the shared value ${kind} stays contended`);
      // Lost a race: read again (a short pause after a few losses, so racers spread out).
      if (attempt > 3) await new Promise((r) => setTimeout(r, Math.random() * 5));
    }
  }

  /** The value of `key` (null: none). */
  async read(kind: string, rawKey: string): Promise<string | null> {
    const key = keyOf(kind, rawKey);
    const store = this.store();
    try {
      return await store.get(key);
    } catch (err) {
      if (store === this.fallback) throw err;
      this.down(err);
      return this.fallback.get(key);
    }
  }

  /** Records `at` as the time `key` was last seen; answers the time before it (undefined: none). */
  touch(kind: string, key: string, at: number, keepMs: number): Promise<number | undefined> {
    return this.update(kind, key, keepMs, (current) => ({
      next: String(at),
      result: current === null ? undefined : Number(current),
    }));
  }

  /**
   * Adds one to the counter `key` if it is below `limit`; true when it did. A counter not yet
   * there starts from `seed()` (what is already stored, e.g. today's clicks of a flow).
   */
  incrementBelow(
    kind: string,
    key: string,
    limit: number,
    ttlMs: number,
    seed: () => Promise<number>,
  ): Promise<boolean> {
    return this.update(kind, key, ttlMs, async (current) => {
      const count = current === null ? await seed() : Number(current);
      return count < limit ? { next: String(count + 1), result: true } : { next: null, result: false };
    });
  }
}

export interface SharedStateOptions {
  db: Knex;
  log: Logger;
  clock?: () => number;
  redisUrl: string | null;
  /** Prefix of every Redis key and channel (several installations, or tests, on one Redis). */
  redisPrefix?: string;
}

/** The shared state of a server: Redis with the database behind it, or the database alone. */
export function openSharedState(opts: SharedStateOptions): { shared: SharedState; redis: Redis | null } {
  const fallback = new DatabaseSharedStore(opts.db, opts.clock);
  if (!opts.redisUrl) return { shared: new SharedState(fallback, null, opts.log), redis: null };
  const redis = connectRedis(opts.redisUrl, opts.log);
  const shared = new SharedState(
    fallback,
    { store: new RedisSharedStore(redis, opts.redisPrefix ?? 'affix:'), client: redis },
    opts.log,
  );
  return { shared, redis };
}

/**
 * A Redis client that never makes a request wait for it: commands fail at once while it is
 * disconnected (no offline queue) and after 500 ms without an answer; it reconnects by itself.
 */
export function connectRedis(url: string, log: Logger, opts: { quiet?: boolean } = {}): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 500,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(5000, 100 * 2 ** Math.min(times, 6)),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down || opts.quiet) return;
    down = true;
    log.warn({ err: err.message }, 'Redis is unreachable: the shared counters use the database until it is back');
  });
  redis.on('ready', () => {
    if (down && !opts.quiet) log.info({ url: url.replace(/\/\/[^@/]*@/, '//***@') }, 'Redis is reachable again');
    down = false;
  });
  return redis;
}

/**
 * Configuration changes pushed to every process at once (SPEC §16): a change publishes the new
 * version on `<prefix>config`; every process hearing it checks the database's version as its
 * 1-second poll would (the poll stays, for when Redis is down).
 */
export function subscribeConfigChanges(
  config: { redisUrl: string | null; redisPrefix: string },
  cache: { publish: ((version: string) => Promise<unknown>) | null; checkRemote(): Promise<void> },
  log: Logger,
): { disconnect(): void } | null {
  if (!config.redisUrl) return null;
  const channel = `${config.redisPrefix}config`;
  const publisher = connectRedis(config.redisUrl, log, { quiet: true });
  const subscriber = connectRedis(config.redisUrl, log, { quiet: true });
  cache.publish = (version) =>
    publisher.status === 'ready' ? publisher.publish(channel, version).catch(() => 0) : Promise.resolve(0);
  // Subscribed again after every reconnect; a change missed meanwhile is found by the poll.
  subscriber.on('ready', () => void subscriber.subscribe(channel).catch(() => undefined));
  subscriber.on('message', () => void cache.checkRemote());
  return {
    disconnect() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
