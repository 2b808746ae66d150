/**
 * Telemetry store throughput: lamp samples per second into each store through its API, beside
 * the raw write ceiling of the same InfluxDB server in the same run (pre-built line protocol over
 * HTTP, 5,000 lines a request, two requests in flight), and the catch-up time after an outage.
 *
 *   npx tsc --outDir /tmp/luciole-bench --rootDir . --module nodenext --moduleResolution nodenext \
 *     --target es2022 --skipLibCheck bench/influx.ts && node /tmp/luciole-bench/bench/influx.js
 *
 * Starts its own influxd (tests/telemetry-contract/influxd-fixture.ts); LUCIOLE_BENCH_SECONDS sets
 * the length of each run (default 8).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { SqliteTelemetryStore } from '../controller/sqlite-telemetry-store.js';
import type { TelemetryRecord, TelemetryStore } from '../controller/stores.js';
import { influx1Sink } from '../controller/telemetry/influx-http.js';
import { telemetryLines } from '../controller/telemetry/influx-points.js';
import { InfluxDb1Store } from '../controller/telemetry/influxdb1-store.js';
import { InfluxdFixture } from '../tests/telemetry-contract/influxd-fixture.js';

const SECONDS = Number(process.env.LUCIOLE_BENCH_SECONDS ?? 8);
const LAMPS_PER_CABINET = 50;
const CABINETS = 2000; // 100,000 lamps
const MESSAGES_PER_WRITE = 200; // 10,000 samples per store write (the controller's batcher does up to 500 messages)
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;

function makeMessage(c: number, k: number): TelemetryRecord {
  const ts = T0 + k * 60_000;
  const lamps = new Array(LAMPS_PER_CABINET);
  for (let i = 0; i < LAMPS_PER_CABINET; i++) {
    lamps[i] = { id: `L${c}-${i}`, level: (k + i) % 101, powerW: 20.5, energyWh: 1000 + k * 2.5, fault: null };
  }
  return { cabinetId: `C${c}`, seq: k, ts, periodS: 60, receivedAt: ts, lamps };
}

/** Message n of an endless stream: every cabinet once per minute-tick. */
function nth(n: number): TelemetryRecord {
  return makeMessage(n % CABINETS, Math.floor(n / CABINETS));
}

async function storeRate(store: TelemetryStore, first = 0): Promise<number> {
  let n = first;
  let samples = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    const batch: TelemetryRecord[] = new Array(MESSAGES_PER_WRITE);
    for (let i = 0; i < MESSAGES_PER_WRITE; i++) batch[i] = nth(n++);
    samples += (await store.writeTelemetry(batch)).samples;
  }
  return samples / ((performance.now() - start) / 1000);
}

async function rawCeiling(url: string, database: string): Promise<number> {
  // Pre-built before the clock starts: only the server's work is measured.
  const bodies: string[] = [];
  let n = CABINETS; // tick 1 onwards
  for (let b = 0; b < 400; b++) {
    const out: string[] = [];
    while (out.length < 5000) telemetryLines(nth(n++), undefined, out);
    bodies.push(out.join('\n') + '\n');
  }
  const lineCount = bodies.map((b) => b.split('\n').length - 1);
  const sink = influx1Sink({ url, database, retentionPolicy: 'raw' });
  let next = 0;
  let lines = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() - start < SECONDS * 1000 && next < bodies.length) {
      const i = next++;
      await sink.write(bodies[i]!, AbortSignal.timeout(30_000));
      lines += lineCount[i]!;
    }
  };
  await Promise.all([worker(), worker()]);
  // Lines include one cabinet point per 50 lamp points: report lamp samples, as the stores do.
  return (lines * LAMPS_PER_CABINET) / (LAMPS_PER_CABINET + 1) / ((performance.now() - start) / 1000);
}

export interface InfluxBenchResult {
  sqliteSamplesPerS: number;
  influxCeilingSamplesPerS: number;
  influxStoreSamplesPerS: number;
  outages: Array<{ label: string; spilled: number; spillMs: number; queueDepth: number; catchUpMs: number }>;
}

/** Each store's write rate and InfluxDB's outage catch-up; `log` gets the lines as they come. */
export async function runInfluxBench(log: (line: string) => void = console.log): Promise<InfluxBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-bench-influx-'));
  const server = new InfluxdFixture();
  await server.start();
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const outages: InfluxBenchResult['outages'] = [];
  try {
    const sqlite = new SqliteTelemetryStore({ file: path.join(dir, 'telemetry.db') });
    await sqlite.open();
    const sqliteRate = await storeRate(sqlite);
    log(`sqlite store:          ${fmt(sqliteRate)} lamp samples/s`);
    await sqlite.close();

    const influx = new InfluxDb1Store({
      url: server.url,
      database: 'bench',
      spillDir: path.join(dir, 'spill'),
      clock: systemClock(),
      logger: silentLogger(),
    });
    await influx.open();
    // Warm-up: one tick of every cabinet, so that both runs below write to existing series
    // (creating 100,000 series is a one-time cost, not the steady state).
    for (let c = 0; c < CABINETS; c += MESSAGES_PER_WRITE) {
      const batch: TelemetryRecord[] = [];
      for (let i = c; i < c + MESSAGES_PER_WRITE; i++) batch.push(makeMessage(i, 0));
      await influx.writeTelemetry(batch);
    }
    const ceiling = await rawCeiling(server.url, 'bench');
    log(`influxdb1 raw ceiling: ${fmt(ceiling)} lamp samples/s (pre-built line protocol, 5,000 lines/request, 2 in flight)`);
    const api = await storeRate(influx, CABINETS * 1000);
    log(`influxdb1 store:       ${fmt(api)} lamp samples/s (${(api / ceiling).toFixed(2)} of the ceiling)`);

    // Outage: 15 minutes of the demo town (500 lamps, 10 cabinets) and of a 100,000-lamp town.
    for (const [label, cabinets, minutes] of [
      ['demo town, 15 min', 10, 15],
      ['100,000 lamps, 15 min', 2000, 15],
    ] as const) {
      await server.kill();
      let spilled = 0;
      const t0 = performance.now();
      for (let k = 0; k < minutes; k++) {
        const batch: TelemetryRecord[] = [];
        for (let c = 0; c < cabinets; c++) batch.push(makeMessage(c + 50_000, 1000 + k + (label.startsWith('demo') ? 0 : 100)));
        spilled += (await influx.writeTelemetry(batch)).samples;
      }
      const spillMs = performance.now() - t0;
      const depth = influx.queueDepth();
      await server.start();
      const t1 = performance.now();
      while (influx.queueDepth() > 0) await new Promise((r) => setTimeout(r, 20));
      const catchUp = performance.now() - t1;
      outages.push({ label, spilled, spillMs, queueDepth: depth, catchUpMs: catchUp });
      log(
        `outage (${label}): ${fmt(spilled)} samples spilled in ${fmt(spillMs)} ms, queue depth ${fmt(depth)} lines, ` +
          `written ${fmt(catchUp)} ms after InfluxDB was back (retry backoff included)`,
      );
    }
    await influx.close();
    return { sqliteSamplesPerS: sqliteRate, influxCeilingSamplesPerS: ceiling, influxStoreSamplesPerS: api, outages };
  } finally {
    await server.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Run as a script, not when bench/run.ts imports it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runInfluxBench();
