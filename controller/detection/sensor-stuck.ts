import type { SensorThresholds } from './thresholds.js';
import { count, frNumber, minutes } from '../alerts/alert-text.js';
import { historyLink, type Finding } from './types.js';

const BUCKET_MS = 5 * 60_000;

interface SensorState {
  lampId: string;
  cabinetId: string;
  /** Detections per 5-minute bucket (by message ts). */
  buckets: Map<number, number>;
}

export interface SensorStuckOptions {
  t: SensorThresholds;
  /** The town's lamp neighbour graph (undirected). */
  neighbours(lampId: string): readonly string[];
}

/**
 * sensor_stuck: over the last window, a presence sensor reports nothing while the sensors near
 * it (lamps within `neighbourHops`) average at least `minNeighbourMean` detections, or it reports
 * at least `alwaysMin` and `alwaysFactor` times its busiest neighbour. Judged every 5 minutes of
 * data; with fewer than two neighbour sensors there is nothing to compare with and no verdict.
 * Sensors are known once they have reported (or were registered from the inventory).
 */
export class SensorStuckDetector {
  private readonly sensors = new Map<string, SensorState>();
  private neighbourCache = new Map<string, string[]>();
  private lastBucket = -Infinity;

  constructor(private readonly opts: SensorStuckOptions) {}

  register(sensorId: string, lampId: string, cabinetId: string): void {
    const s = this.sensors.get(sensorId);
    if (s && s.lampId === lampId) return;
    this.sensors.set(sensorId, { lampId, cabinetId, buckets: s?.buckets ?? new Map() });
    this.neighbourCache = new Map();
  }

  presence(cabinetId: string, sensorId: string, lampId: string, ts: number): void {
    this.register(sensorId, lampId, cabinetId);
    const s = this.sensors.get(sensorId)!;
    const b = Math.floor(ts / BUCKET_MS);
    s.buckets.set(b, (s.buckets.get(b) ?? 0) + 1);
  }

  /** Judges every sensor once per completed bucket; `now` is the data's time (latest message ts). */
  evaluate(now: number, out: Finding[]): void {
    const current = Math.floor(now / BUCKET_MS);
    if (current <= this.lastBucket) return;
    this.lastBucket = current;
    const nBuckets = Math.max(1, Math.round((this.opts.t.windowMin * 60_000) / BUCKET_MS));
    const first = current - nBuckets;
    const counts = new Map<string, number>();
    for (const [id, s] of this.sensors) {
      let c = 0;
      for (const [b, n] of s.buckets) {
        if (b < first - 1) s.buckets.delete(b);
        else if (b >= first && b < current) c += n;
      }
      counts.set(id, c);
    }
    const t = this.opts.t;
    const from = first * BUCKET_MS;
    const to = current * BUCKET_MS;
    for (const [id, s] of this.sensors) {
      const near = this.neighbourSensors(id);
      if (near.length < 2) continue;
      // The lower median: one stuck-on neighbour must not make a quiet sensor look dead.
      const nc = near.map((n) => counts.get(n) ?? 0).sort((a, b) => a - b);
      const mean = nc[Math.floor((nc.length - 1) / 2)]!;
      const max = nc[nc.length - 1]!;
      const own = counts.get(id) ?? 0;
      const never = own === 0 && mean >= t.minNeighbourMean;
      const always = own >= t.alwaysMin && own >= t.alwaysFactor * Math.max(1, max);
      const base = { kind: 'sensor_stuck', cabinetId: s.cabinetId, lampId: s.lampId, subject: id, at: to } as const;
      if (never || always) {
        out.push({
          ...base,
          active: true,
          detail: never
            ? `capteur ${id} muet alors que ses voisins détectent ${count(mean, 'passage')} en ${minutes(t.windowMin)} (médiane)`
            : `capteur ${id} bloqué : ${count(own, 'détection')} en ${minutes(t.windowMin)} contre ${frNumber(max)} au plus chez ses voisins`,
          evidence: {
            rule: never
              ? `aucune détection en ${minutes(t.windowMin)} alors que les capteurs voisins (jusqu'à ${count(t.neighbourHops, 'lampe')} de distance) en ont une médiane ≥ ${frNumber(t.minNeighbourMean)}`
              : `≥ ${count(t.alwaysMin, 'détection')} en ${minutes(t.windowMin)}, et ≥ ${frNumber(t.alwaysFactor)} fois le voisin le plus actif`,
            expected: `comparable aux voisins (médiane ${frNumber(mean)}, maximum ${frNumber(max)})`,
            measured: count(own, 'détection'),
            window: { from, to },
            link: historyLink(s.lampId, from, to),
          },
        });
      } else if (own > 0) {
        out.push({ ...base, active: false, detail: `capteur ${id} actif` });
      }
    }
  }

  private neighbourSensors(sensorId: string): string[] {
    const hit = this.neighbourCache.get(sensorId);
    if (hit) return hit;
    const s = this.sensors.get(sensorId)!;
    const byLamp = new Map<string, string[]>();
    for (const [id, o] of this.sensors) {
      if (id === sensorId) continue;
      const l = byLamp.get(o.lampId);
      if (l) l.push(id);
      else byLamp.set(o.lampId, [id]);
    }
    const found: string[] = [];
    const seen = new Set<string>([s.lampId]);
    let frontier = [s.lampId];
    found.push(...(byLamp.get(s.lampId) ?? []));
    for (let d = 1; d <= this.opts.t.neighbourHops && frontier.length > 0; d++) {
      const next: string[] = [];
      for (const lamp of frontier) {
        for (const n of this.opts.neighbours(lamp)) {
          if (seen.has(n)) continue;
          seen.add(n);
          next.push(n);
          found.push(...(byLamp.get(n) ?? []));
        }
      }
      frontier = next;
    }
    this.neighbourCache.set(sensorId, found);
    return found;
  }
}
