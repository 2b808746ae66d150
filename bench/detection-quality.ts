/**
 * Detection quality bench (issue 4): a simulated month of the demo town, faults of every kind
 * injected at random times with ground truth, scored by precision, recall and detection delay.
 * No MQTT: the gateways' dimming engines and simulated drivers run on one ManualClock, as fast
 * as the CPU allows, and their telemetry goes straight into the detectors and the alert manager.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/detection-quality.js [--days 30] [--period 60] [--seed 7]
 *
 * Not part of `npm test`. Results are written into docs/alerts.md by hand, with the command.
 */
import { isDark } from '../core/astro.js';
import { ManualClock } from '../core/clock.js';
import { AlertManager, type AlertChange } from '../controller/alerts/alert-manager.js';
import { DetectorSet } from '../controller/detection/detector-set.js';
import { isDaylight } from '../controller/detection/day-burner.js';
import { Thresholds } from '../controller/detection/thresholds.js';
import type { AlertKind } from '../controller/detection/types.js';
import { parseInventory } from '../controller/inventory.js';
import type { LampRecord } from '../controller/inventory-schema.js';
import { compileCabinetPolicies } from '../controller/policy-compiler.js';
import type { AlertView } from '../controller/views.js';
import { createDimmingEngine } from '../edge-agent/dimming/engine.js';
import type { DimmingEngine } from '../edge-agent/dimming/types.js';
import { SimulatedDriver } from '../edge-agent/sim-driver.js';
import type { GatewayEvent, LampReading, Telemetry } from '../protocol/index.js';
import { mulberry32 } from '../edge-agent/prng.js';
import { demoPlan, generateTown, townInventory } from '../sim/town.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface BenchOptions {
  days: number;
  periodS: number;
  seed: number;
  faultsPerKind: number;
}

type FaultKind =
  | 'lamp_failure'
  | 'day_burner'
  | 'cycling'
  | 'power_high'
  | 'power_low'
  | 'driver_fault'
  | 'voltage'
  | 'cabinet_offline'
  | 'cabinet_meter_mismatch'
  | 'door_open'
  | 'power_cut'
  | 'sensor_stuck'
  | 'no_data';

interface Fault {
  kind: FaultKind;
  /** How it is made (for the report): e.g. lamp_out (driver code) or power-only. */
  variant: string;
  cabinetId: string;
  /** Lamp id, cabinet id or sensor id: the alert's subject. */
  subject: string;
  lampId: string | null;
  start: number;
  end: number;
  /** First telemetry sample where the fault shows (a lamp at level 0 shows no lamp failure). */
  manifest: number | null;
  detectedAt: number | null;
  alerts: number;
}

interface Cabinet {
  id: string;
  lamps: LampRecord[];
  engine: DimmingEngine;
  driver: SimulatedDriver;
  seq: number;
  /** Telemetry held while the cabinet is offline: replayed in order on reconnection (the outbox). */
  outbox: Telemetry[];
}

/** Durations per kind, [min, max] hours. */
const DURATION_H: Record<FaultKind, [number, number]> = {
  lamp_failure: [12, 48],
  day_burner: [24, 60],
  cycling: [8, 30],
  power_high: [24, 72],
  power_low: [24, 72],
  driver_fault: [6, 36],
  voltage: [0.3, 3],
  cabinet_offline: [0.3, 4],
  cabinet_meter_mismatch: [6, 48],
  door_open: [0.2, 1.5],
  power_cut: [0.5, 5],
  sensor_stuck: [24, 48],
  no_data: [1, 12],
};

const KINDS = Object.keys(DURATION_H) as FaultKind[];

export async function runDetectionBench(o: BenchOptions): Promise<string> {
  const rand = mulberry32(o.seed);
  const town = generateTown();
  const site = town.site;
  const lamps = parseInventory(townInventory(town));
  const sensorOf = new Map(town.lamps.filter((l) => l.sensorId).map((l) => [l.id, l.sensorId!]));
  // Start at local noon of a November day: a month of long nights.
  const start = Date.UTC(2025, 10, 1, 11, 0, 0);
  const end = start + o.days * DAY;
  const periodMs = o.periodS * 1000;
  const clock = new ManualClock(start - HOUR);
  const plan = { version: 1, author: 'bench', createdAt: start - DAY, plan: demoPlan() };
  const policies = compileCabinetPolicies({ plan, site, lamps, issuedAt: plan.createdAt });

  const adjacency = new Map<string, string[]>();
  for (const l of lamps) {
    for (const n of l.neighbours) {
      if (!adjacency.has(l.id)) adjacency.set(l.id, []);
      if (!adjacency.has(n)) adjacency.set(n, []);
      if (!adjacency.get(l.id)!.includes(n)) adjacency.get(l.id)!.push(n);
      if (!adjacency.get(n)!.includes(l.id)) adjacency.get(n)!.push(l.id);
    }
  }
  const neighbours = (id: string): readonly string[] => adjacency.get(id) ?? [];

  const detectors = new DetectorSet({ thresholds: new Thresholds(), site: () => site, neighbours, defaultPeriodS: o.periodS });
  detectors.setInventory(lamps.map((l) => ({ id: l.id, cabinetId: l.cabinetId, zone: l.zone, nominalPowerW: l.nominalPowerW })));
  for (const [lampId, sensorId] of sensorOf) detectors.registerSensor(sensorId, lampId);

  const opened: Array<{ alert: AlertView; change: AlertChange; at: number }> = [];
  const manager = new AlertManager({
    neighbours,
    isNight: (t) => isDark(site, t),
    onChange: (alert, change) => {
      if (change === 'opened' || change === 'reopened') opened.push({ alert, change, at: clock.now() });
    },
  });

  const cabinets: Cabinet[] = [];
  for (const [id, policy] of policies) {
    const cl = lamps.filter((l) => l.cabinetId === id);
    const engine = createDimmingEngine({ site, lampIds: cl.map((l) => l.id) });
    engine.setPolicy(policy);
    const driver = new SimulatedDriver({
      clock,
      lamps: cl.map((l) => ({ id: l.id, nominalPowerW: l.nominalPowerW, ...(sensorOf.has(l.id) ? { sensorId: sensorOf.get(l.id)! } : {}) })),
      seed: o.seed * 1000 + cabinets.length,
      timezone: site.timezone,
    });
    const cab: Cabinet = { id, lamps: cl, engine, driver, seq: 1, outbox: [] };
    driver.onPresence((d) => {
      engine.presence(d.lampId, d.ts);
      presences++;
      if (offlineNow.has(id)) return;
      manager.apply(detectors.presence(id, { v: 1, ...d }, clock.now()), clock.now());
    });
    cabinets.push(cab);
  }
  let presences = 0;
  for (const c of cabinets) c.driver.start();
  const cabById = new Map(cabinets.map((c) => [c.id, c]));

  // ---------- the faults, with ground truth ----------
  const faults: Fault[] = [];
  const busy = new Map<string, Array<[number, number]>>();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  for (const kind of KINDS) {
    for (let k = 0; k < o.faultsPerKind; k++) {
      for (let tries = 0; tries < 200; tries++) {
        const cab = pick(cabinets);
        const [lo, hi] = DURATION_H[kind];
        const dur = (lo + rand() * (hi - lo)) * HOUR;
        // After a day of learning, and done before the month ends.
        const t0 = start + DAY + Math.floor(rand() * (end - start - 2 * DAY - dur));
        const margin = 2 * HOUR;
        const slots = busy.get(cab.id) ?? [];
        if (slots.some(([a, b]) => t0 < b + margin && t0 + dur > a - margin)) continue;
        slots.push([t0, t0 + dur]);
        busy.set(cab.id, slots);
        let subject = cab.id;
        let lampId: string | null = null;
        let variant = kind as string;
        if (kind === 'sensor_stuck') {
          const withSensor = cab.lamps.filter((l) => sensorOf.has(l.id));
          const lamp = pick(withSensor);
          lampId = lamp.id;
          subject = sensorOf.get(lamp.id)!;
          variant = rand() < 0.5 ? 'stuck_on' : 'stuck_off';
        } else if (!['voltage', 'cabinet_offline', 'cabinet_meter_mismatch', 'door_open', 'power_cut'].includes(kind)) {
          lampId = pick(cab.lamps).id;
          subject = lampId;
        }
        if (kind === 'lamp_failure') variant = rand() < 0.5 ? 'lamp_out (driver code)' : 'power only';
        if (kind === 'driver_fault') variant = rand() < 0.5 ? 'driver_failure' : 'overheat';
        if (kind === 'cabinet_offline') variant = rand() < 0.5 ? 'last will' : 'silent';
        if (kind === 'voltage') variant = rand() < 0.5 ? 'sag' : 'surge';
        faults.push({ kind, variant, cabinetId: cab.id, subject, lampId, start: t0, end: t0 + dur, manifest: null, detectedAt: null, alerts: 0 });
        break;
      }
    }
  }
  faults.sort((a, b) => a.start - b.start);

  // ---------- the run ----------
  const offlineNow = new Set<string>();
  const active: Fault[] = [];
  let nextFault = 0;
  const tickMs = Math.min(15_000, periodMs / 4);
  let nextTick = start;
  const t0Real = performance.now();
  let samples = 0;

  const apply = (f: Fault, on: boolean): void => {
    const cab = cabById.get(f.cabinetId)!;
    const now = clock.now();
    const event = (code: GatewayEvent['code']): void =>
      manager.apply(detectors.event(cab.id, { v: 1, ts: now, code }, now), now);
    switch (f.kind) {
      case 'lamp_failure':
        if (f.variant.startsWith('lamp_out')) {
          if (on) cab.driver.injectFault(f.lampId!, 'lamp_out');
          else cab.driver.clearFault(f.lampId!);
        }
        break;
      case 'driver_fault':
        if (f.variant === 'driver_failure') {
          if (on) cab.driver.injectFault(f.lampId!, 'driver_failure');
          else cab.driver.clearFault(f.lampId!);
        }
        break;
      case 'power_high':
        if (on) cab.driver.injectFault(f.lampId!, 'drift');
        else cab.driver.clearFault(f.lampId!);
        break;
      case 'sensor_stuck':
        if (on) cab.driver.injectSensorFault(f.subject, f.variant as 'stuck_on' | 'stuck_off');
        else cab.driver.clearSensorFault(f.subject);
        break;
      case 'door_open':
        event(on ? 'door_open' : 'door_closed');
        break;
      case 'power_cut':
        event(on ? 'power_cut' : 'power_restored');
        break;
      case 'cabinet_offline':
        if (on) {
          offlineNow.add(cab.id);
          if (f.variant === 'last will') pendingWills.push({ at: now + 90_000, cabinetId: cab.id, until: f.end });
        } else {
          offlineNow.delete(cab.id);
          // Reconnection: status online, then the outbox in order.
          manager.apply(detectors.status(cab.id, { v: 1, online: true, ts: now }, now), now);
          for (const m of cab.outbox.splice(0)) manager.apply(detectors.telemetry(cab.id, m, now), now);
        }
        break;
      default:
        break; // tampered in the readings below
    }
  };
  const pendingWills: Array<{ at: number; cabinetId: string; until: number }> = [];

  for (let t = start; t < end; t += periodMs) {
    // Ticks (silence, sensors, auto-resolve) between samples.
    while (nextTick <= t) {
      clock.set(Math.max(clock.now(), nextTick));
      // Faults start and end on the tick grid (15 s), between telemetry samples.
      while (nextFault < faults.length && faults[nextFault]!.start <= nextTick) {
        const f = faults[nextFault++]!;
        active.push(f);
        apply(f, true);
      }
      for (let i = active.length - 1; i >= 0; i--) {
        const f = active[i]!;
        if (f.end <= nextTick) {
          active.splice(i, 1);
          apply(f, false);
        }
      }
      for (let i = pendingWills.length - 1; i >= 0; i--) {
        const w = pendingWills[i]!;
        if (w.at <= nextTick && nextTick < w.until) {
          manager.apply(detectors.status(w.cabinetId, { v: 1, online: false }, nextTick), nextTick);
          pendingWills.splice(i, 1);
        } else if (nextTick >= w.until) pendingWills.splice(i, 1);
      }
      manager.apply(detectors.tick(nextTick), nextTick);
      manager.tick(nextTick);
      nextTick += tickMs;
    }
    clock.set(t);
    const byCab = new Map<string, Fault[]>();
    for (const f of active) {
      const l = byCab.get(f.cabinetId);
      if (l) l.push(f);
      else byCab.set(f.cabinetId, [f]);
    }
    const day = isDaylight(site, t, 30 * 60_000);
    for (const cab of cabinets) {
      const faultsHere = byCab.get(cab.id) ?? [];
      const lampFault = new Map<string, Fault>();
      for (const f of faultsHere) if (f.lampId && f.kind !== 'sensor_stuck') lampFault.set(f.lampId, f);
      const cut = faultsHere.find((f) => f.kind === 'power_cut');
      for (const l of cab.lamps) {
        let level = Math.round(cab.engine.levelAt(l.id, t) * 10) / 10;
        if (lampFault.get(l.id)?.kind === 'day_burner') level = 100;
        cab.driver.setLevel(l.id, level);
      }
      const reading = cab.driver.read(t);
      const out: LampReading[] = [];
      for (const r0 of reading.lamps) {
        let r: LampReading | null = r0;
        const f = lampFault.get(r0.id);
        if (cut) r = { ...r0, powerW: 0 };
        else if (f) {
          switch (f.kind) {
            case 'lamp_failure':
              if (f.variant === 'power only') r = { ...r0, powerW: 0.5 };
              break;
            case 'driver_fault':
              if (f.variant === 'overheat') r = { ...r0, fault: 'overheat' };
              break;
            case 'cycling':
              if (r0.level > 0 && Math.floor((t - f.start) / periodMs) % 3 === 1) r = { ...r0, powerW: 0.5 };
              break;
            case 'power_low':
              r = { ...r0, powerW: Math.round((0.5 + (r0.powerW - 0.5) * 0.7) * 100) / 100 };
              break;
            case 'no_data':
              r = null;
              break;
            default:
              break;
          }
          if (f.manifest === null && r !== null && f.start <= t) {
            const shows =
              f.kind === 'lamp_failure' || f.kind === 'cycling'
                ? r.level > 0 || r.fault === 'lamp_failure'
                : f.kind === 'day_burner'
                  ? day && r.level > 0
                  : f.kind === 'power_high' || f.kind === 'power_low'
                    ? r.level >= 10
                    : true;
            if (shows) f.manifest = t;
          }
          if (f.kind === 'no_data' && f.manifest === null) f.manifest = t;
        }
        if (r) out.push(r);
      }
      // The meter sees what the lamps really draw: a tampered reading changes the meter alike
      // (a lamp left out of the message still draws, and the meter check then stands aside).
      let tamperW = 0;
      if (!cut) {
        for (const id of lampFault.keys()) {
          const r0 = reading.lamps.find((x) => x.id === id);
          const r = out.find((x) => x.id === id);
          if (r0 && r) tamperW += r.powerW - r0.powerW;
        }
      }
      let cabinetMeter = reading.cabinet ?? {};
      if (tamperW !== 0) cabinetMeter = { ...cabinetMeter, powerW: Math.round(((cabinetMeter.powerW ?? 0) + tamperW) * 100) / 100 };
      for (const f of faultsHere) {
        if (f.kind === 'voltage') cabinetMeter = { ...cabinetMeter, voltageV: f.variant === 'sag' ? 196.5 : 258.2 };
        if (f.kind === 'cabinet_meter_mismatch') cabinetMeter = { ...cabinetMeter, powerW: (cabinetMeter.powerW ?? 0) + 60 + (f.start % 140) };
        if (f.kind === 'power_cut') cabinetMeter = { ...cabinetMeter, voltageV: 0, powerW: 0 };
        if (['voltage', 'cabinet_meter_mismatch', 'door_open', 'power_cut', 'cabinet_offline', 'sensor_stuck'].includes(f.kind) && f.manifest === null) {
          f.manifest = f.kind === 'cabinet_offline' || f.kind === 'door_open' || f.kind === 'power_cut' || f.kind === 'sensor_stuck' ? f.start : t;
        }
      }
      const msg: Telemetry = { v: 1, seq: cab.seq++, ts: t, periodS: o.periodS, cabinet: cabinetMeter, lamps: out };
      samples += out.length;
      if (offlineNow.has(cab.id)) {
        cab.outbox.push(msg);
        continue;
      }
      const now = t + 300; // network and ingest latency
      manager.apply(detectors.telemetry(cab.id, msg, now), now);
    }
  }
  const elapsedS = (performance.now() - t0Real) / 1000;

  // ---------- scoring ----------
  const grace = 3 * periodMs;
  const perKind = new Map<string, { tp: number; fp: number }>();
  const fpExamples: string[] = [];
  for (const { alert, at } of opened) {
    const subject = alert.subject ?? alert.lampId ?? alert.cabinetId;
    const f = faults.find((x) => x.kind === alert.kind && x.subject === subject && at >= x.start && at <= x.end + grace);
    const k = perKind.get(alert.kind) ?? { tp: 0, fp: 0 };
    if (f) {
      k.tp++;
      f.alerts++;
      if (f.detectedAt === null) f.detectedAt = at;
    } else {
      k.fp++;
      if (fpExamples.length < 15) fpExamples.push(`${alert.kind} ${subject} at ${new Date(at).toISOString()} — ${alert.detail}`);
    }
    perKind.set(alert.kind, k);
  }
  const median = (xs: number[]): number | null => {
    if (xs.length === 0) return null;
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const rows: string[] = [];
  rows.push('| kind | faults (observable) | detected | recall | alerts (true / false) | precision | median delay | max delay |');
  rows.push('|---|---|---|---|---|---|---|---|');
  for (const kind of KINDS) {
    const fs = faults.filter((f) => f.kind === kind);
    const obs = fs.filter((f) => f.manifest !== null && f.manifest < f.end);
    const det = obs.filter((f) => f.detectedAt !== null);
    const delays = det.map((f) => (f.detectedAt! - f.manifest!) / periodMs);
    const k = perKind.get(kind) ?? { tp: 0, fp: 0 };
    const precision = k.tp + k.fp === 0 ? null : k.tp / (k.tp + k.fp);
    const fmt = (x: number | null, d = 2): string => (x === null ? '—' : x.toFixed(d));
    rows.push(
      `| ${kind} | ${fs.length} (${obs.length}) | ${det.length} | ${fmt(obs.length ? det.length / obs.length : null)} | ${k.tp} / ${k.fp} | ${fmt(precision)} | ${fmt(median(delays), 1)} periods | ${fmt(delays.length ? Math.max(...delays) : null, 1)} periods |`,
    );
  }
  for (const [kind, k] of perKind) {
    if (!KINDS.includes(kind as FaultKind)) rows.push(`| ${kind} (not injected) | — | — | — | 0 / ${k.fp} | — | — | — |`);
  }
  const missed = faults.filter((f) => f.manifest !== null && f.manifest < f.end && f.detectedAt === null);
  const lines = [
    `Detection quality bench: ${o.days} days, ${cabinets.length} cabinets, ${lamps.length} lamps, telemetry every ${o.periodS} s, seed ${o.seed}.`,
    `${faults.length} faults injected (${o.faultsPerKind} per kind asked), ${samples} lamp readings, ${presences} presence detections, ${opened.length} alerts opened or reopened, ${elapsedS.toFixed(1)} s of CPU.`,
    `Delays are from the first reading showing the fault (or the fault itself for cabinet/sensor kinds) to the alert, in telemetry periods.`,
    '',
    ...rows,
    '',
    `Missed faults: ${missed.length ? missed.map((f) => `${f.kind}/${f.variant} ${f.subject}`).join(', ') : 'none'}`,
    `False alerts (first 15): ${fpExamples.length ? '\n  - ' + fpExamples.join('\n  - ') : 'none'}`,
    `Variants: ${[...new Set(faults.map((f) => `${f.kind}/${f.variant}`))].sort().join(', ')}`,
  ];
  for (const c of cabinets) c.driver.stop();
  return lines.join('\n');
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  runDetectionBench({ days: arg('days', 30), periodS: arg('period', 60), seed: arg('seed', 7), faultsPerKind: arg('faults', 12) })
    .then((report) => console.log(report))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
