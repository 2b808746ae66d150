import type { OverrideRecord } from '../overrides.js';

export interface OverrideCoverOptions {
  /** Overrides not cleared that end after `at` (ConfigStore.activeOverrides). */
  load(at: number): readonly OverrideRecord[];
  /** The lamp's cabinet (an override's deliveries are per cabinet). */
  cabinetOf(lampId: string): string | undefined;
  /** The list is loaded again when older than this, in the caller's time. Default 5 s. */
  refreshMs?: number;
  /** Readings this much older than the load instant are still judged against it. Default 10 min. */
  lookbackMs?: number;
}

/**
 * "Is this lamp held by an operator's override at t?", asked for every lamp of every daytime
 * reading by the day-burner detector: answered from a list loaded at most every `refreshMs`
 * (time passed in), never from a query per lamp. A new override is seen within `refreshMs`.
 */
export class OverrideCover {
  private list: readonly OverrideRecord[] = [];
  private loadedAt = Number.NEGATIVE_INFINITY;
  private readonly refreshMs: number;
  private readonly lookbackMs: number;

  constructor(private readonly opts: OverrideCoverOptions) {
    this.refreshMs = opts.refreshMs ?? 5000;
    this.lookbackMs = opts.lookbackMs ?? 10 * 60_000;
  }

  covers(lampId: string, t: number, now: number): boolean {
    if (now - this.loadedAt >= this.refreshMs || now < this.loadedAt) {
      this.list = this.opts.load(now - this.lookbackMs);
      this.loadedAt = now;
    }
    if (this.list.length === 0) return false;
    const cabinetId = this.opts.cabinetOf(lampId);
    if (cabinetId === undefined) return false;
    for (const o of this.list) {
      if (t < o.createdAt || t >= o.until || (o.clearedAt !== null && t >= o.clearedAt)) continue;
      for (const d of o.cabinets) {
        if (d.cabinetId === cabinetId && (d.lamps === 'all' || d.lamps.includes(lampId))) return true;
      }
    }
    return false;
  }

  /** Forget the loaded list (an override was just set or cleared). */
  invalidate(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }
}
