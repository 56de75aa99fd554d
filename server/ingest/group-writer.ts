/**
 * Group commit (SPEC §12): requests hand their rows to the writer and wait; the writer stores
 * everything that arrived while the previous batch was being written in ONE transaction, then
 * answers every waiting request. A request is acknowledged only after its row is committed,
 * and many requests share one insert.
 */
export interface GroupWriterOptions {
  /** Most items in one batch. */
  maxBatch?: number;
  /** Called when a whole batch fails and items are retried one by one. */
  onBatchError?: (err: unknown, size: number) => void;
}

interface Pending<In, Out> {
  item: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
}

export class GroupWriter<In, Out> {
  private queue: Array<Pending<In, Out>> = [];
  private flushing = false;
  private scheduled = false;
  private readonly maxBatch: number;
  /** Batches written and items in them, for the bench and the tests. */
  readonly stats = { batches: 0, items: 0 };

  constructor(
    private readonly writeBatch: (items: In[]) => Promise<Out[]>,
    private readonly opts: GroupWriterOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 1000;
  }

  write(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.queue.length || this.flushing) await new Promise((r) => setImmediate(r));
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // setImmediate lets every request that arrived in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || !this.queue.length) return;
    this.flushing = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const results = await this.writeBatch(batch.map((p) => p.item));
      this.stats.batches++;
      this.stats.items += batch.length;
      batch.forEach((p, i) => p.resolve(results[i] as Out));
    } catch (err) {
      this.opts.onBatchError?.(err, batch.length);
      // One bad item must not lose the others: write them one by one.
      for (const p of batch) {
        try {
          const [out] = await this.writeBatch([p.item]);
          p.resolve(out as Out);
        } catch (itemErr) {
          p.reject(itemErr);
        }
      }
    } finally {
      this.flushing = false;
      if (this.queue.length) this.schedule();
    }
  }
}
