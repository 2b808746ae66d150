import fs from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nightAt } from '../../core/astro.js';
import { silentLogger } from '../../core/log.js';
import { EdgeAgent } from '../../edge-agent/agent.js';
import { parseEdgeConfig } from '../../edge-agent/config.js';
import type { EdgeFs } from '../../edge-agent/fs-port.js';
import { SimulatedDriver } from '../../edge-agent/sim-driver.js';
import { commandSigner, freePort, JumpClock, removeDir, startBroker, tempDir, waitFor, type TestBroker } from '../../edge-agent/test-support.js';
import { connectClient } from '../../controller/test-kit.js';
import { cabinetTopic, type Policy } from '../../protocol/index.js';
import { inventory, startControllerStack, type ControllerStack } from './harness.js';

/**
 * Battery 6: 48 simulated hours from noon on 21 December and on 21 June in Paris, one gateway,
 * with the broker down, the controller down, a corrupt policy on disk found at a restart, an
 * invalid policy sent, an override that ends by itself, an expired command, the wall clock stepped
 * by -1 h and +1 h (then corrected) and a full disk (writes fail with ENOSPC). The lamps are
 * sampled every simulated minute: a lamp at 0 between true dusk and dawn is a dark lamp-minute.
 * Timers run on monotonic time and only the wall clock jumps, as on a real system.
 */

const CAB = 'CAB-6';
const SECRET = 'battery-six';
const site = { lat: 48.8566, lon: 2.3522, timezone: 'Europe/Paris' };
const LAMPS = Array.from({ length: 4 }, (_, i) => ({ id: `${CAB}-L${i + 1}`, nominalPowerW: 40 }));
const policy: Policy = {
  v: 1, id: 'rue', version: 1, issuedAt: 1_700_000_000_000, site, failsafeLevel: 100,
  profiles: { p: { schedule: [{ from: 'dusk', to: '23:00', level: 80 }, { from: '23:00', to: '05:30', level: 30 }, { from: '05:30', to: 'dawn', level: 60 }] } },
  lamps: Object.fromEntries(LAMPS.map((l) => [l.id, { profile: 'p' }])),
};

describe('battery 6: 48 simulated hours of faults, never dark', () => {
  let dir: string;
  let broker: TestBroker | null = null;
  let stack: ControllerStack | null = null;
  let publisher: MqttClient | null = null;
  let agent: EdgeAgent | null = null;
  beforeEach(() => {
    dir = tempDir('luciole-b6-');
  });
  afterEach(async () => {
    await agent?.stop();
    await publisher?.endAsync(true);
    await stack?.stop();
    await broker?.close();
    removeDir(dir);
    agent = null;
    publisher = null;
    stack = null;
    broker = null;
  });

  for (const date of ['2025-12-21', '2026-06-21']) {
    it(`${date}: 0 lamp-minutes dark between dusk and dawn`, async () => {
      const start = DateTime.fromISO(`${date}T12:00:00`, { zone: 'Europe/Paris' }).toMillis();
      const clock = new JumpClock(start);
      const port = await freePort();
      const url = `mqtt://127.0.0.1:${port}`;
      let full = false;
      const enospc = (): never => {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      };
      const disk: EdgeFs = { ...fs, openSync: ((...a: Parameters<typeof fs.openSync>) => (full ? enospc() : fs.openSync(...a))) as typeof fs.openSync };
      const driver = new SimulatedDriver({ clock, lamps: LAMPS, seed: 6, traffic: 0 });
      const config = parseEdgeConfig({ cabinetId: CAB, brokerUrl: url, password: SECRET, dataDir: path.join(dir, 'gw'), site, lamps: LAMPS, periodS: 60, resendAfterS: 5 });
      const newAgent = () => new EdgeAgent({ config, clock, driver, logger: silentLogger(), fs: disk, mqttOptions: { reconnectPeriod: 100 } });
      const sign = commandSigner(SECRET, CAB, 1);
      const acks: Array<Record<string, unknown>> = [];

      const brokerUp = async () => {
        broker = await startBroker(port);
        publisher = await connectClient(broker.url, { clientId: 'town-admin' });
        publisher.on('message', (_t, p) => acks.push(JSON.parse(p.toString()) as Record<string, unknown>));
        await publisher.subscribeAsync(cabinetTopic(CAB, 'ack'), { qos: 1 });
        await publisher.publishAsync(cabinetTopic(CAB, 'policy'), JSON.stringify(policy), { qos: 1, retain: true });
      };
      const brokerDown = async () => {
        await publisher?.endAsync(true);
        publisher = null;
        await broker?.close();
        broker = null;
      };
      const controllerUp = async () => {
        stack = await startControllerStack(path.join(dir, 'ctl'), broker!.url, { inventory: inventory([CAB], 4) });
      };
      const controllerDown = async () => {
        await stack?.stop();
        stack = null;
      };
      const command = async (c: Parameters<typeof sign>[0]) => {
        await publisher!.publishAsync(cabinetTopic(CAB, 'command'), JSON.stringify(sign(c)), { qos: 1 });
        return waitFor(() => acks.find((a) => a.ref === `command:${c.id}`), 3000, `ack of ${c.id}`);
      };

      fs.mkdirSync(path.join(dir, 'ctl'), { recursive: true });
      await brokerUp();
      await controllerUp();
      agent = newAgent();
      await agent.start();
      await agent.whenConnected();
      await waitFor(() => acks.find((a) => a.ref === 'policy:rue@1'), 3000, 'policy applied');

      const log: string[] = [];
      let dark = 0;
      let litMinutes = 0;
      let overrideSeen = false;
      let failsafeAfterCorruption = false;
      let storageErrorsWhileFull = 0;
      for (let minute = 1; minute <= 48 * 60; minute++) {
        // ---- faults, at whole hours after noon of the first day ----
        if (minute === 2 * 60) { await controllerDown(); log.push('controller down'); }
        if (minute === 4 * 60) { await brokerDown(); log.push('broker down'); }
        if (minute === 8 * 60) { await brokerUp(); await agent.whenConnected(); await controllerUp(); log.push('broker and controller back'); }
        if (minute === 11 * 60) {
          // 23:00: an override for 10 minutes, and a command that expired on its way.
          const now = clock.now();
          expect(await command({ v: 1, id: 'ovr', ts: now, expiresAt: now + 60_000, kind: 'override', lamps: 'all', level: 55, durationS: 600 })).toMatchObject({ ok: true });
          expect(await command({ v: 1, id: 'late', ts: now - 600_000, expiresAt: now - 60_000, kind: 'override', lamps: 'all', level: 0, durationS: 3600 })).toMatchObject({ ok: false, error: 'expired' });
          log.push('override 10 min, expired command refused');
        }
        if (minute === 13 * 60) { clock.jump(-3_600_000); log.push('clock -1 h'); }
        if (minute === 14 * 60) { full = true; log.push('disk full'); }
        if (minute === 15 * 60) { clock.jump(3_600_000); log.push('clock corrected +1 h'); }
        if (minute === 28 * 60) { await brokerDown(); log.push('broker down'); }
        if (minute === 30 * 60) {
          storageErrorsWhileFull = agent.stats().storageErrors;
          full = false;
          await agent.kill();
          fs.writeFileSync(path.join(dir, 'gw', 'state', 'policy.json'), '{"v":1,"id":"rue","profiles":{"p":{"sched');
          agent = newAgent();
          await agent.start();
          failsafeAfterCorruption = agent.engine.getPolicy() === null;
          log.push('killed; policy corrupt on disk; restarted in fail-safe');
        }
        if (minute === 36 * 60) { await controllerDown(); log.push('controller down'); }
        if (minute === 37 * 60) { clock.jump(3_600_000); log.push('clock +1 h'); }
        if (minute === 39 * 60) { clock.jump(-3_600_000); log.push('clock corrected -1 h'); }
        if (minute === 40 * 60) {
          await brokerUp();
          await agent.whenConnected();
          await controllerUp();
          await waitFor(() => acks.filter((a) => a.ref === 'policy:rue@1').length >= 2, 3000, 'policy back');
          await publisher!.publishAsync(cabinetTopic(CAB, 'policy'), '{"v":1,"id":"rue","version":2,"profiles":{}}', { qos: 1, retain: true });
          await waitFor(() => acks.find((a) => a.ref === 'policy:rue@2'), 3000, 'invalid policy refused');
          log.push('broker and controller back; invalid policy refused');
        }

        clock.advance(60_000);
        if (minute % 10 === 0) await new Promise((r) => setImmediate(r));

        // ---- measure against true time (monotonic), not the gateway's stepped clock ----
        const t = clock.mono.now();
        const night = nightAt(site, t);
        const levels = driver.read(clock.now()).lamps.map((l) => l.level);
        if (minute === 11 * 60 + 5) overrideSeen = levels.every((l) => l === 55);
        if (t >= night.dusk && t < night.dawn) {
          litMinutes += levels.length;
          dark += levels.filter((l) => l === 0).length;
        }
      }
      expect(overrideSeen).toBe(true);
      expect(failsafeAfterCorruption).toBe(true);
      expect(agent.engine.getPolicy()?.version).toBe(1);
      expect(acks.find((a) => a.ref === 'policy:rue@2')).toMatchObject({ ok: false });
      expect(storageErrorsWhileFull).toBeGreaterThan(0);
      expect(dark).toBe(0);
      console.log(`[battery] 48 h from ${date} noon, Paris: 0 of ${litMinutes} night lamp-minutes dark, ${storageErrorsWhileFull} failed disk writes survived (${log.join('; ')})`);
    }, 120_000);
  }
});
