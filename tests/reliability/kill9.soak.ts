import { execFile, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../broker/credentials.js';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { EdgeAgent } from '../../edge-agent/agent.js';
import { parseEdgeConfig } from '../../edge-agent/config.js';
import { SimulatedDriver } from '../../edge-agent/sim-driver.js';
import { freePort, removeDir, tempDir, waitFor } from '../../edge-agent/test-support.js';
import { startBroker as startLucioleBroker, type RunningBroker } from '../../broker/broker.js';
import { inventory, startControllerStack, type ControllerStack } from './harness.js';

/**
 * Battery 4: 10 real gateways send 1,000 QoS 1 telemetry messages each (10,000) while the
 * controller, then (separately) the broker, runs in a child process that is killed with SIGKILL
 * a third of the way through and restarted: exactly 10,000 unique messages stored, 0 lost, 0
 * duplicates. The children run this tree compiled by tsc into a temp folder.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILDREN = fileURLToPath(new URL('./children/', import.meta.url));
const GATEWAYS = 10;
const PER_GATEWAY = 1000;
const KILL_AT = 300;
const RESTART_AT = 350;
const site = { lat: 48.8566, lon: 2.3522, timezone: 'Europe/Paris' };
const START = DateTime.fromISO('2025-12-21T20:00:00', { zone: 'Europe/Paris' }).toMillis();
const cabs = Array.from({ length: GATEWAYS }, (_, i) => `CAB-K${i}`);

let build: string;
let scratch: string;

function child(script: string, env: Record<string, string>): Promise<ChildProcess> {
  const c = fork(path.join(CHILDREN, script), [], { env: { ...process.env, LUCIOLE_BUILD: build, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    c.once('message', () => resolve(c));
    c.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function kill9(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  });
}

async function runGateways(dir: string, brokerUrl: string, secrets: Map<string, string>, onStep: (step: number) => Promise<void>): Promise<EdgeAgent[]> {
  const clock = new ManualClock(START);
  const agents = cabs.map((cab) => {
    const lamps = [1, 2].map((n) => ({ id: `${cab}-L${n}`, nominalPowerW: 40 }));
    const config = parseEdgeConfig({
      cabinetId: cab, brokerUrl, password: secrets.get(cab)!, dataDir: path.join(dir, cab), site, lamps, periodS: 1, tickMs: 1000, resendAfterS: 2, replayRatePerS: 500,
    });
    return new EdgeAgent({ config, clock, driver: new SimulatedDriver({ clock, lamps, seed: 4, traffic: 0 }), logger: silentLogger(), mqttOptions: { reconnectPeriod: 200 } });
  });
  for (const a of agents) await a.start();
  await Promise.all(agents.map((a) => a.whenConnected()));
  for (let step = 1; step <= PER_GATEWAY; step++) {
    clock.advance(1000);
    await onStep(step);
    await new Promise((r) => setTimeout(r, 2));
  }
  await waitFor(() => agents.every((a) => a.outboxCount() === 0), 120_000, 'every outbox receipted');
  return agents;
}

function countStored(file: string): { messages: number; unique: number; samples: number; uniqueSamples: number } {
  const db = new Database(file, { readonly: true });
  try {
    const one = (q: string) => Number(Object.values(db.prepare(q).get() as Record<string, unknown>)[0]);
    return {
      messages: one('SELECT count(*) FROM telemetry_messages'),
      unique: one('SELECT count(*) FROM (SELECT DISTINCT cabinet_id, seq FROM telemetry_messages)'),
      samples: one('SELECT count(*) FROM lamp_samples'),
      uniqueSamples: one('SELECT count(*) FROM (SELECT DISTINCT lamp_id, ts FROM lamp_samples)'),
    };
  } finally {
    db.close();
  }
}

describe('battery 4: kill -9 during 10,000 QoS 1 telemetry messages from 10 gateways', () => {
  beforeAll(async () => {
    scratch = tempDir('luciole-b4-');
    build = path.join(scratch, 'build');
    await new Promise<void>((resolve) => {
      // Type errors elsewhere in the tree do not stop tsc from emitting.
      execFile(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', build], { cwd: ROOT }, () => resolve());
    });
    expect(fs.existsSync(path.join(build, 'controller/controller.js'))).toBe(true);
    fs.writeFileSync(path.join(build, 'package.json'), '{"type":"module"}');
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(build, 'node_modules'));
  }, 120_000);
  afterAll(() => removeDir(scratch));

  it('the controller killed and restarted: exactly 10,000 stored, 0 lost, 0 duplicates', async () => {
    const dir = path.join(scratch, 'a');
    fs.mkdirSync(dir, { recursive: true });
    const db = new Database(path.join(dir, 'broker.db'));
    const credentials = new CredentialStore(db);
    credentials.init();
    const secrets = new Map(cabs.map((c) => [c, credentials.issue(c, 'cabinet')]));
    const ctlSecret = credentials.issue('controller', 'controller');
    const broker: RunningBroker = await startLucioleBroker({ port: 0, host: '127.0.0.1', credentials, logger: silentLogger() });
    const ctlDir = path.join(dir, 'ctl');
    fs.mkdirSync(ctlDir);
    // The inventory, written once by this process; the child opens the same files.
    const seed = await startControllerStack(ctlDir, broker.url, { password: ctlSecret, inventory: inventory(cabs, 2) });
    await seed.stop();
    const env = { DATA_DIR: ctlDir, BROKER_URL: broker.url, PASSWORD: ctlSecret };
    let ctl = await child('controller-child.mjs', env);
    const agents = await runGateways(path.join(dir, 'gw'), broker.url, secrets, async (step) => {
      if (step === KILL_AT) await kill9(ctl);
      if (step === RESTART_AT) ctl = await child('controller-child.mjs', env);
    });
    ctl.send({ type: 'stop' });
    await new Promise((r) => ctl.once('exit', r));
    for (const a of agents) await a.stop();
    await broker.close();
    db.close();
    const stored = countStored(path.join(ctlDir, 'telemetry.db'));
    expect(stored).toEqual({ messages: 10_000, unique: 10_000, samples: 20_000, uniqueSamples: 20_000 });
    console.log(`[battery] kill -9 controller: 10 gateways × 1,000 QoS 1 messages, controller SIGKILLed at message ${KILL_AT * GATEWAYS} and restarted: ${stored.unique} unique messages (${stored.samples} lamp samples) stored, 0 lost, 0 duplicates`);
  });

  it('the broker killed and restarted: exactly 10,000 stored, 0 lost, 0 duplicates', async () => {
    const dir = path.join(scratch, 'b');
    fs.mkdirSync(dir, { recursive: true });
    const dbFile = path.join(dir, 'broker.db');
    const db = new Database(dbFile);
    db.pragma('journal_mode = WAL');
    const credentials = new CredentialStore(db);
    credentials.init();
    const secrets = new Map(cabs.map((c) => [c, credentials.issue(c, 'cabinet')]));
    const ctlSecret = credentials.issue('controller', 'controller');
    db.close();
    const port = await freePort();
    const env = { CONFIG_DB: dbFile, PORT: String(port) };
    let brokerProc = await child('broker-child.mjs', env);
    const url = `mqtt://127.0.0.1:${port}`;
    const ctlDir = path.join(dir, 'ctl');
    fs.mkdirSync(ctlDir);
    let stack: ControllerStack | null = await startControllerStack(ctlDir, url, { password: ctlSecret, inventory: inventory(cabs, 2) });
    try {
      const agents = await runGateways(path.join(dir, 'gw'), url, secrets, async (step) => {
        if (step === KILL_AT) await kill9(brokerProc);
        if (step === RESTART_AT) brokerProc = await child('broker-child.mjs', env);
      });
      await stack.stop();
      stack = null;
      for (const a of agents) await a.stop();
    } finally {
      await stack?.stop();
      brokerProc.kill('SIGKILL');
    }
    const stored = countStored(path.join(ctlDir, 'telemetry.db'));
    expect(stored).toEqual({ messages: 10_000, unique: 10_000, samples: 20_000, uniqueSamples: 20_000 });
    console.log(`[battery] kill -9 broker: 10 gateways × 1,000 QoS 1 messages, broker SIGKILLed at message ${KILL_AT * GATEWAYS} and restarted: ${stored.unique} unique messages (${stored.samples} lamp samples) stored, 0 lost, 0 duplicates`);
  });
});
