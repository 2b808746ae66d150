import path from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { SqliteTelemetryStore } from '../sqlite-telemetry-store.js';
import type { TelemetryStore } from '../stores.js';
import type { LampZones } from './influx-points.js';
import { InfluxDb1Store } from './influxdb1-store.js';
import { InfluxDb2Store } from './influxdb2-store.js';
import { describeTelemetryConfig, type TelemetryConfig } from './telemetry-config.js';

export interface TelemetryStoreDeps {
  dataDir: string;
  clock: Clock;
  logger: Logger;
  /** lamp id → zone, for the InfluxDB `zone` tag (from the config store's inventory). */
  lampZones?: LampZones | undefined;
}

/** The InfluxDB stores' extras beyond TelemetryStore: for stats and the storage_unavailable alert. */
export interface QueuedTelemetryStore extends TelemetryStore {
  /** False from a failed write to InfluxDB until the next successful one. */
  available(): boolean;
  setLampZones(zones: LampZones | undefined): void;
}

export function isQueuedStore(s: TelemetryStore): s is QueuedTelemetryStore {
  return typeof (s as Partial<QueuedTelemetryStore>).available === 'function';
}

/** The spill directory of the InfluxDB write queue under the data dir. */
export function spillDirOf(dataDir: string): string {
  return path.join(dataDir, 'telemetry-spill');
}

/** Builds (does not open) the telemetry store the config names. Logs the choice without secrets. */
export function createTelemetryStore(config: TelemetryConfig, deps: TelemetryStoreDeps): TelemetryStore {
  const log = deps.logger.child({ component: 'telemetry-store' });
  log.info(describeTelemetryConfig(config), 'telemetry store');
  switch (config.telemetry) {
    case 'sqlite':
      return new SqliteTelemetryStore({
        file: path.join(deps.dataDir, 'telemetry.db'),
        rawRetentionDays: config.rawRetentionDays,
      });
    case 'influxdb1':
      return new InfluxDb1Store({
        url: config.influxUrl!,
        database: config.influxDb,
        username: config.influxUsername,
        password: config.influxPassword,
        spillDir: spillDirOf(deps.dataDir),
        clock: deps.clock,
        logger: log,
        lampZones: deps.lampZones,
        rawRetentionDays: config.rawRetentionDays,
        rollupRetentionDays: config.rollupRetentionDays,
      });
    case 'influxdb2':
      return new InfluxDb2Store({
        url: config.influxUrl!,
        org: config.influxOrg!,
        bucket: config.influxBucket,
        token: config.influxToken!,
        spillDir: spillDirOf(deps.dataDir),
        clock: deps.clock,
        logger: log,
        lampZones: deps.lampZones,
      });
  }
}
