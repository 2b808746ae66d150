import { parseInventory } from '../../controller/inventory.js';
import { NeighbourGraph } from '../../controller/neighbours.js';
import type { TownPlan } from '../../controller/plan.js';
import { profileOfLamp } from '../../controller/policy-compiler.js';
import { DEMO_SITE, generateTown, townInventory, type SimTown } from '../../sim/town.js';

/** Towns for the benches: the demo town's layout, scaled up, and the relays a detection causes. */

export interface BenchTown {
  town: SimTown;
  inventory: ReturnType<typeof townInventory>;
  lampsByCabinet: Map<string, string[]>;
}

/**
 * `columns × rows` districts of the demo town, each fed by one cabinet, with exactly
 * `lampsPerCabinet` lamps: the demo layout with 15 lamps a street gives 49, more are added
 * along the cabinet's own row, fewer are cut from the end.
 */
export function benchTown(columns: number, rows: number, lampsPerCabinet: number): BenchTown {
  const town = generateTown({ columns, rows, lampsPerStreet: 15, site: DEMO_SITE });
  const byCabinet = new Map<string, SimTown['lamps']>();
  for (const l of town.lamps) {
    let list = byCabinet.get(l.cabinetId);
    if (!list) byCabinet.set(l.cabinetId, (list = []));
    list.push(l);
  }
  const lamps: SimTown['lamps'] = [];
  for (const cab of town.cabinets) {
    const own = byCabinet.get(cab.id)!.slice(0, lampsPerCabinet);
    for (let i = own.length; i < lampsPerCabinet; i++) {
      // 30 m apart, south of the cabinet: inside its district, close to no other lamp of it.
      own.push({ ...own[0]!, id: `${cab.id}-X${i}`, lat: cab.lat - (0.0008 + 0.00027 * i), lon: cab.lon, sensorId: null });
    }
    lamps.push(...own);
  }
  const full: SimTown = { ...town, lamps };
  const lampsByCabinet = new Map<string, string[]>();
  for (const l of lamps) {
    let list = lampsByCabinet.get(l.cabinetId);
    if (!list) lampsByCabinet.set(l.cabinetId, (list = []));
    list.push(l.id);
  }
  return { town: full, inventory: townInventory(full), lampsByCabinet };
}

/**
 * Lamps where a detection is relayed to at least one other cabinet under `plan`, with the
 * commands it causes as `cabinetId/lampId` (the controller sends one per target lamp).
 */
export function relayProbes(t: BenchTown, plan: TownPlan): Array<{ cabinetId: string; lampId: string; targets: string[] }> {
  const lamps = parseInventory(t.inventory);
  const graph = new NeighbourGraph(lamps);
  const out: Array<{ cabinetId: string; lampId: string; targets: string[] }> = [];
  for (const lamp of lamps) {
    const propagate = plan.profiles[profileOfLamp(plan, lamp)]?.presence?.propagate ?? 0;
    if (propagate <= 0) continue;
    const targets = graph
      .relayTargets(lamp.id, propagate)
      .filter((r) => r.cabinetId !== lamp.cabinetId)
      .map((r) => `${r.cabinetId}/${r.lampId}`);
    if (targets.length > 0) out.push({ cabinetId: lamp.cabinetId, lampId: lamp.id, targets });
  }
  return out;
}
