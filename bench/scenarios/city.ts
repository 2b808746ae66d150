import { summariseByOwner, summariseProfile, type ProfileEntry } from '../lib/profile.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { demoPlan } from '../../sim/town.js';
import { UsageMeter, Worker } from '../lib/proc.js';
import { loadNow, type Figure, type ScenarioResult } from '../lib/result.js';
import { round, type LatencySummary } from '../lib/stats.js';
import { benchTown, relayProbes } from '../lib/town.js';
import { sleep } from './ingest.js';

/**
 * Scenario 3, city scale: 100,000 lamps in 2,000 cabinets, each publishing one telemetry message a
 * minute in real time (no time compression), with presence detections in evening bursts relayed
 * to neighbouring cabinets. Scenario 5 (`presence`) is the same town with detections only.
 */

export interface CityOptions {
  name: string;
  columns: number;
  rows: number;
  lampsPerCabinet: number;
  durationS: number;
  telemetry: boolean;
  periodMs: number;
  presencePerS: number;
  burstSize: number;
  burstEveryMs: number;
  /** Nagle left on for the controller's own MQTT socket (the A/B of MqttLink turning it off). */
  controllerNagle: boolean;
  /** A CPU profile of the server process over the measured window, summarised in the result. */
  cpuProf: boolean;
}

export const DEFAULT_CITY: CityOptions = {
  name: 'city',
  columns: 50,
  rows: 40,
  lampsPerCabinet: 50,
  durationS: 180,
  telemetry: true,
  periodMs: 60_000,
  presencePerS: 5,
  burstSize: 300,
  burstEveryMs: 30_000,
  controllerNagle: false,
  cpuProf: false,
};

export async function runCity(o: CityOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date();
  const loadBefore = loadNow();
  const dir = mkdtempSync(join(os.tmpdir(), `luciole-bench-${o.name}-`));
  let server: Worker | null = null;
  let pubs: Worker | null = null;
  try {
    const plan = demoPlan();
    const t = benchTown(o.columns, o.rows, o.lampsPerCabinet);
    const probes = relayProbes(t, plan);
    const cabinets = t.town.cabinets.map((c) => c.id);
    const lamps = t.town.lamps.length;
    const inventoryFile = join(dir, 'inventory.geojson');
    writeFileSync(inventoryFile, JSON.stringify(t.inventory));
    mkdirSync(join(dir, 'data'));
    console.log(`  ${o.name}: ${cabinets.length} cabinets, ${lamps} lamps, ${probes.length} lamps relaying across cabinets; starting…`);
    server = new Worker('server', join(dir, 'server.log'), ['--expose-gc']);
    const t0 = performance.now();
    const ready = await server.request(
      {
        type: 'start',
        mode: 'luciole',
        dataDir: join(dir, 'data'),
        cabinets,
        inventoryFile,
        town: { name: t.town.name, site: t.town.site },
        plan,
        clientNagle: o.controllerNagle,
      },
      'ready',
      600_000,
    );
    const startupS = round((performance.now() - t0) / 1000, 1);
    const secrets = ready.secrets as Record<string, string>;
    pubs = new Worker('publishers', join(dir, 'publishers.log'));
    const t1 = performance.now();
    await pubs.request(
      {
        type: 'start',
        url: String(ready.mqttUrl),
        cabinets: cabinets.map((id) => ({ id, secret: secrets[id]!, lamps: t.lampsByCabinet.get(id)! })),
        connectConcurrency: 100,
        ...(o.telemetry ? { paced: { periodMs: o.periodMs } } : {}),
        presence: { probes, backgroundPerS: o.presencePerS, burstSize: o.burstSize, burstEveryMs: o.burstEveryMs },
      },
      'connected',
      600_000,
    );
    const connectS = round((performance.now() - t1) / 1000, 1);
    console.log(`  server ready in ${startupS} s, ${cabinets.length} cabinets connected in ${connectS} s; running ${o.durationS} s of real time…`);
    await server.request({ type: 'reset' }, 'reset');
    const meters = [new UsageMeter(server.pid, 2000), new UsageMeter(pubs.pid, 2000)];
    for (const m of meters) m.start();
    if (o.cpuProf) await server.request({ type: 'profile-start' }, 'profile-started');
    await pubs.request({ type: 'go' }, 'going');
    await sleep(o.durationS * 1000);
    const [srv, pub] = meters.map((m) => m.stop());
    let profile: { top: ProfileEntry[]; byOwner: ProfileEntry[] } | null = null;
    if (o.cpuProf) {
      const file = join(dir, 'window.cpuprofile');
      await server.request({ type: 'profile-stop', file }, 'profile-stopped');
      profile = { top: summariseProfile(file, 15), byOwner: summariseByOwner(file, 10) };
    }
    const end = await server.request({ type: 'report' }, 'report');
    const pubEnd = await pubs.request({ type: 'report' }, 'report');
    const stored = end.latency as LatencySummary;
    const relay = pubEnd.relay as LatencySummary;
    const figures: Figure[] = [];
    if (o.telemetry) {
      figures.push(
        { label: 'lamps / cabinets', value: `${lamps} / ${cabinets.length}`, unit: '' },
        { label: 'controller+broker CPU', value: round(srv!.cores * 100, 1), unit: '% of a core', target: '< 10' },
        { label: 'controller+broker RSS max', value: srv!.rssMbMax, unit: 'MB', target: '< 500' },
        { label: 'RSS per lamp (whole process)', value: round((srv!.rssMbMax * 1024) / lamps, 2), unit: 'KB' },
        { label: 'JS heap per lamp (used at the end)', value: round(((end.heapUsedMb as number) * 1024) / lamps, 2), unit: 'KB' },
        { label: 'JS heap per lamp (live, after a full GC)', value: round(((end.heapLiveMb as number) * 1024) / lamps, 2), unit: 'KB' },
        { label: 'lamp-samples stored', value: end.samples as number, unit: '' },
        { label: 'publish→stored p50', value: stored.p50, unit: 'ms' },
        { label: 'publish→stored p99', value: stored.p99, unit: 'ms', target: '< 100' },
      );
    } else {
      figures.push({ label: 'controller+broker CPU', value: round(srv!.cores * 100, 1), unit: '% of a core' });
    }
    figures.push(
      { label: 'presence→relay p50 (2,000 cabinets)', value: relay.p50, unit: 'ms' },
      { label: 'presence→relay p99 (2,000 cabinets)', value: relay.p99, unit: 'ms', target: '< 20' },
      { label: 'relayed commands timed', value: relay.count, unit: '' },
    );
    return {
      scenario: o.name,
      command,
      startedAt: startedAt.toISOString(),
      durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
      load: { cores: os.cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadNow() },
      figures,
      details: { options: o, lamps, cabinets: cabinets.length, probes: probes.length, startupS, connectS, server: srv, publishers: pub, serverReport: end, publisherReport: pubEnd, profile },
    };
  } finally {
    await pubs?.stop(60_000);
    await server?.stop(60_000);
    rmSync(dir, { recursive: true, force: true });
  }
}
