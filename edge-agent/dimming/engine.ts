import { nightAt } from '../../core/astro.js';
import type { Night } from '../../core/astro.js';
import type { AgentMode, Policy, PresenceKind, PresenceSettings, Site } from '../../protocol/index.js';
import { compileCalendar } from '../../policy/calendar.js';
import { OverrideBook } from './overrides.js';
import { boostedLevel, buildAdjacency, envelopeAt, lampsWithinHops } from './presence.js';
import {
  clampLevel,
  compileSchedule,
  failsafeLevelAt,
  resolveSchedule,
  slotIndexAt,
  type CompiledSlot,
  type ResolvedSchedule,
} from './schedule.js';
import type { ActiveOverride, DimmingEngine, DimmingEngineOptions } from './types.js';

/**
 * The gateway's dimming engine: policy schedule, calendar, fail-safe, presence boost and
 * overrides, one level per lamp at any instant (semantics in schedule.ts, calendar rules in
 * policy/calendar.ts). Pure: time is always passed in.
 *
 * levelAt runs for every lamp on every driver tick and right after each detection, so all that
 * can be is prepared in setPolicy (lamp graph, parsed slots, calendar), the calendar is looked
 * up once per profile and night, slots are resolved once per profile and night, and per-lamp
 * state lives in typed arrays indexed by lamp.
 */
export function createDimmingEngine(opts: DimmingEngineOptions): DimmingEngine {
  return new PolicyDimmingEngine(opts);
}

interface ProfileState {
  name: string;
  slots: CompiledSlot[];
  presence: PresenceSettings | null;
  /** Date of the night `resolved` was computed for. */
  resolvedFor: string | null;
  resolved: ResolvedSchedule;
}

const NO_DETECTION = Number.NaN;

class PolicyDimmingEngine implements DimmingEngine {
  readonly lampIds: readonly string[];
  private readonly index = new Map<string, number>();
  private readonly defaultSite: Site;
  private readonly defaultFailsafe: number;

  private policy: Policy | null = null;
  private site: Site;
  private failsafe: number;
  private profiles: ProfileState[] = [];
  private profileIndex = new Map<string, number>();
  /** Per lamp: index of its own profile in `profiles`, or -1 for a fail-safe lamp. */
  private ownProfile: Int32Array;
  private calendar = compileCalendar(undefined);
  /** Per own profile: the profile followed on the night `effectiveFor` (the calendar applied). */
  private effective: Int32Array = new Int32Array(0);
  private effectiveFor: string | null = null;
  private adjacency: Int32Array[];

  /** The night last looked up: most calls fall in it, and nightAt is not free. */
  private night: Night | null = null;

  /** Per lamp: start of the current boost rise (NaN: never detected) and the envelope there. */
  private readonly envT0: Float64Array;
  private readonly envF0: Float64Array;

  private readonly bfsQueue: Int32Array;
  private readonly bfsDepth: Int32Array;
  private readonly bfsSeen: Uint32Array;
  private bfsStamp = 0;

  private readonly overrides = new OverrideBook();

  constructor(opts: DimmingEngineOptions) {
    this.lampIds = Object.freeze([...new Set(opts.lampIds)]);
    this.lampIds.forEach((id, i) => this.index.set(id, i));
    this.defaultSite = opts.site;
    this.defaultFailsafe = clampLevel(opts.failsafeLevel ?? 100);
    this.site = this.defaultSite;
    this.failsafe = this.defaultFailsafe;
    const n = this.lampIds.length;
    this.ownProfile = new Int32Array(n).fill(-1);
    this.adjacency = this.lampIds.map(() => new Int32Array(0));
    this.envT0 = new Float64Array(n).fill(NO_DETECTION);
    this.envF0 = new Float64Array(n);
    this.bfsQueue = new Int32Array(n);
    this.bfsDepth = new Int32Array(n);
    this.bfsSeen = new Uint32Array(n);
  }

  setPolicy(policy: Policy | null): void {
    // Compile everything first: a schedule that does not parse throws and leaves the
    // previous policy in force.
    const profiles: ProfileState[] = [];
    const profileIndex = new Map<string, number>();
    if (policy) {
      for (const [id, p] of Object.entries(policy.profiles)) {
        profileIndex.set(id, profiles.length);
        profiles.push({
          name: id,
          slots: compileSchedule(p.schedule, `profiles.${id}.schedule`),
          presence: p.presence ?? null,
          resolvedFor: null,
          resolved: new Float64Array(0),
        });
      }
    }
    const calendar = compileCalendar(policy?.calendar);
    this.policy = policy;
    this.profiles = profiles;
    this.profileIndex = profileIndex;
    this.calendar = calendar;
    this.effective = new Int32Array(profiles.length);
    this.effectiveFor = null;
    this.site = policy ? policy.site : this.defaultSite;
    this.failsafe = policy ? clampLevel(policy.failsafeLevel) : this.defaultFailsafe;
    this.night = null;
    this.ownProfile = Int32Array.from(this.lampIds, (id) => {
      const lamp = policy && Object.hasOwn(policy.lamps, id) ? policy.lamps[id] : undefined;
      return lamp ? (profileIndex.get(lamp.profile) ?? -1) : -1;
    });
    this.adjacency = policy
      ? buildAdjacency(this.lampIds, policy.lamps)
      : this.lampIds.map(() => new Int32Array(0));
    // Boosts in progress carry on under the new policy, each lamp with its new profile.
  }

  getPolicy(): Policy | null {
    return this.policy;
  }

  presence(lampId: string, at: number, hops?: number, kind?: PresenceKind): string[] {
    const start = this.index.get(lampId);
    if (start === undefined) return [];
    const night = this.nightFor(at);
    if (!night) return [];
    const own = this.profileOn(start, night)?.presence;
    const propagate = hops ?? (kind !== undefined ? own?.propagateByKind?.[kind] : undefined) ?? own?.propagate ?? 0;
    this.bfsStamp = this.bfsStamp >= 0xfffffffe ? 1 : this.bfsStamp + 1;
    if (this.bfsStamp === 1) this.bfsSeen.fill(0);
    const reached = lampsWithinHops(
      this.adjacency,
      start,
      Math.max(0, Math.floor(propagate)),
      this.bfsQueue,
      this.bfsDepth,
      this.bfsSeen,
      this.bfsStamp,
    );
    const raised: string[] = [];
    for (let k = 0; k < reached; k++) {
      const i = this.bfsQueue[k]!;
      const profile = this.profileOn(i, night);
      if (!profile?.presence) continue;
      if (slotIndexAt(this.resolvedFor(profile, night), at) < 0) continue;
      const t0 = this.envT0[i]!;
      // An older detection arriving late changes nothing: the envelope already runs from a
      // later one, whose hold ends later.
      if (!(at < t0)) {
        this.envF0[i] = Number.isNaN(t0) ? 0 : envelopeAt(t0, this.envF0[i]!, profile.presence, at);
        this.envT0[i] = at;
      }
      raised.push(this.lampIds[i]!);
    }
    return raised;
  }

  setOverride(o: ActiveOverride): void {
    this.overrides.set(o);
  }

  clearOverrides(lamps: 'all' | string[]): void {
    this.overrides.clear(lamps, this.lampIds);
  }

  activeOverrides(now: number): ActiveOverride[] {
    return this.overrides.active(now);
  }

  mode(now: number): AgentMode {
    if (this.overrides.anyActive(now)) return 'override';
    return this.policy ? 'policy' : 'failsafe';
  }

  levelAt(lampId: string, now: number): number {
    const overridden = this.overrides.levelFor(lampId, now);
    if (overridden !== undefined) return clampLevel(overridden);
    const night = this.nightFor(now);
    // No sunset/sunrise at this site (polar day or night): never leave the street dark.
    if (!night) return this.failsafe;
    const i = this.index.get(lampId);
    const profile = i === undefined ? null : this.profileOn(i, night);
    if (!profile) return failsafeLevelAt(night, now, this.failsafe);
    const resolved = this.resolvedFor(profile, night);
    const slot = slotIndexAt(resolved, now);
    if (slot < 0) return 0;
    const scheduled = resolved[3 * slot + 2]!;
    const t0 = this.envT0[i!]!;
    if (!profile.presence || Number.isNaN(t0)) return clampLevel(scheduled);
    const f = envelopeAt(t0, this.envF0[i!]!, profile.presence, now);
    if (f === 0) return clampLevel(scheduled);
    return clampLevel(boostedLevel(scheduled, profile.presence.level, f));
  }

  private nightFor(t: number): Night | null {
    const n = this.night;
    if (n && t >= n.windowStart && t < n.windowEnd) return n;
    try {
      this.night = nightAt(this.site, t);
    } catch {
      this.night = null;
    }
    return this.night;
  }

  /** The profile lamp `i` follows on `night`: its own, or the calendar's replacement. */
  private profileOn(i: number, night: Night): ProfileState | null {
    const own = this.ownProfile[i]!;
    if (own < 0) return null;
    if (this.effectiveFor !== night.date) {
      for (let k = 0; k < this.profiles.length; k++) {
        this.effective[k] = this.profileIndex.get(this.calendar.profileFor(this.profiles[k]!.name, night.date)) ?? k;
      }
      this.effectiveFor = night.date;
    }
    return this.profiles[this.effective[own]!]!;
  }

  private resolvedFor(profile: ProfileState, night: Night): ResolvedSchedule {
    if (profile.resolvedFor !== night.date) {
      profile.resolved = resolveSchedule(profile.slots, night, this.site.timezone);
      profile.resolvedFor = night.date;
    }
    return profile.resolved;
  }
}
