/**
 * Slows down repeated failed logins per email and per client IP: after `freeAttempts`
 * failures within the window, each further attempt must wait an exponentially growing delay.
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

  fail(keys: string[]): void {
    const now = this.clock();
    for (const key of keys) {
      const entry = this.failures.get(key);
      this.failures.set(key, { count: (entry && now - entry.last <= this.windowMs ? entry.count : 0) + 1, last: now });
    }
    if (this.failures.size > 100_000) this.prune(now);
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.failures) if (now - entry.last > this.windowMs) this.failures.delete(key);
  }
}
