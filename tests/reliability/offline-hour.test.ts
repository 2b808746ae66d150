import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { EdgeAgent } from '../../edge-agent/agent.js';
import { parseEdgeConfig } from '../../edge-agent/config.js';
import { SimulatedDriver } from '../../edge-agent/sim-driver.js';
import { freePort, recorder, removeDir, startBroker, tempDir, waitFor, type Recorder, type TestBroker } from '../../edge-agent/test-support.js';
import { inventory, rangeCount, startControllerStack, type ControllerStack } from './harness.js';

/**
 * Battery 5: a gateway offline for an hour of simulated time, one telemetry message a second,
 * killed once (no clean shutdown) half way. Afterwards every sample reaches the controller's store,
 * first sends in seq order, and the outbox never exceeded its bound.
 */

const CAB = 'CAB-5';
const START = DateTime.fromISO('2025-12-21T20:00:00', { zone: 'Europe/Paris' }).toMillis();
const BOUND = 3 * 1024 * 1024;

describe('battery 5: an hour offline, killed once', () => {
  let dir: string;
  let broker: TestBroker | null = null;
  let stack: ControllerStack | null = null;
  let rec: Recorder | null = null;
  const agents: EdgeAgent[] = [];
  beforeEach(() => {
    dir = tempDir('luciole-b5-');
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await rec?.close();
    await stack?.stop();
    await broker?.close();
    removeDir(dir);
  });

  it('every sample delivered in order afterwards; the outbox stayed within its bound', async () => {
    const port = await freePort();
    const clock = new ManualClock(START);
    const lamps = Array.from({ length: 4 }, (_, i) => ({ id: `${CAB}-L${i + 1}`, nominalPowerW: 40 }));
    const make = () => {
      const config = parseEdgeConfig({
        cabinetId: CAB, brokerUrl: `mqtt://127.0.0.1:${port}`, password: 's', dataDir: `${dir}/gw`, periodS: 1, tickMs: 1000,
        site: { lat: 48.8566, lon: 2.3522, timezone: 'Europe/Paris' }, lamps, outboxMaxBytes: BOUND, replayRatePerS: 2000,
      });
      const a = new EdgeAgent({ config, clock, driver: new SimulatedDriver({ clock, lamps, seed: 5, traffic: 0 }), logger: silentLogger(), mqttOptions: { reconnectPeriod: 100 } });
      agents.push(a);
      return a;
    };
    let agent = make();
    await agent.start();
    let maxBytes = 0;
    for (let m = 0; m < 60; m++) {
      if (m === 30) {
        await agent.kill(); // a crash: no clean shutdown, nothing saved on the way out
        agents.splice(0);
        agent = make();
        await agent.start();
      }
      clock.advance(60_000);
      maxBytes = Math.max(maxBytes, agent.outboxBytes());
    }
    const kept = agent.outboxCount();
    expect(kept).toBeGreaterThanOrEqual(3598);
    expect(agent.stats().telemetryDropped).toBe(0);
    expect(maxBytes).toBeLessThanOrEqual(BOUND);

    broker = await startBroker(port);
    rec = await recorder(broker.url, [`luciole/v1/cabinets/${CAB}/telemetry`]);
    stack = await startControllerStack(`${dir}`, broker.url, { inventory: inventory([CAB], 4) });
    await agent.whenConnected();
    await waitFor(() => agent.outboxCount() === 0, 20_000, 'outbox drained by receipts');
    const ranges = await stack.telemetryStore.storedSeqRanges(CAB);
    expect(rangeCount(ranges)).toBe(kept);
    const firstSends: number[] = [];
    const seen = new Set<number>();
    for (const m of rec.json('telemetry')) {
      const seq = m.seq as number;
      if (!seen.has(seq)) firstSends.push(seq);
      seen.add(seq);
    }
    expect(firstSends).toEqual([...firstSends].sort((a, b) => a - b));
    expect(firstSends).toHaveLength(kept);
    console.log(`[battery] offline hour: ${kept} samples (1/s for 1 h, killed at 30 min) delivered, ${ranges.length} seq range(s) stored (the kill skips a reserved block), first sends in order, outbox peak ${(maxBytes / 1024).toFixed(0)} KiB of a ${BOUND / 1024} KiB bound, 0 dropped`);
  });
});
