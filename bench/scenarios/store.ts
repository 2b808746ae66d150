import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SqliteTelemetryStore } from '../../controller/sqlite-telemetry-store.js';
import type { TelemetryRecord } from '../../controller/stores.js';
import type { Figure, ScenarioResult } from '../lib/result.js';
import { round, Samples } from '../lib/stats.js';
import { sleep } from './ingest.js';
import { timedScenario } from './extra-base.js';

/**
 * The embedded store alone, no MQTT: its write ceiling and what its commits cost the event loop,
 * with the write transactions inline (on the event loop) and on the writer thread. The A/B of
 * SqliteTelemetryStore's `writer` option.
 *   - ceiling: writes of `batch` messages × 50 lamps back to back, lamp-samples/s;
 *   - paced: the city's rate (2,000 cabinets a minute: one message every 30 ms, each its own
 *     write as group commit makes it), event-loop delay p99/max and write latency meanwhile.
 */
export interface StoreOptions {
  seconds: number;
  batch: number;
  cabinets: number;
  lampsPerCabinet: number;
  pacedEveryMs: number;
}

export const DEFAULT_STORE: StoreOptions = { seconds: 8, batch: 200, cabinets: 2000, lampsPerCabinet: 50, pacedEveryMs: 30 };

export function runStore(o: StoreOptions, command: string): Promise<ScenarioResult> {
  return timedScenario('store', command, async () => {
    const figures: Figure[] = [];
    const details: Record<string, unknown> = { options: o };
    for (const writer of ['inline', 'thread'] as const) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `luciole-bench-store-${writer}-`));
      const store = new SqliteTelemetryStore({ file: path.join(dir, 'telemetry.db'), writer });
      await store.open();
      try {
        let n = 0;
        const next = (): TelemetryRecord => message(o, n++);
        // Ceiling.
        const loop = monitorEventLoopDelay({ resolution: 1 });
        loop.enable();
        let samples = 0;
        const t0 = performance.now();
        while (performance.now() - t0 < o.seconds * 1000) {
          const batch = Array.from({ length: o.batch }, next);
          samples += (await store.writeTelemetry(batch)).samples;
        }
        const rate = samples / ((performance.now() - t0) / 1000);
        loop.disable();
        // Paced.
        const paced = monitorEventLoopDelay({ resolution: 1 });
        const writeMs = new Samples();
        paced.enable();
        const t1 = performance.now();
        const inFlight: Array<Promise<unknown>> = [];
        while (performance.now() - t1 < o.seconds * 1000) {
          const started = performance.now();
          inFlight.push(store.writeTelemetry([next()]).then(() => writeMs.push(performance.now() - started)));
          await sleep(o.pacedEveryMs);
        }
        await Promise.all(inFlight);
        paced.disable();
        // A loop that never turned (inline writes back to back resolve in microtasks) has no samples: n/a.
        const ms = (h: ReturnType<typeof monitorEventLoopDelay>, p: number): number | null => (h.count === 0 ? null : round(h.percentile(p) / 1e6, 1));
        const w = writeMs.summary();
        console.log(
          `    ${writer}: ceiling ${Math.round(rate).toLocaleString('en')} lamp-samples/s (event loop p99 ${ms(loop, 99)} ms); ` +
            `paced: write p99 ${w.p99} ms, event loop delay p99 ${ms(paced, 99)} / max ${round(paced.max / 1e6, 1)} ms`,
        );
        figures.push(
          { label: `${writer} writer: ceiling, ${o.batch}-message writes`, value: Math.round(rate), unit: 'lamp-samples/s' },
          { label: `${writer} writer: event-loop delay p99 at the ceiling`, value: ms(loop, 99), unit: 'ms' },
          { label: `${writer} writer: paced (city rate), write p50 / p99`, value: `${w.p50} / ${w.p99}`, unit: 'ms' },
          { label: `${writer} writer: paced, event-loop delay p99 / max`, value: `${ms(paced, 99)} / ${round(paced.max / 1e6, 1)}`, unit: 'ms' },
        );
        details[writer] = { samplesPerS: rate, ceilingLoopP99Ms: ms(loop, 99), pacedWriteMs: w, pacedLoopP99Ms: ms(paced, 99), pacedLoopMaxMs: paced.max / 1e6 };
      } finally {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    return { figures, details };
  });
}

const T0 = Date.UTC(2026, 10, 1);

/** Message n of an endless stream: every cabinet once per minute. */
function message(o: StoreOptions, n: number): TelemetryRecord {
  const c = n % o.cabinets;
  const k = Math.floor(n / o.cabinets);
  const ts = T0 + k * 60_000 + c;
  const lamps = new Array(o.lampsPerCabinet);
  for (let i = 0; i < o.lampsPerCabinet; i++) lamps[i] = { id: `L${c}-${i}`, level: 40, powerW: 20.5, energyWh: 1000 + k * 0.4 + i, fault: null };
  return { cabinetId: `C${c}`, seq: k + 1, ts, periodS: 60, receivedAt: ts, lamps };
}
