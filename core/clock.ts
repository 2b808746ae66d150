/**
 * Time, injected. Pure domain code reads `now()`; processes schedule work with `setTimer`,
 * whose delays are in clock milliseconds (a scaled clock runs them faster than real time).
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  /** Runs `fn` once after `delayMs` of clock time. */
  setTimer(fn: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

let nextHandleId = 1;

/** Real time. */
export function systemClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>();
  return {
    now: () => Date.now(),
    setTimer(fn, delayMs) {
      const id = nextHandleId++;
      const t = setTimeout(() => {
        timers.delete(id);
        fn();
      }, Math.max(0, delayMs));
      timers.set(id, t);
      return { id };
    },
    clearTimer(h) {
      const t = timers.get(h.id);
      if (t) clearTimeout(t);
      timers.delete(h.id);
    },
  };
}

/**
 * A clock that starts at `startMs` and runs `speed` times faster than real time: the demo's
 * night passes in minutes. Every process of one demo shares one instance.
 */
export function scaledClock(startMs: number, speed: number, realNow: () => number = Date.now): Clock {
  if (!(speed > 0)) throw new Error('clock speed must be positive');
  const realStart = realNow();
  const timers = new Map<number, NodeJS.Timeout>();
  return {
    now: () => Math.round(startMs + (realNow() - realStart) * speed),
    setTimer(fn, delayMs) {
      const id = nextHandleId++;
      const t = setTimeout(() => {
        timers.delete(id);
        fn();
      }, Math.max(0, delayMs / speed));
      timers.set(id, t);
      return { id };
    },
    clearTimer(h) {
      const t = timers.get(h.id);
      if (t) clearTimeout(t);
      timers.delete(h.id);
    },
  };
}

/** A clock that moves only when told to: exact tests of timed behaviour. */
export class ManualClock implements Clock {
  private current: number;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const id = nextHandleId++;
    this.pending.set(id, { at: this.current + Math.max(0, delayMs), fn });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.pending.delete(handle.id);
  }

  /** Moves time forward, firing due timers in time order (timers they set fire too if due). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, t] of this.pending) {
        if (t.at <= target && t.at < nextAt) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const t = this.pending.get(nextId)!;
      this.pending.delete(nextId);
      this.current = Math.max(this.current, t.at);
      t.fn();
    }
    this.current = target;
  }

  /** Sets the clock (a clock jump); fires timers now due. */
  set(ms: number): void {
    if (ms >= this.current) this.advance(ms - this.current);
    else this.current = ms;
  }
}

/** Calls `fn` every `periodMs` of clock time until the returned function is called. */
export function every(clock: Clock, periodMs: number, fn: () => void): () => void {
  let handle: TimerHandle | null = null;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    handle = clock.setTimer(tick, periodMs);
    fn();
  };
  handle = clock.setTimer(tick, periodMs);
  return () => {
    stopped = true;
    if (handle) clock.clearTimer(handle);
  };
}
