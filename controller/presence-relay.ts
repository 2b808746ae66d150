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
  profileOf(plan: TownPlan, lamp: LampRecord): string;
  relayTargets(fromLampId: string, propagate: number): RelayTarget[];
}

export interface RelayCommand {
  cabinetId: string;
  command: InputOf<'command'>;
}

export type RelaySkip = 'unknown_lamp' | 'foreign_lamp' | 'no_plan' | 'no_presence' | 'no_target';

/**
 * Light ahead across cabinets: a detection at a lamp whose profile propagates presence becomes a
 * `presence` command for each neighbouring cabinet's entry lamp, with the hops left. Pure: the
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
  const profile = ctx.plan.profiles[ctx.profileOf(ctx.plan, lamp)];
  const propagate = profile?.presence?.propagate ?? 0;
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
      },
    });
  }
  return commands.length > 0 ? { commands } : { commands, skipped: 'no_target' };
}
