import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scaledClock, type Clock } from '../core/clock.js';
import { localDate, nightForDate } from '../core/astro.js';
import type { Logger } from '../core/log.js';
import { compileCabinetPolicies } from '../controller/policy-compiler.js';
import { parseEdgeConfig } from '../edge-agent/config.js';
import { EdgeAgent } from '../edge-agent/agent.js';
import { SimulatedDriver } from '../edge-agent/sim-driver.js';
import { parseInventory } from '../controller/inventory.js';
import { SqliteTelemetryStore } from '../controller/sqlite-telemetry-store.js';
import { ReportSettingsStore } from '../controller/reports/settings-store.js';
import { demoPlan, demoZones, generateTown, townInventory, type SimTown } from '../sim/town.js';
import { generateHistory } from '../sim/history.js';
import { startServer, type RunningServer } from './server.js';

export interface DemoOptions {
  /** Simulated seconds per real second. */
  speed: number;
  httpPort: number;
  mqttPort: number;
  host: string;
  /** Kept after exit when given; a fresh temporary folder otherwise. */
  dataDir?: string | undefined;
  historyNights: number;
  /** Scales the simulated traffic of every presence sensor. */
  traffic: number;
  adminToken?: string | undefined;
  /** Inject a few faults a little after start, so the maintenance board has something to show. */
  faults?: boolean;
  /** Override the start instant (default: 5 minutes before tonight's dusk). */
  startAt?: number | undefined;
  logger: Logger;
  /** Progress lines for the person at the terminal. */
  say?: (line: string) => void;
}

export interface RunningDemo {
  server: RunningServer;
  town: SimTown;
  clock: Clock;
  agents: Map<string, { agent: EdgeAgent; driver: SimulatedDriver }>;
  dataDir: string;
  stop(): Promise<void>;
}

/** By default a night (about 15 h in winter) passes in about five minutes. */
export const DEFAULT_SPEED = 180;

/**
 * `luciole demo`: the whole system on embedded defaults with a simulated town. The gateways
 * are real edge agents with simulated drivers, talking to the real broker over loopback;
 * only the clock is simulated, and shared by every part so that the night is consistent.
 */
export async function startDemo(opts: DemoOptions): Promise<RunningDemo> {
  const say = opts.say ?? (() => {});
  const town = generateTown();
  const today = localDate(Date.now(), town.site.timezone);
  const start = opts.startAt ?? nightForDate(town.site, today).dusk - 5 * 60_000;
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'luciole-demo-'));
  mkdirSync(dataDir, { recursive: true });
  const inventoryFile = join(dataDir, 'inventory.geojson');
  writeFileSync(inventoryFile, JSON.stringify(townInventory(town)));

  say(`Démarrage de la ville simulée : ${town.lamps.length} lampes, ${town.cabinets.length} armoires…`);
  const plan = demoPlan();
  const policies = compileCabinetPolicies({
    plan: { version: 1, author: 'demo', createdAt: start, plan },
    site: town.site,
    lamps: parseInventory(townInventory(town)),
    issuedAt: start,
  });
  let energyWh = new Map<string, number>();
  if (opts.historyNights > 0) {
    say(`Génération de ${opts.historyNights} nuits d'historique…`);
    // Written before the server starts, so the demo's clock starts when the town goes live.
    const store = new SqliteTelemetryStore({ file: join(dataDir, 'telemetry.db') });
    await store.open();
    try {
      const h = await generateHistory({
        town,
        policies,
        store,
        before: start,
        nights: opts.historyNights,
        traffic: opts.traffic,
        seedOf: (i) => i,
      });
      energyWh = h.energyWh;
      say(`  ${h.samples.toLocaleString('fr-FR')} mesures de lampes enregistrées.`);
    } finally {
      await store.close();
    }
  }

  const clock = scaledClock(start, opts.speed);
  const server = await startServer(
    {
      dataDir,
      mqttPort: opts.mqttPort,
      httpPort: opts.httpPort,
      host: opts.host,
      inventory: inventoryFile,
      periodS: 60,
      ...(opts.adminToken ? { adminToken: opts.adminToken } : {}),
    },
    { clock, logger: opts.logger },
  );
  const agents: RunningDemo['agents'] = new Map();
  const stop = async () => {
    await Promise.all([...agents.values()].map(({ agent }) => agent.stop()));
    await server.stop();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    server.configStore.setTown({ name: town.name, site: town.site }, 'demo');
    for (const [zone, meta] of Object.entries(demoZones())) server.controller.policies.updateZone(zone, meta, 'demo');
    // A regulated tariff, so the energy report shows euros.
    const reportSettings = new ReportSettingsStore(server.configStore.db);
    reportSettings.init();
    if (reportSettings.get().tariffs.length === 0) {
      reportSettings.save(
        {
          ...reportSettings.get(),
          tariffs: [{ from: '2025-01-01', to: null, eurPerKWh: 0.2016, label: 'Tarif de démonstration' }],
        },
        'demo',
      );
    }
    if (!server.configStore.currentPlan()) await server.controller.publishPlan(plan, 'demo');

    let i = 0;
    for (const cab of town.cabinets) {
      i++;
      const lamps = town.lamps.filter((l) => l.cabinetId === cab.id);
      const password = server.credentials.issue(cab.id, 'cabinet');
      const config = parseEdgeConfig(
        {
          cabinetId: cab.id,
          brokerUrl: server.mqttUrl,
          password,
          dataDir: join(dataDir, 'edge', cab.id),
          periodS: 60,
          tickMs: 2000,
          site: town.site,
          lamps: lamps.map((l) => ({
            id: l.id,
            nominalPowerW: l.nominalPowerW,
            ...(l.sensorId ? { sensorId: l.sensorId } : {}),
          })),
          sim: { seed: i, traffic: opts.traffic },
        },
        `demo:${cab.id}`,
      );
      const driver = new SimulatedDriver({
        clock,
        lamps: config.lamps,
        seed: i,
        traffic: opts.traffic,
        timezone: town.site.timezone,
        initialEnergyWh: energyWh,
      });
      const agent = new EdgeAgent({
        config,
        clock,
        driver,
        logger: opts.logger.child({ part: 'edge', cabinet: cab.id }),
      });
      agents.set(cab.id, { agent, driver });
      await agent.start();
    }
    if (opts.faults ?? true) injectDemoFaults(town, agents, clock);
    return { server, town, clock, agents, dataDir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * What a crew would find on a real network: a lamp out, a drifting driver, a stuck presence
 * sensor and a cabinet door left open, a few simulated minutes after dusk.
 */
function injectDemoFaults(town: SimTown, agents: RunningDemo['agents'], clock: Clock): void {
  const lampOf = (cabinetId: string, n: number) => town.lamps.filter((l) => l.cabinetId === cabinetId)[n];
  clock.setTimer(() => {
    const out = lampOf('ARM-03', 5);
    if (out) agents.get('ARM-03')?.driver.injectFault(out.id, 'lamp_out');
    const drift = lampOf('ARM-08', 10);
    if (drift) agents.get('ARM-08')?.driver.injectFault(drift.id, 'drift');
    const sensor = town.lamps.find((l) => l.cabinetId === 'ARM-06' && l.sensorId)?.sensorId;
    if (sensor) agents.get('ARM-06')?.driver.injectSensorFault(sensor, 'stuck_off');
    agents.get('ARM-11')?.driver.injectEvent('door_open', 'contact de porte de l’armoire');
  }, 20 * 60_000);
}
