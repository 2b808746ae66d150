import type { Clock, TimerHandle } from '../core/clock.js';

/** How often the pacer wakes while it has work, in its clock's ms. */
const SLOT_MS = 50;

export interface ReplayPacerOptions {
  /** Network time: real time even when the domain clock is simulated (a link's capacity is real). */
  clock: Clock;
  /** Messages per second, at most. */
  ratePerS: number;
  /** Sends one message; false when it could not (gone from the outbox, or disconnected). */
  send(seq: number): boolean;
}

/**
 * Sends telemetry seqs in the order given, at most `ratePerS` per second: after a long outage a
 * gateway replays its outbox without flooding the broker or the controller, and a whole town
 * reconnecting at once arrives as a bounded stream. A token bucket refilled every slot; the first
 * message goes at once.
 */
export class ReplayPacer {
  private readonly queue: number[] = [];
  private readonly queued = new Set<number>();
  private head = 0;
  private allowance = 1;
  private lastRefill = 0;
  private timer: TimerHandle | null = null;
  private running = false;
  private sentCount = 0;

  constructor(private readonly opts: ReplayPacerOptions) {
    if (!(opts.ratePerS > 0)) throw new Error('ratePerS must be positive');
  }

  start(): void {
    this.running = true;
    this.lastRefill = this.opts.clock.now();
    this.allowance = 1;
    this.schedule();
  }

  /** Stops sending and forgets the queue (a new connection re-enqueues what is still pending). */
  stop(): void {
    this.running = false;
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = null;
    this.clear();
  }

  clear(): void {
    this.queue.length = 0;
    this.head = 0;
    this.queued.clear();
  }

  /** Appends seqs not already waiting, keeping the order given. */
  enqueue(seqs: Iterable<number>): void {
    for (const s of seqs) {
      if (this.queued.has(s)) continue;
      this.queued.add(s);
      this.queue.push(s);
    }
    this.drain();
  }

  get waiting(): number {
    return this.queue.length - this.head;
  }

  get sent(): number {
    return this.sentCount;
  }

  private drain(): void {
    if (!this.running) return;
    const now = this.opts.clock.now();
    const elapsed = Math.max(0, now - this.lastRefill);
    this.lastRefill = now;
    // At most one slot's worth banked: an idle gateway does not earn a burst.
    const cap = Math.max(1, (this.opts.ratePerS * SLOT_MS) / 1000);
    this.allowance = Math.min(cap, this.allowance + (this.opts.ratePerS * elapsed) / 1000);
    while (this.head < this.queue.length && this.allowance >= 1) {
      const seq = this.queue[this.head++]!;
      this.queued.delete(seq);
      if (this.opts.send(seq)) {
        this.allowance -= 1;
        this.sentCount++;
      }
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.schedule();
  }

  private schedule(): void {
    if (!this.running || this.timer || this.waiting === 0) return;
    this.timer = this.opts.clock.setTimer(() => {
      this.timer = null;
      this.drain();
    }, SLOT_MS);
  }
}
