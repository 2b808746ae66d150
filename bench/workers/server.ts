import inspector from 'node:inspector';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { systemClock } from '../../core/clock.js';
import { useFrugalHeap } from '../../core/heap.js';
import { createLogger } from '../../core/log.js';
import { CredentialStore } from '../../broker/credentials.js';
import { startBroker, type RunningBroker } from '../../broker/broker.js';
import { startServer, CONTROLLER_USERNAME, type RunningServer } from '../../cli/server.js';
import { allCabinetsFilter, decodePayload, siteSchema } from '../../protocol/index.js';
import { townPlanSchema } from '../../controller/plan.js';
import { onParentMessage, reply } from '../lib/proc.js';
import { Samples } from '../lib/stats.js';

/**
 * The receiving side of a bench, in its own process so its CPU is its own:
 *   - `luciole`: `startServer` as `luciole serve` runs it (bundled aedes, or an external broker
 *     such as Mosquitto), with the telemetry store's write instrumented for publish→stored latency;
 *   - `floor`: the same bundled broker with a subscriber that only does JSON.parse;
 *   - `floor-zod`: the same, also validating each message with the protocol's zod schema (what
 *     any Luciole receiver must do: the floor the issue's 750,000/s reference figure describes).
 */

const startSchema = z.object({
  type: z.literal('start'),
  mode: z.enum(['luciole', 'floor', 'floor-zod']),
  dataDir: z.string(),
  cabinets: z.array(z.string()),
  inventoryFile: z.string().optional(),
  brokerUrl: z.string().optional(),
  controllerPassword: z.string().optional(),
  town: z.object({ name: z.string(), site: siteSchema }).optional(),
  plan: townPlanSchema.optional(),
  /**
   * Leave Nagle on for this process's outgoing sockets (the controller's MQTT connection), which
   * MqttLink turns off: the A/B of that change.
   */
  clientNagle: z.boolean().default(false),
});

// As `luciole serve` does: this process stands for it.
useFrugalHeap();
const log = createLogger({ level: 'warn', name: 'bench-server' });
const latency = new Samples();
let messages = 0;
let samples = 0;
let server: RunningServer | null = null;
let broker: RunningBroker | null = null;
let floorClient: MqttClient | null = null;
let db: Database.Database | null = null;
let progress: NodeJS.Timeout | null = null;
let profiler: inspector.Session | null = null;

function post(session: inspector.Session, method: string): Promise<unknown> {
  return new Promise((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result))));
}

onParentMessage(async (m) => {
  switch (m.type) {
    case 'start': {
      const o = startSchema.parse(m);
      if (o.clientNagle) keepNagle();
      const secrets = o.mode === 'luciole' ? await startLuciole(o) : await startFloor(o);
      progress = setInterval(() => reply({ type: 'progress', messages, samples }), 25);
      reply({ type: 'ready', mqttUrl: server?.mqttUrl ?? broker?.url ?? o.brokerUrl, secrets });
      return;
    }
    case 'reset':
      latency.clear();
      reply({ type: 'reset', messages, samples });
      return;
    // A CPU profile of the measured window only (start-up, which --cpu-prof would include, is
    // most of a city run's CPU time).
    case 'profile-start':
      profiler = new inspector.Session();
      profiler.connect();
      await post(profiler, 'Profiler.enable');
      await post(profiler, 'Profiler.start');
      reply({ type: 'profile-started' });
      return;
    case 'profile-stop': {
      const file = z.object({ file: z.string() }).parse(m).file;
      const result = (await post(profiler!, 'Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(result.profile));
      profiler!.disconnect();
      profiler = null;
      reply({ type: 'profile-stopped' });
      return;
    }
    case 'report': {
      const mem = process.memoryUsage();
      // Started with --expose-gc (city): what is live after a full collection, per lamp.
      const gc = (globalThis as { gc?: () => void }).gc;
      let heapLiveMb: number | null = null;
      if (gc) {
        gc();
        heapLiveMb = process.memoryUsage().heapUsed / 1048576;
      }
      reply({
        type: 'report',
        messages,
        samples,
        latency: latency.summary(),
        stats: server ? server.controller.stats() : null,
        heapUsedMb: mem.heapUsed / 1048576,
        heapLiveMb,
        rssMb: mem.rss / 1048576,
      });
      return;
    }
    case 'stop':
      if (progress) clearInterval(progress);
      await floorClient?.endAsync(true);
      await server?.stop();
      await broker?.close();
      db?.close();
      log.flush();
      process.exit(0);
  }
});

async function startLuciole(o: z.infer<typeof startSchema>): Promise<Record<string, string>> {
  server = await startServer(
    {
      dataDir: o.dataDir,
      mqttPort: 0,
      httpPort: 0,
      host: '127.0.0.1',
      periodS: 60,
      ...(o.inventoryFile ? { inventory: o.inventoryFile } : {}),
      ...(o.brokerUrl ? { brokerUrl: o.brokerUrl, controllerPassword: o.controllerPassword } : {}),
    },
    { clock: systemClock(), logger: log },
  );
  // Instrumented on the instance, so the controller's own write path is what is measured.
  const store = server.telemetryStore;
  const write = store.writeTelemetry.bind(store);
  store.writeTelemetry = async (batch) => {
    const r = await write(batch);
    const now = Date.now();
    for (const rec of batch) latency.push(now - rec.ts);
    messages += r.stored;
    samples += r.samples;
    return r;
  };
  if (o.town) server.configStore.setTown(o.town, 'bench');
  if (o.plan) await server.controller.publishPlan(o.plan, 'bench');
  const secrets: Record<string, string> = {};
  // With an external broker its accounts are in its own password file.
  if (!o.brokerUrl) for (const id of o.cabinets) secrets[id] = server.credentials.issue(id, 'cabinet');
  return secrets;
}

async function startFloor(o: z.infer<typeof startSchema>): Promise<Record<string, string>> {
  db = new Database(`${o.dataDir}/config.db`);
  const credentials = new CredentialStore(db);
  credentials.init();
  const secrets: Record<string, string> = {};
  for (const id of o.cabinets) secrets[id] = credentials.issue(id, 'cabinet');
  const controllerPassword = credentials.issue(CONTROLLER_USERNAME, 'controller');
  broker = await startBroker({ port: 0, host: '127.0.0.1', credentials, logger: log });
  const client = await mqtt.connectAsync(broker.url, {
    username: CONTROLLER_USERNAME,
    password: controllerPassword,
    clientId: 'bench-floor',
    reconnectPeriod: 0,
  });
  floorClient = client;
  const validate = o.mode === 'floor-zod';
  client.on('message', (_topic, payload) => {
    let msg: { ts: number; lamps: unknown[] };
    if (validate) {
      const decoded = decodePayload('telemetry', payload);
      if (!decoded.ok) return;
      msg = decoded.value;
    } else {
      msg = JSON.parse(payload.toString('utf8')) as { ts: number; lamps: unknown[] };
    }
    latency.push(Date.now() - msg.ts);
    messages++;
    samples += msg.lamps.length;
  });
  await client.subscribeAsync(allCabinetsFilter('telemetry'), { qos: 1 });
  return secrets;
}

function keepNagle(): void {
  // MQTT.js calls net.createConnection on the shared module object at connect time; the broker's
  // accepted sockets are not made here, so they keep their own setting.
  const original = net.createConnection.bind(net) as (...args: unknown[]) => net.Socket;
  (net as unknown as { createConnection: (...args: unknown[]) => net.Socket }).createConnection = (...args: unknown[]) => {
    const socket = original(...args);
    socket.setNoDelay = () => socket;
    return socket;
  };
}
