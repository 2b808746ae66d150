import type { Database } from 'better-sqlite3';
import type { CabinetMeter, FaultCode, LampReading, PolicyRef, PresenceKind, Site } from '../protocol/index.js';
import type { LampRecord } from './inventory-schema.js';
import type { OverrideRecord } from './overrides.js';
import type { PlanVersion, TownPlan } from './plan.js';
import type { AlertView } from './views.js';
import type { LampGroup, ZoneMeta } from './zones.js';

/**
 * The controller's two stores. Config (inventory, plans, secrets, audit, alerts) is small and
 * transactional: SQLite. Telemetry is large and append-mostly: behind `TelemetryStore`, with an
 * embedded SQLite implementation now and InfluxDB ones later.
 */

// ---------------- telemetry ----------------

/** One validated telemetry message, as ingested. */
export interface TelemetryRecord {
  cabinetId: string;
  seq: number;
  ts: number;
  periodS: number;
  receivedAt: number;
  cabinet?: CabinetMeter | undefined;
  lamps: LampReading[];
}

export interface PresenceRecord {
  cabinetId: string;
  lampId: string;
  sensorId: string;
  kind: PresenceKind;
  count: number;
  ts: number;
}

export interface PresenceEvent {
  lampId: string;
  ts: number;
  kind: PresenceKind;
}

export interface WriteResult {
  /** Messages newly stored. */
  stored: number;
  /** Messages whose (cabinetId, seq) was already stored: ignored, still final. */
  duplicates: number;
  /** Lamp samples newly stored. */
  samples: number;
}

export interface LampSample {
  ts: number;
  level: number;
  powerW: number;
  energyWh: number;
  fault: FaultCode | null;
}

export interface LampEnergy {
  lampId: string;
  /** Consumption from the cumulative counters over the window, reset-aware, Wh. */
  energyWh: number;
  samples: number;
}

export interface TelemetryStore {
  open(): Promise<void>;
  /**
   * Writes durably: when the promise resolves, the batch is committed. A (cabinetId, seq) already
   * stored is ignored (storage exactly once). One transaction per call.
   */
  writeTelemetry(batch: readonly TelemetryRecord[]): Promise<WriteResult>;
  writePresence(batch: readonly PresenceRecord[]): Promise<void>;
  /** Seq ranges already stored for a cabinet (to rebuild dedupe state after a restart). */
  storedSeqRanges(cabinetId: string): Promise<Array<[number, number]>>;
  /** Per-lamp consumption with sample counts for samples with from <= ts < to. */
  energyByLamp(from: number, to: number): Promise<LampEnergy[]>;
  lampHistory(lampId: string, from: number, to: number): Promise<LampSample[]>;
  /** Detections per lamp, from <= ts < to. */
  presenceCounts(from: number, to: number): Promise<Array<{ lampId: string; count: number }>>;
  /**
   * Each detection with from <= ts < to, oldest first (what-if replays them). Optional so far:
   * without it, what-if replays no presence (energy only).
   */
  presenceEvents?(from: number, to: number): Promise<PresenceEvent[]>;
  /** Deletes raw data older than `before`. Returns rows removed. */
  prune(before: number): Promise<number>;
  /**
   * Points accepted (durable locally) but not yet in the database: 0 for an embedded store; for
   * InfluxDB, lines on their way or spilled to disk while it is unreachable.
   */
  queueDepth(): number;
  close(): Promise<void>;
}

// ---------------- config ----------------

export interface CabinetRecord {
  id: string;
  /** Centroid of its lamps. */
  lat: number;
  lon: number;
  lamps: number;
}

export interface ImportReport {
  lamps: number;
  cabinets: number;
  zones: number;
  created: number;
  updated: number;
  unchanged: number;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: string;
}

export interface CabinetPolicyState {
  cabinetId: string;
  published: PolicyRef | null;
  acked: PolicyRef | null;
}

export interface ConfigStore {
  /** The underlying database, shared with the broker's credential store in one-process mode. */
  readonly db: Database;
  /**
   * Imports a GeoJSON inventory: validated whole first; an invalid feature throws a LucioleError
   * (LUCIOLE_ERR_INVENTORY_INVALID) naming its index and field, and nothing is written.
   * Idempotent: the same file twice changes nothing the second time.
   */
  importInventory(geojson: unknown, actor: string): ImportReport;
  lamps(): LampRecord[];
  cabinets(): CabinetRecord[];
  town(): { name: string; site: Site };
  setTown(town: { name: string; site: Site }, actor: string): void;
  /** `note`: why this version, for people (e.g. "rollback to v3"). */
  savePlan(plan: TownPlan, actor: string, note?: string): PlanVersion;
  currentPlan(): PlanVersion | null;
  /** Newest first. */
  planVersions(): PlanVersion[];
  planVersion(version: number): PlanVersion | undefined;
  /** Zone metadata given by technical services (zones of the inventory without any are absent). */
  zones(): ZoneMeta[];
  /** Validates (LUCIOLE_ERR_ZONE_INVALID naming the field), saves and audits; returns what was stored. */
  saveZone(zone: ZoneMeta, actor: string): ZoneMeta;
  groups(): LampGroup[];
  /** Creates or replaces; validated (LUCIOLE_ERR_GROUP_INVALID) and audited. */
  saveGroup(group: LampGroup, actor: string): LampGroup;
  /** False when there was no such group. */
  deleteGroup(id: string, actor: string): boolean;
  /** Creates or replaces an override record (its deliveries change as acks come). Not audited: the caller audits the action. */
  saveOverride(o: OverrideRecord): void;
  /** Overrides not cleared whose end is after `at`, soonest end first. */
  activeOverrides(at: number): OverrideRecord[];
  override(id: string): OverrideRecord | undefined;
  setPolicyPublished(cabinetId: string, ref: PolicyRef): void;
  setPolicyAcked(cabinetId: string, ref: PolicyRef): void;
  policyStates(): CabinetPolicyState[];
  saveAlert(alert: AlertView): void;
  alerts(): AlertView[];
  audit(actor: string, action: string, target: string, detail?: string): void;
  auditLog(limit: number): AuditEntry[];
  close(): void;
}
