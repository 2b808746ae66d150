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
  /**
   * Writes started and not yet finished, at most (default 1). More than one only for a store
   * that runs writes in call order and prepares the next while the previous commits
   * (SqliteTelemetryStore); each write still resolves after the ones started before it.
   */
  maxInFlight?: number;
  /** Writes one batch; resolves once it is durable. */
  write(items: T[]): Promise<void>;
  /** A write failed: the items go back to the head of the queue and are retried after batchMs. */
  onError(err: unknown, items: number): void;
}

interface Started<T> {
  order: number;
  items: T[];
}

/**
 * Group commit: a write starts as soon as fewer than `maxInFlight` are running, with every item
 * that arrived meanwhile (up to maxBatch). A lone item is written at once instead of waiting for
 * a timer (latency at low rates), and at high rates the batches grow by themselves to what
 * arrives during one commit (one transaction per batch, not per message). Writes start in
 * arrival order.
 *
 * The write starts on the next macrotask (setImmediate), not synchronously: the items of one
 * socket read, parsed in one go, join one batch.
 *
 * After a failure nothing new starts until every write in flight has finished; the failed
 * batches then go back to the head of the queue in their original order, and are retried after
 * batchMs.
 */
export class WriteBatcher<T> {
  private readonly queue: T[] = [];
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private running = 0;
  private runningItems = 0;
  private nextOrder = 0;
  private readonly failed: Array<Started<T>> = [];
  private timer: TimerHandle | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** After a failure the queue waits for the retry timer instead of being written at once. */
  private backoff = false;
  private closed = false;
  /** Resolved (and replaced) whenever a write finishes. */
  private settled = deferred();

  constructor(private readonly opts: WriteBatcherOptions<T>) {
    this.maxQueued = opts.maxQueued ?? opts.maxBatch * 100;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
  }

  /** Items waiting or being written. */
  get pending(): number {
    return this.queue.length + this.runningItems;
  }

  /** Returns false when the item is refused (closed, or the queue is full). */
  add(item: T): boolean {
    if (this.closed || this.queue.length >= this.maxQueued) return false;
    this.queue.push(item);
    if (this.backoff) this.arm(this.opts.batchMs);
    else this.soon();
    return true;
  }

  /** Writes everything queued (after the writes in progress); stops at the first failure. */
  async flush(): Promise<void> {
    this.disarm();
    if (this.failed.length === 0) this.backoff = false;
    for (;;) {
      if (this.running === 0) {
        if (this.backoff || this.queue.length === 0) return;
        this.startWrites();
      }
      await this.settled.promise;
    }
  }

  /** Refuses new items, writes what is queued, leaves no timer behind. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.disarm();
  }

  private soon(): void {
    if (this.immediate || this.closed || this.running >= this.maxInFlight) return;
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.startWrites();
    });
  }

  private arm(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = this.opts.clock.setTimer(() => {
      this.timer = null;
      this.backoff = false;
      this.startWrites();
    }, delayMs);
  }

  private disarm(): void {
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = null;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
  }

  private startWrites(): void {
    while (!this.backoff && this.running < this.maxInFlight && this.queue.length > 0) {
      void this.writeOne(this.queue.splice(0, this.opts.maxBatch));
    }
  }

  private async writeOne(items: T[]): Promise<void> {
    const started: Started<T> = { order: this.nextOrder++, items };
    this.running++;
    this.runningItems += items.length;
    try {
      await this.opts.write(items);
    } catch (err) {
      this.failed.push(started);
      this.backoff = true;
      try {
        this.opts.onError(err, items.length);
      } catch {
        // A failing error reporter must not wedge the queue.
      }
    } finally {
      this.running--;
      this.runningItems -= items.length;
    }
    if (this.running === 0 && this.failed.length > 0) {
      this.failed.sort((a, b) => a.order - b.order);
      this.queue.unshift(...this.failed.flatMap((f) => f.items));
      this.failed.length = 0;
      this.arm(this.opts.batchMs);
    } else if (!this.backoff && this.queue.length > 0) {
      this.soon();
    }
    const s = this.settled;
    this.settled = deferred();
    s.resolve();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
