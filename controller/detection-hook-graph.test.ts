import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { DetectionHook } from './detection-hook.js';
import type { LampRecord } from './inventory-schema.js';

// The Map of Sets the hook held before its graph was kept as slots (issue 8): the oracle.
function referenceNeighbours(lamps: readonly LampRecord[]): Map<string, string[]> {
  const adj = new Map<string, Set<string>>();
  const link = (a: string, b: string): void => {
    let s = adj.get(a);
    if (!s) adj.set(a, (s = new Set()));
    s.add(b);
  };
  for (const l of lamps) {
    for (const n of l.neighbours) {
      link(l.id, n);
      link(n, l.id);
    }
  }
  return new Map([...adj].map(([k, s]) => [k, [...s]]));
}

function hook(): DetectionHook {
  return new DetectionHook({
    clock: new ManualClock(0),
    logger: silentLogger(),
    site: () => null,
    defaultPeriodS: 60,
    saveAlert: () => {},
    emit: () => {},
    publish: async () => {},
  });
}

describe('DetectionHook neighbour graph', () => {
  const id = fc.constantFrom('L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'ghost');
  const lampArb = fc.record({ id, cabinetId: fc.constantFrom('C1', 'C2'), neighbours: fc.array(id, { maxLength: 5 }) });
  const toRecord = (l: { id: string; cabinetId: string; neighbours: string[] }): LampRecord => ({
    ...l,
    zone: 'z',
    lat: 45.8,
    lon: 4.8,
    nominalPowerW: 30,
    baselinePowerW: null,
  });

  it('gives each id the neighbours, in the order, the Map of Sets gave: unknown ids and self links included', () => {
    const h = hook();
    fc.assert(
      fc.property(fc.array(lampArb, { maxLength: 10 }), fc.array(lampArb, { maxLength: 10 }), (a, b) => {
        // Two inventories in a row: the second replaces the first entirely.
        for (const raw of [a, b]) {
          const lamps = raw.map(toRecord);
          h.setInventory(lamps);
          const want = referenceNeighbours(lamps);
          for (const x of ['L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'ghost', 'never']) {
            expect(h.neighbours(x)).toEqual(want.get(x) ?? []);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
