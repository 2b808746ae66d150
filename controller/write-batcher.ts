import type { Clock, TimerHandle } from '../core/clock.js';

export interface WriteBatcherOptions<T> {
  clock: Clock;
  /** Longest an item waits before its batch is written, clock ms. */
  batchMs: number;
  /** A batch is written as soon as this many items wait; also the most items per write. */
  maxBatch: number;
  /** Items waiting beyond this are refused (the store is down: memory must stay bounded). */
  maxQueued?: number;
  /** Writes one batch; resolves once it is durable. */
  write(items: T[]): Promise<void>;
  /** A write failed: the items go back to the head of the queue and are retried after batchMs. */
  onError(err: unknown, items: number): void;
}

/**
 * Groups items into batches, one `write` per batch, never two writes at once: one transaction per
 * tick instead of one statement per message, and writes land in arrival order.
 */
export class WriteBatcher<T> {
  private readonly queue: T[] = [];
  private inFlight = 0;
  private timer: TimerHandle | null = null;
  private chain: Promise<boolean> = Promise.resolve(true);
  /** A write is chained but not started: it will take whatever is queued by then. */
  private writeQueued = false;
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
    if (this.queue.length >= this.opts.maxBatch) this.queueWrite();
    else this.arm(this.opts.batchMs);
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

  private arm(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = this.opts.clock.setTimer(() => {
      this.timer = null;
      void this.queueWrite();
    }, delayMs);
  }

  private disarm(): void {
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = null;
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
    if (ok && this.queue.length >= this.opts.maxBatch) void this.queueWrite();
    else if (this.queue.length > 0) this.arm(this.opts.batchMs);
    return ok;
  }
}
