import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { cabinetTopic, commandSchema } from '../../protocol/index.js';
import { onParentMessage, reply } from '../lib/proc.js';
import { Samples } from '../lib/stats.js';

/**
 * Simulated cabinets, one MQTT connection and account each, in their own process:
 *   - `flood`: every cabinet publishes telemetry as fast as the pipeline takes it, bounded by a
 *     window of messages published but not yet stored (the receiving side reports what it stored)
 *     and by QoS 1 messages in flight per connection;
 *   - `paced`: one telemetry message per cabinet every `periodMs` (real time), phases spread, and
 *     presence detections whose relay to a neighbouring cabinet is timed on arrival.
 */

const startSchema = z.object({
  type: z.literal('start'),
  url: z.string(),
  cabinets: z.array(z.object({ id: z.string(), secret: z.string(), lamps: z.array(z.string()) })),
  connectConcurrency: z.number().int().positive().default(50),
  flood: z.object({ maxOutstanding: z.number().int().positive(), perConnInflight: z.number().int().positive() }).optional(),
  paced: z.object({ periodMs: z.number().positive() }).optional(),
  presence: z
    .object({
      /** Detections relayed to other cabinets; targets are `cabinetId/lampId` of each relayed command. */
      probes: z.array(z.object({ cabinetId: z.string(), lampId: z.string(), targets: z.array(z.string()) })),
      backgroundPerS: z.number().nonnegative(),
      burstSize: z.number().int().nonnegative(),
      burstEveryMs: z.number().positive(),
    })
    .optional(),
});
type Start = z.infer<typeof startSchema>;

interface Conn {
  id: string;
  client: MqttClient;
  topic: string;
  presenceTopic: string;
  prefix: string;
  suffix: string;
  seq: number;
  inflight: number;
  onAck: (err?: Error) => void;
}

let conns: Conn[] = [];
const byId = new Map<string, Conn>();
let cfg: Start | null = null;
let published = 0;
let acked = 0;
let ackErrors = 0;
let stored = 0;
let pumpQueued = false;
let cursor = 0;
let running = false;
const timers: NodeJS.Timeout[] = [];
const relay = new Samples();
let presenceSent = 0;
let commandsReceived = 0;
let commandsUnmatched = 0;
/** Probe id (the detection's `count`, 1..10000) → when it was published and the commands it must cause. */
const probesInFlight = new Map<number, { at: number; targets: Set<string> }>();
let nextProbe = 0;

onParentMessage(async (m) => {
  switch (m.type) {
    case 'start': {
      cfg = startSchema.parse(m);
      await connectAll(cfg);
      reply({ type: 'connected', connections: conns.length });
      return;
    }
    case 'go':
      running = true;
      if (cfg?.flood) pump();
      if (cfg?.paced) startPaced(cfg.paced.periodMs);
      if (cfg?.presence) startPresence(cfg.presence);
      reply({ type: 'going' });
      return;
    case 'stored':
      stored = Number(m.messages);
      schedulePump();
      return;
    case 'reset':
      relay.clear();
      reply({ type: 'reset', published, acked });
      return;
    case 'report':
      reply({
        type: 'report',
        published,
        acked,
        ackErrors,
        presenceSent,
        commandsReceived,
        commandsUnmatched,
        relay: relay.summary(),
        rssMb: process.memoryUsage().rss / 1048576,
      });
      return;
    case 'stop':
      running = false;
      for (const t of timers) clearInterval(t);
      await Promise.all(conns.map((c) => c.client.endAsync(true)));
      process.exit(0);
  }
});

function lampJson(id: string, i: number): string {
  const level = 40 + (i % 3) * 10;
  return `{"id":"${id}","level":${level},"powerW":${(21.4 + (i % 7)).toFixed(1)},"energyWh":${183442.1 + i},"fault":null}`;
}

async function connectAll(o: Start): Promise<void> {
  const queue = [...o.cabinets];
  const workers = Array.from({ length: Math.min(o.connectConcurrency, queue.length) }, async () => {
    for (let cab = queue.shift(); cab; cab = queue.shift()) {
      const client = await mqtt.connectAsync(o.url, {
        clientId: `edge-${cab.id}`,
        username: cab.id,
        password: cab.secret,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 60_000,
        keepalive: 60,
      });
      // MQTT.js leaves Nagle on: small publishes would wait for the previous segment's ACK.
      (client.stream as net.Socket).setNoDelay?.(true);
      const conn: Conn = {
        id: cab.id,
        client,
        topic: cabinetTopic(cab.id, 'telemetry'),
        presenceTopic: cabinetTopic(cab.id, 'presence'),
        prefix: '{"v":1,"seq":',
        suffix: `,"periodS":60,"cabinet":{"voltageV":230.4,"powerW":1520.3,"energyWh":5234567},"lamps":[${cab.lamps.map(lampJson).join(',')}]}`,
        seq: 0,
        inflight: 0,
        onAck: () => {},
      };
      conn.onAck = (err?: Error) => {
        conn.inflight--;
        if (err) ackErrors++;
        else acked++;
        schedulePump();
      };
      if (o.presence) {
        client.on('message', (_topic, payload) => onCommand(conn.id, payload));
        await client.subscribeAsync(cabinetTopic(cab.id, 'command'), { qos: 1 });
      }
      conns.push(conn);
      byId.set(cab.id, conn);
    }
  });
  await Promise.all(workers);
  conns = [...conns].sort((a, b) => (a.id < b.id ? -1 : 1));
}

function publishTelemetry(c: Conn): void {
  c.seq++;
  c.inflight++;
  published++;
  c.client.publish(c.topic, `${c.prefix}${c.seq},"ts":${Date.now()}${c.suffix}`, { qos: 1 }, c.onAck);
}

function schedulePump(): void {
  if (pumpQueued || !running || !cfg?.flood) return;
  pumpQueued = true;
  setImmediate(() => {
    pumpQueued = false;
    pump();
  });
}

function pump(): void {
  const f = cfg?.flood;
  if (!f || !running) return;
  let scanned = 0;
  while (published - stored < f.maxOutstanding && scanned < conns.length) {
    const c = conns[cursor]!;
    cursor = (cursor + 1) % conns.length;
    if (c.inflight >= f.perConnInflight) {
      scanned++;
      continue;
    }
    scanned = 0;
    publishTelemetry(c);
  }
}

function startPaced(periodMs: number): void {
  const t0 = Date.now();
  const n = conns.length;
  // Cabinet i publishes at t0 + i·period/n, then every period: one timer for all.
  const next = conns.map((_, i) => t0 + (i * periodMs) / n);
  timers.push(
    setInterval(() => {
      const now = Date.now();
      for (let i = 0; i < n; i++) {
        if (next[i]! <= now) {
          next[i]! += periodMs;
          publishTelemetry(conns[i]!);
        }
      }
    }, 10),
  );
}

function startPresence(p: NonNullable<Start['presence']>): void {
  if (p.probes.length === 0) return;
  let k = 0;
  const send = (): void => {
    const probe = p.probes[k++ % p.probes.length]!;
    const conn = byId.get(probe.cabinetId);
    if (!conn) return;
    nextProbe = (nextProbe % 10_000) + 1;
    const at = Date.now();
    probesInFlight.set(nextProbe, { at, targets: new Set(probe.targets) });
    presenceSent++;
    conn.client.publish(
      conn.presenceTopic,
      `{"v":1,"ts":${at},"sensorId":"S-bench","lampId":"${probe.lampId}","kind":"pedestrian","count":${nextProbe}}`,
      { qos: 1 },
    );
  };
  if (p.backgroundPerS > 0) timers.push(setInterval(send, 1000 / p.backgroundPerS));
  if (p.burstSize > 0) {
    // An evening burst: spread over one second, as people leave a venue. The first comes early.
    const burst = (): void => {
      for (let i = 0; i < p.burstSize; i++) timers.push(setTimeout(send, (i * 1000) / p.burstSize));
    };
    timers.push(setTimeout(burst, Math.min(p.burstEveryMs / 2, 5000)), setInterval(burst, p.burstEveryMs));
  }
}

function onCommand(cabinetId: string, payload: Buffer): void {
  const now = Date.now();
  const parsed = commandSchema.safeParse(JSON.parse(payload.toString('utf8')));
  if (!parsed.success || parsed.data.kind !== 'presence') return;
  commandsReceived++;
  const probe = probesInFlight.get(parsed.data.count);
  if (!probe || !probe.targets.delete(`${cabinetId}/${parsed.data.lampId}`)) {
    commandsUnmatched++;
    return;
  }
  relay.push(now - probe.at);
  if (probe.targets.size === 0) probesInFlight.delete(parsed.data.count);
}
