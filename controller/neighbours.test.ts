import { describe, it, expect } from 'vitest';
import type { LampRecord } from './inventory-schema.js';
import fc from 'fast-check';
import { LinkList, NeighbourGraph, SlotGraph } from './neighbours.js';

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

// The Map-of-Sets graph the slot graph replaced (issue 8), kept as the oracle.
function referenceTargets(lamps: readonly LampRecord[], from: string, propagate: number) {
  const cabinets = new Map<string, string>();
  for (const l of lamps) cabinets.set(l.id, l.cabinetId);
  const sets = new Map<string, Set<string>>();
  const link = (a: string, b: string): void => {
    let s = sets.get(a);
    if (!s) sets.set(a, (s = new Set()));
    s.add(b);
  };
  for (const l of lamps) {
    for (const n of l.neighbours) {
      if (n === l.id || !cabinets.has(n)) continue;
      link(l.id, n);
      link(n, l.id);
    }
  }
  const adjacency = new Map([...sets].map(([k, s]) => [k, [...s].sort()]));
  const home = cabinets.get(from);
  if (home === undefined || !(propagate >= 1)) return [];
  const targets: Array<{ cabinetId: string; lampId: string; hops: number }> = [];
  const seen = new Set([from]);
  let frontier = [from];
  for (let d = 1; d <= propagate && frontier.length > 0; d++) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const n of adjacency.get(id) ?? []) {
        if (seen.has(n)) continue;
        seen.add(n);
        const c = cabinets.get(n)!;
        if (c === home) next.push(n);
        else targets.push({ cabinetId: c, lampId: n, hops: propagate - d });
      }
    }
    frontier = next;
  }
  return targets;
}

describe('NeighbourGraph as slots', () => {
  const id = fc.constantFrom('L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7', 'L8', 'L9', 'x');
  const lampArb = fc.record({ id, cabinetId: fc.constantFrom('C1', 'C2', 'C3'), neighbours: fc.array(id, { maxLength: 5 }) });

  it('gives the targets the Map-of-Sets graph gave, duplicates, self links and unknown ids included', () => {
    fc.assert(
      fc.property(fc.array(lampArb, { maxLength: 12 }), id, fc.integer({ min: 0, max: 5 }), (raw, from, propagate) => {
        const lamps = raw.map((l) => lamp(l.id, l.cabinetId, l.neighbours));
        const g = new NeighbourGraph(lamps);
        // Twice: the visit marks of one search must not leak into the next.
        expect(g.relayTargets(from, propagate)).toEqual(referenceTargets(lamps, from, propagate));
        expect(g.relayTargets(from, propagate)).toEqual(referenceTargets(lamps, from, propagate));
        const cabinets = new Map(lamps.map((l) => [l.id, l.cabinetId]));
        expect(g.cabinetOf(from)).toBe(cabinets.get(from));
      }),
      { numRuns: 300 },
    );
  });
});

describe('SlotGraph.fromLinks', () => {
  it('keeps each row as a Set filled link by link would, or sorted by id', () => {
    const ids = ['d', 'a', 'c', 'b', 'e'];
    const slotById = new Map(ids.map((x, i) => [x, i]));
    const pair = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 30 }), (pairs) => {
        const links = new LinkList(1);
        const sets = new Map<string, Set<string>>();
        for (const [a, b] of pairs) {
          links.add(a, b);
          let s = sets.get(ids[a]!);
          if (!s) sets.set(ids[a]!, (s = new Set()));
          s.add(ids[b]!);
        }
        const inOrder = SlotGraph.fromLinks(slotById, ids, links.from, links.to, links.count);
        const sorted = SlotGraph.fromLinks(slotById, ids, links.from, links.to, links.count, true);
        for (const x of [...ids, 'unknown']) {
          expect(inOrder.neighbours(x)).toEqual([...(sets.get(x) ?? [])]);
          expect(sorted.neighbours(x)).toEqual([...(sets.get(x) ?? [])].sort());
        }
      }),
      { numRuns: 300 },
    );
  });
});
