import type { LampEnergy } from '../stores.js';

/**
 * Energy from cumulative counters, computed at query time (the InfluxDB stores keep only what the
 * gateway sent, so that a replayed message overwrites itself identically).
 *
 * For each sample inside the window, its delta against the sample just before it in time (the
 * one before the window for the first): a first sample ever counts 0, a counter lower than the
 * previous one (driver replaced) counts its new value, otherwise the difference. This is the
 * SQLite store's rule applied in time order, so both give the same energy when messages arrive in
 * order, and the same energy over any window that holds a late message and its successor.
 */

export interface CounterSeries {
  lampId: string;
  /** Counter of the last sample before the window, when there is one (within the look-back). */
  before: number | null;
  /** Counters of the samples inside the window, in time order. */
  counters: readonly number[];
}

export function energyFromCounters(series: Iterable<CounterSeries>): LampEnergy[] {
  const out: LampEnergy[] = [];
  for (const s of series) {
    if (s.counters.length === 0) continue;
    let prev = s.before;
    let energy = 0;
    for (const c of s.counters) {
      if (prev !== null) energy += c < prev ? c : c - prev;
      prev = c;
    }
    out.push({ lampId: s.lampId, energyWh: energy, samples: s.counters.length });
  }
  return out.sort((a, b) => (a.lampId < b.lampId ? -1 : a.lampId > b.lampId ? 1 : 0));
}
