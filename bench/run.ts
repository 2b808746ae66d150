/**
 * `npm run bench` (= build, then `node dist/bench/run.js`): the benchmark harness of issue 8.
 * Starts the real processes on loopback, prints a table and writes each scenario's figures as
 * JSON under bench/results/. Never part of `npm test`.
 *
 *   node dist/bench/run.js                       every scenario (about 15 minutes)
 *   node dist/bench/run.js ingest [edge ...]     some of them: savings, ingest, edge, presence, city,
 *                                                detection, report, influx, import, store
 *   options: --ingest-seconds N  --ingest-cabinets N  --ingest-variants a,b  --cpu-prof
 *            --controller-nagle (ingest, presence, city: Nagle left on for the controller's MQTT socket,
 *              the A/B of MqttLink's setNoDelay)
 *            --city-minutes N (default 3, real minutes)  --edge-seconds N (default 60)
 *            --presence-seconds N (default 30)
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatTable, writeResult, type ScenarioResult } from './lib/result.js';
import { DEFAULT_CITY, runCity } from './scenarios/city.js';
import { DEFAULT_EDGE, runEdge } from './scenarios/edge.js';
import { DEFAULT_INGEST, runIngest, type Variant } from './scenarios/ingest.js';
import { DEFAULT_SAVINGS, runSavings } from './scenarios/savings.js';
import { DEFAULT_DETECTION, runDetection } from './scenarios/detection.js';
import { runImport } from './scenarios/import.js';
import { runInflux } from './scenarios/influx.js';
import { runReport } from './scenarios/report.js';
import { DEFAULT_STORE, runStore } from './scenarios/store.js';

const SCENARIOS = ['savings', 'ingest', 'edge', 'presence', 'city', 'detection', 'report', 'influx', 'import', 'store'] as const;
type Scenario = (typeof SCENARIOS)[number];

const flagsSchema = z.object({
  'ingest-seconds': z.coerce.number().int().positive().optional(),
  'ingest-cabinets': z.coerce.number().int().positive().optional(),
  'ingest-variants': z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(['luciole-aedes', 'floor-aedes', 'floorzod-aedes', 'luciole-mosquitto'])))
    .optional(),
  'cpu-prof': z.boolean().optional(),
  'controller-nagle': z.boolean().optional(),
  'city-minutes': z.coerce.number().positive().optional(),
  'edge-seconds': z.coerce.number().int().positive().optional(),
  'presence-seconds': z.coerce.number().int().positive().optional(),
});

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    strict: true,
    options: {
      'ingest-seconds': { type: 'string' },
      'ingest-cabinets': { type: 'string' },
      'ingest-variants': { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      'controller-nagle': { type: 'boolean' },
      'city-minutes': { type: 'string' },
      'edge-seconds': { type: 'string' },
      'presence-seconds': { type: 'string' },
    },
  });
  const parsed = flagsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`--${String(issue?.path[0] ?? '?')}: ${issue?.message ?? 'invalid'}`);
  }
  const f = parsed.data;
  for (const p of positionals) {
    if (!(SCENARIOS as readonly string[]).includes(p)) throw new Error(`unknown scenario "${p}" (one of ${SCENARIOS.join(', ')})`);
  }
  const chosen = (positionals.length > 0 ? positionals : [...SCENARIOS]) as Scenario[];
  const command = `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim();
  const results: ScenarioResult[] = [];
  for (const s of chosen) {
    console.log(`\n== ${s}`);
    let r: ScenarioResult;
    switch (s) {
      case 'savings':
        r = await runSavings(DEFAULT_SAVINGS, command);
        break;
      case 'ingest':
        r = await runIngest(
          {
            ...DEFAULT_INGEST,
            ...(f['ingest-seconds'] ? { measureS: f['ingest-seconds'] } : {}),
            ...(f['ingest-cabinets'] ? { cabinets: f['ingest-cabinets'] } : {}),
            ...(f['ingest-variants'] ? { variants: f['ingest-variants'] as Variant[] } : {}),
            cpuProf: f['cpu-prof'] ?? false,
            controllerNagle: f['controller-nagle'] ?? false,
          },
          command,
        );
        break;
      case 'edge':
        r = await runEdge({ ...DEFAULT_EDGE, ...(f['edge-seconds'] ? { durationS: f['edge-seconds'] } : {}) }, command);
        break;
      case 'presence':
        r = await runCity(
          { ...DEFAULT_CITY, name: 'presence', telemetry: false, durationS: f['presence-seconds'] ?? 30, controllerNagle: f['controller-nagle'] ?? false },
          command,
        );
        break;
      case 'city':
        r = await runCity(
          { ...DEFAULT_CITY, durationS: Math.round((f['city-minutes'] ?? 3) * 60), controllerNagle: f['controller-nagle'] ?? false, cpuProf: f['cpu-prof'] ?? false },
          command,
        );
        break;
      case 'detection':
        r = await runDetection(DEFAULT_DETECTION, command);
        break;
      case 'report':
        r = await runReport(command);
        break;
      case 'influx':
        r = await runInflux(command);
        break;
      case 'import':
        r = await runImport(100_000, command);
        break;
      case 'store':
        r = await runStore({ ...DEFAULT_STORE, ...(f['ingest-seconds'] ? { seconds: f['ingest-seconds'] } : {}) }, command);
        break;
    }
    const file = writeResult(r);
    console.log(`  → ${file}`);
    results.push(r);
  }
  console.log(`\n${formatTable(results)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
