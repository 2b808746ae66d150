import type { Clock, TimerHandle } from '../core/clock.js';

export interface WriteBatcherOptions<T> {
  clock: Clock;
  /**
   * Longest an item waits for its write to start while no write is running, clock ms (with group
   * commit it never waits for the timer: see the class); also the delay before a failed write is
   * retried.
   */
  batchMs: number;
  /** The most items per write. */
  maxBatch: number;
  /** Items waiting beyond this are refused (the store is down: memory must stay bounded). */
  maxQueued?: number;
  /** Writes one batch; resolves once it is durable. */
  write(items: T[]): Promise<void>;
  /** A write failed: the items go back to the head of the queue and are retried after batchMs. */
  onError(err: unknown, items: number): void;
}

/**
 * Group commit: never two writes at once, and a write starts as soon as none is running, with
 * every item that arrived meanwhile (up to maxBatch). A lone item is written at once instead of
 * waiting for a timer (latency at low rates), and at high rates the batches grow by themselves
 * to what arrives during one commit (one transaction per batch, not per message). Writes land in
 * arrival order.
 *
 * The write starts on the next macrotask (setImmediate), not synchronously: the items of one
 * socket read, parsed in one go, join one batch.
 */
export class WriteBatcher<T> {
  private readonly queue: T[] = [];
  private inFlight = 0;
  private timer: TimerHandle | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private chain: Promise<boolean> = Promise.resolve(true);
  /** A write is chained but not started: it will take whatever is queued by then. */
  private writeQueued = false;
  /** After a failure the queue waits for the retry timer instead of being written at once. */
  private backoff = false;
  private closed = false;
  private readonly maxQueued: number;

  constructor(private readonly opts: WriteBatcherOptions<T>) {
    this.maxQueued = opts.maxQueued ?? opts.maxBatch * 100;
  }

  /** Items waiting or being written. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Returns false when the item is refused (closed, or the queue is full). */
  add(item: T): boolean {
    if (this.closed || this.queue.length >= this.maxQueued) return false;
    this.queue.push(item);
    if (this.backoff) this.arm(this.opts.batchMs);
    else if (this.inFlight === 0 && !this.writeQueued) this.soon();
    // Otherwise a write runs, or is about to start: its end takes what is queued.
    return true;
  }

  /** Writes everything queued (after the write in progress); stops at the first failure. */
  async flush(): Promise<void> {
    this.disarm();
    for (;;) {
      const ok = await this.queueWrite();
      if (!ok || (this.queue.length === 0 && !this.writeQueued)) return;
    }
  }

  /** Refuses new items, writes what is queued, leaves no timer behind. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.disarm();
  }

  private soon(): void {
    if (this.immediate || this.closed) return;
    this.immediate = setImmediate(() => {
      this.immediate = null;
      void this.queueWrite();
    });
  }

  private arm(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = this.opts.clock.setTimer(() => {
      this.timer = null;
      this.backoff = false;
      void this.queueWrite();
    }, delayMs);
  }

  private disarm(): void {
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = null;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
  }

  /** Chains one write after the current one; never rejects. */
  private queueWrite(): Promise<boolean> {
    if (this.writeQueued) return this.chain;
    this.writeQueued = true;
    this.chain = this.chain.then(() => {
      this.writeQueued = false;
      return this.writeOne();
    });
    return this.chain;
  }

  private async writeOne(): Promise<boolean> {
    this.disarm();
    this.backoff = false;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    if (batch.length === 0) return true;
    this.inFlight = batch.length;
    let ok = true;
    try {
      await this.opts.write(batch);
    } catch (err) {
      ok = false;
      this.queue.unshift(...batch);
      try {
        this.opts.onError(err, batch.length);
      } catch {
        // A failing error reporter must not wedge the queue.
      }
    } finally {
      this.inFlight = 0;
    }
    if (this.queue.length > 0) {
      if (ok) this.soon();
      else {
        this.backoff = true;
        this.arm(this.opts.batchMs);
      }
    }
    return ok;
  }
}
