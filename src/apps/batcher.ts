/**
 * Dynamic batching: items from concurrent requests are coalesced into one call of `run` (one forward pass) of at
 * most `maxBatch` items, started as soon as `maxBatch` items wait or the oldest has waited `maxWaitMs`. One call
 * runs at a time (the GPU does one pass at a time anyway); items arriving meanwhile form the next batch.
 *
 * Every item keeps its own promise, so a request's items may span batches. An aborted request's items that have
 * not started are taken out of the queue; `maxQueue` bounds what may wait (QueueFullError, for a 429).
 */

export class QueueFullError extends Error {
  override name = 'QueueFullError';
  constructor(
    message: string,
    /** Seconds after which a retry is likely to be accepted. */
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
  at: number;
  signal?: AbortSignal;
}

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  onBatch?: (size: number, seconds: number) => void;
}

export class DynamicBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Items per second through `run`, smoothed: for Retry-After. */
  private rate = 0;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly opts: BatcherOptions,
  ) {
    if (!Number.isInteger(opts.maxBatch) || opts.maxBatch < 1) throw new Error(`maxBatch must be a positive integer, got ${opts.maxBatch}`);
    if (!(opts.maxWaitMs >= 0)) throw new Error(`maxWaitMs must be ≥ 0, got ${opts.maxWaitMs}`);
  }

  /** Items waiting for a pass (not counting the pass running now). */
  get queued(): number {
    return this.queue.length;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Seconds until `extra` more items would likely be through, at the measured rate (at least 1). */
  retryAfter(extra: number): number {
    const r = this.rate > 0 ? this.rate : 1;
    return Math.max(1, Math.ceil((this.queue.length + extra) / r));
  }

  /** Queues items; each result arrives in order. Rejects with the signal's reason when aborted before running. */
  submit(items: I[], signal?: AbortSignal): Promise<O[]> {
    const promises = items.map(
      (item) =>
        new Promise<O>((resolve, reject) => {
          this.queue.push({ item, resolve, reject, at: performance.now(), signal });
        }),
    );
    if (signal) {
      signal.addEventListener(
        'abort',
        () => {
          const gone = this.queue.filter((p) => p.signal === signal);
          this.queue = this.queue.filter((p) => p.signal !== signal);
          for (const p of gone) p.reject(signal.reason);
        },
        { once: true },
      );
    }
    this.schedule();
    const all = Promise.all(promises);
    all.catch(() => undefined);
    return all;
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const waited = performance.now() - this.queue[0]!.at;
    if (this.queue.length >= this.opts.maxBatch || waited >= this.opts.maxWaitMs) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.start();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.opts.maxWaitMs - waited);
    }
  }

  private start(): void {
    const batch = this.queue.splice(0, this.opts.maxBatch);
    const t0 = performance.now();
    this.running = (async () => {
      try {
        const out = await this.run(batch.map((p) => p.item));
        if (out.length !== batch.length) throw new Error(`batch run returned ${out.length} results for ${batch.length} items`);
        batch.forEach((p, i) => p.resolve(out[i]!));
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
      const s = (performance.now() - t0) / 1000;
      const r = batch.length / Math.max(s, 1e-3);
      this.rate = this.rate === 0 ? r : 0.8 * this.rate + 0.2 * r;
      this.opts.onBatch?.(batch.length, s);
    })().finally(() => {
      this.running = null;
      this.schedule();
    });
  }

  /** Resolves when nothing waits and nothing runs. */
  async drain(): Promise<void> {
    while (this.running || this.queue.length > 0) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, Math.max(1, this.opts.maxWaitMs)));
    }
  }
}
