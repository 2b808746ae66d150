import type { GatewayEvent, Presence, Site, Status, Telemetry } from '../../protocol/index.js';
import { CabinetOfflineDetector } from './cabinet-offline.js';
import { MeterMismatchDetector, NoDataDetector, VoltageDetector, type CabinetSample } from './cabinet-checks.js';
import { CyclingDetector } from './cycling.js';
import { DayBurnerDetector } from './day-burner.js';
import { DriverFaultDetector } from './driver-fault.js';
import { GatewayEventDetector } from './gateway-events.js';
import { LampFailureDetector } from './lamp-failure.js';
import type { LampDetector, LampSample } from './lamp-sample.js';
import { ClearedMarks, remapFloat64 } from './lamp-slots.js';
import { PowerDeviationDetector } from './power-deviation.js';
import { SensorStuckDetector } from './sensor-stuck.js';
import type { LampThresholds, Thresholds } from './thresholds.js';
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

const NO_SLOTS = new Int32Array(0);

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
  /** Lamp id → slot; per-slot inventory, thresholds and previous reading (NaN: none). */
  private slotById = new Map<string, number>();
  private lamps: LampInfo[] = [];
  private lampT: LampThresholds[] = [];
  private prevLevel: Float64Array = new Float64Array(0);
  private prevTs: Float64Array = new Float64Array(0);
  /** Message number in which a slot was last read: lamps present in the current message. */
  private seenIn: Float64Array = new Float64Array(0);
  private msgNo = 0;
  /** Each cabinet's lamps and their slots, exact-size arrays (100,000 lamps: 1 MB, not 3). */
  private lampsByCabinet = new Map<string, { lamps: LampInfo[]; slots: Int32Array }>();
  private readonly marks = new ClearedMarks();
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
    const slotById = new Map<string, number>();
    const list: LampInfo[] = [];
    const byCabinet = new Map<string, { lamps: LampInfo[]; slots: Int32Array }>();
    for (const l of lamps) {
      // A duplicate id keeps its last record, as the Map of records did.
      let slot = slotById.get(l.id);
      if (slot === undefined) {
        slot = list.length;
        slotById.set(l.id, slot);
        list.push(l);
      } else list[slot] = l;
    }
    // Counted first, so each cabinet's arrays are allocated once at their size.
    const counts = new Map<string, number>();
    for (const l of list) counts.set(l.cabinetId, (counts.get(l.cabinetId) ?? 0) + 1);
    const fill = new Map<string, number>();
    for (const [slot, l] of list.entries()) {
      let c = byCabinet.get(l.cabinetId);
      if (!c) {
        const n = counts.get(l.cabinetId)!;
        byCabinet.set(l.cabinetId, (c = { lamps: new Array<LampInfo>(n), slots: new Int32Array(n) }));
      }
      const i = fill.get(l.cabinetId) ?? 0;
      fill.set(l.cabinetId, i + 1);
      c.lamps[i] = l;
      c.slots[i] = slot;
    }
    const from = new Int32Array(list.length);
    for (const [slot, l] of list.entries()) from[slot] = this.slotById.get(l.id) ?? -1;
    for (const id of this.slotById.keys()) {
      if (slotById.has(id)) continue;
      for (const d of this.lampDetectors) d.forget(id);
      this.noData.forget(id);
    }
    this.prevLevel = remapFloat64(this.prevLevel, from, 1, Number.NaN);
    this.prevTs = remapFloat64(this.prevTs, from, 1, Number.NaN);
    this.seenIn = new Float64Array(list.length);
    this.marks.remap(from);
    for (const d of this.lampDetectors) d.remap?.(from);
    this.slotById = slotById;
    this.lamps = list;
    this.lampT = list.map((l) => this.t.forLamp(l));
    this.lampsByCabinet = byCabinet;
  }

  /** Lamp id → slot of the current inventory (0 to lampCount − 1), shared, not to be changed. */
  lampSlots(): ReadonlyMap<string, number> {
    return this.slotById;
  }

  /** The lamp at each slot of the current inventory. */
  lampAt(slot: number): LampInfo | undefined {
    return this.lamps[slot];
  }

  get lampCount(): number {
    return this.lamps.length;
  }

  /**
   * Alerts were restored (a restart): the next clearing of every lamp condition is told again,
   * whatever was told before, so a restored alert whose fault is gone can resolve.
   */
  alertsRestored(): void {
    this.marks.reset();
  }

  /** A sensor known from the inventory, so one that never reports can still be judged. */
  registerSensor(sensorId: string, lampId: string): void {
    const slot = this.slotById.get(lampId);
    const lamp = slot === undefined ? undefined : this.lamps[slot];
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
      slot: -1,
      marks: this.marks,
      t: undefined as unknown as LampSample['t'],
      reading: undefined as unknown as LampSample['reading'],
      ts: msg.ts,
      prevLevel: Number.NaN,
      prevTs: null,
      periodMs,
    };
    const msgNo = ++this.msgNo;
    let present = 0;
    let sumW = 0;
    for (const r of msg.lamps) {
      const slot = this.slotById.get(r.id);
      const lamp = slot === undefined ? undefined : this.lamps[slot];
      if (slot === undefined || !lamp || lamp.cabinetId !== cabinetId) {
        this.count.unknownLamps++;
        continue;
      }
      present++;
      sumW += r.powerW;
      this.seenIn[slot] = msgNo;
      const pTs = this.prevTs[slot]!;
      sample.lamp = lamp;
      sample.slot = slot;
      sample.t = this.lampT[slot]!;
      sample.reading = r;
      sample.prevLevel = this.prevLevel[slot]!;
      sample.prevTs = Number.isNaN(pTs) ? null : pTs;
      for (const d of this.lampDetectors) d.observe(sample, out);
      this.prevLevel[slot] = r.level;
      this.prevTs[slot] = msg.ts;
    }
    const c = this.lampsByCabinet.get(cabinetId);
    const cab: CabinetSample = {
      cabinetId,
      msg,
      lamps: c?.lamps ?? [],
      slots: c?.slots ?? NO_SLOTS,
      present,
      sumW,
      seenIn: this.seenIn,
      msgNo,
      marks: this.marks,
      t: this.t.cabinet,
      lampT: this.lampT,
    };
    this.voltage.observe(cab, out);
    this.meter.observe(cab, out);
    this.noData.observe(cab, out);
    return out;
  }

  presence(cabinetId: string, msg: Presence, receivedAt: number): Finding[] {
    const out: Finding[] = [];
    this.offline.heard(cabinetId, receivedAt, out);
    if (this.slotById.has(msg.lampId)) this.sensors.presence(cabinetId, msg.sensorId, msg.lampId, msg.ts);
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
