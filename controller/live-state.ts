import type { AgentMode, FaultCode, LampReading, PolicyRef, Status } from '../protocol/index.js';
import type { LiveEvent } from './views.js';

/**
 * What the controller knows right now about each cabinet and lamp, from the messages it received.
 * Pure state, no I/O, no clock: callers pass the time. Lost on restart on purpose (the retained
 * statuses and the next telemetry rebuild it within a period).
 */
export interface CabinetLive {
  online: boolean;
  lastSeen: number | null;
  mode: AgentMode | null;
  agent: string | null;
  policy: PolicyRef | null;
  buffered: number | null;
  /** Lamp count the gateway reports (used for cabinets missing from the inventory). */
  lamps: number | null;
  /** The gateway's telemetry period, seconds, once one telemetry message was seen. */
  periodS: number | null;
}

export interface LampLive {
  cabinetId: string;
  level: number;
  powerW: number;
  fault: FaultCode | null;
  lastTs: number;
}

export type LiveListener = (event: LiveEvent) => void;

/**
 * Lamps' live values in parallel arrays indexed by a slot per lamp: a town of 100,000 lamps held
 * as one object each took 12.7 MB, this takes the id Map and 3 MB (issue 8).
 */
class LampTable {
  readonly slotById = new Map<string, number>();
  ids: string[] = [];
  level: Float64Array = new Float64Array(0);
  powerW: Float64Array = new Float64Array(0);
  lastTs: Float64Array = new Float64Array(0);
  fault: Array<FaultCode | null> = [];
  /** Index into `cabinetIds` of the cabinet that reported the lamp last. */
  cabinet: Int32Array = new Int32Array(0);
  private readonly cabinetIds: string[] = [];
  private readonly cabinetIndex = new Map<string, number>();

  cabinetSlot(cabinetId: string): number {
    let c = this.cabinetIndex.get(cabinetId);
    if (c === undefined) {
      c = this.cabinetIds.length;
      this.cabinetIndex.set(cabinetId, c);
      this.cabinetIds.push(cabinetId);
    }
    return c;
  }

  add(id: string): number {
    const slot = this.ids.length;
    if (slot === this.level.length) this.grow(Math.max(64, slot * 2));
    this.ids.push(id);
    this.fault.push(null);
    this.slotById.set(id, slot);
    return slot;
  }

  get(id: string): LampLive | undefined {
    const s = this.slotById.get(id);
    if (s === undefined) return undefined;
    return { cabinetId: this.cabinetIds[this.cabinet[s]!]!, level: this.level[s]!, powerW: this.powerW[s]!, fault: this.fault[s]!, lastTs: this.lastTs[s]! };
  }

  /** Keeps the lamps `keep` accepts, in their order; slots are renumbered. */
  retain(keep: (id: string) => boolean): void {
    let w = 0;
    for (let s = 0; s < this.ids.length; s++) {
      const id = this.ids[s]!;
      if (!keep(id)) {
        this.slotById.delete(id);
        continue;
      }
      if (w !== s) {
        this.ids[w] = id;
        this.level[w] = this.level[s]!;
        this.powerW[w] = this.powerW[s]!;
        this.lastTs[w] = this.lastTs[s]!;
        this.fault[w] = this.fault[s]!;
        this.cabinet[w] = this.cabinet[s]!;
        this.slotById.set(id, w);
      }
      w++;
    }
    this.ids.length = w;
    this.fault.length = w;
  }

  private grow(capacity: number): void {
    const f64 = (old: Float64Array): Float64Array => {
      const next = new Float64Array(capacity);
      next.set(old);
      return next;
    };
    this.level = f64(this.level);
    this.powerW = f64(this.powerW);
    this.lastTs = f64(this.lastTs);
    const cab = new Int32Array(capacity);
    cab.set(this.cabinet);
    this.cabinet = cab;
  }
}

export class LiveState {
  private readonly cabinetsById = new Map<string, CabinetLive>();
  private readonly lamps = new LampTable();
  private readonly listeners = new Set<LiveListener>();

  /** Called when a listener throws: a faulty SSE client must not break ingest. */
  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  cabinet(id: string): CabinetLive | undefined {
    return this.cabinetsById.get(id);
  }

  cabinets(): IterableIterator<[string, CabinetLive]> {
    return this.cabinetsById.entries();
  }

  /** A snapshot of the lamp's live values (a new object: later readings do not change it). */
  lamp(id: string): LampLive | undefined {
    return this.lamps.get(id);
  }

  private ensure(id: string): CabinetLive {
    let c = this.cabinetsById.get(id);
    if (!c) {
      c = {
        online: false,
        lastSeen: null,
        mode: null,
        agent: null,
        policy: null,
        buffered: null,
        lamps: null,
        periodS: null,
      };
      this.cabinetsById.set(id, c);
    }
    return c;
  }

  /** Records a message from the cabinet. Returns true when this brings it (back) online. */
  markSeen(cabinetId: string, now: number): boolean {
    const c = this.ensure(cabinetId);
    c.lastSeen = now;
    if (c.online) return false;
    c.online = true;
    return true;
  }

  /** Returns true when the cabinet was online before. */
  markOffline(cabinetId: string): boolean {
    const c = this.ensure(cabinetId);
    const was = c.online;
    c.online = false;
    return was;
  }

  /** Applies a status message; the caller handles the online transition (alerts). */
  applyStatus(cabinetId: string, status: Status, now: number): void {
    const c = this.ensure(cabinetId);
    c.lastSeen = now;
    // The Last Will carries only `online`: keep what the last full status said.
    if (status.mode !== undefined) c.mode = status.mode;
    if (status.agent !== undefined) c.agent = status.agent;
    if (status.policy !== undefined) c.policy = status.policy;
    if (status.buffered !== undefined) c.buffered = status.buffered;
    if (status.lamps !== undefined) c.lamps = status.lamps;
  }

  /**
   * Applies a telemetry message's lamp readings, latest `ts` winning per lamp (a replayed old
   * message must not overwrite newer values). Only lamps accepted by `isKnown` are kept, so a
   * gateway inventing lamp ids cannot grow memory. Returns the readings that won. `isKnown` may be
   * the inventory's map itself: the hot path then allocates no closure per message.
   */
  applyTelemetry(
    cabinetId: string,
    ts: number,
    periodS: number,
    lamps: readonly LampReading[],
    isKnown: ((lampId: string) => boolean) | { has(lampId: string): boolean },
  ): LampReading[] {
    this.ensure(cabinetId).periodS = periodS;
    const known = typeof isKnown === 'function' ? isKnown : null;
    const knownSet = typeof isKnown === 'function' ? null : isKnown;
    const t = this.lamps;
    const cab = t.cabinetSlot(cabinetId);
    const won: LampReading[] = [];
    for (const r of lamps) {
      let s = t.slotById.get(r.id);
      if (s !== undefined && t.lastTs[s]! > ts) continue;
      if (s === undefined) {
        if (!(known ? known(r.id) : knownSet!.has(r.id))) continue;
        s = t.add(r.id);
      }
      t.cabinet[s] = cab;
      t.level[s] = r.level;
      t.powerW[s] = r.powerW;
      t.fault[s] = r.fault;
      t.lastTs[s] = ts;
      won.push(r);
    }
    return won;
  }

  /** Drops live lamps no longer in the inventory. */
  retainLamps(isKnown: (lampId: string) => boolean): void {
    this.lamps.retain(isKnown);
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(event: LiveEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  clearListeners(): void {
    this.listeners.clear();
  }
}
