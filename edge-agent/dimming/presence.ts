import type { Policy, PresenceSettings } from '../../protocol/index.js';

/**
 * Presence boost: the lamp graph that detections propagate through, and the boost envelope.
 * Semantics are documented in schedule.ts. Pure.
 */

/**
 * Undirected adjacency over the lamps this gateway drives, by index into `lampIds`.
 * A link is kept when either end lists the other; ids of other gateways' lamps are dropped,
 * and propagation does not pass through them.
 */
export function buildAdjacency(lampIds: readonly string[], lamps: Policy['lamps']): Int32Array[] {
  const index = new Map<string, number>();
  lampIds.forEach((id, i) => index.set(id, i));
  const sets = lampIds.map(() => new Set<number>());
  lampIds.forEach((id, i) => {
    const entry = Object.hasOwn(lamps, id) ? lamps[id] : undefined;
    for (const n of entry?.neighbours ?? []) {
      const j = index.get(n);
      if (j === undefined || j === i) continue;
      sets[i]!.add(j);
      sets[j]!.add(i);
    }
  });
  return sets.map((s) => Int32Array.from([...s].sort((a, b) => a - b)));
}

/**
 * Breadth-first walk from `start` up to `hops` links away. Writes the lamps reached (start
 * first) into `queue` and returns how many. `seen` holds a visit stamp per lamp: passing a new
 * `stamp` each call avoids clearing it, so a walk allocates nothing.
 */
export function lampsWithinHops(
  adjacency: readonly Int32Array[],
  start: number,
  hops: number,
  queue: Int32Array,
  depth: Int32Array,
  seen: Uint32Array,
  stamp: number,
): number {
  let head = 0;
  let tail = 0;
  queue[tail] = start;
  depth[tail++] = 0;
  seen[start] = stamp;
  while (head < tail) {
    const at = queue[head]!;
    const d = depth[head++]!;
    if (d >= hops) continue;
    const next = adjacency[at]!;
    for (let k = 0; k < next.length; k++) {
      const j = next[k]!;
      if (seen[j] === stamp) continue;
      seen[j] = stamp;
      queue[tail] = j;
      depth[tail++] = d + 1;
    }
  }
  return tail;
}

export type EnvelopeSettings = Pick<PresenceSettings, 'holdS' | 'rampUpMs' | 'rampDownS'>;

/**
 * The boost envelope at `t`, in [0, 1], for a rise that started at `t0` from `f0` (the last
 * detection was at `t0`). Before `t0` it is 0: a detection does not light the past.
 */
export function envelopeAt(t0: number, f0: number, s: EnvelopeSettings, t: number): number {
  if (!(t >= t0)) return 0;
  const up = s.rampUpMs > 0 ? f0 + (t - t0) / s.rampUpMs : 1;
  const holdEnd = t0 + s.holdS * 1000;
  let down: number;
  if (t < holdEnd) down = 1;
  else if (s.rampDownS > 0) down = 1 - (t - holdEnd) / (s.rampDownS * 1000);
  else down = 0;
  const f = up < down ? up : down;
  if (f >= 1) return 1;
  return f > 0 ? f : 0;
}

/** Level of a boosted lamp: from its scheduled level toward max(schedule, boost) by f. */
export function boostedLevel(scheduled: number, boost: number, f: number): number {
  const target = boost > scheduled ? boost : scheduled;
  return scheduled + (target - scheduled) * f;
}
