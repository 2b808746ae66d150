import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFixture, type BrokerFixture } from '../../broker/test-fixture.js';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { EdgeAgent } from '../../edge-agent/agent.js';
import { parseEdgeConfig } from '../../edge-agent/config.js';
import { SimulatedDriver } from '../../edge-agent/sim-driver.js';
import { commandSigner, recorder, removeDir, startBroker, tempDir, waitFor, type Recorder, type TestBroker } from '../../edge-agent/test-support.js';
import { cabinetTopic, type InputOf } from '../../protocol/index.js';

/**
 * Battery 7, commands: replayed, reordered, expired, badly signed, unsigned and foreign commands
 * against a real gateway over a real broker, before and after a gateway restart: 0 applied.
 * And presence reaches another cabinet only through the controller: the broker's ACL stops a
 * cabinet that tries to command its neighbour directly.
 */

const CAB = 'CAB-7';
const SECRET = 'battery-seven-secret';
const NIGHT = DateTime.fromISO('2025-12-21T23:00:00', { zone: 'Europe/Paris' }).toMillis();
const site = { lat: 48.8566, lon: 2.3522, timezone: 'Europe/Paris' };
const LAMPS = [{ id: 'L1', nominalPowerW: 40 }, { id: 'L2', nominalPowerW: 40 }];

function startAgent(clock: ManualClock, brokerUrl: string, dataDir: string, cabinetId = CAB, password = SECRET, username?: string) {
  const config = parseEdgeConfig({ cabinetId, brokerUrl, password, dataDir, site, lamps: LAMPS, ...(username ? { username } : {}) });
  const driver = new SimulatedDriver({ clock, lamps: config.lamps, seed: 1, traffic: 0 });
  return { agent: new EdgeAgent({ config, clock, driver, logger: silentLogger(), mqttOptions: { reconnectPeriod: 100 } }), driver };
}

describe('battery 7: command replay', () => {
  let broker: TestBroker;
  let ctl: Recorder;
  let dataDir: string;
  const agents: EdgeAgent[] = [];
  beforeEach(async () => {
    broker = await startBroker();
    ctl = await recorder(broker.url, [`luciole/v1/cabinets/${CAB}/ack`]);
    dataDir = tempDir();
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await ctl.close();
    await broker.close();
    removeDir(dataDir);
  });

  it('0 of the attacks applied; every legitimate command applied', async () => {
    const clock = new ManualClock(NIGHT);
    let gw = startAgent(clock, broker.url, dataDir);
    agents.push(gw.agent);
    await gw.agent.start();
    await gw.agent.whenConnected();
    const now = clock.now();
    const sign = commandSigner(SECRET, CAB, 1000);
    const topic = cabinetTopic(CAB, 'command');
    const send = (c: unknown) => ctl.client.publishAsync(topic, JSON.stringify(c), { qos: 1 });
    const base = (id: string, level: number): InputOf<'command'> => ({ v: 1, id, ts: now, expiresAt: now + 3_600_000, kind: 'override', lamps: ['L1'], level, durationS: 3600 });
    const ackCount = () => ctl.json('ack').length;
    const okIds = () => new Set(ctl.json('ack').filter((a) => a.ok === true).map((a) => String(a.ref).slice('command:'.length)));

    // 20 legitimate commands, captured by the attacker.
    const captured: Array<ReturnType<typeof sign>> = [];
    for (let i = 0; i < 20; i++) {
      const c = sign(base(`legit-${i}`, 50 + i));
      captured.push(c);
      await send(c);
    }
    await waitFor(() => okIds().size === 20, 5000, 'legitimate commands applied');
    const attacks: unknown[] = [];
    const attackIds = new Set<string>();
    const attack = (c: Record<string, unknown> & { id: string }) => {
      attacks.push(c);
      attackIds.add(c.id);
    };
    // Verbatim replays (ids renamed so the attack is counted on its own; the signature covers the id,
    // so renamed replays are also forgeries) and exact byte replays of the captured ones.
    for (const c of captured) attacks.push(c);
    for (const [i, c] of captured.entries()) attack({ ...c, id: `replay-${i}`, level: 0 });
    // Reordered: older seqs after newer ones, properly signed.
    for (let i = 0; i < 50; i++) attack(sign(base(`reorder-${i}`, 0), 500 + i));
    // Expired, properly signed with fresh seqs.
    for (let i = 0; i < 50; i++) attack(sign({ ...base(`expired-${i}`, 0), ts: now - 7_200_000, expiresAt: now - 1 }, 5000 + i));
    // Unsigned, or with a seq but no signature.
    for (let i = 0; i < 50; i++) attack({ ...base(`unsigned-${i}`, 0), ...(i % 2 ? { seq: 9000 + i } : {}) });
    // Signed for 20 other cabinets, and with 20 other keys.
    for (let i = 0; i < 20; i++) attack(commandSigner(SECRET, `OTHER-${i}`, 9500 + i)(base(`foreign-${i}`, 0)));
    for (let i = 0; i < 20; i++) attack(commandSigner(`guess-${i}`, CAB, 9600 + i)(base(`wrongkey-${i}`, 0)));
    // Tampered after signing: each field the gateway acts on, the seq, a borrowed signature, junk signatures.
    const genuine = sign(base('tamper', 60), 9700);
    const changes: Array<Record<string, unknown>> = [
      { level: 0 }, { lamps: 'all' }, { lamps: ['L1', 'L2'] }, { durationS: 2_678_400 }, { expiresAt: now + 86_400_000 * 30 },
      { seq: 99_999 }, { ts: now + 1 }, { kind: 'clear-override' }, { sig: captured[0]!.sig }, { sig: '0'.repeat(64) }, { sig: 'f'.repeat(64) },
    ];
    for (const [i, ch] of changes.entries()) attack({ ...genuine, ...ch, id: `tamper-${i}` });
    const before = ackCount();
    for (const a of attacks) await send(a);
    await waitFor(() => ackCount() >= before + attacks.length, 10_000, 'every attack answered');

    // A restart, then every attack again, and the captured ones once more.
    await gw.agent.stop();
    agents.splice(0);
    gw = startAgent(clock, broker.url, dataDir);
    agents.push(gw.agent);
    await gw.agent.start();
    await gw.agent.whenConnected();
    const before2 = ackCount();
    for (const a of attacks) await send(a);
    await waitFor(() => ackCount() >= before2 + attacks.length, 10_000, 'every attack answered after the restart');

    const applied = [...okIds()].filter((id) => attackIds.has(id));
    const active = gw.agent.engine.activeOverrides(clock.now()).map((o) => o.commandId).filter((id) => attackIds.has(id));
    const legitAcks = ctl.json('ack').filter((a) => String(a.ref).startsWith('command:legit-'));
    expect(legitAcks.filter((a) => a.ok === true)).toHaveLength(20);
    expect(applied).toEqual([]);
    expect(active).toEqual([]);
    // The lamp still holds the last legitimate override.
    expect(gw.driver.read(clock.now()).lamps.find((l) => l.id === 'L1')!.level).toBe(69);
    const errors = new Map<string, number>();
    for (const a of ctl.json('ack').slice(20)) errors.set(String(a.error), (errors.get(String(a.error)) ?? 0) + 1);
    console.log(`[battery] command replay: ${2 * attacks.length} attack commands (${attacks.length} kinds × before and after a restart), 0 applied; refusals ${JSON.stringify(Object.fromEntries(errors))}`);
  });
});

describe('presence crosses cabinets only through the controller (broker ACL)', () => {
  let fx: BrokerFixture;
  let dataDir: string;
  const agents: EdgeAgent[] = [];
  beforeEach(async () => {
    fx = await startFixture();
    dataDir = tempDir();
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await fx.close();
    removeDir(dataDir);
  });

  it("a cabinet's publishes to its neighbour's command and presence topics are never delivered; the controller's are", async () => {
    const secretA = fx.credentials.issue('CAB-A', 'cabinet');
    const secretB = fx.credentials.issue('CAB-B', 'cabinet');
    const ctlSecret = fx.credentials.issue('controller', 'controller');
    const clock = new ManualClock(NIGHT);
    const b = startAgent(clock, fx.broker.url, dataDir, 'CAB-B', secretB);
    agents.push(b.agent);
    await b.agent.start();
    await b.agent.whenConnected();
    const controller = await fx.connect('controller', ctlSecret, { clientId: 'luciole-controller' });
    const seen: Array<{ topic: string; payload: string }> = [];
    controller.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
    await controller.subscribeAsync(['luciole/v1/cabinets/CAB-B/ack', 'luciole/v1/cabinets/CAB-B/presence'], { qos: 1 });
    const attacker = await fx.cabinet('CAB-A', secretA);
    const now = clock.now();
    const relay = (id: string): InputOf<'command'> => ({ v: 1, id, ts: now, expiresAt: now + 10_000, kind: 'presence', lampId: 'L1', count: 1, hops: 1 });
    // Even correctly signed (were A to know B's key), A's publish to B's command topic is dropped by the broker.
    const forged = commandSigner(secretB, 'CAB-B', 10)(relay('from-A'));
    await attacker.publishAsync(cabinetTopic('CAB-B', 'command'), JSON.stringify(forged), { qos: 1 });
    await attacker.publishAsync(cabinetTopic('CAB-B', 'presence'), JSON.stringify({ v: 1, ts: now, sensorId: 'S9', lampId: 'L1', kind: 'pedestrian', count: 1 }), { qos: 1 });
    await controller.publishAsync(cabinetTopic('CAB-B', 'command'), JSON.stringify(commandSigner(secretB, 'CAB-B', 11)(relay('from-controller'))), { qos: 1 });
    await waitFor(() => seen.find((m) => m.payload.includes('command:from-controller')), 3000, 'controller relay acked');
    expect(JSON.parse(seen.find((m) => m.payload.includes('command:from-controller'))!.payload)).toMatchObject({ ok: true });
    expect(seen.filter((m) => m.payload.includes('from-A') || m.payload.includes('S9'))).toEqual([]);
    expect(b.agent.stats().commandsRefused).toBe(0);
    expect(b.agent.stats().malformed).toBe(0);
  });
});
