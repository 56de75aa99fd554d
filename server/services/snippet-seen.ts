import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { getSystemValue, setSystemValue } from '../store/system.js';

/** Where and when the snippet was last loaded. */
export interface Sighting {
  origin: string;
  at: number;
}

export interface SnippetSightings {
  /** The last load from any page. */
  last: Sighting | null;
  /** The last load from a page of the store (the `siteUrl` origin): "tracking installed". */
  store: Sighting | null;
}

const KEY = 'snippet.seen';
/** How long a sighting waits in memory before it is written: one write per interval, whatever the traffic. */
export const SIGHTING_WRITE_MS = 10_000;

/** The origin of a page URL (the Referer of a script load), or null. */
export function originOf(url: string | undefined): string | null {
  if (!url || url.length > 4096) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * Records that the snippet was loaded, and from which origin (SPEC §13 onboarding). The snippet
 * endpoint is a hot path: a load only updates memory; the newest sighting is written to the
 * database at most once every SIGHTING_WRITE_MS (and at shutdown), so any number of page views
 * costs one small write per interval. Readers merge the database (other processes) with memory.
 */
export class SnippetSeen {
  private pending: SnippetSightings = { last: null, store: null };
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Knex,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    private readonly writeEveryMs = SIGHTING_WRITE_MS,
  ) {}

  /** A load of the snippet from `referer`; `storeOrigin` is the origin of the `siteUrl` setting. */
  seen(referer: string | undefined, storeOrigin: string | null): void {
    const origin = originOf(referer);
    if (!origin) return;
    const sighting = { origin, at: this.clock() };
    this.pending.last = sighting;
    if (storeOrigin && origin === storeOrigin) this.pending.store = sighting;
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.writeEveryMs);
      this.timer.unref();
    }
  }

  /** Writes what is waiting (merged with what other processes wrote). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiting = this.pending;
    this.pending = { last: null, store: null };
    if (!waiting.last && !waiting.store) return this.writing;
    this.writing = this.writing
      .then(async () => {
        const merged = merge(await this.stored(), waiting);
        await setSystemValue(this.db, KEY, JSON.stringify(merged));
      })
      .catch((err: unknown) => this.log.warn({ err }, 'could not record the snippet sighting'));
    return this.writing;
  }

  /** The newest sightings: the database's, and this process's not yet written. */
  async current(): Promise<SnippetSightings> {
    return merge(await this.stored(), this.pending);
  }

  private async stored(): Promise<SnippetSightings> {
    const raw = await getSystemValue(this.db, KEY);
    if (!raw) return { last: null, store: null };
    try {
      const v = JSON.parse(raw) as SnippetSightings;
      return { last: v.last ?? null, store: v.store ?? null };
    } catch {
      return { last: null, store: null };
    }
  }
}

const newer = (a: Sighting | null, b: Sighting | null) => (!a ? b : !b ? a : b.at >= a.at ? b : a);
const merge = (a: SnippetSightings, b: SnippetSightings): SnippetSightings => ({
  last: newer(a.last, b.last),
  store: newer(a.store, b.store),
});
