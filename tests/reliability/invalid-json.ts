import fs from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import type { MqttClient } from 'mqtt';
import { expect } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { connectClient } from '../../controller/test-kit.js';
import { EdgeAgent } from '../../edge-agent/agent.js';
import { parseEdgeConfig } from '../../edge-agent/config.js';
import type { EdgeFs } from '../../edge-agent/fs-port.js';
import { SimulatedDriver } from '../../edge-agent/sim-driver.js';
import { commandSigner, recorder, removeDir, startBroker, tempDir, waitFor } from '../../edge-agent/test-support.js';
import { cabinetTopic, UP_CHANNELS, type Channel, type Policy } from '../../protocol/index.js';
import { inventory, rangeCount, startControllerStack } from './harness.js';
import { invalidPayloads } from './invalid-payloads.js';

/**
 * Battery 3: `perType` invalid payloads of every message type over a real broker, into a real
 * controller (up channels) and into a real gateway (down channels), one valid payload interleaved
 * every VALID_EVERY: 0 crashes, 0 writes from invalid input, every valid payload accepted.
 */

const VALID_EVERY = 50;
const NOW = DateTime.fromISO('2025-12-21T23:00:00', { zone: 'Europe/Paris' }).toMillis();
const site = { lat: 48.8566, lon: 2.3522, timezone: 'Europe/Paris' };

async function publishAll(client: MqttClient, topic: string, payloads: string[]): Promise<void> {
  for (let i = 0; i < payloads.length; i += 200) {
    await Promise.all(payloads.slice(i, i + 200).map((p) => client.publishAsync(topic, p, { qos: 1 })));
  }
}

/** Interleaves one valid payload (made by `valid(k)`) every VALID_EVERY invalid ones. */
function interleave(invalid: string[], valid: (k: number) => string): { payloads: string[]; valid: number } {
  const payloads: string[] = [];
  let k = 0;
  for (const [i, p] of invalid.entries()) {
    if (i % VALID_EVERY === 0) payloads.push(valid(k++));
    payloads.push(p);
  }
  return { payloads, valid: k };
}

export async function controllerBattery(perType: number): Promise<string> {
  const dir = tempDir('luciole-b3c-');
  const broker = await startBroker();
  const CAB = 'CAB-3';
  const stack = await startControllerStack(dir, broker.url, { inventory: inventory([CAB], 2) });
  const gw = await connectClient(broker.url, { clientId: `edge-${CAB}` });
  try {
    const lamp = (id: string) => ({ id, level: 30, powerW: 12, energyWh: 100, fault: null });
    const examples: Record<string, (k: number) => Record<string, unknown>> = {
      telemetry: (k) => ({ v: 1, seq: 1000 + k, ts: NOW + k, periodS: 60, lamps: [lamp(`${CAB}-L1`), lamp(`${CAB}-L2`)] }),
      presence: (k) => ({ v: 1, ts: NOW + k, sensorId: 'S1', lampId: `${CAB}-L1`, kind: 'pedestrian', count: 1 }),
      status: (k) => ({ v: 1, ts: NOW + k, online: true, agent: 'x', mode: 'policy', policy: null, lamps: 2, buffered: 0 }),
      event: (k) => ({ v: 1, ts: NOW + k, code: 'door_open', lampId: null, detail: 'd' }),
      ack: (k) => ({ v: 1, ts: NOW + k, ref: `command:c${k}`, ok: true }),
    };
    const sent: Record<string, { invalid: number; valid: number }> = {};
    for (const [i, channel] of UP_CHANNELS.entries()) {
      const example = examples[channel]!;
      const invalid = invalidPayloads(channel, example(0), perType, 300 + i);
      const { payloads, valid } = interleave(invalid, (k) => JSON.stringify(example(k)));
      sent[channel] = { invalid: invalid.length, valid };
      await publishAll(gw, cabinetTopic(CAB, channel), payloads);
    }
    const c = stack.controller;
    await waitFor(() => UP_CHANNELS.every((ch) => (c.stats().messagesIn[ch] ?? 0) === sent[ch]!.invalid + sent[ch]!.valid), 60_000, 'every message ingested');
    await waitFor(() => c.stats().pendingWrites === 0, 10_000, 'writes done');
    await stack.controller.stop();
    const stats = c.stats();
    for (const ch of UP_CHANNELS) expect(stats.invalid[ch], ch).toBe(sent[ch]!.invalid);
    // Writes: exactly the valid telemetry and presence, nothing from the invalid ones.
    expect(rangeCount(await stack.telemetryStore.storedSeqRanges(CAB))).toBe(sent.telemetry!.valid);
    expect(stats.samplesStored).toBe(sent.telemetry!.valid * 2);
    const db = (stack.telemetryStore as unknown as { db: { prepare(s: string): { get(): unknown } } }).db;
    const rows = (q: string) => Number(Object.values(db.prepare(q).get() as Record<string, unknown>)[0]);
    expect(rows('SELECT count(*) FROM telemetry_messages')).toBe(sent.telemetry!.valid);
    expect(rows('SELECT count(*) FROM lamp_samples')).toBe(sent.telemetry!.valid * 2);
    expect(rows('SELECT count(*) FROM presence')).toBe(sent.presence!.valid);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const total = UP_CHANNELS.reduce((n, ch) => n + sent[ch]!.invalid, 0);
    return `controller: ${total} invalid payloads (${perType} per up channel × ${UP_CHANNELS.length}) with ${UP_CHANNELS.reduce((n, ch) => n + sent[ch]!.valid, 0)} valid interleaved: 0 crashes, ${total} counted invalid, 0 rows from them, every valid one stored or applied`;
  } finally {
    await gw.endAsync(true);
    await stack.stop().catch(() => undefined);
    await broker.close();
    removeDir(dir);
  }
}

export async function gatewayBattery(perType: number): Promise<string> {
  const dir = tempDir('luciole-b3g-');
  const broker = await startBroker();
  const CAB = 'CAB-3G';
  const SECRET = 'battery-three';
  const ctl = await recorder(broker.url, [`luciole/v1/cabinets/${CAB}/ack`]);
  const clock = new ManualClock(NOW);
  const lamps = [{ id: 'L1', nominalPowerW: 40 }, { id: 'L2', nominalPowerW: 40 }];
  let writes = 0;
  const counting: EdgeFs = {
    ...fs,
    openSync: ((file: fs.PathLike, flags: fs.OpenMode = 'r', mode?: fs.Mode | null) => {
      if (typeof flags === 'string' && flags.startsWith('w')) writes++;
      return fs.openSync(file, flags, mode);
    }) as typeof fs.openSync,
  };
  const config = parseEdgeConfig({ cabinetId: CAB, brokerUrl: broker.url, password: SECRET, dataDir: path.join(dir, 'gw'), site, lamps, periodS: 3600 });
  const agent = new EdgeAgent({ config, clock, driver: new SimulatedDriver({ clock, lamps, seed: 3, traffic: 0 }), logger: silentLogger(), fs: counting });
  try {
    await agent.start();
    await agent.whenConnected();
    await waitFor(() => agent.uplinkCount() === 0, 3000, 'reboot event sent');
    const policy = (version: number): Policy => ({
      v: 1, id: 'rue', version, issuedAt: NOW, site, failsafeLevel: 100,
      profiles: { p: { schedule: [{ from: 'dusk', to: 'dawn', level: version % 100 }] } },
      lamps: { L1: { profile: 'p' }, L2: { profile: 'p' } },
    });
    const sign = commandSigner(SECRET, CAB, 1);
    const command = (k: number) => sign({ v: 1, id: `ok-${k}`, ts: NOW, expiresAt: NOW + 3_600_000, kind: 'override', lamps: ['L1'], level: k % 101, durationS: 600 });
    const writesBefore = writes;
    const sent: Record<string, { invalid: number; valid: number }> = {};
    const plan: Array<[Channel, Record<string, unknown>, (k: number) => string]> = [
      ['policy', policy(1), (k) => JSON.stringify(policy(k + 1))],
      ['command', command(0), (k) => JSON.stringify(command(k))],
      ['receipt', { v: 1, ts: NOW, seqs: [[1, 2]] }, (k) => JSON.stringify({ v: 1, ts: NOW, seqs: [[k, k]] })],
    ];
    for (const [i, [channel, example, valid]] of plan.entries()) {
      const invalid = invalidPayloads(channel, example, perType, 900 + i);
      const mixed = interleave(invalid, valid);
      sent[channel] = { invalid: invalid.length, valid: mixed.valid };
      // Policies are retained in real life; here each one is a plain publish so none is replayed.
      await publishAll(ctl.client, cabinetTopic(CAB, channel), mixed.payloads);
    }
    const totalInvalid = Object.values(sent).reduce((n, s) => n + s.invalid, 0);
    await waitFor(() => agent.stats().malformed === totalInvalid, 60_000, 'every invalid payload counted');
    const okAcks = () => ctl.json('ack').filter((a) => a.ok === true);
    await waitFor(() => okAcks().length === sent.policy!.valid + sent.command!.valid, 30_000, 'every valid policy and command acked');
    await waitFor(() => agent.uplinkCount() === 0, 10_000, 'acks delivered');
    // Writes: per valid policy its file and its ack; per valid command its seq, ids, overrides and ack.
    expect(writes - writesBefore).toBe(2 * sent.policy!.valid + 4 * sent.command!.valid);
    expect(agent.engine.getPolicy()?.version).toBe(sent.policy!.valid);
    expect(agent.engine.activeOverrides(clock.now()).at(-1)?.commandId).toBe(`ok-${sent.command!.valid - 1}`);
    expect(agent.stats().errors).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    return `gateway: ${totalInvalid} invalid payloads (${perType} per down channel × 3) with ${Object.values(sent).reduce((n, s) => n + s.valid, 0)} valid interleaved: 0 crashes, 0 handler errors, ${totalInvalid} counted malformed, 0 disk writes from them (${writes - writesBefore} writes = exactly the valid policies' and commands'), every valid policy and command acked ok`;
  } finally {
    await agent.stop();
    await ctl.close();
    await broker.close();
    removeDir(dir);
  }
}
