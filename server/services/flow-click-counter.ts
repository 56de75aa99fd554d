/**
 * Clicks per flow and report day, for the `clickLimit` filter (SPEC §7.2), exact within one
 * process. A flow's count is seeded from the stored clicks once per day, and only
 * once: every request that needs it waits for the same seed, and the seed first waits for this
 * process's clicks of that flow that are still being written, so none is counted twice or missed.
 * Clicks are counted from the moment a flow is chosen, before the click is committed. Across
 * processes the count is the stored one at seeding plus this process's own (SPEC §16 is later).
 */
interface Entry {
  count: number;
  seeded: boolean;
  seeding: Promise<void> | null;
  /** Writes of counted clicks not yet committed. */
  inFlight: Set<Promise<unknown>>;
}

export class FlowClickCounter {
  private readonly days = new Map<string, Map<number, Entry>>();

  /**
   * Null when every flow is seeded for `day` (the hot path then needs no await), else a promise of
   * when they are; `stored(flowId)` counts the flow's clicks already stored for that report day.
   */
  ready(flowIds: number[], day: string, stored: (flowId: number) => Promise<number>): Promise<unknown> | null {
    let waits: Array<Promise<void>> | null = null;
    for (const id of flowIds) {
      const entry = this.entry(id, day);
      if (entry.seeded) continue;
      entry.seeding ??= this.seed(entry, () => stored(id));
      (waits ??= []).push(entry.seeding);
    }
    return waits && Promise.all(waits);
  }

  count(flowId: number, day: string): number {
    return this.days.get(day)?.get(flowId)?.count ?? 0;
  }

  /** Counts a click routed into the flow; `write` settles when it is stored (or failed). */
  add(flowId: number, day: string, write: Promise<unknown>): void {
    const entry = this.entry(flowId, day);
    entry.count++;
    entry.inFlight.add(write);
    const done = () => entry.inFlight.delete(write);
    void write.then(done, done);
  }

  private async seed(entry: Entry, load: () => Promise<number>): Promise<void> {
    try {
      const before = entry.count;
      await Promise.allSettled([...entry.inFlight]);
      const stored = await load();
      // Clicks counted while the seed ran may or may not be in `stored`: counting them again
      // can only close the flow early, never let it take more than its limit.
      entry.count = stored + (entry.count - before);
      entry.seeded = true;
    } finally {
      entry.seeding = null;
    }
  }

  private entry(flowId: number, day: string): Entry {
    let flows = this.days.get(day);
    if (!flows) {
      // A new report day: earlier days are no longer asked for.
      for (const d of this.days.keys()) if (d < day) this.days.delete(d);
      this.days.set(day, (flows = new Map()));
    }
    let entry = flows.get(flowId);
    if (!entry) flows.set(flowId, (entry = { count: 0, seeded: false, seeding: null, inFlight: new Set() }));
    return entry;
  }
}
