import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaledClock } from '../core/clock.js';
import { localTime } from '../core/astro.js';
import { silentLogger } from '../core/log.js';
import { cabinetTopic } from '../protocol/index.js';
import { EdgeAgent } from '../edge-agent/agent.js';
import { SimulatedDriver } from '../edge-agent/sim-driver.js';
import { parseEdgeConfig } from '../edge-agent/config.js';
import { startServer, type RunningServer } from '../cli/server.js';
import { demoPlan, generateTown, townInventory } from '../sim/town.js';
import { eventually, tempDir } from './helpers.js';

/**
 * The real loop in one process: bundled aedes broker with per-cabinet secrets, controller,
 * dashboard, two edge agents with simulated drivers, SQLite files in a temp dir. Only the
 * clock starts at a chosen instant (20:00, a winter night); it runs at real speed.
 */
const town = generateTown({ columns: 2, rows: 1, lampsPerStreet: 6, sensorEvery: 1 });
const site = town.site;
const START = localTime('2026-11-20', 20, 0, site.timezone);
const TOKEN = 'test-admin-token-0123456789abcdef';

describe('end to end: gateways, broker, controller, dashboard', () => {
  const tmp = tempDir('e2e');
  const clock = scaledClock(START, 1);
  let server: RunningServer;
  const agents = new Map<string, { agent: EdgeAgent; driver: SimulatedDriver }>();
  const clients: mqtt.MqttClient[] = [];

  const rogue = async (opts: Partial<mqtt.IClientOptions> = {}) => {
    const password = server.credentials.issue('ARM-99', 'cabinet');
    const c = await mqtt.connectAsync(server.mqttUrl, {
      username: 'ARM-99',
      password,
      clientId: 'edge-ARM-99',
      reconnectPeriod: 0,
      ...opts,
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    const inventory = join(tmp.dir, 'inventory.geojson');
    writeFileSync(inventory, JSON.stringify(townInventory(town)));
    server = await startServer(
      { dataDir: tmp.dir, mqttPort: 0, httpPort: 0, host: '127.0.0.1', inventory, periodS: 1, adminToken: TOKEN },
      { clock, logger: silentLogger() },
    );
    server.configStore.setTown({ name: town.name, site }, 'test');
    for (const cab of town.cabinets) {
      const config = parseEdgeConfig({
        cabinetId: cab.id,
        brokerUrl: server.mqttUrl,
        password: server.credentials.issue(cab.id, 'cabinet'),
        dataDir: join(tmp.dir, 'edge', cab.id),
        periodS: 1,
        tickMs: 100,
        site,
        lamps: town.lamps
          .filter((l) => l.cabinetId === cab.id)
          .map((l) => ({ id: l.id, nominalPowerW: l.nominalPowerW, sensorId: `S-${l.id}` })),
        sim: { seed: 1, traffic: 0 },
      });
      const driver = new SimulatedDriver({ clock, lamps: config.lamps, seed: 1, traffic: 0, timezone: site.timezone });
      const agent = new EdgeAgent({ config, clock, driver, logger: silentLogger() });
      agents.set(cab.id, { agent, driver });
      await agent.start();
      await agent.whenConnected();
    }
  });

  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    for (const { agent } of agents.values()) await agent.stop();
    await server?.stop();
    tmp.remove();
  });

  it('starts with the gateways online and in fail-safe (no policy yet)', async () => {
    await eventually(() => server.controller.listCabinets().filter((c) => c.online).length === 2, 'two cabinets online');
    const { agent } = agents.get('ARM-01')!;
    const lamp = agent.engine.lampIds[0]!;
    expect(agent.engine.mode(clock.now())).toBe('failsafe');
    expect(agent.engine.levelAt(lamp, clock.now())).toBe(100);
  });

  it('stores the gateways telemetry and answers with receipts', async () => {
    await eventually(() => server.controller.stats().samplesStored >= town.lamps.length, 'a round of telemetry');
    await eventually(() => agents.get('ARM-01')!.agent.outboxCount() <= 1, 'outbox emptied by receipts');
    const lamps = server.controller.listLamps();
    expect(lamps.every((l) => l.level !== null && l.powerW !== null)).toBe(true);
  });

  it('delivers a policy to both gateways, which apply and ack it', async () => {
    const v = await server.controller.publishPlan(demoPlan(), 'test');
    await eventually(
      () => server.controller.listCabinets().every((c) => c.policyAcked?.version === v.version),
      'both cabinets acked the policy',
    );
    for (const { agent } of agents.values()) {
      expect(agent.engine.getPolicy()?.version).toBe(v.version);
      expect(agent.engine.mode(clock.now())).toBe('policy');
    }
    // Both districts of this small town are 'centre': 70 % from dusk to 23:00.
    const { agent } = agents.get('ARM-02')!;
    expect(agent.engine.levelAt(agent.engine.lampIds[3]!, clock.now())).toBe(70);
  });

  it('raises the neighbours of a detection, across the two cabinets', async () => {
    // The closest pair of lamps across the two cabinets: the avenue runs on from one to the other.
    const mLon = Math.cos((site.lat * Math.PI) / 180);
    const dist = (p: (typeof town.lamps)[0], q: (typeof town.lamps)[0]) =>
      Math.hypot(p.lat - q.lat, (p.lon - q.lon) * mLon);
    const inA = town.lamps.filter((l) => l.cabinetId === 'ARM-01');
    const inB = town.lamps.filter((l) => l.cabinetId === 'ARM-02');
    let east = inA[0]!;
    let across = inB[0]!;
    for (const p of inA) for (const q of inB) if (dist(p, q) < dist(east, across)) [east, across] = [p, q];
    const behind = inA.filter((l) => l !== east).sort((p, q) => dist(p, east) - dist(q, east))[0]!;
    const A = agents.get('ARM-01')!;
    const B = agents.get('ARM-02')!;
    expect(B.agent.engine.levelAt(across.id, clock.now())).toBe(70);

    A.driver.triggerPresence(`S-${east.id}`, 'pedestrian');
    await eventually(() => A.agent.engine.levelAt(east.id, clock.now()) >= 90, 'the detecting lamp boosted');
    await eventually(() => A.agent.engine.levelAt(behind.id, clock.now()) >= 90, 'its neighbour in the same cabinet');
    await eventually(
      () => B.agent.engine.levelAt(across.id, clock.now()) >= 90,
      'the neighbour in the other cabinet, through the controller',
    );
    expect(server.controller.stats().messagesIn.presence).toBeGreaterThanOrEqual(1);
  });

  it('stores a telemetry message once even when it is sent twice', async () => {
    const c = await rogue();
    await c.subscribeAsync(cabinetTopic('ARM-99', 'receipt'), { qos: 1 });
    const receipts: Array<[number, number][]> = [];
    c.on('message', (_t, p) => receipts.push(JSON.parse(p.toString()).seqs));
    const msg = JSON.stringify({
      v: 1,
      seq: 5,
      ts: clock.now(),
      periodS: 60,
      lamps: [{ id: 'X-1', level: 50, powerW: 20, energyWh: 100, fault: null }],
    });
    const before = server.controller.stats().duplicates;
    await c.publishAsync(cabinetTopic('ARM-99', 'telemetry'), msg, { qos: 1 });
    await c.publishAsync(cabinetTopic('ARM-99', 'telemetry'), msg, { qos: 1 });
    await eventually(() => server.controller.stats().duplicates === before + 1, 'the second copy seen as a duplicate');
    await eventually(() => receipts.flat().some(([a, b]) => a <= 5 && 5 <= b), 'a receipt covering seq 5');
    expect(await server.telemetryStore.storedSeqRanges('ARM-99')).toEqual([[5, 5]]);
    expect(await server.telemetryStore.lampHistory('X-1', 0, clock.now() + 1)).toHaveLength(1);
  });

  it('refuses a wrong password', async () => {
    await expect(
      mqtt.connectAsync(server.mqttUrl, {
        username: 'ARM-01',
        password: 'not-the-secret',
        clientId: 'edge-ARM-01-x',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow();
    expect(agents.get('ARM-01')!.agent.connected).toBe(true);
  });

  it("does not let cabinet ARM-99 publish on ARM-01's topics nor subscribe to its policy", async () => {
    const c = await rogue();
    const policies: string[] = [];
    c.on('message', (topic) => policies.push(topic));
    // MQTT.js rejects a subscription the broker grants with 128 (refused).
    await expect(c.subscribeAsync(cabinetTopic('ARM-01', 'policy'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    const forged = { v: 1, seq: 42, ts: clock.now(), periodS: 60, lamps: [] };
    await c.publishAsync(cabinetTopic('ARM-01', 'telemetry'), JSON.stringify(forged), { qos: 1 });
    // A marker sent after the forged message on the rogue's own topic: once it is stored, the
    // forged one would have been too.
    const marker = { v: 1, seq: 43, ts: clock.now(), periodS: 60, lamps: [] };
    await c.publishAsync(cabinetTopic('ARM-99', 'telemetry'), JSON.stringify(marker), { qos: 1 });
    await eventually(
      async () => (await server.telemetryStore.storedSeqRanges('ARM-99')).some(([a, b]) => a <= 43 && 43 <= b),
      'the marker stored',
    );
    const ranges = await server.telemetryStore.storedSeqRanges('ARM-01');
    expect(ranges.some(([a, b]) => a <= 42 && 42 <= b)).toBe(false);
    // ARM-01's retained policy exists and would have been delivered by now.
    expect(policies).toEqual([]);
  });

  it('keeps everything running through garbage payloads', async () => {
    const c = await rogue();
    const before = server.controller.stats().invalid;
    const sumBefore = Object.values(before).reduce((a, b) => a + b, 0);
    const garbage = ['', 'not json', '{"v":1}', '[1,2,3]', '{"v":1,"seq":-1}', 'x'.repeat(300 * 1024), '{"__proto__":{"x":1}}'];
    for (const channel of ['status', 'telemetry', 'presence', 'event', 'ack'] as const) {
      for (const g of garbage) await c.publishAsync(cabinetTopic('ARM-99', channel), g, { qos: 1 });
    }
    await eventually(() => {
      const now = Object.values(server.controller.stats().invalid).reduce((a, b) => a + b, 0);
      return now >= sumBefore + 25;
    }, 'the invalid messages counted');
    const ok = { v: 1, seq: 44, ts: clock.now(), periodS: 60, lamps: [] };
    await c.publishAsync(cabinetTopic('ARM-99', 'telemetry'), JSON.stringify(ok), { qos: 1 });
    await eventually(
      async () => (await server.telemetryStore.storedSeqRanges('ARM-99')).some(([a, b]) => a <= 44 && 44 <= b),
      'a valid message stored after the garbage',
    );
    const health = await fetch(new URL('/api/health', server.httpUrl));
    expect(health.status).toBe(200);
    const cabinets = await fetch(new URL('/api/cabinets', server.httpUrl), {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(cabinets.status).toBe(200);
    expect(agents.get('ARM-01')!.agent.connected).toBe(true);
  });

  it('marks a killed gateway offline by its Last Will, with an alert', async () => {
    await agents.get('ARM-02')!.agent.kill();
    await eventually(
      () => server.controller.getCabinet('ARM-02')?.online === false,
      'ARM-02 offline after its Last Will',
    );
    const alerts = server.controller.listAlerts().filter((a) => a.kind === 'cabinet_offline' && a.state === 'open');
    expect(alerts.map((a) => a.cabinetId)).toEqual(['ARM-02']);
    expect(server.controller.getCabinet('ARM-01')?.online).toBe(true);
  });

  it('re-issuing a cabinet secret through the API disconnects the old holder and keeps it out', async () => {
    const A = agents.get('ARM-01')!;
    expect(A.agent.connected).toBe(true);
    const res = await fetch(new URL('/api/cabinets/ARM-01/credentials', server.httpUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    const issued = (await res.json()) as { username: string; password: string };
    expect(issued.username).toBe('ARM-01');
    await eventually(() => !A.agent.connected, 'the old holder disconnected');
    await eventually(() => server.controller.getCabinet('ARM-01')?.online === false, 'ARM-01 offline');
    // It keeps retrying with its old secret, refused each time.
    await new Promise((r) => setTimeout(r, 1500));
    expect(A.agent.connected).toBe(false);
    const c = await mqtt.connectAsync(server.mqttUrl, {
      username: 'ARM-01',
      password: issued.password,
      clientId: 'edge-ARM-01',
      reconnectPeriod: 0,
    });
    clients.push(c);
    expect(c.connected).toBe(true);
  });
});
