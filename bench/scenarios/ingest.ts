import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { generateMosquittoFiles } from '../../broker/mosquitto-config.js';
import { CONTROLLER_USERNAME } from '../../cli/names.js';
import { mosquittoInstalled, startMosquitto, type RunningMosquitto } from '../lib/mosquitto.js';
import { UsageMeter, Worker, type ProcessUsage } from '../lib/proc.js';
import { summariseByOwner, summariseProfile, type ProfileEntry } from '../lib/profile.js';
import { loadNow, type Figure, type ScenarioResult } from '../lib/result.js';
import { round, type LatencySummary } from '../lib/stats.js';
import { benchTown } from '../lib/town.js';

/**
 * Scenarios 1 and 2: the ingest ceiling of the whole pipeline (simulated cabinets → broker →
 * controller → SQLite → receipts), beside the JSON.parse floor through the same broker and the
 * same pipeline behind Mosquitto, in one run.
 */

export interface IngestOptions {
  cabinets: number;
  lampsPerCabinet: number;
  warmupS: number;
  measureS: number;
  /** Messages published but not yet stored, across all publishers. */
  maxOutstanding: number;
  perConnInflight: number;
  variants: Variant[];
  /** Write a V8 CPU profile of the receiving process, summarised in the result. */
  cpuProf: boolean;
  /** Nagle left on for the controller's own MQTT socket (the A/B of MqttLink turning it off). */
  controllerNagle: boolean;
}

export type Variant = 'luciole-aedes' | 'floor-aedes' | 'floorzod-aedes' | 'luciole-mosquitto';

export const DEFAULT_INGEST: IngestOptions = {
  cabinets: 100,
  lampsPerCabinet: 50,
  warmupS: 5,
  measureS: 20,
  maxOutstanding: 2000,
  perConnInflight: 20,
  variants: ['luciole-aedes', 'floor-aedes', 'floorzod-aedes', 'luciole-mosquitto'],
  cpuProf: false,
  controllerNagle: false,
};

interface VariantResult {
  variant: Variant;
  samplesPerS: number;
  messagesPerS: number;
  publishedPerS: number;
  latencyMs: LatencySummary;
  receiver: ProcessUsage;
  publishers: ProcessUsage;
  mosquitto: ProcessUsage | null;
  controllerStats: unknown;
  profile: ProfileEntry[] | null;
  /** The same profile's self time by package or folder. */
  profileByOwner: ProfileEntry[] | null;
}

export async function runIngest(o: IngestOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date();
  const loadBefore = loadNow();
  const results: VariantResult[] = [];
  for (const v of o.variants) {
    if (v === 'luciole-mosquitto' && !mosquittoInstalled()) {
      console.warn('  mosquitto not installed: luciole-mosquitto skipped');
      continue;
    }
    console.log(`  ingest ${v}: ${o.cabinets} cabinets × ${o.lampsPerCabinet} lamps, ${o.warmupS} s warm-up + ${o.measureS} s…`);
    const r = await runVariant(v, o);
    console.log(`    ${Math.round(r.samplesPerS).toLocaleString('en')} lamp-samples/s, p99 ${r.latencyMs.p99} ms`);
    results.push(r);
  }
  const by = (v: Variant) => results.find((r) => r.variant === v);
  const ours = by('luciole-aedes');
  const floor = by('floor-aedes');
  const floorZod = by('floorzod-aedes');
  const mosq = by('luciole-mosquitto');
  const figures: Figure[] = [];
  for (const r of results) {
    figures.push(
      { label: `${r.variant}: lamp-samples/s`, value: Math.round(r.samplesPerS), unit: '/s', ...(r.variant === 'luciole-aedes' ? { target: '≥ 200000' } : {}) },
      { label: `${r.variant}: messages/s`, value: Math.round(r.messagesPerS), unit: '/s' },
      { label: `${r.variant}: publish→stored p50`, value: r.latencyMs.p50, unit: 'ms' },
      { label: `${r.variant}: publish→stored p99`, value: r.latencyMs.p99, unit: 'ms' },
      { label: `${r.variant}: receiver CPU`, value: r.receiver.cores, unit: 'cores' },
      { label: `${r.variant}: receiver RSS max`, value: r.receiver.rssMbMax, unit: 'MB' },
      { label: `${r.variant}: publishers CPU`, value: r.publishers.cores, unit: 'cores' },
    );
    if (r.mosquitto) {
      figures.push(
        { label: `${r.variant}: mosquitto CPU`, value: r.mosquitto.cores, unit: 'cores' },
        { label: `${r.variant}: mosquitto RSS max`, value: r.mosquitto.rssMbMax, unit: 'MB' },
      );
    }
  }
  if (ours && floor) figures.push({ label: 'ratio luciole-aedes / JSON.parse floor', value: round(ours.samplesPerS / floor.samplesPerS, 2), unit: '', target: '≥ 0.3' });
  if (ours && floorZod) figures.push({ label: 'ratio luciole-aedes / JSON.parse + zod floor', value: round(ours.samplesPerS / floorZod.samplesPerS, 2), unit: '' });
  if (ours && mosq) figures.push({ label: 'ratio luciole-aedes / luciole-mosquitto', value: round(ours.samplesPerS / mosq.samplesPerS, 2), unit: '' });
  return {
    scenario: 'ingest',
    command,
    startedAt: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    load: { cores: os.cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadNow() },
    figures,
    details: { options: o, variants: results },
  };
}

async function runVariant(variant: Variant, o: IngestOptions): Promise<VariantResult> {
  const dir = mkdtempSync(join(os.tmpdir(), `luciole-bench-${variant}-`));
  const columns = Math.ceil(Math.sqrt(o.cabinets));
  const rows = Math.ceil(o.cabinets / columns);
  const t = benchTown(columns, rows, o.lampsPerCabinet);
  const cabinets = t.town.cabinets.slice(0, o.cabinets).map((c) => c.id);
  const keep = new Set(cabinets);
  const inventoryFile = join(dir, 'inventory.geojson');
  writeFileSync(inventoryFile, JSON.stringify({ ...t.inventory, features: t.inventory.features.filter((f) => keep.has(f.properties.cabinetId)) }));
  const profDir = join(dir, 'prof');
  let mosquitto: RunningMosquitto | null = null;
  let server: Worker | null = null;
  let pubs: Worker | null = null;
  try {
    let brokerUrl: string | undefined;
    let controllerPassword: string | undefined;
    let secrets: Record<string, string> = {};
    if (variant === 'luciole-mosquitto') {
      const files = generateMosquittoFiles({
        outDir: join(dir, 'mosquitto'),
        issuer: { issue: () => randomBytes(24).toString('base64url') },
        controller: CONTROLLER_USERNAME,
        cabinets,
      });
      mosquitto = await startMosquitto({ dir: join(dir, 'mosquitto'), passwordFile: files.passwordFile, aclFile: files.aclFile });
      brokerUrl = mosquitto.url;
      controllerPassword = files.issued.get(CONTROLLER_USERNAME);
      secrets = Object.fromEntries(cabinets.map((c) => [c, files.issued.get(c)!]));
    }
    mkdirSync(join(dir, 'data'));
    server = new Worker('server', join(dir, 'server.log'), o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []);
    const ready = await server.request(
      {
        type: 'start',
        mode: variant === 'floor-aedes' ? 'floor' : variant === 'floorzod-aedes' ? 'floor-zod' : 'luciole',
        dataDir: join(dir, 'data'),
        cabinets,
        clientNagle: o.controllerNagle,
        ...(variant.startsWith('floor') ? {} : { inventoryFile }),
        ...(brokerUrl ? { brokerUrl, controllerPassword } : {}),
      },
      'ready',
    );
    if (!brokerUrl) secrets = ready.secrets as Record<string, string>;
    pubs = new Worker('publishers', join(dir, 'publishers.log'));
    const p = pubs;
    server.on('progress', (m) => p.send({ type: 'stored', messages: m.messages as number }));
    await pubs.request(
      {
        type: 'start',
        url: String(ready.mqttUrl),
        cabinets: cabinets.map((id) => ({ id, secret: secrets[id]!, lamps: t.lampsByCabinet.get(id)! })),
        flood: { maxOutstanding: o.maxOutstanding, perConnInflight: o.perConnInflight },
      },
      'connected',
    );
    await pubs.request({ type: 'go' }, 'going');
    await sleep(o.warmupS * 1000);
    const base = await server.request({ type: 'reset' }, 'reset');
    const pubBase = await pubs.request({ type: 'reset' }, 'reset');
    const meters = [new UsageMeter(server.pid), new UsageMeter(pubs.pid), ...(mosquitto ? [new UsageMeter(mosquitto.pid)] : [])];
    for (const m of meters) m.start();
    const t0 = performance.now();
    await sleep(o.measureS * 1000);
    const usage = meters.map((m) => m.stop());
    const elapsedS = (performance.now() - t0) / 1000;
    const end = await server.request({ type: 'report' }, 'report');
    const pubEnd = await pubs.request({ type: 'report' }, 'report');
    await pubs.stop();
    pubs = null;
    await server.stop(60_000);
    server = null;
    let profile: ProfileEntry[] | null = null;
    let profileByOwner: ProfileEntry[] | null = null;
    if (o.cpuProf) {
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) {
        profile = summariseProfile(join(profDir, file), 15);
        profileByOwner = summariseByOwner(join(profDir, file), 15);
      }
    }
    return {
      variant,
      samplesPerS: ((end.samples as number) - (base.samples as number)) / elapsedS,
      messagesPerS: ((end.messages as number) - (base.messages as number)) / elapsedS,
      publishedPerS: ((pubEnd.published as number) - (pubBase.published as number)) / elapsedS,
      latencyMs: end.latency as LatencySummary,
      receiver: usage[0]!,
      publishers: usage[1]!,
      mosquitto: usage[2] ?? null,
      controllerStats: end.stats,
      profile,
      profileByOwner,
    };
  } finally {
    await pubs?.stop();
    await server?.stop(60_000);
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
