import path from 'node:path';
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { openConfigStore } from '../../controller/config-store.js';
import { Controller } from '../../controller/controller.js';
import { SqliteTelemetryStore } from '../../controller/sqlite-telemetry-store.js';
import type { ConfigStore } from '../../controller/stores.js';

/** The reliability battery's shared parts: a real controller on real SQLite files in `dir`. */

export interface ControllerStack {
  controller: Controller;
  configStore: ConfigStore;
  telemetryStore: SqliteTelemetryStore;
  stop(): Promise<void>;
}

/** An inventory of `cabinets` cabinets with `lampsPerCabinet` lamps each, ids `<cab>-L<n>`. */
export function inventory(cabinets: string[], lampsPerCabinet: number) {
  return {
    type: 'FeatureCollection',
    features: cabinets.flatMap((cab, c) =>
      Array.from({ length: lampsPerCabinet }, (_, i) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [4.83 + c * 0.01 + i * 0.0001, 45.76] },
        properties: { id: `${cab}-L${i + 1}`, cabinetId: cab, zone: 'z1', nominalPowerW: 40, neighbours: [] },
      })),
    ),
  };
}

export async function startControllerStack(
  dir: string,
  brokerUrl: string,
  opts: { clock?: Clock; password?: string; inventory?: unknown } = {},
): Promise<ControllerStack> {
  const configStore = openConfigStore(path.join(dir, 'config.db'));
  if (opts.inventory) configStore.importInventory(opts.inventory, 'test');
  const telemetryStore = new SqliteTelemetryStore({ file: path.join(dir, 'telemetry.db') });
  await telemetryStore.open();
  const controller = new Controller({
    brokerUrl,
    username: 'controller',
    password: opts.password ?? 'unused-without-auth',
    configStore,
    telemetryStore,
    clock: opts.clock ?? systemClock(),
    logger: silentLogger(),
    batchMs: 20,
    receiptMs: 50,
  });
  await controller.start();
  return {
    controller,
    configStore,
    telemetryStore,
    async stop() {
      await controller.stop();
      await telemetryStore.close();
      configStore.close();
    },
  };
}

/** Number of seqs covered by inclusive ranges. */
export function rangeCount(ranges: ReadonlyArray<readonly [number, number]>): number {
  return ranges.reduce((n, [a, b]) => n + (b - a + 1), 0);
}
