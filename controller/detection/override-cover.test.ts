import { describe, expect, it } from 'vitest';
import type { OverrideRecord } from '../overrides.js';
import { OverrideCover } from './override-cover.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

function override(over: Partial<OverrideRecord>): OverrideRecord {
  return {
    id: 'o1',
    target: { type: 'cabinet', id: 'A' },
    level: 100,
    reason: 'test',
    actor: 'admin',
    createdAt: T0,
    until: T0 + 3_600_000,
    lampCount: 2,
    cabinets: [{ cabinetId: 'A', lamps: 'all', commandIds: [], waiting: [], state: 'applied', error: null, resent: 0 }],
    clearedAt: null,
    clearedBy: null,
    ...over,
  };
}

describe('OverrideCover', () => {
  const cabinets: Record<string, string> = { 'L-1': 'A', 'L-2': 'A', 'L-3': 'B' };

  it("covers a cabinet's lamps during the override, not before, after, or once cleared", () => {
    let list = [override({}), override({ id: 'o2', cabinets: [{ cabinetId: 'B', lamps: ['L-3'], commandIds: [], waiting: [], state: 'sent', error: null, resent: 0 }], clearedAt: T0 + 600_000 })];
    let loads = 0;
    const cover = new OverrideCover({ load: () => (loads++, list), cabinetOf: (id) => cabinets[id], refreshMs: 5000 });
    expect(cover.covers('L-1', T0 + 1000, T0 + 1000)).toBe(true);
    expect(cover.covers('L-2', T0 - 1, T0 + 1000)).toBe(false);
    expect(cover.covers('L-2', T0 + 3_600_000, T0 + 1000)).toBe(false);
    expect(cover.covers('L-3', T0 + 1000, T0 + 1000)).toBe(true);
    expect(cover.covers('L-3', T0 + 600_000, T0 + 1000)).toBe(false);
    expect(cover.covers('L-9', T0 + 1000, T0 + 1000)).toBe(false);
    // One load for all those questions: no query per lamp.
    expect(loads).toBe(1);
    list = [];
    expect(cover.covers('L-1', T0 + 2000, T0 + 2000)).toBe(true);
    expect(cover.covers('L-1', T0 + 7000, T0 + 7000)).toBe(false);
    expect(loads).toBe(2);
    list = [override({})];
    cover.invalidate();
    expect(cover.covers('L-1', T0 + 7000, T0 + 7000)).toBe(true);
  });
});
