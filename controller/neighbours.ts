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

/** Id → slot: a Map, or a view over several. */
export interface SlotLookup {
  get(id: string): number | undefined;
}

/**
 * Lamp ids numbered by slot, with each slot's neighbours as slots in one flat array (CSR:
 * `list[start[s]..start[s+1]]`). A town of 100,000 lamps held as a Map of string arrays took
 * 10 MB, and a Set per lamp while it was built; this takes the id Map and 2 MB (issue 8).
 */
export class SlotGraph {
  private constructor(
    readonly slotById: SlotLookup,
    readonly ids: readonly string[],
    private readonly start: Int32Array,
    private readonly list: Int32Array,
  ) {}

  /**
   * From links given as slot pairs (`from[k]` gets `to[k]` in its row; callers add both
   * directions of an undirected link). A row keeps the first occurrence of each slot, in link
   * order, as a Set filled link by link would; with `byId` it is sorted by id instead.
   */
  static fromLinks(
    slotById: SlotLookup,
    ids: readonly string[],
    from: Int32Array,
    to: Int32Array,
    count: number,
    byId = false,
  ): SlotGraph {
    const n = ids.length;
    const start = new Int32Array(n + 1);
    for (let k = 0; k < count; k++) start[from[k]! + 1]!++;
    for (let s = 0; s < n; s++) start[s + 1]! += start[s]!;
    // Stable bucket by row: each row's links stay in the order they were given.
    const fill = start.slice(0, n);
    const rows = new Int32Array(count);
    for (let k = 0; k < count; k++) rows[fill[from[k]!]!++] = to[k]!;
    // Duplicates dropped in place, first occurrence kept; `mark[x] === s` while row s is read.
    const mark = new Int32Array(n).fill(-1);
    const compact = new Int32Array(n + 1);
    let w = 0;
    for (let s = 0; s < n; s++) {
      compact[s] = w;
      for (let k = start[s]!; k < start[s + 1]!; k++) {
        const x = rows[k]!;
        if (mark[x] === s) continue;
        mark[x] = s;
        rows[w++] = x;
      }
    }
    compact[n] = w;
    const list = rows.slice(0, w);
    if (byId) {
      const cmp = (a: number, b: number): number => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0);
      for (let s = 0; s < n; s++) if (compact[s + 1]! - compact[s]! > 1) list.subarray(compact[s]!, compact[s + 1]!).sort(cmp);
    }
    return new SlotGraph(slotById, ids, compact, list);
  }

  get size(): number {
    return this.ids.length;
  }

  rowStart(slot: number): number {
    return this.start[slot]!;
  }

  rowEnd(slot: number): number {
    return this.start[slot + 1]!;
  }

  at(k: number): number {
    return this.list[k]!;
  }

  /** The ids linked to `id` (a new array; empty for an id without links or not in the graph). */
  neighbours(id: string): string[] {
    const s = this.slotById.get(id);
    if (s === undefined) return [];
    const out: string[] = new Array(this.start[s + 1]! - this.start[s]!);
    for (let k = this.start[s]!, i = 0; k < this.start[s + 1]!; k++, i++) out[i] = this.ids[this.list[k]!]!;
    return out;
  }
}

/** Grows-on-demand pair of link arrays for SlotGraph.fromLinks. */
export class LinkList {
  from: Int32Array;
  to: Int32Array;
  count = 0;

  constructor(capacity: number) {
    this.from = new Int32Array(Math.max(capacity, 4));
    this.to = new Int32Array(Math.max(capacity, 4));
  }

  add(a: number, b: number): void {
    if (this.count === this.from.length) {
      const f = new Int32Array(this.count * 2);
      f.set(this.from);
      this.from = f;
      const t = new Int32Array(this.count * 2);
      t.set(this.to);
      this.to = t;
    }
    this.from[this.count] = a;
    this.to[this.count++] = b;
  }
}

export class NeighbourGraph {
  private readonly graph: SlotGraph;
  /** Per slot, the lamp's cabinet as an index into `cabinetIds`. */
  private readonly cabinetOfSlot: Int32Array;
  private readonly cabinetIds: string[] = [];
  /** BFS visit marks: `visited[s] === visit` when slot s was reached in the current search. */
  private readonly visited: Uint32Array;
  private visit = 0;

  constructor(lamps: readonly LampRecord[]) {
    const slotById = new Map<string, number>();
    const ids: string[] = [];
    const cabinetIndex = new Map<string, number>();
    const cabinetOf = new Int32Array(lamps.length);
    let links = 0;
    for (const lamp of lamps) {
      let slot = slotById.get(lamp.id);
      if (slot === undefined) {
        slot = ids.length;
        slotById.set(lamp.id, slot);
        ids.push(lamp.id);
      }
      let c = cabinetIndex.get(lamp.cabinetId);
      if (c === undefined) {
        c = this.cabinetIds.length;
        cabinetIndex.set(lamp.cabinetId, c);
        this.cabinetIds.push(lamp.cabinetId);
      }
      // A duplicate id keeps its last cabinet, as a Map set lamp by lamp did.
      cabinetOf[slot] = c;
      links += lamp.neighbours.length * 2;
    }
    const pairs = new LinkList(links);
    for (const lamp of lamps) {
      const a = slotById.get(lamp.id)!;
      for (const n of lamp.neighbours) {
        const b = slotById.get(n);
        if (n === lamp.id || b === undefined) continue;
        pairs.add(a, b);
        pairs.add(b, a);
      }
    }
    this.graph = SlotGraph.fromLinks(slotById, ids, pairs.from, pairs.to, pairs.count, true);
    this.cabinetOfSlot = cabinetOf.slice(0, ids.length);
    this.visited = new Uint32Array(ids.length);
  }

  cabinetOf(lampId: string): string | undefined {
    const s = this.graph.slotById.get(lampId);
    return s === undefined ? undefined : this.cabinetIds[this.cabinetOfSlot[s]!];
  }

  /**
   * Breadth-first from the detecting lamp up to `propagate` hops. Each lamp of another cabinet
   * first reached at distance d gives a target with `propagate − d` hops left; the search does
   * not go through it (its gateway carries on). Targets come in BFS order, neighbours by id.
   */
  relayTargets(fromLampId: string, propagate: number): RelayTarget[] {
    const g = this.graph;
    const from = g.slotById.get(fromLampId);
    if (from === undefined || !(propagate >= 1)) return [];
    const home = this.cabinetOfSlot[from]!;
    const visit = this.nextVisit();
    const targets: RelayTarget[] = [];
    this.visited[from] = visit;
    let frontier = [from];
    for (let d = 1; d <= propagate && frontier.length > 0; d++) {
      const next: number[] = [];
      for (const s of frontier) {
        for (let k = g.rowStart(s); k < g.rowEnd(s); k++) {
          const n = g.at(k);
          if (this.visited[n] === visit) continue;
          this.visited[n] = visit;
          const c = this.cabinetOfSlot[n]!;
          if (c === home) next.push(n);
          else targets.push({ cabinetId: this.cabinetIds[c]!, lampId: g.ids[n]!, hops: propagate - d });
        }
      }
      frontier = next;
    }
    return targets;
  }

  private nextVisit(): number {
    if (this.visit === 0xffffffff) {
      this.visited.fill(0);
      this.visit = 0;
    }
    return ++this.visit;
  }
}
