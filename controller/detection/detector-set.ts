import type { GatewayEvent, Presence, Site, Status, Telemetry } from '../../protocol/index.js';
import { CabinetOfflineDetector } from './cabinet-offline.js';
import { MeterMismatchDetector, NoDataDetector, VoltageDetector, type CabinetSample } from './cabinet-checks.js';
import { CyclingDetector } from './cycling.js';
import { DayBurnerDetector } from './day-burner.js';
import { DriverFaultDetector } from './driver-fault.js';
import { GatewayEventDetector } from './gateway-events.js';
import { LampFailureDetector } from './lamp-failure.js';
import type { LampDetector, LampSample } from './lamp-sample.js';
import { PowerDeviationDetector } from './power-deviation.js';
import { SensorStuckDetector } from './sensor-stuck.js';
import type { Thresholds } from './thresholds.js';
import type { Finding, LampInfo } from './types.js';

export interface DetectorSetOptions {
  thresholds: Thresholds;
  site(): Site | null;
  /** The town's lamp neighbour graph (undirected). */
  neighbours(lampId: string): readonly string[];
  /** True while an operator's override holds a lamp (day_burner must not fire then). */
  overrideActive?(lampId: string, t: number): boolean;
  /** Telemetry period assumed before a cabinet's first telemetry, seconds. */
  defaultPeriodS: number;
}

export interface DetectionCounters {
  /** Telemetry messages older than one already judged (late replays, duplicates): not judged. */
  late: number;
  /** Readings of lamps missing from the inventory: not judged. */
  unknownLamps: number;
}

/**
 * Every detector, fed with the uplink stream of all cabinets. Pure: no I/O, no clock; the caller
 * passes the controller time of arrival. Each call returns the findings it produced, for the
 * alert manager. Telemetry is judged in ts order per cabinet: a message not newer than the last
 * judged one still proves the cabinet alive but is not judged again.
 */
export class DetectorSet {
  private readonly t: Thresholds;
  private lampsById = new Map<string, LampInfo>();
  private lampsByCabinet = new Map<string, LampInfo[]>();
  private readonly prev = new Map<string, { level: number; ts: number }>();
  private readonly lastTs = new Map<string, number>();
  private readonly lampDetectors: LampDetector[];
  private readonly voltage = new VoltageDetector();
  private readonly meter = new MeterMismatchDetector();
  private readonly noData = new NoDataDetector();
  private readonly offline: CabinetOfflineDetector;
  private readonly events = new GatewayEventDetector();
  private readonly sensors: SensorStuckDetector;
  private readonly count: DetectionCounters = { late: 0, unknownLamps: 0 };

  constructor(private readonly opts: DetectorSetOptions) {
    this.t = opts.thresholds;
    this.lampDetectors = [
      new LampFailureDetector(),
      new DriverFaultDetector(),
      new DayBurnerDetector({
        site: opts.site,
        ...(opts.overrideActive ? { overrideActive: opts.overrideActive } : {}),
      }),
      new CyclingDetector(),
      new PowerDeviationDetector(),
    ];
    this.offline = new CabinetOfflineDetector(this.t.cabinet.silentPeriods, opts.defaultPeriodS * 1000);
    this.sensors = new SensorStuckDetector({ t: this.t.sensor, neighbours: opts.neighbours });
  }

  /** Replaces the inventory; state of lamps that left it is dropped. */
  setInventory(lamps: readonly LampInfo[]): void {
    const byId = new Map<string, LampInfo>();
    const byCabinet = new Map<string, LampInfo[]>();
    for (const l of lamps) {
      byId.set(l.id, l);
      const list = byCabinet.get(l.cabinetId);
      if (list) list.push(l);
      else byCabinet.set(l.cabinetId, [l]);
    }
    for (const id of this.lampsById.keys()) {
      if (byId.has(id)) continue;
      this.prev.delete(id);
      for (const d of this.lampDetectors) d.forget(id);
      this.noData.forget(id);
    }
    this.lampsById = byId;
    this.lampsByCabinet = byCabinet;
  }

  /** A sensor known from the inventory, so one that never reports can still be judged. */
  registerSensor(sensorId: string, lampId: string): void {
    const lamp = this.lampsById.get(lampId);
    if (lamp) this.sensors.register(sensorId, lampId, lamp.cabinetId);
  }

  counters(): DetectionCounters {
    return { ...this.count };
  }

  isOffline(cabinetId: string): boolean {
    return this.offline.isOffline(cabinetId);
  }

  telemetry(cabinetId: string, msg: Telemetry, receivedAt: number): Finding[] {
    const out: Finding[] = [];
    const periodMs = msg.periodS * 1000;
    this.offline.heard(cabinetId, receivedAt, out, periodMs);
    const last = this.lastTs.get(cabinetId);
    if (last !== undefined && msg.ts <= last) {
      this.count.late++;
      return out;
    }
    this.lastTs.set(cabinetId, msg.ts);
    const sample: LampSample = {
      lamp: undefined as unknown as LampInfo,
      t: undefined as unknown as LampSample['t'],
      reading: undefined as unknown as LampSample['reading'],
      ts: msg.ts,
      prevLevel: Number.NaN,
      prevTs: null,
      periodMs,
    };
    for (const r of msg.lamps) {
      const lamp = this.lampsById.get(r.id);
      if (!lamp || lamp.cabinetId !== cabinetId) {
        this.count.unknownLamps++;
        continue;
      }
      const p = this.prev.get(r.id);
      sample.lamp = lamp;
      sample.t = this.t.forLamp(lamp);
      sample.reading = r;
      sample.prevLevel = p ? p.level : Number.NaN;
      sample.prevTs = p ? p.ts : null;
      for (const d of this.lampDetectors) d.observe(sample, out);
      if (p) {
        p.level = r.level;
        p.ts = msg.ts;
      } else this.prev.set(r.id, { level: r.level, ts: msg.ts });
    }
    const cab: CabinetSample = {
      cabinetId,
      msg,
      lamps: this.lampsByCabinet.get(cabinetId) ?? [],
      t: this.t.cabinet,
      lampThresholds: (l) => this.t.forLamp(l),
    };
    this.voltage.observe(cab, out);
    this.meter.observe(cab, out);
    this.noData.observe(cab, out);
    return out;
  }

  presence(cabinetId: string, msg: Presence, receivedAt: number): Finding[] {
    const out: Finding[] = [];
    this.offline.heard(cabinetId, receivedAt, out);
    if (this.lampsById.has(msg.lampId)) this.sensors.presence(cabinetId, msg.sensorId, msg.lampId, msg.ts);
    return out;
  }

  event(cabinetId: string, msg: GatewayEvent, receivedAt: number): Finding[] {
    const out: Finding[] = [];
    this.offline.heard(cabinetId, receivedAt, out);
    this.events.observe(cabinetId, msg, out);
    return out;
  }

  /** Any other valid uplink (ack): the cabinet is alive. */
  heard(cabinetId: string, receivedAt: number): Finding[] {
    const out: Finding[] = [];
    this.offline.heard(cabinetId, receivedAt, out);
    return out;
  }

  status(cabinetId: string, msg: Status, receivedAt: number): Finding[] {
    const out: Finding[] = [];
    if (msg.online) this.offline.heard(cabinetId, receivedAt, out);
    else this.offline.lastWill(cabinetId, receivedAt, out);
    return out;
  }

  /** Periodic: silent cabinets, and the sensors' windows. */
  tick(now: number): Finding[] {
    const out: Finding[] = [];
    this.offline.check(now, out);
    this.sensors.evaluate(now, out);
    return out;
  }
}
