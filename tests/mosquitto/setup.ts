import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { CredentialStore } from '../../broker/credentials.js';
import { generateMosquittoFiles } from '../../broker/mosquitto-config.js';
import { MOSQUITTO_BIN, mosquittoInstalled, startMosquitto, type RunningMosquitto } from '../../bench/lib/mosquitto.js';
import { openConfigStore } from '../../controller/config-store.js';
import type { TownPlan } from '../../controller/plan.js';
import type { ConfigStore } from '../../controller/stores.js';
import type { InputOf } from '../../protocol/index.js';
import { requireBinary } from '../helpers.js';

/** Run or skip the Mosquitto suites: a failure (not a skip) in CI when Mosquitto is missing. */
export const mosquittoMode = (): 'run' | 'skip' => requireBinary(MOSQUITTO_BIN, mosquittoInstalled());

const feature = (id: string, cabinetId: string, lon: number, neighbours: string[]) => ({
  type: 'Feature',
  geometry: { type: 'Point', coordinates: [lon, 45.76] },
  properties: { id, cabinetId, zone: 'z1', nominalPowerW: 30, neighbours },
});

/** A1 - A2 in cabinet CA, A2 - B1 across to cabinet CB. */
export const inventory = {
  type: 'FeatureCollection',
  features: [feature('A1', 'CA', 4.83, ['A2']), feature('A2', 'CA', 4.831, ['A1', 'B1']), feature('B1', 'CB', 4.832, ['A2'])],
};

export const plan: TownPlan = {
  id: 'rue',
  failsafeLevel: 100,
  defaultProfile: 'walk',
  zones: { z1: 'walk' },
  profiles: {
    walk: {
      schedule: [{ from: 'dusk', to: 'dawn', level: 20 }],
      presence: { level: 100, holdS: 60, rampUpMs: 300, rampDownS: 10, propagate: 2 },
    },
  },
};

export const telemetry = (seq: number, ts: number, lamps: string[]): InputOf<'telemetry'> => ({
  v: 1,
  seq,
  ts,
  periodS: 60,
  lamps: lamps.map((id, i) => ({ id, level: 20, powerW: 6 + i, energyWh: 1000 * (i + 1) + seq, fault: null })),
});

export interface MosquittoTown {
  dir: string;
  configStore: ConfigStore;
  credentials: CredentialStore;
  mosquitto: RunningMosquitto;
  /** Secrets issued for the generated password file, by account. */
  secrets: Map<string, string>;
  connect(username: string, password: string, opts?: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

/**
 * The town's config database, Mosquitto files generated from its cabinets (as `luciole broker
 * mosquitto-config` does), and Mosquitto running on them.
 */
export async function startMosquittoTown(): Promise<MosquittoTown> {
  const dir = mkdtempSync(join(tmpdir(), 'luciole-mosquitto-'));
  const configStore = openConfigStore(join(dir, 'config.db'));
  const clients: MqttClient[] = [];
  try {
    configStore.importInventory(inventory, 'test');
    const credentials = new CredentialStore(configStore.db);
    credentials.init();
    const files = generateMosquittoFiles({
      outDir: join(dir, 'mosquitto'),
      issuer: credentials,
      controller: 'controller',
      cabinets: configStore.cabinets().map((c) => c.id),
    });
    const mosquitto = await startMosquitto({ dir: join(dir, 'mosquitto'), passwordFile: files.passwordFile, aclFile: files.aclFile });
    return {
      dir,
      configStore,
      credentials,
      mosquitto,
      secrets: files.issued,
      async connect(username, password, opts = {}) {
        const client = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0, connectTimeout: 5000, username, password, ...opts });
        clients.push(client);
        return client;
      },
      async close() {
        for (const c of clients) await c.endAsync(true);
        await mosquitto.stop();
        configStore.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    configStore.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
