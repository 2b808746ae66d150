import { mkdirSync } from 'node:fs';
import { z } from 'zod';
import { scaledClock } from '../../core/clock.js';
import { useFrugalHeap } from '../../core/heap.js';
import { createLogger } from '../../core/log.js';
import { createDimmingEngine } from '../../edge-agent/dimming/engine.js';
import { EdgeAgent } from '../../edge-agent/agent.js';
import { parseEdgeConfig } from '../../edge-agent/config.js';
import { SimulatedDriver } from '../../edge-agent/sim-driver.js';
import { policySchema, siteSchema } from '../../protocol/index.js';
import { onParentMessage, reply } from '../lib/proc.js';
import { Samples } from '../lib/stats.js';

/**
 * One gateway process (scenario 4): the real edge agent with a simulated driver and real time,
 * connected to a broker. Also times presence → new output level inside the gateway (scenario 5).
 */

const startSchema = z.object({
  type: z.literal('start'),
  brokerUrl: z.string(),
  cabinetId: z.string(),
  password: z.string(),
  dataDir: z.string(),
  site: siteSchema,
  lamps: z.array(z.object({ id: z.string(), nominalPowerW: z.number(), sensorId: z.string().optional() })),
  /** A night instant: the clock starts there and runs at real speed, so presence can raise lamps. */
  startAt: z.number(),
});

const probeSchema = z.object({ type: z.literal('probe'), policy: policySchema, nights: z.number().int().positive(), firstDusk: z.number() });

// As `luciole edge-agent` does: this process stands for it.
useFrugalHeap();
const log = createLogger({ level: 'warn', name: 'bench-edge' });
let agent: EdgeAgent | null = null;
let driver: SimulatedDriver | null = null;

onParentMessage(async (m) => {
  switch (m.type) {
    case 'start': {
      const o = startSchema.parse(m);
      mkdirSync(o.dataDir, { recursive: true });
      const clock = scaledClock(o.startAt, 1);
      const config = parseEdgeConfig({
        cabinetId: o.cabinetId,
        brokerUrl: o.brokerUrl,
        password: o.password,
        dataDir: o.dataDir,
        site: o.site,
        lamps: o.lamps,
        sim: { seed: 1, traffic: 1 },
      });
      driver = new SimulatedDriver({ clock, lamps: config.lamps, seed: 1, traffic: 1, timezone: o.site.timezone });
      agent = new EdgeAgent({ config, clock, driver, logger: log });
      await agent.start();
      await agent.whenConnected();
      reply({ type: 'ready' });
      return;
    }
    case 'agent-probe': {
      // The agent's own path, once at each sensor: detection → engine → driver.setLevel, timed to
      // the first change of the detecting lamp's output (now, or at a later tick of the agent).
      const d = driver!;
      const a = agent!;
      const sync = new Samples();
      const firstChange = new Samples();
      const setLevel = d.setLevel.bind(d);
      let target: string | null = null;
      let t0 = 0;
      let changed: (() => void) | null = null;
      d.setLevel = (id: string, level: number) => {
        if (id === target) {
          firstChange.push(performance.now() - t0);
          target = null;
          changed?.();
        }
        setLevel(id, level);
      };
      let unchanged = 0;
      let synchronous = 0;
      try {
        for (const l of a.engine.lampIds) {
          const sensor = (m.sensors as Record<string, string>)[l];
          if (!sensor) continue;
          // Detections come at any phase of the agent's tick, not just after one.
          await new Promise((r) => setTimeout(r, Math.random() * 1100));
          const seen = new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), 2500);
            changed = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          target = l;
          t0 = performance.now();
          d.triggerPresence(sensor);
          sync.push(performance.now() - t0);
          if (target === null) synchronous++;
          if (!(await seen)) unchanged++;
          target = null;
          changed = null;
        }
      } finally {
        d.setLevel = setLevel;
      }
      reply({ type: 'agent-probe', syncMs: sync.summary(), firstChangeMs: firstChange.summary(), synchronous, unchanged });
      return;
    }
    case 'probe': {
      // The engine alone over many detections: each at a lamp whose hold has expired, night after night.
      const o = probeSchema.parse(m);
      const engine = createDimmingEngine({ site: o.policy.site, lampIds: Object.keys(o.policy.lamps) });
      engine.setPolicy(o.policy);
      const ids = engine.lampIds;
      const samples = new Samples();
      let raised = 0;
      for (let night = 0; night < o.nights; night++) {
        // 30 min after dusk, one detection every 4 minutes for 8 hours (holds and ramps are shorter).
        for (let k = 0; k < 120; k++) {
          const at = o.firstDusk + night * 86_400_000 + 1_800_000 + k * 240_000;
          const lamp = ids[(night * 120 + k) % ids.length]!;
          const t0 = performance.now();
          const up = engine.presence(lamp, at);
          // What the agent does next: the output of every lamp it drives.
          let sum = 0;
          for (const id of ids) sum += engine.levelAt(id, at);
          samples.push(performance.now() - t0);
          if (up.length > 0 && sum >= 0) raised++;
        }
      }
      reply({ type: 'probe', latencyMs: samples.summary(), raised, detections: o.nights * 120 });
      return;
    }
    case 'report': {
      const cpu = process.cpuUsage();
      reply({ type: 'report', rssMb: process.memoryUsage().rss / 1048576, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, stats: agent?.stats(), outbox: agent?.outboxCount() });
      return;
    }
    case 'stop':
      await agent?.stop();
      log.flush();
      process.exit(0);
  }
});
