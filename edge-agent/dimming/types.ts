import type { AgentMode, Policy, PresenceKind, Site } from '../../protocol/index.js';

/** A manual override held by the gateway: always with an end. */
export interface ActiveOverride {
  commandId: string;
  lamps: 'all' | string[];
  level: number;
  /** Clock ms at which it ends by itself. */
  until: number;
}

/**
 * The pure dimming engine of a gateway: given the policy, presence detections and overrides,
 * the output level of every lamp at any instant. No I/O, no Date.now(): time is passed in.
 */
export interface DimmingEngine {
  /** Lamps this gateway drives. Lamps missing from the policy get fail-safe. */
  readonly lampIds: readonly string[];
  /** null: no valid policy, fail-safe (dusk to dawn at the fail-safe level). */
  setPolicy(policy: Policy | null): void;
  getPolicy(): Policy | null;
  /**
   * A detection at `lampId` (local sensor, or relayed by the controller with `hops` left).
   * `kind` (the road user detected) picks the profile's `propagateByKind` hops when `hops` is
   * absent. Returns the ids of the lamps it raised (empty outside the night slots).
   */
  presence(lampId: string, at: number, hops?: number, kind?: PresenceKind): string[];
  setOverride(o: ActiveOverride): void;
  clearOverrides(lamps: 'all' | string[]): void;
  /** Overrides still active at `now` (expired ones are dropped). */
  activeOverrides(now: number): ActiveOverride[];
  mode(now: number): AgentMode;
  levelAt(lampId: string, now: number): number;
}

export interface DimmingEngineOptions {
  /** Used for fail-safe before any policy is known; a policy's own `site` wins once set. */
  site: Site;
  lampIds: readonly string[];
  /** Fail-safe level with no policy at all. Default 100. */
  failsafeLevel?: number;
}
