import type { Database } from 'better-sqlite3';
import type { CabinetMeter, FaultCode, LampReading, PolicyRef, PresenceKind, Site } from '../protocol/index.js';
import type { LampRecord } from './inventory-schema.js';
import type { PlanVersion, TownPlan } from './plan.js';
import type { AlertView } from './views.js';

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
  /** Deletes raw data older than `before`. Returns rows removed. */
  prune(before: number): Promise<number>;
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
  savePlan(plan: TownPlan, actor: string): PlanVersion;
  currentPlan(): PlanVersion | null;
  planVersions(): PlanVersion[];
  setPolicyPublished(cabinetId: string, ref: PolicyRef): void;
  setPolicyAcked(cabinetId: string, ref: PolicyRef): void;
  policyStates(): CabinetPolicyState[];
  saveAlert(alert: AlertView): void;
  alerts(): AlertView[];
  audit(actor: string, action: string, target: string, detail?: string): void;
  auditLog(limit: number): AuditEntry[];
  close(): void;
}
