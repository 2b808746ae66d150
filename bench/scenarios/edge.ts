import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { localDate, nightForDate } from '../../core/astro.js';
import { silentLogger } from '../../core/log.js';
import { startBroker } from '../../broker/broker.js';
import { CredentialStore } from '../../broker/credentials.js';
import { CONTROLLER_USERNAME } from '../../cli/names.js';
import { parseInventory } from '../../controller/inventory.js';
import { compileCabinetPolicies } from '../../controller/policy-compiler.js';
import { ackSchema, cabinetTopic, encodePayload } from '../../protocol/index.js';
import { demoPlan } from '../../sim/town.js';
import { UsageMeter, Worker } from '../lib/proc.js';
import { loadNow, type Figure, type ScenarioResult } from '../lib/result.js';
import { round, type LatencySummary } from '../lib/stats.js';
import { benchTown } from '../lib/town.js';
import { sleep } from './ingest.js';

/**
 * Scenario 4, edge footprint: one gateway process with 100 lamps (the real agent, simulated
 * driver, real time, its policy applied) for a minute: RSS and CPU. Then scenario 5's first half:
 * presence detection → new output level inside the gateway.
 */

export interface EdgeOptions {
  lamps: number;
  durationS: number;
  probeNights: number;
}

export const DEFAULT_EDGE: EdgeOptions = { lamps: 100, durationS: 60, probeNights: 30 };

export async function runEdge(o: EdgeOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date();
  const loadBefore = loadNow();
  const dir = mkdtempSync(join(os.tmpdir(), 'luciole-bench-edge-'));
  const db = new Database(join(dir, 'config.db'));
  const credentials = new CredentialStore(db);
  credentials.init();
  const broker = await startBroker({ port: 0, host: '127.0.0.1', credentials, logger: silentLogger() });
  const controller = await mqtt.connectAsync(broker.url, {
    username: CONTROLLER_USERNAME,
    password: credentials.issue(CONTROLLER_USERNAME, 'controller'),
    clientId: 'bench-controller',
    reconnectPeriod: 0,
  });
  let edge: Worker | null = null;
  try {
    const t = benchTown(1, 1, o.lamps);
    const cabinetId = t.town.cabinets[0]!.id;
    const site = t.town.site;
    const lamps = parseInventory(t.inventory);
    const night = nightForDate(site, localDate(Date.now(), site.timezone));
    const plan = demoPlan();
    const policy = compileCabinetPolicies({
      plan: { version: 1, author: 'bench', createdAt: night.dusk, plan },
      site,
      lamps,
      issuedAt: night.dusk,
    }).get(cabinetId)!;
    await controller.publishAsync(cabinetTopic(cabinetId, 'policy'), encodePayload('policy', policy), { qos: 1, retain: true });
    await controller.subscribeAsync(cabinetTopic(cabinetId, 'ack'), { qos: 1 });
    const acked = new Promise<boolean>((resolve) => {
      controller.on('message', (_topic, payload) => {
        const ack = ackSchema.safeParse(JSON.parse(payload.toString()));
        if (ack.success && ack.data.ref.startsWith('policy:')) resolve(ack.data.ok);
      });
    });

    edge = new Worker('edge', join(dir, 'edge.log'));
    await edge.request(
      {
        type: 'start',
        brokerUrl: broker.url,
        cabinetId,
        password: credentials.issue(cabinetId, 'cabinet'),
        dataDir: join(dir, 'edge'),
        site,
        lamps: t.town.lamps.map((l) => ({ id: l.id, nominalPowerW: l.nominalPowerW, ...(l.sensorId ? { sensorId: l.sensorId } : {}) })),
        // 23:30 tonight, local time of the town: inside the night slots whatever the hour of the run.
        startAt: night.dusk + 4 * 3_600_000,
      },
      'ready',
    );
    if (!(await acked)) throw new Error('the gateway refused its policy');
    console.log(`  edge: one gateway, ${o.lamps} lamps, policy applied; measuring ${o.durationS} s…`);
    const meter = new UsageMeter(edge.pid, 1000);
    meter.start();
    await sleep(o.durationS * 1000);
    const usage = meter.stop();
    const report = await edge.request({ type: 'report' }, 'report');

    const sensors = Object.fromEntries(t.town.lamps.filter((l) => l.sensorId).map((l) => [l.id, l.sensorId!]));
    const agentProbe = await edge.request({ type: 'agent-probe', sensors }, 'agent-probe', 120_000);
    const probe = await edge.request({ type: 'probe', policy, nights: o.probeNights, firstDusk: night.dusk }, 'probe', 120_000);
    const engine = probe.latencyMs as LatencySummary;
    const first = agentProbe.firstChangeMs as LatencySummary;
    const sync = agentProbe.syncMs as LatencySummary;
    const figures: Figure[] = [
      { label: `gateway (${o.lamps} lamps) RSS max`, value: usage.rssMbMax, unit: 'MB' },
      { label: 'gateway CPU', value: round(usage.cores * 100, 2), unit: '% of a core' },
      { label: 'presence→levels computed (engine) p50', value: engine.p50, unit: 'ms' },
      { label: 'presence→levels computed (engine) p99', value: engine.p99, unit: 'ms', target: '< 1' },
      { label: 'presence→agent handler done p99', value: sync.p99, unit: 'ms' },
      { label: 'presence→first output change p50', value: first.p50, unit: 'ms' },
      { label: 'presence→first output change p99', value: first.p99, unit: 'ms' },
    ];
    return {
      scenario: 'edge',
      command,
      startedAt: startedAt.toISOString(),
      durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
      load: { cores: os.cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadNow() },
      figures,
      details: { options: o, usage, report, agentProbe, probe },
    };
  } finally {
    await edge?.stop();
    await controller.endAsync(true);
    await broker.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
