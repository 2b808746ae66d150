import type { z } from 'zod';
import { LucioleError } from '../core/errors.js';
import { inventorySchema, lampFeatureSchema, type LampRecord } from './inventory-schema.js';

/**
 * The operator's GeoJSON inventory turned into lamp records. Pure: no I/O, no time.
 * The whole file is checked before anything is returned, so a store can import all or nothing.
 */

const INVALID = 'LUCIOLE_ERR_INVENTORY_INVALID';

/** Mean Earth radius (IUGG), metres. */
const EARTH_RADIUS_M = 6_371_008.8;
const M_PER_DEG = (Math.PI / 180) * EARTH_RADIUS_M;

/** The policy schema allows at most 64 neighbours per lamp. */
const MAX_DEGREE = 64;

function pathOf(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.');
}

function readableId(feature: unknown): string | undefined {
  if (typeof feature !== 'object' || feature === null) return undefined;
  const props = (feature as { properties?: unknown }).properties;
  if (typeof props !== 'object' || props === null) return undefined;
  const id = (props as { id?: unknown }).id;
  return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : undefined;
}

function featureError(index: number, feature: unknown, subPath: string, reason: string): LucioleError {
  const id = readableId(feature);
  const who = id === undefined ? `feature ${index}` : `feature ${index} (lamp "${id}")`;
  const field = subPath === '' ? `features.${index}` : `features.${index}.${subPath}`;
  return new LucioleError(INVALID, `${who}: ${subPath === '' ? 'feature' : subPath}: ${reason}`, field);
}

/**
 * Validates a whole inventory FeatureCollection. Throws a LucioleError
 * (LUCIOLE_ERR_INVENTORY_INVALID) for the first invalid feature, with `field` such as
 * `features.12.properties.nominalPowerW`. Also refused: duplicate lamp ids, an explicit
 * neighbour that is not a lamp of the file, a lamp listing itself.
 * Lamps without an explicit `neighbours` list get the ones `computeNeighbours` derives.
 */
export function parseInventory(geojson: unknown): LampRecord[] {
  const top = inventorySchema.safeParse(geojson);
  if (!top.success) {
    const issue = top.error.issues[0]!;
    const field = pathOf(issue) || 'type';
    throw new LucioleError(INVALID, `inventory: ${field}: ${issue.message}`, field);
  }
  const features = top.data.features;
  const lamps: LampRecord[] = [];
  const explicit: boolean[] = [];
  const indexById = new Map<string, number>();
  for (let i = 0; i < features.length; i++) {
    const raw = features[i];
    const parsed = lampFeatureSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw featureError(i, raw, pathOf(issue), issue.message);
    }
    const { geometry, properties: p } = parsed.data;
    const previous = indexById.get(p.id);
    if (previous !== undefined) {
      throw featureError(i, raw, 'properties.id', `duplicate lamp id, already used by feature ${previous}`);
    }
    indexById.set(p.id, i);
    lamps.push({
      id: p.id,
      cabinetId: p.cabinetId,
      zone: p.zone,
      lon: geometry.coordinates[0],
      lat: geometry.coordinates[1],
      nominalPowerW: p.nominalPowerW,
      baselinePowerW: p.baselinePowerW ?? null,
      neighbours: p.neighbours ?? [],
    });
    explicit.push(p.neighbours !== undefined);
  }
  // Explicit neighbours are checked once every id is known: a list may name a later feature.
  for (let i = 0; i < lamps.length; i++) {
    const lamp = lamps[i]!;
    for (let j = 0; j < lamp.neighbours.length; j++) {
      const n = lamp.neighbours[j]!;
      if (n === lamp.id) throw featureError(i, features[i], `properties.neighbours.${j}`, 'a lamp cannot be its own neighbour');
      if (!indexById.has(n)) throw featureError(i, features[i], `properties.neighbours.${j}`, `unknown lamp "${n}"`);
    }
    if (explicit[i]) lamp.neighbours = [...new Set(lamp.neighbours)];
  }
  if (explicit.some((e) => !e)) {
    const derived = computeNeighbours(lamps);
    for (let i = 0; i < lamps.length; i++) {
      if (!explicit[i]) lamps[i]!.neighbours = derived.get(lamps[i]!.id) ?? [];
    }
  }
  return lamps;
}

export interface NeighbourOptions {
  /** Only lamps closer than this are neighbours, metres. Default 45. */
  radiusM?: number;
  /** Each lamp picks its `max` nearest. Default 4. */
  max?: number;
}

/**
 * Neighbours from positions: each lamp picks its `max` nearest lamps within `radiusM`, and the
 * relation is made symmetric (if A picks B, B also lists A), so a lamp may end up with more than
 * `max` when it is among the nearest of many others; never more than 64 (the policy's limit),
 * keeping the nearest. Distances are equirectangular around the inventory's mean latitude,
 * accurate to well under a metre at town scale. Lamps are bucketed in a grid of `radiusM`
 * cells so only the 3×3 cells around a lamp are searched: linear in the number of lamps.
 * Lists are sorted nearest first (ties by id).
 */
export function computeNeighbours(
  lamps: ReadonlyArray<{ id: string; lat: number; lon: number }>,
  opts: NeighbourOptions = {},
): Map<string, string[]> {
  const radius = opts.radiusM ?? 45;
  const max = Math.floor(opts.max ?? 4);
  const n = lamps.length;
  const result = new Map<string, string[]>();
  if (!(radius > 0) || max < 1 || n === 0) {
    for (const l of lamps) result.set(l.id, []);
    return result;
  }
  // Strict order on (distance², id): nearest first, ties broken by id so results are stable.
  const closer = (d2a: number, a: number, d2b: number, b: number): boolean =>
    d2a !== d2b ? d2a < d2b : lamps[a]!.id < lamps[b]!.id;

  let latSum = 0;
  for (const l of lamps) latSum += l.lat;
  const cosLat = Math.cos(((latSum / n) * Math.PI) / 180);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);

  // Grid: cells of `radius` metres (at least 1 m, so cell keys never collide), lamps of each
  // cell contiguous in `cellItems` (CSR layout). Cells at least `radius` wide mean the 3×3 cells
  // around a lamp hold every lamp within `radius` of it.
  const cellSize = Math.max(radius, 1);
  const cellIndex = new Map<number, number>();
  const cellXs: number[] = [];
  const cellYs: number[] = [];
  const lampCell = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = lamps[i]!;
    xs[i] = l.lon * M_PER_DEG * cosLat;
    ys[i] = l.lat * M_PER_DEG;
    const cx = Math.floor(xs[i]! / cellSize);
    const cy = Math.floor(ys[i]! / cellSize);
    const key = cellKey(cx, cy);
    let c = cellIndex.get(key);
    if (c === undefined) {
      c = cellXs.length;
      cellIndex.set(key, c);
      cellXs.push(cx);
      cellYs.push(cy);
    }
    lampCell[i] = c;
  }
  const cellCount = cellXs.length;
  const cellStart = new Int32Array(cellCount + 1);
  for (let i = 0; i < n; i++) cellStart[lampCell[i]! + 1]!++;
  for (let c = 0; c < cellCount; c++) cellStart[c + 1]! += cellStart[c]!;
  const cellFill = cellStart.slice(0, cellCount);
  const cellItems = new Int32Array(n);
  for (let i = 0; i < n; i++) cellItems[cellFill[lampCell[i]!]!++] = i;

  // Each lamp's `max` nearest within the radius, sorted, in flat arrays.
  const r2 = radius * radius;
  const knn = new Int32Array(n * max);
  const knnD = new Float64Array(n * max);
  const knnCount = new Int32Array(n);
  const near: number[] = [];
  for (let c = 0; c < cellCount; c++) {
    near.length = 0;
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const nc = cellIndex.get(cellKey(cellXs[c]! + dx, cellYs[c]! + dy));
        if (nc !== undefined) near.push(nc);
      }
    }
    for (let p = cellStart[c]!; p < cellStart[c + 1]!; p++) {
      const i = cellItems[p]!;
      const base = i * max;
      let count = 0;
      for (const nc of near) {
        for (let q = cellStart[nc]!; q < cellStart[nc + 1]!; q++) {
          const j = cellItems[q]!;
          if (j === i) continue;
          const ddx = xs[j]! - xs[i]!;
          const ddy = ys[j]! - ys[i]!;
          const d2 = ddx * ddx + ddy * ddy;
          if (d2 > r2) continue;
          if (count === max && !closer(d2, j, knnD[base + max - 1]!, knn[base + max - 1]!)) continue;
          // Insertion into the sorted list; when full, the farthest falls off the end.
          let pos = count < max ? count : max - 1;
          while (pos > 0 && closer(d2, j, knnD[base + pos - 1]!, knn[base + pos - 1]!)) {
            knnD[base + pos] = knnD[base + pos - 1]!;
            knn[base + pos] = knn[base + pos - 1]!;
            pos--;
          }
          knnD[base + pos] = d2;
          knn[base + pos] = j;
          if (count < max) count++;
        }
      }
      knnCount[i] = count;
    }
  }

  // Symmetric: each lamp's own picks plus the lamps that picked it.
  const lists: number[][] = new Array(n);
  const dists: number[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * max;
    const count = knnCount[i]!;
    const l: number[] = new Array(count);
    const d: number[] = new Array(count);
    for (let k = 0; k < count; k++) {
      l[k] = knn[base + k]!;
      d[k] = knnD[base + k]!;
    }
    lists[i] = l;
    dists[i] = d;
  }
  for (let i = 0; i < n; i++) {
    const base = i * max;
    for (let k = 0; k < knnCount[i]!; k++) {
      const j = knn[base + k]!;
      if (!lists[j]!.includes(i)) insertSorted(lists[j]!, dists[j]!, i, knnD[base + k]!, closer);
    }
  }
  // Cap the rare hub (many lamps at one spot): drop its farthest links on both sides.
  for (let i = 0; i < n; i++) {
    const l = lists[i]!;
    if (l.length <= MAX_DEGREE) continue;
    const dropped = l.splice(MAX_DEGREE);
    dists[i]!.splice(MAX_DEGREE);
    for (const j of dropped) {
      const at = lists[j]!.indexOf(i);
      if (at >= 0) {
        lists[j]!.splice(at, 1);
        dists[j]!.splice(at, 1);
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const l = lists[i]!;
    const ids: string[] = new Array(l.length);
    for (let k = 0; k < l.length; k++) ids[k] = lamps[l[k]!]!.id;
    result.set(lamps[i]!.id, ids);
  }
  return result;
}

/** Inserts (j, d2) into the parallel sorted lists. */
function insertSorted(
  list: number[],
  dist: number[],
  j: number,
  d2: number,
  closer: (d2a: number, a: number, d2b: number, b: number) => boolean,
): void {
  let pos = list.length;
  list.push(j);
  dist.push(d2);
  while (pos > 0 && closer(d2, j, dist[pos - 1]!, list[pos - 1]!)) {
    list[pos] = list[pos - 1]!;
    dist[pos] = dist[pos - 1]!;
    pos--;
  }
  list[pos] = j;
  dist[pos] = d2;
}

/** A numeric key per grid cell: unique while |cy| < 2^25, true for cells of 1 m or more on Earth. */
function cellKey(cx: number, cy: number): number {
  return cx * 67_108_864 + cy;
}
