import fs from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { cabinetTopic, type Policy } from '../protocol/index.js';
import { EdgeAgent, WILL_PAYLOAD } from './agent.js';
import { parseEdgeConfig, type EdgeConfig } from './config.js';
import { SimulatedDriver } from './sim-driver.js';
import { commandSigner, recorder, removeDir, startBroker, tempDir, waitFor, type Recorder, type TestBroker } from './test-support.js';

const CAB = 'CAB-01';
const site = { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' };
const at = (iso: string): number => DateTime.fromISO(iso, { zone: 'Europe/Paris' }).toMillis();
const NIGHT = at('2025-11-21T22:59:00');
const topic = (c: Parameters<typeof cabinetTopic>[1]): string => cabinetTopic(CAB, c);

const policy = (version: number, extra: Partial<Policy> = {}): Policy => ({
  v: 1,
  id: 'rue-test',
  version,
  issuedAt: NIGHT - 60_000,
  site,
  failsafeLevel: 100,
  profiles: {
    residential: {
      schedule: [
        { from: 'dusk', to: '23:00', level: 80 },
        { from: '23:00', to: 'dawn', level: 30 },
      ],
    },
  },
  lamps: { L1: { profile: 'residential' }, L2: { profile: 'residential' } },
  ...extra,
});

interface Harness {
  agent: EdgeAgent;
  clock: ManualClock;
  driver: SimulatedDriver;
  config: EdgeConfig;
}

describe('EdgeAgent against a real broker', () => {
  let broker: TestBroker;
  let ctl: Recorder;
  let dataDir: string;
  const agents: EdgeAgent[] = [];

  beforeEach(async () => {
    broker = await startBroker();
    ctl = await recorder(broker.url, [`luciole/v1/cabinets/${CAB}/#`]);
    dataDir = tempDir();
  });

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await ctl.close();
    await broker.close();
    removeDir(dataDir);
  });

  async function startAgent(start: number | ManualClock, overrides: Record<string, unknown> = {}): Promise<Harness> {
    const clock = typeof start === 'number' ? new ManualClock(start) : start;
    const config = parseEdgeConfig({
      cabinetId: CAB,
      brokerUrl: broker.url,
      password: 'test-secret',
      dataDir,
      site,
      lamps: [
        { id: 'L1', nominalPowerW: 40 },
        { id: 'L2', nominalPowerW: 60 },
      ],
      ...overrides,
    });
    const driver = new SimulatedDriver({ clock, lamps: config.lamps, seed: 1, traffic: 0 });
    const agent = new EdgeAgent({ config, clock, driver, logger: silentLogger(), mqttOptions: { reconnectPeriod: 200 } });
    agents.push(agent);
    await agent.start();
    await agent.whenConnected();
    return { agent, clock, driver, config };
  }

  const levels = (h: Harness): Record<string, number> =>
    Object.fromEntries(h.driver.read(h.clock.now()).lamps.map((l) => [l.id, l.level]));
  const acks = (): Record<string, unknown>[] => ctl.json('ack');
  const telemetrySeqs = (from = 0): number[] => ctl.json('telemetry').slice(from).map((t) => t.seq as number);
  // Commands are signed as the controller signs them (key from the password 'test-secret').
  const sign = commandSigner('test-secret', CAB);
  const publish = (channel: 'policy' | 'command' | 'receipt', body: unknown, retain = false): Promise<unknown> => {
    const signable = channel === 'command' && typeof body === 'object' && body !== null && 'kind' in body && 'expiresAt' in body;
    const out = signable ? sign(body as Parameters<typeof sign>[0]) : body;
    return ctl.client.publishAsync(topic(channel), typeof out === 'string' ? out : JSON.stringify(out), { qos: 1, retain });
  };

  it('publishes retained online status and a reboot event on start', async () => {
    await startAgent(NIGHT);
    const status = await waitFor(() => ctl.json('status').find((s) => s.online === true), 3000, 'status');
    expect(status).toMatchObject({ v: 1, online: true, agent: 'luciole-edge/0.1.0', mode: 'failsafe', policy: null, lamps: 2, buffered: 0 });
    await waitFor(() => ctl.json('event').find((e) => e.code === 'reboot'), 3000, 'reboot event');
    // A late subscriber sees the retained status.
    const late = await recorder(broker.url, [topic('status')]);
    try {
      const m = await waitFor(() => late.messages[0], 3000, 'retained status');
      expect(m.retain).toBe(true);
      expect(JSON.parse(m.payload)).toMatchObject({ online: true });
    } finally {
      await late.close();
    }
  });

  it('no policy: fail-safe level from dusk, 0 by day', async () => {
    const h = await startAgent(at('2025-11-21T16:00:00'), { periodS: 3600 });
    expect(levels(h)).toEqual({ L1: 0, L2: 0 });
    h.clock.advance(2 * 3_600_000); // past sunset (about 17:00 in Lyon in November)
    expect(levels(h)).toEqual({ L1: 100, L2: 100 });
    expect(h.agent.engine.mode(h.clock.now())).toBe('failsafe');
  });

  it('telemetry: increasing seq, kept in the outbox until a receipt covers it', async () => {
    const h = await startAgent(NIGHT);
    h.clock.advance(60_000);
    h.clock.advance(60_000);
    h.clock.advance(60_000);
    const seqs = await waitFor(() => (telemetrySeqs().length === 3 ? telemetrySeqs() : null), 3000, 'telemetry');
    expect(seqs[1]).toBe(seqs[0]! + 1);
    expect(seqs[2]).toBe(seqs[0]! + 2);
    const first = ctl.json('telemetry')[0]!;
    expect(first).toMatchObject({ v: 1, ts: NIGHT + 60_000, periodS: 60 });
    expect((first.lamps as unknown[]).length).toBe(2);
    expect(h.agent.outboxCount()).toBe(3);
    await publish('receipt', { v: 1, ts: h.clock.now(), seqs: [[seqs[0]!, seqs[1]!]] });
    await waitFor(() => h.agent.outboxCount() === 1, 3000, 'settle');
    expect(fs.readdirSync(path.join(dataDir, 'outbox'))).toEqual([`${String(seqs[2]).padStart(16, '0')}.json`]);
  });

  it('after a network drop, resends every unreceipted message in order with its original ts', async () => {
    const h = await startAgent(NIGHT);
    for (let i = 0; i < 3; i++) h.clock.advance(60_000);
    const seqs = await waitFor(() => (telemetrySeqs().length === 3 ? telemetrySeqs() : null), 3000, 'telemetry');
    await publish('receipt', { v: 1, ts: h.clock.now(), seqs: [[seqs[0]!, seqs[0]!]] });
    await waitFor(() => h.agent.outboxCount() === 2, 3000, 'settle');
    const original = ctl.json('telemetry');

    broker.dropClient(`edge-${CAB}`);
    await waitFor(() => !h.agent.connected, 3000, 'disconnect');
    const seen = ctl.json('telemetry').length;
    h.clock.advance(60_000); // produced while offline: into the outbox only
    await h.agent.whenConnected();
    const resent = await waitFor(
      () => (ctl.json('telemetry').length >= seen + 3 ? ctl.json('telemetry').slice(seen) : null),
      3000,
      'resend',
    );
    expect(resent.map((t) => t.seq)).toEqual([seqs[1], seqs[2], seqs[2]! + 1]);
    expect(resent[0]).toEqual(original[1]);
    expect(resent[1]).toEqual(original[2]);
    expect(resent[2]!.ts).toBe(NIGHT + 240_000);
  });

  it('kill() fires the Last Will; a restart on the same dataDir resends in order and never reuses a seq', async () => {
    const h = await startAgent(NIGHT);
    for (let i = 0; i < 2; i++) h.clock.advance(60_000);
    const before = await waitFor(() => (ctl.json('telemetry').length === 2 ? ctl.json('telemetry') : null), 3000, 'telemetry');
    await h.agent.kill();
    const will = await waitFor(
      () => ctl.messages.find((m) => m.topic === topic('status') && m.payload === WILL_PAYLOAD),
      3000,
      'last will',
    );
    expect(JSON.parse(will.payload)).toEqual({ v: 1, online: false });

    const clock = new ManualClock(NIGHT + 10 * 60_000);
    const seen = ctl.json('telemetry').length;
    const h2 = await startAgent(clock);
    const resent = await waitFor(
      () => (ctl.json('telemetry').length >= seen + 2 ? ctl.json('telemetry').slice(seen) : null),
      3000,
      'resend after restart',
    );
    expect(resent).toEqual(before);
    h2.clock.advance(60_000);
    const next = await waitFor(() => ctl.json('telemetry').at(seen + 2), 3000, 'new telemetry');
    expect(next.seq as number).toBeGreaterThan(before[1]!.seq as number);
    expect(next.ts).toBe(NIGHT + 11 * 60_000);
    expect(ctl.json('event').filter((e) => e.code === 'reboot')).toHaveLength(2);
  });

  it('applies a valid policy at the right clock time and acks it', async () => {
    const h = await startAgent(NIGHT);
    await publish('policy', policy(1), true);
    const ack = await waitFor(() => acks().find((a) => a.ref === 'policy:rue-test@1'), 3000, 'policy ack');
    expect(ack).toMatchObject({ ok: true });
    expect(levels(h)).toEqual({ L1: 80, L2: 80 });
    h.clock.advance(59_000);
    expect(levels(h)).toEqual({ L1: 80, L2: 80 });
    h.clock.advance(1_000); // 23:00
    expect(levels(h)).toEqual({ L1: 30, L2: 30 });
    await waitFor(
      () => ctl.json('status').find((s) => s.mode === 'policy' && (s.policy as { version?: number } | null)?.version === 1),
      3000,
      'status with policy',
    );
    // Stored: a restart with no network keeps applying it.
    await h.agent.stop();
    const offline = await (async () => {
      const clock = new ManualClock(NIGHT + 30 * 60_000);
      const config = { ...h.config, brokerUrl: 'mqtt://127.0.0.1:1' };
      const driver = new SimulatedDriver({ clock, lamps: config.lamps, seed: 1, traffic: 0 });
      const agent = new EdgeAgent({ config, clock, driver, logger: silentLogger() });
      agents.push(agent);
      await agent.start();
      return { agent, clock, driver, config };
    })();
    expect(offline.agent.connected).toBe(false);
    expect(levels(offline)).toEqual({ L1: 30, L2: 30 });
  });

  it('refuses an invalid policy with ack ok:false and policy_rejected, keeping the previous one', async () => {
    const h = await startAgent(NIGHT);
    await publish('policy', policy(1), true);
    await waitFor(() => acks().find((a) => a.ref === 'policy:rue-test@1'), 3000, 'policy ack');
    await publish('policy', policy(2, { lamps: { L1: { profile: 'missing' } } }), true);
    const nack = await waitFor(() => acks().find((a) => a.ref === 'policy:rue-test@2'), 3000, 'policy nack');
    expect(nack.ok).toBe(false);
    expect(nack.error).toMatch(/lamps\.L1\.profile/);
    await waitFor(() => ctl.json('event').find((e) => e.code === 'policy_rejected'), 3000, 'policy_rejected');
    expect(h.agent.engine.getPolicy()?.version).toBe(1);
    expect(levels(h)).toEqual({ L1: 80, L2: 80 });

    await publish('policy', 'not json at all', true);
    const unknown = await waitFor(() => acks().find((a) => a.ref === 'policy:unknown@0'), 3000, 'garbage nack');
    expect(unknown).toMatchObject({ ok: false });
    expect(h.agent.stats().malformed).toBe(2);
    expect(h.agent.engine.getPolicy()?.version).toBe(1);
  });

  it('commands: override applied and acked, expired refused, replay refused as duplicate', async () => {
    const h = await startAgent(NIGHT);
    await publish('policy', policy(1), true);
    await waitFor(() => acks().find((a) => a.ref === 'policy:rue-test@1'), 3000, 'policy ack');
    const now = h.clock.now();
    const override = { v: 1, id: 'cmd-1', ts: now, expiresAt: now + 60_000, kind: 'override', lamps: ['L1'], level: 5, durationS: 600 };
    await publish('command', override);
    expect(await waitFor(() => acks().find((a) => a.ref === 'command:cmd-1'), 3000, 'ack')).toMatchObject({ ok: true });
    expect(levels(h)).toEqual({ L1: 5, L2: 80 });
    await waitFor(() => ctl.json('status').find((s) => s.mode === 'override'), 3000, 'override status');

    await publish('command', override);
    const dup = await waitFor(() => acks().filter((a) => a.ref === 'command:cmd-1')[1], 3000, 'duplicate ack');
    expect(dup).toMatchObject({ ok: false, error: 'duplicate' });

    await publish('command', { ...override, id: 'cmd-2', ts: now - 120_000, expiresAt: now - 60_000 });
    expect(await waitFor(() => acks().find((a) => a.ref === 'command:cmd-2'), 3000, 'expired ack')).toMatchObject({
      ok: false,
      error: 'expired',
    });

    await publish('command', { v: 1, id: 'cmd-3', kind: 'override', lamps: ['L1'] });
    const bad = await waitFor(() => acks().find((a) => a.ref === 'command:cmd-3'), 3000, 'invalid ack');
    expect(bad.ok).toBe(false);
    expect(levels(h)).toEqual({ L1: 5, L2: 80 });

    h.clock.advance(600_000); // the override ends by itself (and it is past 23:00)
    expect(levels(h)).toEqual({ L1: 30, L2: 30 });
    await waitFor(() => ctl.json('status').at(-1)?.mode === 'policy', 3000, 'back to policy');
  });

  it('clear-override ends an override; a relayed presence with an unknown lamp is refused', async () => {
    const h = await startAgent(NIGHT);
    const now = h.clock.now();
    const base = { v: 1, ts: now, expiresAt: now + 60_000 };
    await publish('command', { ...base, id: 'o1', kind: 'override', lamps: 'all', level: 10, durationS: 3600 });
    await waitFor(() => acks().find((a) => a.ref === 'command:o1'), 3000, 'override ack');
    expect(levels(h)).toEqual({ L1: 10, L2: 10 });
    await publish('command', { ...base, id: 'o2', kind: 'clear-override', lamps: 'all' });
    expect(await waitFor(() => acks().find((a) => a.ref === 'command:o2'), 3000, 'clear ack')).toMatchObject({ ok: true });
    expect(levels(h)).toEqual({ L1: 100, L2: 100 });
    await publish('command', { ...base, id: 'p1', kind: 'presence', lampId: 'NOPE', count: 1 });
    expect(await waitFor(() => acks().find((a) => a.ref === 'command:p1'), 3000, 'presence ack')).toMatchObject({
      ok: false,
      error: 'unknown lamp: NOPE',
    });
  });

  it('a local detection raises the lamp and its neighbours and is published; driver events are relayed', async () => {
    const h = await startAgent(at('2025-11-21T23:30:00'), {
      lamps: [
        { id: 'L1', nominalPowerW: 40, sensorId: 'S1' },
        { id: 'L2', nominalPowerW: 60 },
      ],
    });
    const p = policy(1, {
      profiles: {
        residential: {
          schedule: [{ from: 'dusk', to: 'dawn', level: 20 }],
          presence: { level: 100, holdS: 60, rampUpMs: 0, rampDownS: 0, propagate: 1 },
        },
      },
      lamps: { L1: { profile: 'residential', neighbours: ['L2'] }, L2: { profile: 'residential' } },
    });
    await publish('policy', p, true);
    await waitFor(() => acks().find((a) => a.ref === 'policy:rue-test@1'), 3000, 'policy ack');
    expect(levels(h)).toEqual({ L1: 20, L2: 20 });
    h.driver.injectSensorFault('S1', 'stuck_on'); // fires every 2 s of clock time
    h.clock.advance(2000);
    expect(levels(h)).toEqual({ L1: 100, L2: 100 });
    const presence = await waitFor(() => ctl.json('presence')[0], 3000, 'presence');
    expect(presence).toEqual({ v: 1, ts: h.clock.now(), sensorId: 'S1', lampId: 'L1', kind: 'unknown', count: 1 });
    h.driver.clearSensorFault('S1');
    h.clock.advance(61_000);
    expect(levels(h)).toEqual({ L1: 20, L2: 20 });

    h.driver.injectEvent('door_open', 'cabinet door contact');
    const door = await waitFor(() => ctl.json('event').find((e) => e.code === 'door_open'), 3000, 'door event');
    expect(door).toMatchObject({ v: 1, ts: h.clock.now(), detail: 'cabinet door contact' });
  });

  it('a detection reaches the boost level within rampUpMs, not at the next tick', async () => {
    const h = await startAgent(at('2025-11-21T23:30:00'), { lamps: [{ id: 'L1', nominalPowerW: 40, sensorId: 'S1' }] });
    const p = policy(1, {
      profiles: {
        residential: {
          schedule: [{ from: 'dusk', to: 'dawn', level: 20 }],
          presence: { level: 100, holdS: 60, rampUpMs: 300, rampDownS: 10, propagate: 0 },
        },
      },
      lamps: { L1: { profile: 'residential' } },
    });
    await publish('policy', p, true);
    await waitFor(() => acks().find((a) => a.ref === 'policy:rue-test@1'), 3000, 'policy ack');
    h.driver.triggerPresence('S1', 'pedestrian');
    expect(levels(h).L1).toBeLessThan(100);
    h.clock.advance(300);
    expect(levels(h)).toEqual({ L1: 100 });
  });

  it('a full outbox drops the oldest telemetry and says so with buffer_overflow', async () => {
    const lamps = Array.from({ length: 300 }, (_, i) => ({ id: `L${String(i).padStart(4, '0')}`, nominalPowerW: 40 }));
    const h = await startAgent(NIGHT, { lamps, outboxMaxBytes: 64 * 1024 });
    for (let i = 0; i < 6; i++) h.clock.advance(60_000);
    const overflow = await waitFor(() => ctl.json('event').find((e) => e.code === 'buffer_overflow'), 3000, 'overflow');
    expect(overflow.detail).toMatch(/dropped 1 oldest/);
    const kept = h.agent.outboxCount();
    expect(kept).toBeLessThan(6);
    expect(h.agent.stats().telemetryDropped).toBe(6 - kept);
  });

  it('stop() publishes a retained offline status and no Last Will', async () => {
    const h = await startAgent(NIGHT);
    await h.agent.stop();
    const last = await waitFor(() => ctl.json('status').find((s) => s.online === false), 3000, 'offline status');
    expect(last).toMatchObject({ online: false, agent: 'luciole-edge/0.1.0', lamps: 2 });
    expect(ctl.messages.some((m) => m.payload === WILL_PAYLOAD)).toBe(false);
  });
});
