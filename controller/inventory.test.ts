import { describe, it, expect } from 'vitest';
import { LucioleError } from '../core/errors.js';
import { computeNeighbours, parseInventory } from './inventory.js';

/** Metres of latitude per degree, with the radius inventory.ts uses. */
const M_PER_DEG = (Math.PI / 180) * 6_371_008.8;

function feature(id: string, lon: number, lat: number, props: Record<string, unknown> = {}): unknown {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [lon, lat] },
    properties: { id, cabinetId: 'C1', zone: 'centre', nominalPowerW: 30, ...props },
  };
}

function collection(features: unknown[]): unknown {
  return { type: 'FeatureCollection', features };
}

function catchError(fn: () => unknown): LucioleError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LucioleError) return e;
    throw e;
  }
  throw new Error('expected a LucioleError');
}

/** A line of lamps `spacingM` apart going north from (lat0, lon0). */
function line(count: number, spacingM: number, lat0 = 45.76, lon0 = 4.83): Array<{ id: string; lat: number; lon: number }> {
  return Array.from({ length: count }, (_, i) => ({
    id: `L-${String(i).padStart(3, '0')}`,
    lat: lat0 + (i * spacingM) / M_PER_DEG,
    lon: lon0,
  }));
}

describe('parseInventory', () => {
  it('turns features into lamp records, lat/lon from [lon, lat], baseline null when absent', () => {
    const lamps = parseInventory(
      collection([
        feature('A', 4.8357, 45.764, { baselinePowerW: 150, neighbours: ['B'] }),
        feature('B', 4.8358, 45.7641, { cabinetId: 'C2', zone: 'parc' }),
      ]),
    );
    expect(lamps).toEqual([
      {
        id: 'A',
        cabinetId: 'C1',
        zone: 'centre',
        lat: 45.764,
        lon: 4.8357,
        nominalPowerW: 30,
        baselinePowerW: 150,
        neighbours: ['B'],
      },
      {
        id: 'B',
        cabinetId: 'C2',
        zone: 'parc',
        lat: 45.7641,
        lon: 4.8358,
        nominalPowerW: 30,
        baselinePowerW: null,
        // Derived: A is about 14 m away.
        neighbours: ['A'],
      },
    ]);
  });

  it('names the feature index, the lamp id and the field of the first invalid feature', () => {
    const features = Array.from({ length: 20 }, (_, i) => feature(`L-${i}`, 4.83, 45.76 + i * 0.001));
    features[12] = feature('L-12', 4.83, 45.772, { nominalPowerW: -5 });
    features[15] = feature('L-15', 4.83, 45.775, { zone: 'bad zone!' });
    const err = catchError(() => parseInventory(collection(features)));
    expect(err.code).toBe('LUCIOLE_ERR_INVENTORY_INVALID');
    expect(err.field).toBe('features.12.properties.nominalPowerW');
    expect(err.message).toContain('feature 12');
    expect(err.message).toContain('"L-12"');
    expect(err.message).toContain('properties.nominalPowerW');
  });

  it('reports a geometry error without a readable id, and a non-collection', () => {
    const noId = { type: 'Feature', geometry: { type: 'Point', coordinates: [200, 45] }, properties: {} };
    const err = catchError(() => parseInventory(collection([feature('A', 4.8, 45.7), noId])));
    expect(err.field).toBe('features.1.geometry.coordinates.0');
    expect(err.message).toContain('feature 1');
    expect(err.message).not.toContain('lamp "');

    const top = catchError(() => parseInventory({ type: 'Feature', features: [] }));
    expect(top.code).toBe('LUCIOLE_ERR_INVENTORY_INVALID');
    expect(top.field).toBe('type');
  });

  it('refuses duplicate lamp ids, naming both features', () => {
    const err = catchError(() =>
      parseInventory(collection([feature('A', 4.8, 45.7), feature('B', 4.8, 45.71), feature('A', 4.8, 45.72)])),
    );
    expect(err.field).toBe('features.2.properties.id');
    expect(err.message).toContain('duplicate');
    expect(err.message).toContain('feature 0');
  });

  it('refuses explicit neighbours that are unknown or the lamp itself', () => {
    const unknown = catchError(() =>
      parseInventory(collection([feature('A', 4.8, 45.7, { neighbours: ['B', 'Z'] }), feature('B', 4.8, 45.7001)])),
    );
    expect(unknown.field).toBe('features.0.properties.neighbours.1');
    expect(unknown.message).toContain('"Z"');
    const self = catchError(() => parseInventory(collection([feature('A', 4.8, 45.7, { neighbours: ['A'] })])));
    expect(self.field).toBe('features.0.properties.neighbours.0');
  });
});

describe('computeNeighbours', () => {
  it('links each lamp of a line 30 m apart to the previous and the next only', () => {
    const lamps = line(10, 30);
    const n = computeNeighbours(lamps);
    expect(n.get('L-000')).toEqual(['L-001']);
    expect(n.get('L-009')).toEqual(['L-008']);
    for (let i = 1; i < 9; i++) {
      const mine = n.get(lamps[i]!.id)!;
      expect([...mine].sort()).toEqual([lamps[i - 1]!.id, lamps[i + 1]!.id]);
    }
    // With a 65 m radius the lamps two away (60 m) qualify too.
    const wider = computeNeighbours(lamps, { radiusM: 65 });
    expect(wider.get('L-005')).toHaveLength(4);
    expect(wider.get('L-005')!.slice(2).sort()).toEqual(['L-003', 'L-007']);
  });

  it('is symmetric, keeps the max nearest, and matches brute force on a random town', () => {
    // Deterministic pseudo-random points in a 600 m square.
    let state = 42;
    const rand = (): number => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
    const lamps = Array.from({ length: 400 }, (_, i) => ({
      id: `P${i}`,
      lat: 48.85 + (rand() * 600) / M_PER_DEG,
      lon: 2.35 + (rand() * 600) / (M_PER_DEG * Math.cos((48.85 * Math.PI) / 180)),
    }));
    const n = computeNeighbours(lamps, { radiusM: 45, max: 3 });
    const dist = (a: (typeof lamps)[number], b: (typeof lamps)[number]): number => {
      const c = Math.cos((48.853 * Math.PI) / 180);
      return Math.hypot((a.lat - b.lat) * M_PER_DEG, (a.lon - b.lon) * M_PER_DEG * c);
    };
    for (const a of lamps) {
      for (const bId of n.get(a.id)!) {
        expect(n.get(bId)).toContain(a.id);
        const b = lamps.find((l) => l.id === bId)!;
        expect(dist(a, b)).toBeLessThanOrEqual(45.01);
      }
      // Brute force: the 3 nearest within the radius must all be listed.
      const nearest = lamps
        .filter((b) => b !== a && dist(a, b) <= 44.99)
        .sort((x, y) => dist(a, x) - dist(a, y))
        .slice(0, 3)
        .map((b) => b.id);
      for (const id of nearest) expect(n.get(a.id)).toContain(id);
    }
  });

  it('caps a hub of lamps at one spot at 64 neighbours, still symmetric', () => {
    const lamps = Array.from({ length: 200 }, (_, i) => ({ id: `H${String(i).padStart(3, '0')}`, lat: 45.7, lon: 4.8 }));
    const n = computeNeighbours(lamps);
    // Every lamp picks the same 4 (ties go by id), so those 4 are hubs and lose their farthest links.
    expect(n.get('H000')).toHaveLength(64);
    for (const [id, list] of n) {
      expect(list.length).toBeLessThanOrEqual(64);
      for (const other of list) expect(n.get(other)).toContain(id);
    }
  });

  it('handles 100,000 lamps well under a second', () => {
    const side = 317;
    const grid = (count: number): Array<{ id: string; lat: number; lon: number }> =>
      Array.from({ length: count }, (_, i) => ({
        id: `L${i}`,
        lat: 45.7 + (Math.floor(i / side) * 30) / M_PER_DEG,
        lon: 4.8 + ((i % side) * 30) / (M_PER_DEG * Math.cos((45.7 * Math.PI) / 180)),
      }));
    computeNeighbours(grid(10_000)); // JIT warm-up
    const lamps = grid(100_000);
    // Best of two: the test machine is shared with other suites.
    let best = Infinity;
    let n = new Map<string, string[]>();
    for (let run = 0; run < 2; run++) {
      const t0 = performance.now();
      n = computeNeighbours(lamps);
      best = Math.min(best, performance.now() - t0);
    }
    expect(n.size).toBe(100_000);
    // An interior grid lamp has exactly its 4 orthogonal neighbours at 30 m (diagonals are 42 m).
    expect([...n.get(`L${side * 10 + 10}`)!].sort()).toEqual(
      [`L${side * 9 + 10}`, `L${side * 10 + 9}`, `L${side * 10 + 11}`, `L${side * 11 + 10}`].sort(),
    );
    expect(best).toBeLessThan(1000);
  });
});
