import type { InputOf, Presence } from '../protocol/index.js';
import type { LampRecord } from './inventory-schema.js';
import type { TownPlan } from './plan.js';

/** How long a relayed detection stays worth applying: light ahead is useless once the walker has passed. */
export const RELAY_TTL_MS = 10_000;

export interface RelayTarget {
  cabinetId: string;
  lampId: string;
  hops: number;
}

/** The parts of the neighbour graph and the plan the relay needs (controller/neighbours.ts, policy-compiler.ts). */
export interface RelayContext {
  plan: TownPlan | null;
  lamp(lampId: string): LampRecord | undefined;
  /** The lamp's own profile (its zone's). */
  profileOf(plan: TownPlan, lamp: LampRecord): string;
  /**
   * The profile a lamp whose own profile is `own` follows at `at`: the calendar applied on that
   * night, as the gateway does. Absent: the own profile.
   */
  profileOn?(plan: TownPlan, own: string, at: number): string;
  relayTargets(fromLampId: string, propagate: number): RelayTarget[];
}

export interface RelayCommand {
  cabinetId: string;
  command: InputOf<'command'>;
}

export type RelaySkip = 'unknown_lamp' | 'foreign_lamp' | 'no_plan' | 'no_presence' | 'no_target';

/**
 * Light ahead across cabinets: a detection at a lamp whose profile (that night's, the calendar
 * applied) propagates presence becomes a `presence` command for each neighbouring cabinet's entry
 * lamp, with the hops left (by kind of road user: `propagateByKind`) and the road user. Pure: the
 * caller publishes. `newId` gives each command a unique id (gateways drop a repeated id).
 */
export function relayCommands(
  ctx: RelayContext,
  fromCabinetId: string,
  presence: Presence,
  now: number,
  newId: () => string,
): { commands: RelayCommand[]; skipped?: RelaySkip } {
  const lamp = ctx.lamp(presence.lampId);
  if (!lamp) return { commands: [], skipped: 'unknown_lamp' };
  // A gateway may only speak for its own lamps: never relay a detection it claims elsewhere.
  if (lamp.cabinetId !== fromCabinetId) return { commands: [], skipped: 'foreign_lamp' };
  if (!ctx.plan) return { commands: [], skipped: 'no_plan' };
  const own = ctx.profileOf(ctx.plan, lamp);
  const profile = ctx.plan.profiles[ctx.profileOn ? ctx.profileOn(ctx.plan, own, now) : own];
  const settings = profile?.presence;
  // A car lights further ahead than a walker: the same choice the gateway makes locally.
  const propagate = settings ? (settings.propagateByKind?.[presence.kind] ?? settings.propagate) : 0;
  if (propagate <= 0) return { commands: [], skipped: 'no_presence' };
  const commands: RelayCommand[] = [];
  for (const t of ctx.relayTargets(lamp.id, propagate)) {
    if (t.cabinetId === fromCabinetId) continue;
    commands.push({
      cabinetId: t.cabinetId,
      command: {
        v: 1,
        id: newId(),
        ts: now,
        expiresAt: now + RELAY_TTL_MS,
        kind: 'presence',
        lampId: t.lampId,
        count: presence.count,
        hops: t.hops,
        roadUser: presence.kind,
      },
    });
  }
  return commands.length > 0 ? { commands } : { commands, skipped: 'no_target' };
}

/**
 * At most one relayed detection per target lamp every `minIntervalMs`: presence only raises
 * light and a relay refreshes a hold of seconds, so more adds nothing but load, and a flood of
 * detections from one cabinet cannot become a flood of commands to its neighbours. Pure: time is
 * passed in.
 */
export class RelayLimiter {
  private readonly lastRelay = new Map<string, number>();
  private droppedCount = 0;

  constructor(
    private readonly minIntervalMs: number,
    /** Lamps remembered at most; past it the memory restarts (a burst of relays, never a loss of light). */
    private readonly maxLamps = 200_000,
  ) {}

  allow(lampId: string, now: number): boolean {
    const last = this.lastRelay.get(lampId);
    // A clock stepped back does not silence a lamp until it catches up.
    if (last !== undefined && now - last < this.minIntervalMs && now >= last) {
      this.droppedCount++;
      return false;
    }
    if (last === undefined && this.lastRelay.size >= this.maxLamps) this.lastRelay.clear();
    this.lastRelay.set(lampId, now);
    return true;
  }

  get dropped(): number {
    return this.droppedCount;
  }
}
