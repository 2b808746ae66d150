import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import { LucioleError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import {
  alertMessageSchema,
  alertTopic,
  cabinetTopic,
  commandSchema,
  policySchema,
  receiptSchema,
  UP_CHANNELS,
  type InputOf,
} from '../protocol/index.js';
import { openConfigStore } from './config-store.js';
import { Controller, type ControllerOptions } from './controller.js';
import type { TownPlan } from './plan.js';
import { SqliteTelemetryStore } from './sqlite-telemetry-store.js';
import type { ConfigStore } from './stores.js';
import { connectClient, Inbox, startTestBroker, until, type TestBroker } from './test-kit.js';

const feature = (id: string, cabinetId: string, lon: number, neighbours: string[]) => ({
  type: 'Feature',
  geometry: { type: 'Point', coordinates: [lon, 45.76] },
  properties: { id, cabinetId, zone: 'z1', nominalPowerW: 30, neighbours },
});
// A1 - A2 in cabinet CA, A2 - B1 across to cabinet CB.
const inventory = {
  type: 'FeatureCollection',
  features: [feature('A1', 'CA', 4.83, ['A2']), feature('A2', 'CA', 4.831, ['A1', 'B1']), feature('B1', 'CB', 4.832, ['A2'])],
};
const plan: TownPlan = {
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

const telemetry = (seq: number, ts: number): InputOf<'telemetry'> => ({
  v: 1,
  seq,
  ts,
  periodS: 60,
  lamps: [
    { id: 'A1', level: 20, powerW: 6.1, energyWh: 1000 + seq, fault: null },
    { id: 'A2', level: 20, powerW: 6.2, energyWh: 2000 + seq, fault: null },
  ],
});

describe('Controller (real aedes broker, real MQTT clients, real SQLite)', () => {
  let dir: string;
  let broker: TestBroker;
  let configStore: ConfigStore;
  let telemetryStore: SqliteTelemetryStore;
  let controller: Controller | null;
  let clients: MqttClient[];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-controller-'));
    broker = await startTestBroker();
    configStore = openConfigStore(path.join(dir, 'config.db'));
    configStore.importInventory(inventory, 'test');
    telemetryStore = new SqliteTelemetryStore({ file: path.join(dir, 'telemetry.db') });
    await telemetryStore.open();
    controller = null;
    clients = [];
  });

  afterEach(async () => {
    await controller?.stop();
    for (const c of clients) await c.endAsync(true);
    await broker.close();
    await telemetryStore.close();
    configStore.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function startController(extra: Partial<ControllerOptions> = {}, logger: Logger = silentLogger()): Promise<Controller> {
    controller = new Controller({
      brokerUrl: broker.url,
      username: 'controller',
      password: 'unused-without-auth',
      configStore,
      telemetryStore,
      clock: systemClock(),
      logger,
      batchMs: 20,
      receiptMs: 50,
      ...extra,
    });
    await controller.start();
    return controller;
  }

  async function gateway(cabinetId: string, opts: Parameters<typeof connectClient>[1] = {}): Promise<{ client: MqttClient; inbox: Inbox }> {
    const client = await connectClient(broker.url, { clientId: `edge-${cabinetId}`, ...opts });
    clients.push(client);
    const inbox = new Inbox(client);
    return { client, inbox };
  }

  const covers = (ranges: Array<[number, number]>, seq: number): boolean => ranges.some(([a, b]) => a <= seq && seq <= b);

  it('stores a telemetry message published twice once, and receipts its seq', async () => {
    const c = await startController();
    const { client, inbox } = await gateway('CA');
    await client.subscribeAsync(cabinetTopic('CA', 'receipt'), { qos: 1 });
    const msg = JSON.stringify(telemetry(5, Date.now()));
    await client.publishAsync(cabinetTopic('CA', 'telemetry'), msg, { qos: 1 });
    await client.publishAsync(cabinetTopic('CA', 'telemetry'), msg, { qos: 1 });

    const receipt = await inbox.next((m) => covers(receiptSchema.parse(JSON.parse(m.payload)).seqs, 5));
    expect(receipt.topic).toBe(cabinetTopic('CA', 'receipt'));
    await until(() => c.stats().duplicates === 1);
    expect(await telemetryStore.storedSeqRanges('CA')).toEqual([[5, 5]]);
    expect(await telemetryStore.lampHistory('A1', 0, Date.now() + 1)).toHaveLength(1);
    expect(c.stats()).toMatchObject({ samplesStored: 2, pendingWrites: 0 });
    expect(c.stats().receiptsSent).toBeGreaterThanOrEqual(1);
    expect(c.listLamps().find((l) => l.id === 'A1')).toMatchObject({ level: 20, powerW: 6.1, cabinetId: 'CA' });
  });

  it('counts garbage on every up channel and still stores the next valid message', async () => {
    const c = await startController();
    const { client, inbox } = await gateway('CA');
    await client.subscribeAsync(cabinetTopic('CA', 'receipt'), { qos: 1 });
    const huge = Buffer.alloc(300 * 1024, 0x20);
    for (const channel of UP_CHANNELS) {
      const topic = cabinetTopic('CA', channel);
      await client.publishAsync(topic, 'not json {', { qos: 1 });
      await client.publishAsync(topic, JSON.stringify({ v: 1, seq: 'x', ts: 'noon', online: 'yes', lamps: 3 }), { qos: 1 });
      await client.publishAsync(topic, huge, { qos: 1 });
    }
    await client.publishAsync('luciole/v1/cabinets/bad$id/telemetry', JSON.stringify(telemetry(1, 1)), { qos: 1 });
    await client.publishAsync(`luciole/v1/cabinets/${'x'.repeat(65)}/telemetry`, JSON.stringify(telemetry(1, 1)), { qos: 1 });
    // Invalid but with a readable seq: refused for good, so receipted.
    await client.publishAsync(cabinetTopic('CA', 'telemetry'), JSON.stringify({ v: 1, seq: 9, ts: -1, lamps: [] }), { qos: 1 });
    await client.publishAsync(cabinetTopic('CA', 'telemetry'), JSON.stringify(telemetry(10, Date.now())), { qos: 1 });

    await until(async () => covers(await telemetryStore.storedSeqRanges('CA'), 10));
    const { invalid, messagesIn } = c.stats();
    expect(invalid).toEqual({ telemetry: 3 + 2 + 1, presence: 3, event: 3, ack: 3, status: 3 });
    expect(messagesIn.telemetry).toBe(3 + 2 + 1 + 1);
    expect(await telemetryStore.storedSeqRanges('CA')).toEqual([[10, 10]]);
    await inbox.next((m) => covers(receiptSchema.parse(JSON.parse(m.payload)).seqs, 9));
  });

  it('publishes a retained policy per cabinet; a late subscriber gets it and its ack is recorded', async () => {
    const c = await startController();
    const version = await c.publishPlan(plan, 'alice');
    expect(version.version).toBe(1);

    const { client, inbox } = await gateway('CA');
    await client.subscribeAsync([cabinetTopic('CA', 'policy'), cabinetTopic('CB', 'policy')], { qos: 1 });
    const pa = policySchema.parse(JSON.parse((await inbox.next((m) => m.topic === cabinetTopic('CA', 'policy'))).payload));
    const pb = policySchema.parse(JSON.parse((await inbox.next((m) => m.topic === cabinetTopic('CB', 'policy'))).payload));
    expect(Object.keys(pa.lamps).sort()).toEqual(['A1', 'A2']);
    expect(Object.keys(pb.lamps)).toEqual(['B1']);
    expect(pa).toMatchObject({ id: 'rue', version: 1 });
    expect(c.getCabinet('CA')?.policyPublished).toEqual({ id: 'rue', version: 1 });
    expect(c.getCabinet('CA')?.policyAcked).toBeNull();

    await client.publishAsync(cabinetTopic('CA', 'ack'), JSON.stringify({ v: 1, ts: Date.now(), ref: 'policy:rue@1', ok: true }), { qos: 1 });
    await until(() => c.getCabinet('CA')?.policyAcked?.version === 1);
    expect(configStore.policyStates().find((s) => s.cabinetId === 'CA')?.acked).toEqual({ id: 'rue', version: 1 });
    expect(configStore.auditLog(10).some((e) => e.action === 'plan.publish' && e.actor === 'alice')).toBe(true);
    await expect(c.publishPlan({ ...plan, defaultProfile: 'nope' }, 'alice')).rejects.toMatchObject({
      code: 'LUCIOLE_ERR_PLAN_INVALID',
      field: 'defaultProfile',
    });
  });

  it('republishes the current plan on start (a restarted broker lost its retained policies)', async () => {
    const first = await startController();
    await first.publishPlan(plan, 'alice');
    await first.stop();
    await broker.close();
    broker = await startTestBroker();
    await startController();
    const { client, inbox } = await gateway('CB');
    await client.subscribeAsync(cabinetTopic('CB', 'policy'), { qos: 1 });
    const m = await inbox.next((x) => x.topic === cabinetTopic('CB', 'policy'));
    expect(m.retain).toBe(true);
    expect(policySchema.parse(JSON.parse(m.payload))).toMatchObject({ id: 'rue', version: 1 });
  });

  it('relays presence at a lamp whose neighbour is in another cabinet as a command with hops', async () => {
    const c = await startController();
    await c.publishPlan(plan, 'alice');
    const events: string[] = [];
    c.subscribe((e) => events.push(e.type));
    const ca = await gateway('CA');
    const cb = await gateway('CB');
    await cb.client.subscribeAsync(cabinetTopic('CB', 'command'), { qos: 1 });
    const ts = Date.now();
    await ca.client.publishAsync(
      cabinetTopic('CA', 'presence'),
      JSON.stringify({ v: 1, ts, sensorId: 'S1', lampId: 'A2', kind: 'pedestrian', count: 1 }),
      { qos: 1 },
    );
    const m = await cb.inbox.next((x) => x.topic === cabinetTopic('CB', 'command'));
    const cmd = commandSchema.parse(JSON.parse(m.payload));
    expect(cmd).toMatchObject({ kind: 'presence', lampId: 'B1', count: 1, hops: 1 });
    expect(cmd.expiresAt - cmd.ts).toBe(10_000);
    expect(events).toContain('presence');
    await until(async () => (await telemetryStore.presenceCounts(0, ts + 1)).length > 0);
    expect(await telemetryStore.presenceCounts(0, ts + 1)).toEqual([{ lampId: 'A2', count: 1 }]);
  });

  it('opens one cabinet_offline alert on a Last Will and resolves it when the cabinet is back', async () => {
    const c = await startController();
    const watcher = await gateway('watcher');
    await watcher.client.subscribeAsync('luciole/v1/alerts/#', { qos: 1 });
    const will = { topic: cabinetTopic('CA', 'status'), payload: Buffer.from('{"v":1,"online":false}'), qos: 1 as const, retain: true };
    const first = await gateway('CA', { will });
    await first.client.publishAsync(cabinetTopic('CA', 'status'), JSON.stringify({ v: 1, ts: Date.now(), online: true, mode: 'policy', agent: 'luciole-edge/0.1.0', buffered: 0 }), { qos: 1, retain: true });
    await until(() => c.getCabinet('CA')?.online === true);
    expect(c.getCabinet('CA')).toMatchObject({ agent: 'luciole-edge/0.1.0', mode: 'policy', lamps: 2 });

    first.client.stream.destroy();
    await until(() => c.listAlerts().length === 1);
    const [alert] = c.listAlerts();
    expect(alert).toMatchObject({ kind: 'cabinet_offline', cabinetId: 'CA', state: 'open', count: 1 });
    expect(['critical', 'major']).toContain(alert!.severity);
    expect(c.getCabinet('CA')?.online).toBe(false);
    const published = await watcher.inbox.next((m) => m.topic === alertTopic(alert!.id) && m.payload !== '');
    expect(alertMessageSchema.parse(JSON.parse(published.payload))).toMatchObject({ id: alert!.id, state: 'open' });

    const again = await gateway('CA', { will, clientId: 'edge-CA' });
    await again.client.publishAsync(cabinetTopic('CA', 'status'), JSON.stringify({ v: 1, ts: Date.now(), online: true }), { qos: 1, retain: true });
    await until(() => c.listAlerts()[0]?.state === 'resolved');
    expect(c.listAlerts()).toHaveLength(1);
    expect(c.listAlerts()[0]!.resolvedAt).not.toBeNull();
    expect(c.getCabinet('CA')?.online).toBe(true);
    await watcher.inbox.next((m) => m.topic === alertTopic(alert!.id) && m.payload === '');
    // Cabinets = inventory ∪ seen.
    expect(c.listCabinets().map((x) => x.id)).toEqual(['CA', 'CB']);
  });

  it('stop() writes what is pending and sends its receipt before disconnecting', async () => {
    const c = await startController({ batchMs: 60_000, receiptMs: 60_000 });
    const { client, inbox } = await gateway('CA');
    await client.subscribeAsync(cabinetTopic('CA', 'receipt'), { qos: 1 });
    await client.publishAsync(cabinetTopic('CA', 'telemetry'), JSON.stringify(telemetry(77, Date.now())), { qos: 1 });
    await until(() => c.stats().messagesIn.telemetry === 1);
    // Group commit may already have written it; the receipt, held back by receiptMs, is only
    // sent by stop().
    await c.stop();
    expect(await telemetryStore.storedSeqRanges('CA')).toEqual([[77, 77]]);
    const r = await inbox.next((m) => m.topic === cabinetTopic('CA', 'receipt'));
    expect(receiptSchema.parse(JSON.parse(r.payload)).seqs).toEqual([[77, 77]]);
  });

  it('issues cabinet credentials through the issuer, audited, never logging the secret', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    const secret = 'S3cr3t-0f-CA-xyz';
    const c = await startController({ credentials: { issue: () => secret } }, pino({ level: 'debug' }, sink));
    expect(c.issueCabinetCredentials('CA', 'bob')).toEqual({ username: 'CA', password: secret });
    expect(configStore.auditLog(10).some((e) => e.action === 'cabinet.credentials.issue' && e.target === 'CA')).toBe(true);
    expect(() => c.issueCabinetCredentials('bad id!', 'bob')).toThrow(LucioleError);
    expect(lines.some((l) => l.includes('cabinet credentials issued'))).toBe(true);
    expect(lines.join('\n')).not.toContain(secret);
  });

  it('refuses credentials without an issuer, and reports energy per night', async () => {
    const c = await startController();
    expect(() => c.issueCabinetCredentials('CA', 'bob')).toThrow(
      expect.objectContaining({ code: 'LUCIOLE_ERR_NO_CREDENTIAL_STORE' }) as Error,
    );
    const summary = await c.energy(3);
    expect(summary.lamps).toBe(3);
    expect(summary.nights).toHaveLength(3);
    expect(summary.nights[0]!.dusk).toBeGreaterThan(summary.nights[1]!.dusk);
    await expect(c.energy(0)).rejects.toMatchObject({ field: 'nights' });
  });
});
