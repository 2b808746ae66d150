import { DateTime } from 'luxon';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { FaultCode, LampReading, PresenceKind } from '../protocol/index.js';
import type { EdgeLampConfig } from './config.js';
import type { DriverEvent, DriverReading, LampDriver, PresenceDetection } from './driver.js';
import { mulberry32, seedFor } from './prng.js';

export type LampFault = 'lamp_out' | 'drift' | 'driver_failure';
export type SensorFault = 'stuck_on' | 'stuck_off';

export interface SimulatedDriverOptions {
  clock: Clock;
  lamps: readonly EdgeLampConfig[];
  seed?: number;
  /** Scales every sensor's detection rate; 0: no traffic. Default 1. */
  traffic?: number;
  /** Local time zone of the street, for the hour-of-night traffic model. Default Europe/Paris. */
  timezone?: string;
  /**
   * Counter values to start from, by lamp id (the demo continues the counters of the nights
   * it generated as history); absent lamps start from a seeded value.
   */
  initialEnergyWh?: ReadonlyMap<string, number>;
}

/** An LED driver's own draw when the output is off. */
export const STANDBY_W = 0.5;
/** Cabinet electronics (gateway, modem, contactor coils). */
export const CABINET_OWN_W = 4;
/** Measured power rises this much with a `drift` fault (ageing driver, failing capacitor). */
export const DRIFT_FACTOR = 1.3;
/** A stuck-on sensor fires this often. */
export const STUCK_ON_INTERVAL_MS = 2000;

/**
 * Fraction of nominal power drawn at `level` (0..100) of nominal flux. LED drivers lose
 * efficiency at low output, so power falls slower than flux: 10 % flux costs about 11.6 %
 * of nominal power, 100 % costs exactly 100 %.
 */
export function powerFraction(level: number): number {
  const x = Math.min(100, Math.max(0, level)) / 100;
  if (x === 0) return 0;
  return x / (0.8 + 0.2 * Math.sqrt(x));
}

/** Detections per hour per sensor at local hour `h`: evening and morning rush, a quiet small hours. */
export function trafficRatePerHour(h: number): number {
  if (h >= 17 && h < 23) return 40;
  if (h >= 6 && h < 8) return 30;
  if (h === 23 || h === 0) return 10;
  if (h >= 1 && h < 5) return 1;
  if (h === 5) return 5;
  return 20;
}
const MAX_RATE_PER_HOUR = 40;
const HOUR_MS = 3_600_000;

interface SimLamp {
  id: string;
  nominalW: number;
  /** Per-lamp manufacturing spread, a few %. */
  spread: number;
  level: number;
  fault: LampFault | null;
  energyWh: number;
  readonly energy0: number;
  lastT: number;
}

interface SimSensor {
  id: string;
  lampId: string;
  rng: () => number;
  fault: SensorFault | null;
  timer: TimerHandle | null;
  stuckTimer: TimerHandle | null;
}

/**
 * A cabinet of LED lamps, presence sensors and a meter, driven by the injected clock.
 * Deterministic for a given seed and sequence of calls.
 */
export class SimulatedDriver implements LampDriver {
  private readonly clock: Clock;
  private readonly lamps = new Map<string, SimLamp>();
  private readonly sensors = new Map<string, SimSensor>();
  private readonly traffic: number;
  private readonly timezone: string;
  private readonly meterRng: () => number;
  private readonly cabinetEnergy0: number;
  private readonly t0: number;
  private readonly presenceListeners = new Set<(d: PresenceDetection) => void>();
  private readonly eventListeners = new Set<(e: DriverEvent) => void>();
  private running = false;

  constructor(opts: SimulatedDriverOptions) {
    this.clock = opts.clock;
    const seed = opts.seed ?? 1;
    this.traffic = opts.traffic ?? 1;
    this.timezone = opts.timezone ?? 'Europe/Paris';
    this.meterRng = mulberry32(seedFor(seed, '#meter'));
    this.t0 = opts.clock.now();
    let sum0 = 0;
    for (const l of opts.lamps) {
      const rng = mulberry32(seedFor(seed, `lamp:${l.id}`));
      const spread = 1 + (rng() - 0.5) * 0.06;
      const seeded = Math.round(rng() * 50_000 * 1000) / 1000;
      const energy0 = opts.initialEnergyWh?.get(l.id) ?? seeded;
      sum0 += energy0;
      this.lamps.set(l.id, {
        id: l.id,
        nominalW: l.nominalPowerW,
        spread,
        level: 0,
        fault: null,
        energyWh: energy0,
        energy0,
        lastT: this.t0,
      });
      if (l.sensorId) {
        this.sensors.set(l.sensorId, {
          id: l.sensorId,
          lampId: l.id,
          rng: mulberry32(seedFor(seed, `sensor:${l.sensorId}`)),
          fault: null,
          timer: null,
          stuckTimer: null,
        });
      }
    }
    this.cabinetEnergy0 = sum0 + Math.round(this.meterRng() * 10_000 * 1000) / 1000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const s of this.sensors.values()) {
      this.scheduleNext(s);
      if (s.fault === 'stuck_on') this.startStuck(s);
    }
  }

  stop(): void {
    this.running = false;
    for (const s of this.sensors.values()) {
      if (s.timer) this.clock.clearTimer(s.timer);
      if (s.stuckTimer) this.clock.clearTimer(s.stuckTimer);
      s.timer = null;
      s.stuckTimer = null;
    }
  }

  lampIds(): string[] {
    return [...this.lamps.keys()];
  }

  setLevel(lampId: string, level: number): void {
    const lamp = this.lamp(lampId);
    this.integrate(lamp, this.clock.now());
    lamp.level = Math.min(100, Math.max(0, level));
  }

  /** Active power of one lamp now, W. */
  powerOf(lampId: string): number {
    return this.power(this.lamp(lampId));
  }

  read(now: number): DriverReading {
    const lamps: LampReading[] = [];
    let powerW = CABINET_OWN_W;
    let deltaWh = 0;
    for (const lamp of this.lamps.values()) {
      this.integrate(lamp, now);
      const p = this.power(lamp);
      powerW += p;
      deltaWh += lamp.energyWh - lamp.energy0;
      lamps.push({
        id: lamp.id,
        level: lamp.level,
        powerW: round(p, 2),
        energyWh: round(lamp.energyWh, 3),
        fault: faultCode(lamp.fault),
      });
    }
    const ownWh = (CABINET_OWN_W * Math.max(0, now - this.t0)) / HOUR_MS;
    return {
      lamps,
      cabinet: {
        voltageV: Math.round((230 + (this.meterRng() - 0.5) * 3) * 10) / 10,
        powerW: round(powerW, 2),
        energyWh: round(this.cabinetEnergy0 + ownWh + deltaWh, 3),
      },
    };
  }

  onPresence(listener: (d: PresenceDetection) => void): () => void {
    this.presenceListeners.add(listener);
    return () => this.presenceListeners.delete(listener);
  }

  onEvent(listener: (e: DriverEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  injectFault(lampId: string, fault: LampFault): void {
    const lamp = this.lamp(lampId);
    this.integrate(lamp, this.clock.now());
    lamp.fault = fault;
  }

  clearFault(lampId: string): void {
    const lamp = this.lamp(lampId);
    this.integrate(lamp, this.clock.now());
    lamp.fault = null;
  }

  injectSensorFault(sensorId: string, fault: SensorFault): void {
    const s = this.sensor(sensorId);
    this.clearSensorFault(sensorId);
    s.fault = fault;
    if (fault === 'stuck_on' && this.running) this.startStuck(s);
  }

  clearSensorFault(sensorId: string): void {
    const s = this.sensor(sensorId);
    s.fault = null;
    if (s.stuckTimer) this.clock.clearTimer(s.stuckTimer);
    s.stuckTimer = null;
  }

  /** Someone passes a sensor now (tests and demonstrations): a detection as the sensor reports it. */
  triggerPresence(sensorId: string, kind: PresenceKind = 'pedestrian', count = 1): void {
    const s = this.sensor(sensorId);
    if (s.fault === 'stuck_off') return;
    this.emit({ sensorId: s.id, lampId: s.lampId, kind, count, ts: this.clock.now() });
  }

  /** A cabinet event (door contact, mains) as the hardware would report it. */
  injectEvent(code: DriverEvent['code'], detail?: string, lampId?: string): void {
    const e: DriverEvent = { ts: this.clock.now(), code, lampId: lampId ?? null, ...(detail ? { detail } : {}) };
    for (const l of this.eventListeners) l(e);
  }

  private lamp(id: string): SimLamp {
    const l = this.lamps.get(id);
    if (!l) throw new Error(`unknown lamp ${id}`);
    return l;
  }

  private sensor(id: string): SimSensor {
    const s = this.sensors.get(id);
    if (!s) throw new Error(`unknown sensor ${id}`);
    return s;
  }

  private power(l: SimLamp): number {
    if (l.fault === 'driver_failure') return 0;
    if (l.level <= 0 || l.fault === 'lamp_out') return STANDBY_W;
    const p = l.nominalW * l.spread * powerFraction(l.level);
    return STANDBY_W + (l.fault === 'drift' ? p * DRIFT_FACTOR : p);
  }

  // Power is constant between level and fault changes, so the integral is exact.
  private integrate(l: SimLamp, now: number): void {
    if (now > l.lastT) {
      l.energyWh += (this.power(l) * (now - l.lastT)) / HOUR_MS;
      l.lastT = now;
    }
  }

  /**
   * Non-homogeneous Poisson arrivals by thinning: candidates at the peak rate, each kept with
   * probability rate(hour)/peak. Exact for a rate that changes with the hour.
   */
  private scheduleNext(s: SimSensor): void {
    if (!this.running || this.traffic <= 0) return;
    const peakPerMs = (MAX_RATE_PER_HOUR * this.traffic) / HOUR_MS;
    const delay = -Math.log(1 - s.rng()) / peakPerMs;
    s.timer = this.clock.setTimer(() => {
      s.timer = null;
      const now = this.clock.now();
      const hour = DateTime.fromMillis(now, { zone: this.timezone }).hour;
      const keep = s.rng() < trafficRatePerHour(hour) / MAX_RATE_PER_HOUR;
      const kindDraw = s.rng();
      const countDraw = s.rng();
      if (keep && s.fault === null) {
        const kind: PresenceKind = kindDraw < 0.55 ? 'pedestrian' : kindDraw < 0.7 ? 'cyclist' : 'vehicle';
        const count = kind === 'pedestrian' ? (countDraw < 0.8 ? 1 : countDraw < 0.95 ? 2 : 3) : 1;
        this.emit({ sensorId: s.id, lampId: s.lampId, kind, count, ts: now });
      }
      this.scheduleNext(s);
    }, Math.max(1, Math.round(delay)));
  }

  private startStuck(s: SimSensor): void {
    const fire = (): void => {
      s.stuckTimer = this.clock.setTimer(fire, STUCK_ON_INTERVAL_MS);
      this.emit({ sensorId: s.id, lampId: s.lampId, kind: 'unknown', count: 1, ts: this.clock.now() });
    };
    s.stuckTimer = this.clock.setTimer(fire, STUCK_ON_INTERVAL_MS);
  }

  private emit(d: PresenceDetection): void {
    for (const l of this.presenceListeners) l(d);
  }
}

// What a meter reports; the counters themselves stay exact.
function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function faultCode(f: LampFault | null): FaultCode | null {
  if (f === 'lamp_out') return 'lamp_failure';
  if (f === 'driver_failure') return 'driver_failure';
  return null; // drift shows in the power only: that is what a detector has to find.
}
