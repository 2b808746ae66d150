import { nightForDate } from '../core/astro.js';
import type { Night } from '../core/astro.js';
import type { Policy, PresenceKind, PresenceSettings } from '../protocol/index.js';
import { createDimmingEngine } from '../edge-agent/dimming/engine.js';
import { compileSchedule, resolveSchedule } from '../edge-agent/dimming/schedule.js';
import { compileCalendar } from './calendar.js';

/**
 * What-if: what a policy would have done on nights already lived. Recorded presence detections
 * are replayed through the gateway's own dimming engine (a fresh one per night, the real dusk
 * and dawn of `policy.site`, the calendar applied), and the energy is integrated from the levels
 * it gives. Used to compare a draft with the policy in force before publishing. Pure.
 *
 * Power model: a lamp draws `nominalPowerW × level / 100` while lit, plus `standbyW` (default 0,
 * its driver) from dusk to dawn, when cabinets are energised. Full power is `nominalPowerW +
 * standbyW` from dusk to dawn: the reference for the energy saved.
 *
 * Integration is exact: with no detection the level is constant between slot boundaries, and a
 * boost is linear between its knees (end of rise, end of hold, end of ramp-down), so the level
 * is sampled once in the middle of each piece, which is exact for a linear function.
 *
 * Detections count when they fall between dusk and dawn at a lamp of `lamps`. One is boosted
 * when its own lamp is at least at its profile's presence level `rampUpMs` after it (a lamp whose
 * profile that night has no presence settings never is). Overrides are not replayed.
 */

export interface WhatIfLamp {
  id: string;
  nominalPowerW: number;
  /** Driver standby power, drawn from dusk to dawn. Default 0. */
  standbyW?: number;
}

export interface RecordedDetection {
  lampId: string;
  ts: number;
  kind: PresenceKind;
}

export interface WhatIfInput {
  /**
   * The policy to replay, for the whole town at once (all lamps, all neighbour links), so light
   * ahead crosses cabinets as the controller's relay makes it do.
   */
  policy: Policy;
  lamps: readonly WhatIfLamp[];
  presence: readonly RecordedDetection[];
  /** Dates (YYYY-MM-DD, a night's dusk date) of the nights to replay, at `policy.site`. */
  nights: readonly string[];
}

export interface NightPrediction {
  date: string;
  energyWh: number;
  fullPowerWh: number;
  detections: number;
  /** Detections the policy means to serve: at a lamp with presence settings, inside one of its slots. */
  detectionsEligible: number;
  /** Eligible detections whose lamp reached its presence level within rampUpMs. */
  detectionsBoosted: number;
}

const HOUR_MS = 3_600_000;

export function predictNights(input: WhatIfInput): NightPrediction[] {
  const { policy, lamps } = input;
  const ids = lamps.map((l) => l.id);
  const index = new Map<string, number>();
  ids.forEach((id, i) => index.set(id, i));
  const ownProfile = ids.map((id) => (Object.hasOwn(policy.lamps, id) ? policy.lamps[id]!.profile : null));
  const calendar = compileCalendar(policy.calendar);
  const compiled = Object.entries(policy.profiles).map(([name, p]) => compileSchedule(p.schedule, `profiles.${name}.schedule`));

  const sorted = [...input.presence].filter((d) => index.has(d.lampId)).sort((a, b) => a.ts - b.ts);
  const out: NightPrediction[] = [];
  for (const date of input.nights) {
    let night: Night;
    try {
      night = nightForDate(policy.site, date);
    } catch {
      continue; // no dusk at this site that day: nothing a policy decides
    }
    out.push(predictNight(input, night, ids, index, ownProfile, calendar, compiled, sorted));
  }
  return out;
}

function predictNight(
  input: WhatIfInput,
  night: Night,
  ids: readonly string[],
  index: Map<string, number>,
  ownProfile: readonly (string | null)[],
  calendar: ReturnType<typeof compileCalendar>,
  compiled: ReturnType<typeof compileSchedule>[],
  detections: readonly RecordedDetection[],
): NightPrediction {
  const { policy, lamps } = input;
  const site = policy.site;
  // Engine A is the replay; B runs one detection ahead of it, to learn which lamps a detection
  // raises before A's state for them is overwritten, so their previous boost is integrated first.
  const a = createDimmingEngine({ site, lampIds: ids });
  const b = createDimmingEngine({ site, lampIds: ids });
  a.setPolicy(policy);
  b.setPolicy(policy);

  // Every boundary any lamp's level can jump at, this night: slots of every profile (so of any
  // calendar replacement), dusk and dawn (fail-safe lamps), the window's ends.
  const cutSet = new Set<number>([night.windowStart, night.windowEnd, night.dusk, night.dawn]);
  for (const slots of compiled) {
    const r = resolveSchedule(slots, night, site.timezone);
    for (let k = 0; k < r.length; k += 3) {
      for (const t of [r[k]!, r[k + 1]!]) if (t > night.windowStart && t < night.windowEnd) cutSet.add(t);
    }
  }
  const cuts = Float64Array.from(cutSet).sort();

  // Base level (no detection) per own profile, piece by piece, read from the engine itself.
  const baseOf = new Map<string | null, Float64Array>();
  const baseLevels = (i: number): Float64Array => {
    const key = ownProfile[i]!;
    let levels = baseOf.get(key);
    if (!levels) {
      levels = new Float64Array(cuts.length - 1);
      for (let k = 0; k + 1 < cuts.length; k++) levels[k] = a.levelAt(ids[i]!, (cuts[k]! + cuts[k + 1]!) / 2);
      baseOf.set(key, levels);
    }
    return levels;
  };
  /** ∫ base level dt over [from, to), in level·ms. */
  const baseIntegral = (levels: Float64Array, from: number, to: number): number => {
    let sum = 0;
    for (let k = upperBound(cuts, from) - 1; k + 1 < cuts.length && cuts[k]! < to; k++) {
      const s = Math.max(from, cuts[k]!);
      const e = Math.min(to, cuts[k + 1]!);
      if (e > s) sum += levels[k]! * (e - s);
    }
    return sum;
  };

  const presenceOf = new Map<string, PresenceSettings | null>();
  const settings = (i: number): PresenceSettings | null => {
    const own = ownProfile[i];
    if (own === null || own === undefined) return null;
    let s = presenceOf.get(own);
    if (s === undefined) {
      s = policy.profiles[calendar.profileFor(own, night.date)]?.presence ?? null;
      presenceOf.set(own, s);
    }
    return s;
  };

  const levelMs = new Float64Array(ids.length);
  for (let i = 0; i < ids.length; i++) levelMs[i] = baseIntegral(baseLevels(i), night.windowStart, night.windowEnd);

  /** Per lamp: start of its current boost (NaN: none open) and the envelope's value there. */
  const openFrom = new Float64Array(ids.length).fill(Number.NaN);
  const openF0 = new Float64Array(ids.length);

  /** Adds to lamp i the boost's extra over its base, over [from, to), from A's current state. */
  const closeBoost = (i: number, to: number): void => {
    const from = openFrom[i]!;
    openFrom[i] = Number.NaN;
    const p = settings(i);
    if (Number.isNaN(from) || !p) return;
    const end = Math.min(to, from + (p.holdS + p.rampDownS) * 1000, night.windowEnd);
    if (!(end > from)) return;
    const f0 = openF0[i]!;
    const hold = p.holdS * 1000;
    const down = p.rampDownS * 1000;
    const knots = [from, end, from + (1 - f0) * p.rampUpMs, from + hold];
    // A hold shorter than the rise: the envelope turns where the rise meets the ramp-down.
    if (p.rampUpMs > 0 && down > 0) knots.push(from + (1 - f0 + hold / down) / (1 / p.rampUpMs + 1 / down));
    for (let k = upperBound(cuts, from); k < cuts.length && cuts[k]! < end; k++) knots.push(cuts[k]!);
    const pts = knots.filter((t) => t >= from && t <= end).sort((x, y) => x - y);
    const levels = baseLevels(i);
    let extra = 0;
    for (let k = 0; k + 1 < pts.length; k++) {
      const s = pts[k]!;
      const e = pts[k + 1]!;
      if (e > s) extra += a.levelAt(ids[i]!, (s + e) / 2) * (e - s);
    }
    levelMs[i] = levelMs[i]! + extra - baseIntegral(levels, from, end);
  };

  let count = 0;
  let eligible = 0;
  let boosted = 0;
  let lo = lowerBoundTs(detections, night.dusk);
  for (; lo < detections.length && detections[lo]!.ts < night.dawn; lo++) {
    const d = detections[lo]!;
    count++;
    const raised = b.presence(d.lampId, d.ts, undefined, d.kind);
    for (const id of raised) {
      const i = index.get(id)!;
      if (!Number.isNaN(openFrom[i]!)) closeBoost(i, d.ts);
    }
    a.presence(d.lampId, d.ts, undefined, d.kind);
    for (const id of raised) {
      const i = index.get(id)!;
      openFrom[i] = d.ts;
      // The envelope restarts from its current value (never a drop): read it back from the level.
      const base = baseLevels(i)[Math.max(0, upperBound(cuts, d.ts) - 1)]!;
      const target = Math.max(base, settings(i)?.level ?? 0);
      openF0[i] = target > base ? Math.min(1, Math.max(0, (a.levelAt(id, d.ts) - base) / (target - base))) : 1;
    }
    const i = index.get(d.lampId)!;
    const p = settings(i);
    if (p && raised.includes(d.lampId)) {
      eligible++;
      if (a.levelAt(d.lampId, d.ts + p.rampUpMs) >= p.level) boosted++;
    }
  }
  for (let i = 0; i < ids.length; i++) if (!Number.isNaN(openFrom[i]!)) closeBoost(i, night.windowEnd);

  const darkMs = night.dawn - night.dusk;
  let energyWh = 0;
  let fullPowerWh = 0;
  lamps.forEach((lamp, i) => {
    const standby = lamp.standbyW ?? 0;
    energyWh += (lamp.nominalPowerW * levelMs[i]!) / 100 / HOUR_MS + (standby * darkMs) / HOUR_MS;
    fullPowerWh += ((lamp.nominalPowerW + standby) * darkMs) / HOUR_MS;
  });
  return { date: night.date, energyWh, fullPowerWh, detections: count, detectionsEligible: eligible, detectionsBoosted: boosted };
}

/** First index whose value is > t. */
function upperBound(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBoundTs(sorted: readonly RecordedDetection[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.ts < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
