import { describe, expect, it } from 'vitest';
import { commandSchema } from '../protocol/index.js';
import type { LampRecord } from './inventory-schema.js';
import {
  MAX_OVERRIDE_S,
  chunkSelection,
  clearCommands,
  overrideCommands,
  overrideEnd,
  overrideRequestSchema,
  resolveTarget,
} from './overrides.js';
import type { LampGroup } from './zones.js';

const lamp = (id: string, cabinetId: string, zone: string): LampRecord => ({
  id,
  cabinetId,
  zone,
  lat: 45,
  lon: 4,
  nominalPowerW: 30,
  baselinePowerW: null,
  neighbours: [],
});

const lamps = [lamp('A1', 'CA', 'parc'), lamp('A2', 'CA', 'rue'), lamp('B1', 'CB', 'parc'), lamp('B2', 'CB', 'rue'), lamp('C1', 'CC', 'rue')];
const groups: Record<string, LampGroup> = { marche: { id: 'marche', lamps: ['A2', 'B1', 'GONE'] }, vide: { id: 'vide', lamps: ['GONE'] } };
const inv = { lamps, group: (id: string) => (Object.hasOwn(groups, id) ? groups[id] : undefined) };
const asObject = (m: Map<string, unknown>) => Object.fromEntries(m);

describe('resolveTarget', () => {
  it('a zone: its lamps, per cabinet', () => {
    const r = resolveTarget({ type: 'zone', id: 'parc' }, inv);
    expect(asObject(r.cabinets)).toEqual({ CA: ['A1'], CB: ['B1'] });
    expect(r.lampCount).toBe(2);
  });

  it('a group: its lamps of the inventory, unknown ids ignored', () => {
    const r = resolveTarget({ type: 'group', id: 'marche' }, inv);
    expect(asObject(r.cabinets)).toEqual({ CA: ['A2'], CB: ['B1'] });
    expect(r.lampCount).toBe(2);
  });

  it('one lamp', () => {
    expect(asObject(resolveTarget({ type: 'lamp', id: 'C1' }, inv).cabinets)).toEqual({ CC: ['C1'] });
  });

  it('a cabinet or the town: "all" for each cabinet concerned', () => {
    expect(asObject(resolveTarget({ type: 'cabinet', id: 'CB' }, inv).cabinets)).toEqual({ CB: 'all' });
    const town = resolveTarget({ type: 'town' }, inv);
    expect(asObject(town.cabinets)).toEqual({ CA: 'all', CB: 'all', CC: 'all' });
    expect(town.lampCount).toBe(5);
  });

  it('unknown targets are NOT_FOUND errors naming target.id', () => {
    for (const [target, code] of [
      [{ type: 'lamp', id: 'X' }, 'LUCIOLE_ERR_LAMP_NOT_FOUND'],
      [{ type: 'zone', id: 'X' }, 'LUCIOLE_ERR_ZONE_NOT_FOUND'],
      [{ type: 'cabinet', id: 'X' }, 'LUCIOLE_ERR_CABINET_NOT_FOUND'],
      [{ type: 'group', id: 'X' }, 'LUCIOLE_ERR_GROUP_NOT_FOUND'],
    ] as const) {
      expect(() => resolveTarget(target, inv)).toThrow(expect.objectContaining({ code, field: 'target.id' }));
    }
    expect(() => resolveTarget({ type: 'group', id: 'vide' }, inv)).toThrow(expect.objectContaining({ code: 'LUCIOLE_ERR_NO_LAMPS' }));
  });
});

describe('override end and commands', () => {
  const now = 1_800_000_000_000;

  it('a request has exactly one of durationS and until', () => {
    const base = { target: { type: 'town' }, level: 100, reason: 'test' };
    expect(overrideRequestSchema.safeParse({ ...base, durationS: 60 }).success).toBe(true);
    expect(overrideRequestSchema.safeParse({ ...base, until: now }).success).toBe(true);
    expect(overrideRequestSchema.safeParse(base).success).toBe(false);
    expect(overrideRequestSchema.safeParse({ ...base, durationS: 60, until: now }).success).toBe(false);
    expect(overrideRequestSchema.safeParse({ ...base, durationS: MAX_OVERRIDE_S + 1 }).success).toBe(false);
  });

  it('ends in the future, at most 7 days ahead', () => {
    expect(overrideEnd({ durationS: 3600 }, now)).toBe(now + 3_600_000);
    expect(overrideEnd({ until: now + 1000 }, now)).toBe(now + 1000);
    expect(() => overrideEnd({ until: now }, now)).toThrow(expect.objectContaining({ field: 'until' }));
    expect(() => overrideEnd({ until: now + MAX_OVERRIDE_S * 1000 + 1 }, now)).toThrow(/7 days/);
  });

  it('commands are valid, short-lived, hold until the end (rounded up) and split at 2000 lamps', () => {
    let n = 0;
    const ids = Array.from({ length: 4500 }, (_, i) => `L${i}`);
    const cmds = overrideCommands(ids, 80, now + 90_500, now, () => `c${n++}`);
    expect(cmds.map((c) => (c.kind === 'override' && Array.isArray(c.lamps) ? c.lamps.length : 0))).toEqual([2000, 2000, 500]);
    for (const c of cmds) {
      expect(commandSchema.parse(c)).toMatchObject({ kind: 'override', level: 80, durationS: 91, expiresAt: now + 60_000 });
    }
    expect(new Set(cmds.map((c) => c.id)).size).toBe(3);
    const clear = clearCommands('all', now, () => 'x');
    expect(clear.map((c) => commandSchema.parse(c))).toMatchObject([{ kind: 'clear-override', lamps: 'all' }]);
    expect(chunkSelection([])).toEqual([]);
  });
});
