import { every, type Clock } from '../core/clock.js';
import { nightAt } from '../core/astro.js';
import type { Site } from '../protocol/index.js';
import { clampLevel, failsafeLevelAt } from './dimming/schedule.js';

/**
 * The fail-safe output at `now`, computed without the dimming engine: `level` from dusk to dawn,
 * or all the time when the clock cannot be trusted or the site has no night (polar). Better a lamp
 * lit by day than a street dark at night.
 */
export function failsafeOutput(site: Site, level: number, now: number, continuous: boolean): number {
  const l = clampLevel(level);
  if (continuous) return l;
  try {
    return failsafeLevelAt(nightAt(site, now), now, l);
  } catch {
    return l;
  }
}

export interface LampWatchdogOptions {
  /** The clock the tick runs on: the watchdog counts its own firings, not clock differences. */
  clock: Clock;
  checkMs: number;
  /** Checks without a beat before tripping. */
  missedChecks: number;
  /** Drives the fail-safe levels; called again at every check while tripped. */
  trip(): void;
}

/**
 * Trips when the lamp tick has not completed for `missedChecks` checks in a row (a lost timer, a
 * handler failing before the lamps are driven) and then drives the fail-safe levels itself until
 * the tick completes again. It counts checks rather than comparing timestamps, so a clock step
 * of an hour is not taken for a stall. A blocked event loop stops it too: that is the process
 * supervisor's case (systemd WatchdogSec, docs/reliability.md).
 */
export class LampWatchdog {
  private missed = 0;
  private trips = 0;
  private stopTimer: (() => void) | null = null;

  constructor(private readonly opts: LampWatchdogOptions) {}

  start(): void {
    if (this.stopTimer) return;
    this.missed = 0;
    this.stopTimer = every(this.opts.clock, this.opts.checkMs, () => this.check());
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = null;
  }

  /** The tick drove the lamps. */
  beat(): void {
    this.missed = 0;
  }

  get tripped(): number {
    return this.trips;
  }

  private check(): void {
    this.missed++;
    if (this.missed < this.opts.missedChecks) return;
    if (this.missed === this.opts.missedChecks) this.trips++;
    this.opts.trip();
  }
}
