import { nightForDate } from '../../core/astro.js';
import type { LampReading, Site, Telemetry } from '../../protocol/index.js';
import { DetectorSet } from './detector-set.js';
import { curveFraction, Thresholds, type DetectionConfig } from './thresholds.js';
import type { Finding, LampInfo } from './types.js';

/** Hand-made series for the detectors' tests and the alert manager's. Not used in production. */

export const SITE: Site = { lat: 45.8336, lon: 4.8446, timezone: 'Europe/Paris' };
export const NIGHT = nightForDate(SITE, '2025-11-21');
export const MIN = 60_000;
export const CAB = 'ARM-01';

/** A street of `n` lamps in a row, L-1 … L-n, each the neighbour of the next. */
export function street(n = 6, cabinetId = CAB, prefix = 'L'): LampInfo[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i + 1}`, cabinetId, zone: 'residentiel', nominalPowerW: 35 + i }));
}

export function lineNeighbours(lamps: readonly LampInfo[]): (id: string) => readonly string[] {
  const m = new Map<string, string[]>();
  lamps.forEach((l, i) => {
    const n: string[] = [];
    if (i > 0 && lamps[i - 1]!.cabinetId === l.cabinetId) n.push(lamps[i - 1]!.id);
    if (i + 1 < lamps.length && lamps[i + 1]!.cabinetId === l.cabinetId) n.push(lamps[i + 1]!.id);
    m.set(l.id, n);
  });
  return (id) => m.get(id) ?? [];
}

/** A healthy lamp's draw at `level`: standby plus the LED curve, with a per-lamp spread. */
export function healthyPower(lamp: LampInfo, level: number, spread = 1): number {
  return level <= 0 ? 0.5 : Math.round((0.5 + lamp.nominalPowerW * spread * curveFraction(level, 0.8)) * 100) / 100;
}

export type Tamper = (lamp: LampInfo, r: LampReading, ts: number) => LampReading | null;

export interface SeriesOptions {
  lamps: readonly LampInfo[];
  from: number;
  to: number;
  periodMs?: number;
  /** Level of each lamp at ts; default 60. */
  level?: (lamp: LampInfo, ts: number) => number;
  /** Changes a lamp's reading (a fault); null drops it from the message. */
  tamper?: Tamper;
  cabinet?: (sumW: number, ts: number) => Telemetry['cabinet'];
  seq0?: number;
  cabinetId?: string;
}

/** Telemetry messages of one cabinet, one per period, from `from` (inclusive) to `to` (exclusive). */
export function series(o: SeriesOptions): Telemetry[] {
  const period = o.periodMs ?? MIN;
  const out: Telemetry[] = [];
  const energy = new Map<string, number>();
  let seq = o.seq0 ?? 1;
  for (let ts = o.from; ts < o.to; ts += period) {
    const lamps: LampReading[] = [];
    let sum = 0;
    for (const [i, lamp] of o.lamps.entries()) {
      const level = o.level ? o.level(lamp, ts) : 60;
      const powerW = healthyPower(lamp, level, 1 + ((i % 3) - 1) * 0.02);
      const e = (energy.get(lamp.id) ?? 1000 * (i + 1)) + (powerW * period) / 3_600_000;
      energy.set(lamp.id, e);
      let r: LampReading | null = { id: lamp.id, level, powerW, energyWh: Math.round(e * 1000) / 1000, fault: null };
      if (o.tamper) r = o.tamper(lamp, r, ts);
      if (!r) continue;
      sum += r.powerW;
      lamps.push(r);
    }
    const cabinet = o.cabinet ? o.cabinet(sum, ts) : { voltageV: 230.4, powerW: Math.round((sum + 4) * 100) / 100 };
    out.push({ v: 1, seq: seq++, ts, periodS: Math.round(period / 1000), ...(cabinet ? { cabinet } : {}), lamps });
  }
  return out;
}

export function detectorSet(lamps: readonly LampInfo[], config: DetectionConfig = {}, overrideActive?: (id: string, t: number) => boolean): DetectorSet {
  const d = new DetectorSet({
    thresholds: new Thresholds(config),
    site: () => SITE,
    neighbours: lineNeighbours(lamps),
    defaultPeriodS: 60,
    ...(overrideActive ? { overrideActive } : {}),
  });
  d.setInventory(lamps);
  return d;
}

/** Feeds messages in order (received on time) and returns every finding. */
export function run(d: DetectorSet, msgs: readonly Telemetry[], cabinetId = CAB): Finding[] {
  const out: Finding[] = [];
  for (const m of msgs) {
    out.push(...d.telemetry(cabinetId, m, m.ts + 500));
    out.push(...d.tick(m.ts + 1000));
  }
  return out;
}

export const active = (fs: readonly Finding[], kind?: string): Finding[] =>
  fs.filter((f) => f.active && (kind === undefined || f.kind === kind));

/** The demo's residential schedule around NIGHT: 60 % to 22:00, 0 to 05:30, 60 to dawn, 0 by day. */
export function residential(_lamp: LampInfo, ts: number): number {
  if (ts < NIGHT.dusk || ts >= NIGHT.dawn) return 0;
  const h = new Date(ts).getUTCHours() + 1; // Paris in November: UTC+1
  return h >= 22 || h < 5 || (h === 5 && new Date(ts).getUTCMinutes() < 30) ? 0 : 60;
}
