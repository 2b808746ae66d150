import type { Clock } from '../core/clock.js';
import type { TownPlan, PlanVersion } from './plan.js';
import type { AlertView, CabinetView, EnergySummary, IngestStats, LampView, LiveEvent } from './views.js';
import type { LampRecord } from './inventory-schema.js';
import type { Site } from '../protocol/index.js';

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
  listAlerts(): AlertView[];
  currentPlan(): PlanVersion | null;
  listPlanVersions(): PlanVersion[];
  /** Saves a new plan version, compiles it and publishes each cabinet's retained policy. */
  publishPlan(plan: TownPlan, author: string): Promise<PlanVersion>;
  /** Issues a new MQTT secret for a cabinet (revoking the old one). */
  issueCabinetCredentials(cabinetId: string, author: string): { username: string; password: string };
  stats(): IngestStats;
  /** Live stream for SSE; returns the unsubscribe function. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
}
