import { describe, it, expect } from 'vitest';
import type { LampRecord } from './inventory-schema.js';
import { NeighbourGraph } from './neighbours.js';

function lamp(id: string, cabinetId: string, neighbours: string[]): LampRecord {
  return { id, cabinetId, zone: 'z', lat: 45.76, lon: 4.83, nominalPowerW: 30, baselinePowerW: null, neighbours };
}

// A street: A1 - A2 - A3 | B1 - B2 - B3, cabinet C1 then C2. Links listed on one side only
// (A3 does not list B1) must still work both ways.
const chain: LampRecord[] = [
  lamp('A1', 'C1', ['A2']),
  lamp('A2', 'C1', ['A3']),
  lamp('A3', 'C1', []),
  lamp('B1', 'C2', ['A3', 'B2']),
  lamp('B2', 'C2', ['B3']),
  lamp('B3', 'C2', ['ghost']),
];

describe('NeighbourGraph', () => {
  const g = new NeighbourGraph(chain);

  it('knows each lamp cabinet', () => {
    expect(g.cabinetOf('A2')).toBe('C1');
    expect(g.cabinetOf('B3')).toBe('C2');
    expect(g.cabinetOf('ghost')).toBeUndefined();
  });

  it('relays to the next cabinet with the hops left at its first lamp', () => {
    expect(g.relayTargets('A3', 1)).toEqual([{ cabinetId: 'C2', lampId: 'B1', hops: 0 }]);
    expect(g.relayTargets('A2', 3)).toEqual([{ cabinetId: 'C2', lampId: 'B1', hops: 1 }]);
    // Not expanded beyond B1: B2 and B3 are the C2 gateway's business.
    expect(g.relayTargets('A3', 5)).toEqual([{ cabinetId: 'C2', lampId: 'B1', hops: 4 }]);
    // The other way along the street.
    expect(g.relayTargets('B3', 3)).toEqual([{ cabinetId: 'C1', lampId: 'A3', hops: 0 }]);
  });

  it('relays nothing when the spread stays in the cabinet', () => {
    expect(g.relayTargets('A1', 2)).toEqual([]);
    expect(g.relayTargets('A3', 0)).toEqual([]);
    expect(g.relayTargets('unknown', 3)).toEqual([]);
  });

  it('reports every cabinet reached at a junction, nearest first', () => {
    const junction = new NeighbourGraph([
      lamp('X', 'C1', ['Y', 'P1']),
      lamp('Y', 'C1', ['Q1']),
      lamp('P1', 'C2', ['P2']),
      lamp('P2', 'C2', []),
      lamp('Q1', 'C3', []),
    ]);
    expect(junction.relayTargets('X', 2)).toEqual([
      { cabinetId: 'C2', lampId: 'P1', hops: 1 },
      { cabinetId: 'C3', lampId: 'Q1', hops: 0 },
    ]);
  });
});
