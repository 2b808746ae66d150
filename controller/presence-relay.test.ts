import { describe, expect, it } from 'vitest';
import { commandSchema, type Presence } from '../protocol/index.js';
import type { LampRecord } from './inventory-schema.js';
import type { TownPlan } from './plan.js';
import { relayCommands, RELAY_TTL_MS, type RelayContext, type RelayTarget } from './presence-relay.js';

const lamp = (id: string, cabinetId: string, zone: string): LampRecord => ({
  id, cabinetId, zone, lat: 45, lon: 4, nominalPowerW: 30, baselinePowerW: null, neighbours: [],
});
const lamps = new Map([lamp('A1', 'CA', 'z1'), lamp('A2', 'CA', 'z2'), lamp('B1', 'CB', 'z1')].map((l) => [l.id, l]));
const plan: TownPlan = {
  id: 'p',
  failsafeLevel: 100,
  defaultProfile: 'dark',
  zones: { z1: 'walk' },
  profiles: {
    walk: {
      schedule: [{ from: 'dusk', to: 'dawn', level: 0 }],
      presence: { level: 100, holdS: 60, rampUpMs: 300, rampDownS: 10, propagate: 2 },
    },
    dark: { schedule: [] },
  },
};
const presence = (lampId: string): Presence => ({ v: 1, ts: 1, sensorId: 'S1', lampId, kind: 'pedestrian', count: 2 });

function ctx(targets: RelayTarget[], calls: Array<[string, number]> = []): RelayContext {
  return {
    plan,
    lamp: (id) => lamps.get(id),
    profileOf: (p, l) => p.zones[l.zone] ?? p.defaultProfile,
    relayTargets: (from, propagate) => {
      calls.push([from, propagate]);
      return targets;
    },
  };
}

describe('relayCommands', () => {
  it('makes one valid presence command per other cabinet target, with the hops left', () => {
    const calls: Array<[string, number]> = [];
    let n = 0;
    const { commands } = relayCommands(ctx([{ cabinetId: 'CB', lampId: 'B1', hops: 1 }], calls), 'CA', presence('A1'), 1000, () => `id${n++}`);
    expect(calls).toEqual([['A1', 2]]);
    expect(commands).toHaveLength(1);
    expect(commands[0]!.cabinetId).toBe('CB');
    expect(commandSchema.parse(commands[0]!.command)).toEqual({
      v: 1, id: 'id0', ts: 1000, expiresAt: 1000 + RELAY_TTL_MS, kind: 'presence', lampId: 'B1', count: 2, hops: 1, roadUser: 'pedestrian',
    });
  });

  it('relays nothing without presence propagation, from a foreign or unknown lamp, or without a plan', () => {
    const t = [{ cabinetId: 'CB', lampId: 'B1', hops: 1 }];
    expect(relayCommands(ctx(t), 'CA', presence('A2'), 0, () => 'x').skipped).toBe('no_presence');
    expect(relayCommands(ctx(t), 'CA', presence('B1'), 0, () => 'x').skipped).toBe('foreign_lamp');
    expect(relayCommands(ctx(t), 'CA', presence('ZZ'), 0, () => 'x').skipped).toBe('unknown_lamp');
    expect(relayCommands({ ...ctx(t), plan: null }, 'CA', presence('A1'), 0, () => 'x').skipped).toBe('no_plan');
    expect(relayCommands(ctx([]), 'CA', presence('A1'), 0, () => 'x')).toEqual({ commands: [], skipped: 'no_target' });
  });

  it('propagates by kind of road user, with the profile the calendar gives that night', () => {
    const byKind: TownPlan = {
      ...plan,
      profiles: {
        ...plan.profiles,
        walk: {
          schedule: [{ from: 'dusk', to: 'dawn', level: 0 }],
          presence: { level: 100, holdS: 60, rampUpMs: 300, rampDownS: 10, propagate: 2, propagateByKind: { vehicle: 4 } },
        },
        fete: {
          schedule: [{ from: 'dusk', to: 'dawn', level: 100 }],
          presence: { level: 100, holdS: 60, rampUpMs: 300, rampDownS: 10, propagate: 1 },
        },
      },
    };
    const calls: Array<[string, number]> = [];
    const c = { ...ctx([{ cabinetId: 'CB', lampId: 'B1', hops: 3 }], calls), plan: byKind };
    const car: Presence = { ...presence('A1'), kind: 'vehicle' };
    const { commands } = relayCommands(c, 'CA', car, 5, () => 'v');
    expect(calls).toEqual([['A1', 4]]);
    expect(commands[0]!.command).toMatchObject({ kind: 'presence', roadUser: 'vehicle', hops: 3 });
    relayCommands(c, 'CA', presence('A1'), 5, () => 'p');
    expect(calls[1]).toEqual(['A1', 2]);
    // On a festive night the calendar swaps the profile: its own propagation applies.
    const festive = { ...c, profileOn: (_p: TownPlan, own: string, at: number) => (own === 'walk' && at === 7 ? 'fete' : own) };
    relayCommands(festive, 'CA', car, 7, () => 'f');
    expect(calls[2]).toEqual(['A1', 1]);
  });
});
