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

/**
 * Sums of an hourly roll-up (issue 5, energy reports), built at write time from each sample:
 * its counter delta (the same reset-aware rule as `energyByLamp`), and the `periodS` it stands for.
 */
export interface RollupSums {
  /** Counter deltas of the samples, Wh (a counter reset counts the new value). */
  energyWh: number;
  /**
   * The part of `energyWh` read by a sample more than 1.5 periods after the lamp's previous one:
   * energy really used, but somewhere inside the interruption. Counted, never spread; flagged.
   */
  gapWh: number;
  samples: number;
  /** Σ level × periodS over the samples, % · s. */
  levelS: number;
  /** Σ periodS of the samples with level > 0, s. */
  onS: number;
}

/** The town's sums for one hour; `hour`: start of a UTC hour, ms. */
export interface HourRollup extends RollupSums {
  hour: number;
}

/** Sums of one cabinet or lamp over a span of hours. */
export interface GroupRollup extends RollupSums {
  /** Cabinet id or lamp id. */
  key: string;
  /** Samples in the `markedHours` of the query (a report's whole dark hours: completeness). */
  markedSamples: number;
}

export interface RollupQuery {
  /** Hours with from <= hour < to (hour = start of a UTC hour, ms). */
  from: number;
  to: number;
  by: 'cabinet' | 'lamp';
  /** `lamp` only: just these lamps. */
  lampIds?: readonly string[];
  /** Hour starts whose samples are also counted apart, as `markedSamples`. */
  markedHours?: readonly number[];
}

export interface TelemetryStore {
  /**
   * How many `writeTelemetry` calls may be in flight at once (default 1: each waits for the
   * previous). More only for a store that runs them in call order, each resolving after the ones
   * before it, and that refuses a write built on one that failed (SqliteTelemetryStore).
   */
  readonly maxWritesInFlight?: number;
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
  /**
   * The whole town's hourly roll-up, oldest first (issue 5). Optional: a store without roll-ups
   * serves no energy report.
   */
  rollupByHour?(from: number, to: number): Promise<HourRollup[]>;
  /** Per cabinet or per lamp sums of the hourly roll-ups over [from, to), sorted by key. */
  rollupByGroup?(query: RollupQuery): Promise<GroupRollup[]>;
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

// ---------------- access: users, sessions, API tokens ----------------

/**
 * The roles of the HTTP API, least to most powerful: elected officials read reports (`viewer`),
 * crews handle alerts (`maintenance`), technical services write policies and overrides
 * (`technician`), `admin` manages inventory, credentials and users.
 */
export const ROLES = ['viewer', 'maintenance', 'technician', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A person who signs in with a password. Never carries the password hash out of `AccessStore.user`. */
export interface UserRecord {
  username: string;
  role: Role;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  disabled: boolean;
}

export interface UserSecret extends UserRecord {
  /** scrypt hash (dashboard/auth-passwords.ts format); the password itself is never stored. */
  passwordHash: string;
}

/** `session`: made by a sign-in, idle and absolute expiry. `token`: an API token for automation, issued by an admin. */
export type AccessKind = 'session' | 'token';

/** A bearer credential as stored: only the sha256 of the token is kept, never the token. */
export interface AccessCredential {
  /** Public id (`ses_…`, `tok_…`): what lists show and revocation names; not a secret. */
  id: string;
  kind: AccessKind;
  /** A session's user, a token's issuer; null when issued with the bootstrap admin token. */
  username: string | null;
  label: string;
  /** The role granted; a user's current role caps it (a demotion applies at once). */
  role: Role;
  createdAt: number;
  createdBy: string;
  /** Absolute expiry, ms since the epoch. */
  expiresAt: number;
  /** Sessions end after this long unused; null: no idle limit (API tokens). */
  idleTimeoutMs: number | null;
  revokedAt: number | null;
}

export interface AccessStore {
  users(): UserRecord[];
  user(username: string): UserSecret | undefined;
  /** Throws LUCIOLE_ERR_USER_EXISTS. Audited. */
  createUser(user: { username: string; role: Role; passwordHash: string }, actor: string): UserRecord;
  /**
   * Throws LUCIOLE_ERR_USER_NOT_FOUND. A new password or `disabled: true` revokes the user's
   * sessions and tokens in the same transaction. Audited (never the hash).
   */
  updateUser(username: string, patch: { role?: Role; passwordHash?: string; disabled?: boolean }, actor: string): UserRecord;
  /** Deletes a user and revokes every credential they hold or issued. False when there was none. Audited. */
  deleteUser(username: string, actor: string): boolean;
  /** Stores a new credential by the sha256 (hex) of its token. Audited. */
  addCredential(credential: AccessCredential & { tokenHash: string }, actor: string): AccessCredential;
  credentialByTokenHash(tokenHash: string): AccessCredential | undefined;
  credential(id: string): AccessCredential | undefined;
  /** Newest first; `activeAt`: only those neither revoked nor expired at that instant. */
  credentials(filter?: { kind?: AccessKind; username?: string; activeAt?: number }): AccessCredential[];
  /** False when there is no such credential or it was already revoked. Audited. */
  revokeCredential(id: string, actor: string): boolean;
  /** Deletes credentials that expired or were revoked before `before` (housekeeping, not audited). Rows removed. */
  pruneCredentials(before: number): number;
}
