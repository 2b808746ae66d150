import fs from 'node:fs';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { cabinetTopic, type Policy } from '../protocol/index.js';
import { EdgeAgent, type EdgeAgentOptions } from './agent.js';
import { parseEdgeConfig } from './config.js';
import { createDimmingEngine } from './dimming/engine.js';
import type { DimmingEngine } from './dimming/types.js';
import type { EdgeFs } from './fs-port.js';
import { SimulatedDriver } from './sim-driver.js';
import {
  commandSigner,
  freePort,
  JumpClock,
  recorder,
  removeDir,
  startBroker,
  tempDir,
  waitFor,
  type Recorder,
  type TestBroker,
} from './test-support.js';

const CAB = 'CAB-R';
const SECRET = 'reliability-secret';
const site = { lat: 48.8566, lon: 2.3522, timezone: 'Europe/Paris' };
const at = (iso: string): number => DateTime.fromISO(iso, { zone: 'Europe/Paris' }).toMillis();
const topic = (c: Parameters<typeof cabinetTopic>[1]): string => cabinetTopic(CAB, c);
const policy: Policy = {
  v: 1,
  id: 'rue',
  version: 1,
  issuedAt: at('2025-11-21T12:00:00'),
  site,
  failsafeLevel: 100,
  profiles: {
    p: {
      schedule: [
        { from: 'dusk', to: '23:00', level: 80 },
        { from: '23:00', to: 'dawn', level: 30 },
      ],
    },
  },
  lamps: { L1: { profile: 'p' }, L2: { profile: 'p' } },
};

class ClockFlagDriver extends SimulatedDriver {
  synced = true;
  clockSynced(): boolean {
    return this.synced;
  }
}

describe('EdgeAgent reliability and command security', () => {
  let broker: TestBroker | null = null;
  let ctl: Recorder | null = null;
  let dataDir: string;
  const agents: EdgeAgent[] = [];

  beforeEach(() => {
    dataDir = tempDir();
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await ctl?.close();
    await broker?.close();
    ctl = null;
    broker = null;
    removeDir(dataDir);
  });

  async function up(port = 0): Promise<{ broker: TestBroker; ctl: Recorder }> {
    broker = await startBroker(port);
    ctl = await recorder(broker.url, [`luciole/v1/cabinets/${CAB}/#`]);
    return { broker, ctl };
  }

  function agent(clock: Clock, brokerUrl: string, extra: Record<string, unknown> = {}, opts: Partial<EdgeAgentOptions> = {}) {
    const config = parseEdgeConfig({
      cabinetId: CAB,
      brokerUrl,
      password: SECRET,
      dataDir,
      site,
      lamps: [
        { id: 'L1', nominalPowerW: 40, sensorId: 'S1' },
        { id: 'L2', nominalPowerW: 60 },
      ],
      ...extra,
    });
    const driver = opts.driver ?? new SimulatedDriver({ clock, lamps: config.lamps, seed: 1, traffic: 0 });
    const a = new EdgeAgent({ config, clock, driver, logger: silentLogger(), mqttOptions: { reconnectPeriod: 100 }, ...opts });
    agents.push(a);
    return { agent: a, driver: driver as SimulatedDriver };
  }

  const levels = (d: SimulatedDriver, clock: Clock) => Object.fromEntries(d.read(clock.now()).lamps.map((l) => [l.id, l.level]));
  const acks = () => ctl!.json('ack');
  const ackOf = (id: string, n = 0) => waitFor(() => acks().filter((a) => a.ref === `command:${id}`)[n], 3000, `ack of ${id}`);

  it('events and acks queued while offline survive a restart and reach the broker', async () => {
    const port = await freePort();
    const clock = new ManualClock(at('2025-11-21T22:00:00'));
    const first = agent(clock, `mqtt://127.0.0.1:${port}`);
    await first.agent.start();
    first.driver.injectEvent('door_open', 'cabinet door contact');
    first.driver.injectEvent('power_cut');
    expect(first.agent.uplinkCount()).toBe(3); // reboot, door_open, power_cut
    await first.agent.kill();
    agents.splice(0);

    await up(port);
    const second = agent(clock, broker!.url);
    await second.agent.start();
    await second.agent.whenConnected();
    const codes = await waitFor(() => {
      const c = ctl!.json('event').map((e) => e.code);
      return c.length >= 4 ? c : null;
    }, 3000, 'events');
    expect(codes).toEqual(['reboot', 'door_open', 'power_cut', 'reboot']);
    await waitFor(() => second.agent.uplinkCount() === 0, 3000, 'uplink queue drained');
  });

  it('refuses unsigned, badly signed, foreign and replayed commands; the last seq survives a restart', async () => {
    await up();
    const clock = new ManualClock(at('2025-11-21T22:00:00'));
    const { agent: a, driver } = agent(clock, broker!.url);
    await a.start();
    await a.whenConnected();
    const now = clock.now();
    const sign = commandSigner(SECRET, CAB, 100);
    const cmd = (id: string, level = 5) =>
      ({ v: 1 as const, id, ts: now, expiresAt: now + 600_000, kind: 'override' as const, lamps: ['L1'], level, durationS: 600 });
    const send = (body: unknown) => ctl!.client.publishAsync(topic('command'), JSON.stringify(body), { qos: 1 });

    await send(cmd('u1'));
    expect(await ackOf('u1')).toMatchObject({ ok: false, error: 'unsigned' });
    await send({ ...sign(cmd('b1')), level: 0 });
    expect(await ackOf('b1')).toMatchObject({ ok: false, error: 'bad_signature' });
    await send(commandSigner(SECRET, 'OTHER-CAB')(cmd('f1')));
    expect(await ackOf('f1')).toMatchObject({ ok: false, error: 'bad_signature' });
    await send(commandSigner('another-secret', CAB)(cmd('k1')));
    expect(await ackOf('k1')).toMatchObject({ ok: false, error: 'bad_signature' });
    expect(levels(driver, clock)).toEqual({ L1: 100, L2: 100 }); // nothing applied: fail-safe

    const good = sign(cmd('g1', 7), 200);
    await send(good);
    expect(await ackOf('g1')).toMatchObject({ ok: true });
    expect(levels(driver, clock).L1).toBe(7);
    // Reordered: an older seq after a newer one.
    await send(sign(cmd('o1', 9), 150));
    expect(await ackOf('o1')).toMatchObject({ ok: false, error: 'replayed' });

    await a.stop();
    agents.splice(0);
    const again = agent(clock, broker!.url);
    await again.agent.start();
    await again.agent.whenConnected();
    await send(good); // the very bytes that were accepted, after a restart
    expect(await ackOf('g1', 1)).toMatchObject({ ok: false, error: 'replayed' });
    await send(sign(cmd('g2', 12), 200));
    expect(await ackOf('g2')).toMatchObject({ ok: false, error: 'replayed' });
    await send(sign(cmd('g3', 13), 201));
    expect(await ackOf('g3')).toMatchObject({ ok: true });
    expect(levels(again.driver, clock).L1).toBe(13);
    expect(again.agent.stats().commandsUnauthenticated).toBe(2);
  });

  it('replays the outbox after a reconnect in order and at the capped rate', async () => {
    const port = await freePort();
    const clock = new ManualClock(at('2025-11-21T22:00:00'));
    const { agent: a } = agent(clock, `mqtt://127.0.0.1:${port}`, { periodS: 1, replayRatePerS: 40 });
    await a.start();
    clock.advance(60_000);
    expect(a.outboxCount()).toBe(60);
    await up(port);
    const arrivals: number[] = [];
    ctl!.client.on('message', (t) => {
      if (t.endsWith('/telemetry')) arrivals.push(Date.now());
    });
    await a.whenConnected();
    const seqs = await waitFor(() => {
      const s = ctl!.json('telemetry').map((m) => m.seq as number);
      return s.length >= 60 ? s : null;
    }, 5000, '60 replayed');
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(60);
    const spanS = (arrivals[59]! - arrivals[0]!) / 1000;
    // 59 messages after the first at 40/s, with at most a slot's worth (2) banked.
    expect(spanS).toBeGreaterThanOrEqual((59 - 2) / 40 - 0.1);
    console.log(`[battery] replay rate: 60 messages in ${spanS.toFixed(2)} s at a cap of 40/s, in seq order`);
  });

  it('sends unreceipted telemetry again after resendAfterS while still connected', async () => {
    await up();
    const clock = new ManualClock(at('2025-11-21T22:00:00'));
    const { agent: a } = agent(clock, broker!.url, { periodS: 60, resendAfterS: 1 });
    await a.start();
    await a.whenConnected();
    clock.advance(60_000);
    const seqs = await waitFor(() => {
      const s = ctl!.json('telemetry').map((m) => m.seq as number);
      return s.length >= 2 ? s : null;
    }, 5000, 'a resend');
    expect(seqs[1]).toBe(seqs[0]);
    await ctl!.client.publishAsync(topic('receipt'), JSON.stringify({ v: 1, ts: clock.now(), seqs: [[seqs[0], seqs[0]]] }), { qos: 1 });
    await waitFor(() => a.outboxCount() === 0, 3000, 'settled');
  });

  it('an engine that throws, or a tick that stops, leaves the lamps at their fail-safe level', async () => {
    await up();
    const clock = new ManualClock(at('2025-11-21T23:30:00'));
    let failLevel = false;
    let failAll = false;
    const createEngine = (o: Parameters<typeof createDimmingEngine>[0]): DimmingEngine => {
      const real = createDimmingEngine(o);
      return new Proxy(real, {
        get(target, prop, receiver) {
          if (prop === 'lampIds' && failAll) throw new Error('engine state lost');
          if (prop === 'levelAt' && failLevel) return () => Number.NaN;
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    };
    const { agent: a, driver } = agent(clock, broker!.url, { tickMs: 1000 }, { createEngine });
    await a.start();
    await a.whenConnected();
    await ctl!.client.publishAsync(topic('policy'), JSON.stringify(policy), { qos: 1, retain: true });
    await waitFor(() => acks().find((x) => x.ref === 'policy:rue@1'), 3000, 'policy ack');
    expect(levels(driver, clock)).toEqual({ L1: 30, L2: 30 });

    failLevel = true;
    clock.advance(1000);
    expect(levels(driver, clock)).toEqual({ L1: 100, L2: 100 });
    expect(a.stats().engineFailures).toBeGreaterThan(0);
    failLevel = false;
    clock.advance(1000);
    expect(levels(driver, clock)).toEqual({ L1: 30, L2: 30 });

    // The tick now fails before driving anything: the watchdog takes over after 5 ticks.
    failAll = true;
    clock.advance(3000);
    expect(levels(driver, clock)).toEqual({ L1: 30, L2: 30 });
    clock.advance(3000);
    expect(levels(driver, clock)).toEqual({ L1: 100, L2: 100 });
    expect(a.stats().watchdogTrips).toBe(1);
    failAll = false;
    clock.advance(1000);
    expect(levels(driver, clock)).toEqual({ L1: 30, L2: 30 });
  });

  it('an unsynced clock lights at fail-safe continuously and says clock_unsynced; synced again, the policy', async () => {
    await up();
    // RTC battery gone: noon, year 2000. Timers run on monotonic time, as on a real system.
    const clock = new JumpClock(Date.parse('2000-01-01T12:00:00Z'));
    const lamps = [{ id: 'L1', nominalPowerW: 40 }, { id: 'L2', nominalPowerW: 60 }];
    const driver = new ClockFlagDriver({ clock, lamps, seed: 1, traffic: 0 });
    const { agent: a } = agent(clock, broker!.url, { failsafeLevel: 70 }, { driver });
    await a.start();
    await a.whenConnected();
    expect(levels(driver, clock)).toEqual({ L1: 70, L2: 70 });
    expect(await waitFor(() => ctl!.json('event').find((e) => e.code === 'clock_unsynced'), 3000, 'clock_unsynced')).toMatchObject({ lampId: null });
    await waitFor(() => ctl!.json('status').find((s) => s.mode === 'failsafe'), 3000, 'failsafe status');

    clock.jump(at('2025-06-21T13:00:00') - clock.now()); // NTP sets the clock: midday, lamps off
    clock.advance(1000);
    expect(levels(driver, clock)).toEqual({ L1: 0, L2: 0 });
    driver.synced = false; // the OS loses its time source
    clock.advance(1000);
    expect(levels(driver, clock)).toEqual({ L1: 70, L2: 70 });
    await waitFor(() => ctl!.json('event').filter((e) => e.code === 'clock_unsynced').length === 2, 3000, 'second clock_unsynced');
  });

  it('a clock stepped by ±1 h is followed at the next tick (levels come from the clock each tick)', async () => {
    await up();
    const clock = new JumpClock(at('2025-11-21T22:30:00'));
    const { agent: a, driver } = agent(clock, broker!.url);
    await a.start();
    await a.whenConnected();
    await ctl!.client.publishAsync(topic('policy'), JSON.stringify(policy), { qos: 1, retain: true });
    await waitFor(() => acks().find((x) => x.ref === 'policy:rue@1'), 3000, 'policy ack');
    expect(levels(driver, clock)).toEqual({ L1: 80, L2: 80 });
    clock.jump(3_600_000);
    clock.advance(1000);
    expect(levels(driver, clock)).toEqual({ L1: 30, L2: 30 });
    clock.jump(-3_600_000);
    clock.advance(1000);
    expect(levels(driver, clock)).toEqual({ L1: 80, L2: 80 });
    clock.jump(-3_600_000); // 21:30: still night in November
    clock.advance(1000);
    expect(levels(driver, clock)).toEqual({ L1: 80, L2: 80 });
  });

  it('rate-limits detections per sensor: the excess is counted and dropped', async () => {
    await up();
    const clock = new ManualClock(at('2025-11-21T23:30:00'));
    const { agent: a, driver } = agent(clock, broker!.url, { presenceLimit: { max: 2, windowS: 10 } });
    await a.start();
    await a.whenConnected();
    driver.injectSensorFault('S1', 'stuck_on'); // a detection every 2 s
    clock.advance(9_999);
    await waitFor(() => ctl!.json('presence').length >= 2, 3000, 'presence');
    expect(a.stats().presenceRateLimited).toBe(2);
    expect(ctl!.json('presence')).toHaveLength(2);
  });

  it('a full disk: lamps keep their levels, telemetry still goes out live, a command is refused rather than unprotected', async () => {
    await up();
    const clock = new ManualClock(at('2025-11-21T23:30:00'));
    let full = false;
    const enospc = (): never => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    };
    const diskFs: EdgeFs = { ...fs, openSync: ((...args: Parameters<typeof fs.openSync>) => (full ? enospc() : fs.openSync(...args))) as typeof fs.openSync };
    const { agent: a, driver } = agent(clock, broker!.url, { periodS: 60 }, { fs: diskFs });
    await a.start();
    await a.whenConnected();
    await ctl!.client.publishAsync(topic('policy'), JSON.stringify(policy), { qos: 1, retain: true });
    await waitFor(() => acks().find((x) => x.ref === 'policy:rue@1'), 3000, 'policy ack');
    clock.advance(60_000); // the first telemetry reserves a block of seqs on disk
    full = true;
    for (let i = 0; i < 5; i++) clock.advance(60_000);
    expect(levels(driver, clock)).toEqual({ L1: 30, L2: 30 });
    await waitFor(() => ctl!.json('telemetry').length >= 6, 3000, 'live telemetry');
    expect(a.stats().storageErrors).toBe(5);
    expect(a.outboxCount()).toBe(1);
    const now = clock.now();
    await ctl!.client.publishAsync(
      topic('command'),
      JSON.stringify(commandSigner(SECRET, CAB)({ v: 1, id: 'd1', ts: now, expiresAt: now + 60_000, kind: 'override', lamps: 'all', level: 0, durationS: 60 })),
      { qos: 1 },
    );
    expect(await ackOf('d1')).toMatchObject({ ok: false, error: 'state_not_saved' });
    expect(levels(driver, clock)).toEqual({ L1: 30, L2: 30 });
  });
});
