import type { Night } from '../../core/astro.js';
import type { GroupRollup, HourRollup } from '../stores.js';
import type { Figures, GroupFigures, NightFigures, Saving } from './report-schema.js';
import { tariffOn, type ReportSettings } from './settings.js';

/**
 * Energy accounting from the hourly roll-ups, pure and exact (docs/energy.md is its method):
 *
 * - a night owns the hours of its noon-to-noon window: every Wh measured belongs to exactly one
 *   night, a lamp lit by day included (the town pays for it);
 * - baselines run from dusk to dawn (to `now` for the night in progress): full power is the same
 *   lamps at 100 %, before renovation is each lamp's `baselinePowerW` (its nominal power when the
 *   inventory gives none) at 100 %;
 * - a night, zone or cabinet with no sample claims no measurement and no saving; the period's
 *   baselines and savings cover the nights with measurements;
 * - completeness counts samples in the whole hours between dusk and dawn only (a gateway may
 *   or may not report by day), capped per hour for nights, over the period for groups.
 */

const HOUR_MS = 3_600_000;

export interface AccountingLamp {
  id: string;
  cabinetId: string;
  zone: string;
  nominalPowerW: number;
  baselinePowerW: number | null;
}

/** A night as accounted: its dark time ends at dawn, or at `now` while in progress. */
export interface NightFrame extends Night {
  end: number;
  inProgress: boolean;
}

export function nightFrame(night: Night, now: number): NightFrame {
  return { ...night, end: Math.max(night.dusk, Math.min(now, night.dawn)), inProgress: now < night.dawn };
}

/** Starts of the whole hours between dusk and the frame's end. */
export function wholeDarkHours(frame: NightFrame): number[] {
  const out: number[] = [];
  for (let h = Math.ceil(frame.dusk / HOUR_MS) * HOUR_MS; h + HOUR_MS <= frame.end; h += HOUR_MS) out.push(h);
  return out;
}

export interface Powers {
  fullW: number;
  beforeW: number;
}

export function powersOf(lamps: readonly AccountingLamp[]): Powers {
  let fullW = 0;
  let beforeW = 0;
  for (const l of lamps) {
    fullW += l.nominalPowerW;
    beforeW += l.baselinePowerW ?? l.nominalPowerW;
  }
  return { fullW, beforeW };
}

interface Measured {
  energyWh: number;
  gapWh: number;
  samples: number;
  levelS: number;
  onS: number;
}

const zero = (): Measured => ({ energyWh: 0, gapWh: 0, samples: 0, levelS: 0, onS: 0 });

function add(into: Measured, r: Measured): void {
  into.energyWh += r.energyWh;
  into.gapWh += r.gapWh;
  into.samples += r.samples;
  into.levelS += r.levelS;
  into.onS += r.onS;
}

function saving(baselineKWh: number, energyKWh: number | null, eurPerKWh: number | null, kgPerKWh: number): Saving {
  if (energyKWh === null) return { kWh: null, pct: null, eur: null, tCo2e: null };
  const kWh = baselineKWh - energyKWh;
  return {
    kWh,
    pct: baselineKWh > 0 ? (kWh / baselineKWh) * 100 : null,
    eur: eurPerKWh === null ? null : kWh * eurPerKWh,
    tCo2e: (kWh * kgPerKWh) / 1000,
  };
}

interface FigureInput {
  measured: Measured;
  fullWh: number;
  beforeWh: number;
  eurPerKWh: number | null;
  kgPerKWh: number;
  completeness: number | null;
}

function figures(i: FigureInput): Figures {
  const m = i.measured;
  const energyKWh = m.samples > 0 ? m.energyWh / 1000 : null;
  const fullPowerKWh = i.fullWh / 1000;
  const beforeRenovationKWh = i.beforeWh / 1000;
  return {
    energyKWh,
    costEur: energyKWh === null || i.eurPerKWh === null ? null : energyKWh * i.eurPerKWh,
    fullPowerKWh,
    beforeRenovationKWh,
    savedVsFullPower: saving(fullPowerKWh, energyKWh, i.eurPerKWh, i.kgPerKWh),
    savedVsBeforeRenovation: saving(beforeRenovationKWh, energyKWh, i.eurPerKWh, i.kgPerKWh),
    gapKWh: m.gapWh / 1000,
    burningHours: m.onS / 3600,
    averageLevelPct: m.onS > 0 ? m.levelS / m.onS : null,
    completeness: i.completeness,
  };
}

export interface NightsInput {
  frames: readonly NightFrame[];
  lamps: readonly AccountingLamp[];
  /** The town's hourly roll-up over the frames' windows. */
  hours: readonly HourRollup[];
  settings: ReportSettings;
  periodS: number;
}

/** One row per night, in the frames' order. */
export function accountNights(input: NightsInput): NightFigures[] {
  const { fullW, beforeW } = powersOf(input.lamps);
  const perHour = input.lamps.length * (3600 / input.periodS);
  const byHour = new Map<number, HourRollup>();
  for (const h of input.hours) byHour.set(h.hour, h);
  const sorted = [...input.hours].sort((a, b) => a.hour - b.hour);
  let k = 0;
  return input.frames.map((f) => {
    const measured = zero();
    // Frames are consecutive nights: one pass over the sorted hours.
    while (k < sorted.length && sorted[k]!.hour < f.windowStart) k++;
    for (let j = k; j < sorted.length && sorted[j]!.hour < f.windowEnd; j++) add(measured, sorted[j]!);
    const dark = wholeDarkHours(f);
    let received = 0;
    for (const h of dark) received += Math.min(byHour.get(h)?.samples ?? 0, perHour);
    const expected = dark.length * perHour;
    const hours = (f.end - f.dusk) / HOUR_MS;
    const tariff = tariffOn(input.settings.tariffs, f.date);
    return {
      date: f.date,
      dusk: f.dusk,
      dawn: f.dawn,
      inProgress: f.inProgress,
      tariffEurPerKWh: tariff?.eurPerKWh ?? null,
      ...figures({
        measured,
        fullWh: fullW * hours,
        beforeWh: beforeW * hours,
        eurPerKWh: tariff?.eurPerKWh ?? null,
        kgPerKWh: input.settings.emissionFactorKgPerKWh,
        completeness: expected > 0 ? received / expected : null,
      }),
    };
  });
}

/** Per-night completeness needs the expected samples too; the nights' rows keep what the sum needs. */
export interface PeriodTotals {
  headline: Figures;
  nightsMeasured: number;
  /** Measured nights no tariff covers. */
  nightsWithoutTariff: string[];
}

/**
 * The period's figures from its nights: measured energy of every night; baselines and savings of
 * the nights with measurements; money only when a tariff covers every measured night;
 * completeness over all the nights (a night with no data counts as missing, not as absent).
 */
export function accountPeriod(nights: readonly NightFigures[], frames: readonly NightFrame[], lampCount: number, periodS: number, settings: ReportSettings): PeriodTotals {
  const perHour = lampCount * (3600 / periodS);
  let energy = 0;
  let gap = 0;
  let full = 0;
  let before = 0;
  let burning = 0;
  let levelHours = 0;
  let cost = 0;
  let savedFullEur = 0;
  let savedBeforeEur = 0;
  let received = 0;
  let expected = 0;
  let measuredCount = 0;
  const withoutTariff: string[] = [];
  nights.forEach((n, i) => {
    const dark = wholeDarkHours(frames[i]!).length * perHour;
    expected += dark;
    if (n.completeness !== null) received += n.completeness * dark;
    if (n.energyKWh === null) return;
    measuredCount++;
    energy += n.energyKWh;
    gap += n.gapKWh;
    full += n.fullPowerKWh;
    before += n.beforeRenovationKWh;
    burning += n.burningHours;
    if (n.averageLevelPct !== null) levelHours += n.averageLevelPct * n.burningHours;
    if (n.tariffEurPerKWh === null) withoutTariff.push(n.date);
    else {
      cost += n.costEur!;
      savedFullEur += n.savedVsFullPower.eur!;
      savedBeforeEur += n.savedVsBeforeRenovation.eur!;
    }
  });
  if (measuredCount === 0) {
    for (const n of nights) {
      full += n.fullPowerKWh;
      before += n.beforeRenovationKWh;
    }
  }
  const kg = settings.emissionFactorKgPerKWh;
  const money = measuredCount > 0 && withoutTariff.length === 0;
  const energyKWh = measuredCount > 0 ? energy : null;
  const sv = (baseline: number, eur: number): Saving => {
    const s = saving(baseline, energyKWh, null, kg);
    return { ...s, eur: money ? eur : null };
  };
  return {
    nightsMeasured: measuredCount,
    nightsWithoutTariff: withoutTariff,
    headline: {
      energyKWh,
      costEur: money ? cost : null,
      fullPowerKWh: full,
      beforeRenovationKWh: before,
      savedVsFullPower: sv(full, savedFullEur),
      savedVsBeforeRenovation: sv(before, savedBeforeEur),
      gapKWh: gap,
      burningHours: burning,
      averageLevelPct: burning > 0 ? levelHours / burning : null,
      completeness: expected > 0 ? received / expected : null,
    },
  };
}

export const UNLISTED_GROUP = '(hors inventaire)';

export interface GroupsInput {
  by: 'zone' | 'cabinet' | 'lamp';
  lamps: readonly AccountingLamp[];
  /** Per cabinet sums over the period (by zone or cabinet). */
  cabinets: readonly GroupRollup[];
  /**
   * Per lamp sums: by lamp, every lamp; by zone, the lamps of cabinets that feed more than one zone
   * (`mixedCabinets`), whose energy is split lamp by lamp.
   */
  lampRows: readonly GroupRollup[];
  /** The nights with measurements: the baselines' dark time. */
  measuredFrames: readonly NightFrame[];
  /** Whole dark hours of every night of the period: the expected samples. */
  darkHourCount: number;
  /** A tariff that covers every measured night, else null (no money per group). */
  eurPerKWh: number | null;
  settings: ReportSettings;
  periodS: number;
  labels?: ReadonlyMap<string, string>;
}

/** Cabinets whose inventory lamps belong to more than one zone. */
export function mixedCabinets(lamps: readonly AccountingLamp[]): Set<string> {
  const zones = new Map<string, string>();
  const mixed = new Set<string>();
  for (const l of lamps) {
    const z = zones.get(l.cabinetId);
    if (z === undefined) zones.set(l.cabinetId, l.zone);
    else if (z !== l.zone) mixed.add(l.cabinetId);
  }
  return mixed;
}

/**
 * Figures per zone, cabinet or lamp over the period. Every sample lands in exactly one group, so
 * the groups' energies and baselines add up to the town's; what the gateways report for lamps the
 * inventory does not list goes to `UNLISTED_GROUP` (no baseline, no lamps).
 */
export function accountGroups(input: GroupsInput): GroupFigures[] {
  const keyOf = (l: AccountingLamp): string => (input.by === 'zone' ? l.zone : input.by === 'cabinet' ? l.cabinetId : l.id);
  const members = new Map<string, AccountingLamp[]>();
  for (const l of input.lamps) {
    const k = keyOf(l);
    const list = members.get(k);
    if (list) list.push(l);
    else members.set(k, [l]);
  }
  const measured = new Map<string, Measured & { marked: number }>();
  const addTo = (key: string, r: GroupRollup, sign = 1): void => {
    let m = measured.get(key);
    if (!m) measured.set(key, (m = { ...zero(), marked: 0 }));
    m.energyWh += sign * r.energyWh;
    m.gapWh += sign * r.gapWh;
    m.samples += sign * r.samples;
    m.levelS += sign * r.levelS;
    m.onS += sign * r.onS;
    m.marked += sign * r.markedSamples;
  };
  const lampsById = new Map(input.lamps.map((l) => [l.id, l]));
  if (input.by === 'lamp') {
    for (const r of input.lampRows) addTo(lampsById.has(r.key) ? r.key : UNLISTED_GROUP, r);
  } else {
    const zonesOfCabinet = new Map<string, string>();
    for (const l of input.lamps) zonesOfCabinet.set(l.cabinetId, l.zone);
    const mixed = input.by === 'zone' ? mixedCabinets(input.lamps) : new Set<string>();
    const lampRowsByCabinet = new Map<string, GroupRollup[]>();
    for (const r of input.lampRows) {
      const lamp = lampsById.get(r.key);
      if (!lamp || !mixed.has(lamp.cabinetId)) continue;
      const list = lampRowsByCabinet.get(lamp.cabinetId);
      if (list) list.push(r);
      else lampRowsByCabinet.set(lamp.cabinetId, [r]);
    }
    for (const c of input.cabinets) {
      const zone = zonesOfCabinet.get(c.key);
      if (zone === undefined) addTo(UNLISTED_GROUP, c);
      else if (input.by === 'cabinet') addTo(c.key, c);
      else if (!mixed.has(c.key)) addTo(zone, c);
      else {
        // Split lamp by lamp; what is left (lamps the inventory does not list) is unlisted.
        addTo(UNLISTED_GROUP, c);
        for (const r of lampRowsByCabinet.get(c.key) ?? []) {
          addTo(lampsById.get(r.key)!.zone, r);
          addTo(UNLISTED_GROUP, r, -1);
        }
      }
    }
    const rest = measured.get(UNLISTED_GROUP);
    if (rest && rest.samples === 0) measured.delete(UNLISTED_GROUP);
  }
  let darkHours = 0;
  for (const f of input.measuredFrames) darkHours += (f.end - f.dusk) / HOUR_MS;
  const perLamp = input.darkHourCount * (3600 / input.periodS);
  const keys = [...new Set([...members.keys(), ...measured.keys()])].sort((a, b) =>
    a === UNLISTED_GROUP ? 1 : b === UNLISTED_GROUP ? -1 : a < b ? -1 : a > b ? 1 : 0,
  );
  return keys.map((key) => {
    const lamps = members.get(key) ?? [];
    const m = measured.get(key) ?? { ...zero(), marked: 0 };
    const { fullW, beforeW } = powersOf(lamps);
    const expected = lamps.length * perLamp;
    return {
      key,
      label: key === UNLISTED_GROUP ? 'Lampes hors inventaire' : (input.labels?.get(key) ?? key),
      lamps: lamps.length,
      ...figures({
        measured: m,
        fullWh: fullW * darkHours,
        beforeWh: beforeW * darkHours,
        eurPerKWh: input.eurPerKWh,
        kgPerKWh: input.settings.emissionFactorKgPerKWh,
        completeness: expected > 0 ? Math.min(1, m.marked / expected) : null,
      }),
    };
  });
}
