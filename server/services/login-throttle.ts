/**
 * Slows down repeated failed logins per email and per client IP: after `freeAttempts`
 * failures within the window, each further attempt must wait an exponentially growing delay.
 * An attempt is counted when it starts (`reserve`), before the password is checked, so parallel
 * attempts cannot all slip through; a success gives its own attempt back (`release`) and may
 * clear its email (`forget`), never the address's earlier failures.
 * Kept in memory: a restart forgives, which is acceptable for a brute-force brake.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; last: number }>();

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly freeAttempts = 5,
    private readonly windowMs = 15 * 60_000,
    private readonly maxDelayMs = 15 * 60_000,
  ) {}

  /** Milliseconds the caller must still wait before another attempt for these keys (0 = go ahead). */
  retryAfterMs(keys: string[]): number {
    const now = this.clock();
    let wait = 0;
    for (const key of keys) {
      const entry = this.failures.get(key);
      if (!entry) continue;
      if (now - entry.last > this.windowMs) {
        this.failures.delete(key);
        continue;
      }
      if (entry.count < this.freeAttempts) continue;
      const delay = Math.min(this.maxDelayMs, 1000 * 2 ** (entry.count - this.freeAttempts));
      wait = Math.max(wait, entry.last + delay - now);
    }
    return Math.max(0, wait);
  }

  /**
   * Counts one attempt against every key, or answers how many milliseconds to wait first (and
   * counts nothing). Check and count happen together, with no await between them.
   */
  reserve(keys: string[]): number {
    const wait = this.retryAfterMs(keys);
    if (wait > 0) return wait;
    const now = this.clock();
    for (const key of keys) {
      const entry = this.failures.get(key);
      this.failures.set(key, { count: (entry && now - entry.last <= this.windowMs ? entry.count : 0) + 1, last: now });
    }
    if (this.failures.size > 100_000) this.prune(now);
    return 0;
  }

  /** Gives back one reserved attempt (it succeeded): earlier failures stay counted. */
  release(key: string): void {
    const entry = this.failures.get(key);
    if (!entry) return;
    if (entry.count <= 1) this.failures.delete(key);
    else entry.count--;
  }

  /** Forgets every failure of a key. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.failures) if (now - entry.last > this.windowMs) this.failures.delete(key);
  }
}
