import type { LampRecord } from './inventory-schema.js';

/**
 * The town-wide neighbour graph, for light-ahead across cabinets, pure. A gateway propagates a
 * detection through its own lamps only; when the spread reaches a lamp of another cabinet, the
 * controller relays a `presence` command to that cabinet with the hops left, and that gateway
 * propagates the rest itself.
 *
 * The graph is undirected: a neighbour listed on either side links both lamps. Listed ids that
 * are not lamps of the inventory are ignored.
 */
export interface RelayTarget {
  cabinetId: string;
  /** The first lamp of that cabinet the spread reaches. */
  lampId: string;
  /** Hops of propagation left from that lamp. */
  hops: number;
}

export class NeighbourGraph {
  private readonly cabinets = new Map<string, string>();
  private readonly adjacency = new Map<string, string[]>();

  constructor(lamps: readonly LampRecord[]) {
    for (const lamp of lamps) this.cabinets.set(lamp.id, lamp.cabinetId);
    const sets = new Map<string, Set<string>>();
    const link = (a: string, b: string): void => {
      let s = sets.get(a);
      if (!s) sets.set(a, (s = new Set()));
      s.add(b);
    };
    for (const lamp of lamps) {
      for (const n of lamp.neighbours) {
        if (n === lamp.id || !this.cabinets.has(n)) continue;
        link(lamp.id, n);
        link(n, lamp.id);
      }
    }
    for (const [id, s] of sets) this.adjacency.set(id, [...s].sort());
  }

  cabinetOf(lampId: string): string | undefined {
    return this.cabinets.get(lampId);
  }

  /**
   * Breadth-first from the detecting lamp up to `propagate` hops. Each lamp of another cabinet
   * first reached at distance d gives a target with `propagate − d` hops left; the search does
   * not go through it (its gateway carries on). Targets come in BFS order.
   */
  relayTargets(fromLampId: string, propagate: number): RelayTarget[] {
    const home = this.cabinets.get(fromLampId);
    if (home === undefined || !(propagate >= 1)) return [];
    const targets: RelayTarget[] = [];
    const seen = new Set<string>([fromLampId]);
    let frontier = [fromLampId];
    for (let d = 1; d <= propagate && frontier.length > 0; d++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const n of this.adjacency.get(id) ?? []) {
          if (seen.has(n)) continue;
          seen.add(n);
          const cabinetId = this.cabinets.get(n)!;
          if (cabinetId === home) next.push(n);
          else targets.push({ cabinetId, lampId: n, hops: propagate - d });
        }
      }
      frontier = next;
    }
    return targets;
  }
}
