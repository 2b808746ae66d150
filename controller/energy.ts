import { addDays, nightAt, nightForDate, type Night } from '../core/astro.js';
import type { Site } from '../protocol/index.js';
import type { LampEnergy } from './stores.js';
import type { NightEnergy } from './views.js';

/**
 * Energy accounting for one night, pure. The baseline is the same lamps at 100 % of their
 * nominal power from dusk to dawn (to `now` for the night in progress): what the town would use
 * with no dimming. Measured energy comes from the lamps' own counters (see the telemetry store's
 * delta_wh), so it is what the lamps really used.
 *
 * Only lamps of the inventory count, on both sides: a reading from an unknown lamp would add
 * consumption without a baseline and understate the savings.
 */

const HOUR_MS = 3_600_000;

/**
 * The window to ask the telemetry store for (`energyByLamp(from, to)`) so that measured energy
 * and the baseline cover the same span.
 */
export function energyWindow(night: Night, now: number): { from: number; to: number } {
  return { from: night.dusk, to: Math.max(night.dusk, Math.min(now, night.dawn)) };
}

export function nightEnergy(input: {
  night: Night;
  now: number;
  lamps: ReadonlyArray<{ id: string; nominalPowerW: number }>;
  energy: readonly LampEnergy[];
  periodS: number;
}): NightEnergy {
  const { night, now, lamps, energy, periodS } = input;
  const known = new Set<string>();
  let nominalW = 0;
  for (const l of lamps) {
    if (known.has(l.id)) continue;
    known.add(l.id);
    nominalW += l.nominalPowerW;
  }
  let energyWh = 0;
  let samples = 0;
  for (const e of energy) {
    if (!known.has(e.lampId)) continue;
    energyWh += e.energyWh;
    samples += e.samples;
  }
  const { from, to } = energyWindow(night, now);
  const elapsedMs = to - from;
  const fullPowerWh = (nominalW * elapsedMs) / HOUR_MS;
  const expected = periodS > 0 ? (known.size * elapsedMs) / 1000 / periodS : 0;
  // With no sample at all nothing was measured: claiming the whole baseline as saved would
  // be false, so no saving is reported.
  const measured = samples > 0 || expected === 0;
  const savedWh = measured ? fullPowerWh - energyWh : 0;
  return {
    date: night.date,
    dusk: night.dusk,
    dawn: night.dawn,
    energyWh,
    fullPowerWh,
    savedWh,
    savedPct: measured && fullPowerWh > 0 ? (savedWh / fullPowerWh) * 100 : null,
    completeness: expected > 0 ? Math.min(1, samples / expected) : 1,
    inProgress: now < night.dawn,
  };
}

/** Tonight's night (the one whose noon-to-noon window holds `now`) and the `count − 1` before it, newest first. */
export function recentNights(site: Site, now: number, count: number): Night[] {
  if (count <= 0) return [];
  const tonight = nightAt(site, now);
  const nights: Night[] = [tonight];
  for (let i = 1; i < count; i++) nights.push(nightForDate(site, addDays(tonight.date, -i)));
  return nights;
}
