import { ManualClock } from '../core/clock.js';
import { addDays, nightForDate, localDate, type Night } from '../core/astro.js';
import type { Policy } from '../protocol/index.js';
import { createDimmingEngine } from '../edge-agent/dimming/engine.js';
import { SimulatedDriver } from '../edge-agent/sim-driver.js';
import type { PresenceRecord, TelemetryRecord, TelemetryStore } from '../controller/stores.js';
import type { SimTown } from './town.js';

/**
 * Past nights for the demo, so the energy view has data from the first second: each cabinet
 * is simulated offline with the same dimming engine and simulated driver as a live gateway,
 * on a manual clock, continuously from the first night to `before`, and its night-time
 * telemetry is written straight into the store. Seqs are the sample's timestamp, below any seq
 * a live gateway starts from (clock milliseconds at its start). The final energy counters are
 * returned so the live gateways continue them: the counters never jump.
 */
export interface HistoryOptions {
  town: SimTown;
  /** Compiled policy per cabinet (what the gateways would have applied). */
  policies: Map<string, Policy>;
  store: TelemetryStore;
  /** The instant the live demo starts; history covers the `nights` nights before it. */
  before: number;
  nights: number;
  periodS?: number;
  traffic?: number;
  /** Seed of cabinet number i (1-based), as the live gateway uses. */
  seedOf?: (cabinetIndex: number) => number;
  onProgress?: (done: number, total: number) => void;
}

export interface HistoryResult {
  messages: number;
  samples: number;
  presence: number;
  /** Counter of every lamp at `before`. */
  energyWh: Map<string, number>;
}

/** Telemetry is recorded from half an hour before dusk to half an hour after dawn. */
const MARGIN_MS = 30 * 60_000;
const BATCH = 200;

export async function generateHistory(opts: HistoryOptions): Promise<HistoryResult> {
  const periodMs = (opts.periodS ?? 60) * 1000;
  const site = opts.town.site;
  const today = localDate(opts.before, site.timezone);
  const nights: Night[] = [];
  for (let k = opts.nights; k >= 1; k--) nights.push(nightForDate(site, addDays(today, -k)));
  const byCabinet = new Map<string, SimTown['lamps']>();
  for (const l of opts.town.lamps) {
    const list = byCabinet.get(l.cabinetId) ?? [];
    list.push(l);
    byCabinet.set(l.cabinetId, list);
  }
  const result: HistoryResult = { messages: 0, samples: 0, presence: 0, energyWh: new Map() };
  if (nights.length === 0) return result;
  const start = nights[0]!.dusk - MARGIN_MS;
  const recording = (t: number) => nights.some((n) => t >= n.dusk - MARGIN_MS && t <= n.dawn + MARGIN_MS);
  let cabinetIndex = 0;
  for (const [cabinetId, lamps] of byCabinet) {
    cabinetIndex++;
    const clock = new ManualClock(start);
    const lampIds = lamps.map((l) => l.id);
    const engine = createDimmingEngine({ site, lampIds });
    engine.setPolicy(opts.policies.get(cabinetId) ?? null);
    const driver = new SimulatedDriver({
      clock,
      lamps: lamps.map((l) => ({
        id: l.id,
        nominalPowerW: l.nominalPowerW,
        ...(l.sensorId ? { sensorId: l.sensorId } : {}),
      })),
      seed: opts.seedOf ? opts.seedOf(cabinetIndex) : cabinetIndex,
      traffic: opts.traffic ?? 1,
      timezone: site.timezone,
    });
    const presence: PresenceRecord[] = [];
    const apply = (t: number) => {
      for (const id of lampIds) driver.setLevel(id, engine.levelAt(id, t));
    };
    driver.onPresence((d) => {
      engine.presence(d.lampId, d.ts);
      presence.push({ cabinetId, lampId: d.lampId, sensorId: d.sensorId, kind: d.kind, count: d.count, ts: d.ts });
      apply(d.ts);
    });
    driver.start();
    apply(start);
    let batch: TelemetryRecord[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const r = await opts.store.writeTelemetry(batch);
      result.messages += r.stored;
      result.samples += r.samples;
      batch = [];
    };
    // Levels are re-applied at each period and at each detection: a slot boundary or the end
    // of a boost is placed to within one period, close enough for past nights.
    for (let t = start + periodMs; t < opts.before; t += periodMs) {
      clock.advance(t - clock.now());
      apply(t);
      if (!recording(t)) continue;
      const reading = driver.read(t);
      batch.push({
        cabinetId,
        seq: t,
        ts: t,
        periodS: periodMs / 1000,
        receivedAt: t,
        cabinet: reading.cabinet,
        lamps: reading.lamps,
      });
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    clock.advance(Math.max(0, opts.before - clock.now()));
    for (const l of driver.read(opts.before).lamps) result.energyWh.set(l.id, l.energyWh);
    driver.stop();
    if (presence.length) await opts.store.writePresence(presence);
    result.presence += presence.length;
    opts.onProgress?.(cabinetIndex, byCabinet.size);
  }
  return result;
}
