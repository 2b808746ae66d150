import type { ActiveOverride } from './types.js';

/**
 * The manual overrides a gateway holds. The latest one set wins for a lamp; an override ends by
 * itself at `until` (now < until is active). Pure: time is passed in.
 */
interface Held {
  override: ActiveOverride;
  /** null: every lamp of the gateway. */
  lamps: Set<string> | null;
}

export class OverrideBook {
  /** Oldest first; looked up newest first. */
  private held: Held[] = [];

  set(o: ActiveOverride): void {
    // The same command applied again (a retry) replaces itself instead of stacking.
    this.held = this.held.filter((h) => h.override.commandId !== o.commandId);
    const lamps = o.lamps === 'all' ? 'all' : [...o.lamps];
    this.held.push({
      override: { ...o, lamps },
      lamps: lamps === 'all' ? null : new Set(lamps),
    });
  }

  /** Ends the overrides of `lamps`; an override left with no lamp is dropped. */
  clear(lamps: 'all' | readonly string[], allLampIds: readonly string[]): void {
    if (lamps === 'all') {
      this.held = [];
      return;
    }
    const cleared = new Set(lamps);
    const kept: Held[] = [];
    for (const h of this.held) {
      const before = h.lamps ?? new Set(allLampIds);
      const remaining = [...before].filter((id) => !cleared.has(id));
      if (remaining.length === 0) continue;
      if (remaining.length === before.size && h.lamps !== null) {
        kept.push(h);
        continue;
      }
      kept.push({ override: { ...h.override, lamps: remaining }, lamps: new Set(remaining) });
    }
    this.held = kept;
  }

  /** Drops the expired ones and returns copies of those still active at `now`. */
  active(now: number): ActiveOverride[] {
    this.prune(now);
    return this.held.map((h) => ({
      ...h.override,
      lamps: h.override.lamps === 'all' ? 'all' : [...h.override.lamps],
    }));
  }

  anyActive(now: number): boolean {
    this.prune(now);
    return this.held.length > 0;
  }

  /** The overriding level for `lampId` at `now`, or undefined when no active override covers it. */
  levelFor(lampId: string, now: number): number | undefined {
    for (let i = this.held.length - 1; i >= 0; i--) {
      const h = this.held[i]!;
      if (!(now < h.override.until)) continue;
      if (h.lamps === null || h.lamps.has(lampId)) return h.override.level;
    }
    return undefined;
  }

  private prune(now: number): void {
    if (this.held.some((h) => !(now < h.override.until))) {
      this.held = this.held.filter((h) => now < h.override.until);
    }
  }
}
