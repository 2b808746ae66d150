import type { Clock, TimerHandle } from '../../core/clock.js';
import type { AlertNotice, Delivery } from './notification.js';

export interface ThrottleOptions {
  clock: Clock;
  /** At most `maxPerWindow` deliveries per `windowMs`; the rest go out as one digest at the window's end. */
  windowMs: number;
  maxPerWindow: number;
  /** Longest digest; beyond, the oldest notices are dropped (and counted). */
  maxDigest?: number;
  send(d: Delivery): void;
}

/**
 * Per-channel throttling: a storm (a cabinet's 40 lamps, a town-wide power cut) sends a few
 * notices and then one digest per window, not hundreds of mails.
 */
export class Throttle {
  private windowStart = Number.NEGATIVE_INFINITY;
  private sent = 0;
  private held: AlertNotice[] = [];
  private timer: TimerHandle | null = null;
  private dropped = 0;

  constructor(private readonly opts: ThrottleOptions) {}

  get droppedCount(): number {
    return this.dropped;
  }

  offer(notice: AlertNotice): void {
    const now = this.opts.clock.now();
    if (this.timer === null && now >= this.windowStart + this.opts.windowMs) {
      this.windowStart = now;
      this.sent = 0;
    }
    if (this.timer === null && this.sent < this.opts.maxPerWindow) {
      this.sent++;
      this.opts.send({ type: 'alert', notice });
      return;
    }
    this.held.push(notice);
    const max = this.opts.maxDigest ?? 1000;
    if (this.held.length > max) {
      this.dropped += this.held.length - max;
      this.held.splice(0, this.held.length - max);
    }
    if (this.timer === null) {
      const due = Math.max(0, this.windowStart + this.opts.windowMs - now);
      this.timer = this.opts.clock.setTimer(() => {
        this.timer = null;
        this.flush();
      }, due);
    }
  }

  /** Sends what is held now as a digest (also on stop: nothing held is lost silently). */
  flush(): void {
    if (this.timer !== null) {
      this.opts.clock.clearTimer(this.timer);
      this.timer = null;
    }
    if (this.held.length === 0) return;
    const notices = this.held;
    this.held = [];
    const now = this.opts.clock.now();
    // The digest opens a new window and counts as its first delivery.
    this.windowStart = now;
    this.sent = 1;
    this.opts.send({ type: 'digest', notices, from: notices[0]!.at, to: notices[notices.length - 1]!.at });
  }

  stop(): void {
    this.flush();
  }
}
