/**
 * A notification channel's outbox: bounded (when full the oldest item goes, so ingestion never
 * waits for a slow receiver) and drained by one worker at a time, in order. The channel's
 * `drain` takes items from `items` itself (a retry leaves the head in place) and returns when
 * the queue is empty or `running` turned false; the worker starts again while items remain.
 */
export class SerialQueue<T> {
  readonly items: T[] = [];
  private worker: Promise<void> | null = null;
  private on = false;

  constructor(
    private readonly opts: {
      max: number;
      drain: () => Promise<void>;
      /** An item pushed out by a full queue. */
      onDropped: () => void;
      /** `drain` threw: logged by the channel; the worker goes on with what remains. */
      onError: (err: unknown) => void;
    },
  ) {}

  get running(): boolean {
    return this.on;
  }

  start(): void {
    this.on = true;
    this.kick();
  }

  /** Stops at once (`running` is false when this returns); the promise settles when the worker has returned. */
  stop(): Promise<void> {
    this.on = false;
    return this.worker ?? Promise.resolve();
  }

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.opts.max) {
      this.items.shift();
      this.opts.onDropped();
    }
    this.kick();
  }

  private kick(): void {
    if (!this.on || this.worker) return;
    this.worker = this.opts
      .drain()
      .catch((err: unknown) => this.opts.onError(err))
      .finally(() => {
        this.worker = null;
        if (this.on && this.items.length > 0) this.kick();
      });
  }
}
