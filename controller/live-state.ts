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

export class LiveState {
  private readonly cabinetsById = new Map<string, CabinetLive>();
  private readonly lampsById = new Map<string, LampLive>();
  private readonly listeners = new Set<LiveListener>();

  /** Called when a listener throws: a faulty SSE client must not break ingest. */
  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  cabinet(id: string): CabinetLive | undefined {
    return this.cabinetsById.get(id);
  }

  cabinets(): IterableIterator<[string, CabinetLive]> {
    return this.cabinetsById.entries();
  }

  lamp(id: string): LampLive | undefined {
    return this.lampsById.get(id);
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
    const won: LampReading[] = [];
    for (const r of lamps) {
      const prev = this.lampsById.get(r.id);
      if (prev && prev.lastTs > ts) continue;
      if (!prev && !(known ? known(r.id) : knownSet!.has(r.id))) continue;
      if (prev) {
        prev.cabinetId = cabinetId;
        prev.level = r.level;
        prev.powerW = r.powerW;
        prev.fault = r.fault;
        prev.lastTs = ts;
      } else {
        this.lampsById.set(r.id, { cabinetId, level: r.level, powerW: r.powerW, fault: r.fault, lastTs: ts });
      }
      won.push(r);
    }
    return won;
  }

  /** Drops live lamps no longer in the inventory. */
  retainLamps(isKnown: (lampId: string) => boolean): void {
    for (const id of this.lampsById.keys()) if (!isKnown(id)) this.lampsById.delete(id);
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
