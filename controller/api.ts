import type { Clock } from '../core/clock.js';
import type { TownPlan, PlanVersion } from './plan.js';
import type { AlertFilter, AlertView, CabinetView, EnergySummary, IngestStats, LampHistoryView, LampView, LiveEvent } from './views.js';
import type { LampRecord } from './inventory-schema.js';
import type { Site } from '../protocol/index.js';
import type { LevelCurve } from './plan-curve.js';
import type { OverrideRecord, OverrideRequest } from './overrides.js';
import type {
  ComplianceReport,
  PlanSaveResult,
  PlanVersionDetail,
  WhatIfResult,
} from './policy-views.js';
import type { LampGroup, ZoneUpdate, ZoneView } from './zones.js';

/**
 * What the dashboard may ask of the controller. The dashboard depends on this interface only,
 * never on the controller's internals, so either can change behind it.
 */
export interface ControllerApi {
  readonly clock: Clock;
  town(): { name: string; site: Site };
  listCabinets(): CabinetView[];
  getCabinet(id: string): CabinetView | undefined;
  listLamps(): LampView[];
  getLamp(id: string): LampRecord | undefined;
  /** Per-night energy against the full-power baseline, last `nights` nights (tonight included). */
  energy(nights: number): Promise<EnergySummary>;
  /** Alerts, newest opened first, resolved ones included (the full history) unless filtered. */
  listAlerts(filter?: AlertFilter): AlertView[];
  // The maintenance board (issue 4). Optional so controllers without fault detection still fit;
  // absent: those routes answer 501. Methods throw LucioleError with a code and a field.
  /** One alert with its evidence and history. */
  getAlert?(id: string): AlertView | undefined;
  /** open → acknowledged by `who`. LUCIOLE_ERR_ALERT_NOT_FOUND, LUCIOLE_ERR_ALERT_STATE (not open). */
  acknowledgeAlert?(id: string, who: string): AlertView;
  /** open or acknowledged → resolved by `who` with a note. LUCIOLE_ERR_ALERT_STATE when already resolved. */
  resolveAlert?(id: string, who: string, note: string | null): AlertView;
  /** A lamp's readings with from <= ts < to, from the telemetry store; at most `maxPoints` (bucketed beyond). */
  lampHistory?(lampId: string, from: number, to: number, maxPoints?: number): Promise<LampHistoryView>;
  currentPlan(): PlanVersion | null;
  listPlanVersions(): PlanVersion[];
  /**
   * Saves a new plan version, compiles it and publishes each cabinet's retained policy, for
   * trusted callers (CLI, demo): no compliance checks. The HTTP API saves through `policies.save`.
   */
  publishPlan(plan: TownPlan, author: string): Promise<PlanVersion>;
  /** Issues a new MQTT secret for a cabinet (revoking the old one). */
  issueCabinetCredentials(cabinetId: string, author: string): { username: string; password: string };
  stats(): IngestStats;
  /** Live stream for SSE; returns the unsubscribe function. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
  /** The policy editor's back end (zones, versions, compliance, what-if, overrides); absent: those routes answer 501. */
  readonly policies?: PolicyApi;
}

/**
 * Zones, groups, plan versions with compliance checks and diffs, what-if, level curves and
 * manual overrides. Methods throw LucioleError with a code and a field.
 */
export interface PolicyApi {
  zones(): ZoneView[];
  /** Sets a zone's metadata (the zone must exist in the inventory or the plan). */
  updateZone(name: string, update: ZoneUpdate, author: string): ZoneView;
  groups(): LampGroup[];
  group(id: string): LampGroup | undefined;
  /** Creates or replaces a group; every lamp must be in the inventory. */
  saveGroup(group: LampGroup, author: string): LampGroup;
  deleteGroup(id: string, author: string): boolean;
  /** Compliance of a draft with the zones' metadata and the lamps' colour temperatures, nothing saved. */
  check(plan: TownPlan): ComplianceReport;
  /**
   * Checks, saves a new version and publishes it. Compliance errors refuse it: throws a
   * PlanNoncompliantError (policy-service.ts) with every finding. Warnings come back with the saved version.
   */
  save(plan: TownPlan, author: string, note?: string): Promise<PlanSaveResult>;
  version(v: number): PlanVersionDetail | undefined;
  /** Saves a new version equal to version `v` ("rollback to vN") and publishes it. */
  rollback(v: number, author: string): Promise<PlanSaveResult>;
  /** The last 7 nights replayed with the draft and with the plan in force. */
  whatIf(draft: TownPlan): Promise<WhatIfResult>;
  /** The level of `profile` over the night of `date` (YYYY-MM-DD); `plan`: a draft, else the current plan. */
  curve(profile: string, date: string, plan?: TownPlan): LevelCurve;
  setOverride(request: OverrideRequest, actor: string): Promise<OverrideRecord>;
  /** Active overrides (not cleared, not ended), soonest end first. */
  overrides(): OverrideRecord[];
  /** Ends an override early: `clear-override` to its lamps. Throws LUCIOLE_ERR_OVERRIDE_NOT_FOUND. */
  clearOverride(id: string, actor: string): Promise<OverrideRecord>;
}
