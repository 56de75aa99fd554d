import { MemorySharedStore, SharedState } from './shared-state.js';

/** One key's failures: how many within the window, and when the last one was. */
interface Failures {
  count: number;
  last: number;
}

const parse = (value: string | null): Failures | null => {
  if (value === null) return null;
  const [count, last] = value.split(':').map(Number);
  return Number.isFinite(count) && Number.isFinite(last) ? { count: count as number, last: last as number } : null;
};
const format = (f: Failures) => `${f.count}:${f.last}`;

/**
 * Slows down repeated failed logins per email and per client IP: after `freeAttempts`
 * failures within the window, each further attempt must wait an exponentially growing delay.
 * An attempt is counted when it starts (`reserve`), before the password is checked, so parallel
 * attempts cannot all slip through; a success gives its own attempt back (`release`) and may
 * clear its email (`forget`), never the address's earlier failures.
 * The counts live in the shared state (SPEC §16: Redis or the database), so the brake holds
 * whichever process an attempt reaches; a count changes by compare-and-set.
 */
export class LoginThrottle {
  constructor(
    private readonly clock: () => number = Date.now,
    private readonly shared: SharedState = new SharedState(new MemorySharedStore(clock)),
    private readonly freeAttempts = 5,
    private readonly windowMs = 15 * 60_000,
    private readonly maxDelayMs = 15 * 60_000,
  ) {}

  /** How long `f` must still wait at `now` (0: go ahead). */
  private waitOf(f: Failures | null, now: number): number {
    if (!f || now - f.last > this.windowMs || f.count < this.freeAttempts) return 0;
    const delay = Math.min(this.maxDelayMs, 1000 * 2 ** (f.count - this.freeAttempts));
    return Math.max(0, f.last + delay - now);
  }

  /** Milliseconds the caller must still wait before another attempt for these keys (0 = go ahead). */
  async retryAfterMs(keys: string[]): Promise<number> {
    const now = this.clock();
    let wait = 0;
    for (const key of keys) wait = Math.max(wait, this.waitOf(parse(await this.shared.read('login', key)), now));
    return wait;
  }

  /**
   * Counts one attempt against every key, or answers how many milliseconds to wait first. Each
   * key's check and count are one compare-and-set, so of parallel attempts (in any process) no
   * more get through than the brake allows.
   */
  async reserve(keys: string[]): Promise<number> {
    const wait = await this.retryAfterMs(keys);
    if (wait > 0) return wait;
    let later = 0;
    for (const key of keys) {
      const blocked = await this.shared.update('login', key, this.windowMs, (current) => {
        const now = this.clock();
        const f = parse(current);
        const w = this.waitOf(f, now);
        if (w > 0) return { next: null, result: w };
        const count = (f && now - f.last <= this.windowMs ? f.count : 0) + 1;
        return { next: format({ count, last: now }), result: 0 };
      });
      // Another attempt took the last free place meanwhile: this one waits (a key already
      // counted stays counted; the brake can only be stricter).
      if (blocked > 0) later = Math.max(later, blocked);
    }
    return later;
  }

  /** Gives back one reserved attempt (it succeeded): earlier failures stay counted. */
  async release(key: string): Promise<void> {
    await this.shared.update('login', key, this.windowMs, (current) => {
      const f = parse(current);
      if (!f || f.count <= 0) return { next: null, result: undefined };
      return { next: format({ count: f.count - 1, last: f.last }), result: undefined };
    });
  }

  /** Forgets every failure of a key. */
  async forget(key: string): Promise<void> {
    await this.shared.update('login', key, this.windowMs, (current) =>
      current === null || parse(current)?.count === 0
        ? { next: null, result: undefined }
        : { next: format({ count: 0, last: 0 }), result: undefined },
    );
  }
}
