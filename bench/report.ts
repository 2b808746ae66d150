/**
 * Bench of the energy report (issue 5): a monthly report for a town of 100,000 lamps, from the
 * embedded SQLite store holding a year of hourly roll-ups.
 *
 *   npx tsx bench/report.ts                 (or, after `npm run build`: node dist/bench/report.js)
 *   options: --lamps 100000 --per-cabinet 40 --zones 8 --runs 5 --dir <folder to keep the database>
 *
 * The year of hourly data is written straight into `cabinet_hours` (one row per cabinet and hour,
 * as the store's write path leaves it), in hour order with multi-row INSERTs: ingesting a year of
 * minute telemetry for 100,000 lamps through `writeTelemetry` would take days. A report of towns
 * whose cabinets each feed one zone reads only `cabinet_hours` (per-lamp roll-ups are read for
 * the lamps of cabinets feeding several zones, by primary key), so `lamp_hours` stays empty here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { nightForDate } from '../core/astro.js';
import { buildEnergyReport } from '../controller/reports/report.js';
import { reportQuerySchema } from '../controller/reports/report-schema.js';
import { DEFAULT_REPORT_SETTINGS } from '../controller/reports/settings.js';
import { SqliteTelemetryStore } from '../controller/sqlite-telemetry-store.js';
import type { AccountingLamp } from '../controller/reports/accounting.js';

export const reportFlagsSchema = z.object({
  lamps: z.coerce.number().int().positive().default(100_000),
  'per-cabinet': z.coerce.number().int().positive().default(40),
  zones: z.coerce.number().int().positive().default(8),
  runs: z.coerce.number().int().positive().default(5),
  dir: z.string().optional(),
});

const SITE = { lat: 45.8336, lon: 4.8446, timezone: 'Europe/Paris' };
const H = 3_600_000;
const YEAR_START = Date.UTC(2024, 11, 31, 12); // the year of nights 2025-01-01 … 2025-12-31, noon to noon
const YEAR_END = Date.UTC(2026, 0, 1, 12);

export type ReportBenchOptions = z.infer<typeof reportFlagsSchema>;

export interface ReportBenchResult {
  lamps: number;
  cabinets: number;
  rows: number;
  fillS: number;
  sizeMiB: number;
  /** Each run's time, ms, the first one (cold caches) included. */
  runsMs: number[];
  medianMs: number;
  summary: string;
}

/** Fills a year of cabinet-hour roll-ups, then times `runs` monthly reports (bench/run.ts `report`). */
export async function runReportBench(f: ReportBenchOptions): Promise<ReportBenchResult> {
  const cabinets = Math.ceil(f.lamps / f['per-cabinet']);
  const dir = f.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-bench-report-'));
  const file = path.join(dir, 'telemetry.db');
  const store = new SqliteTelemetryStore({ file });
  try {
    await store.open();
    await store.close();
    const lamps: AccountingLamp[] = [];
    for (let i = 0; i < f.lamps; i++) {
      const c = Math.floor(i / f['per-cabinet']);
      lamps.push({ id: `L${i}`, cabinetId: `C${String(c).padStart(5, '0')}`, zone: `zone-${c % f.zones}`, nominalPowerW: 40, baselinePowerW: 120 });
    }

    const fillStart = performance.now();
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const ROWS = 500;
    const insert = db.prepare(`INSERT INTO cabinet_hours (hour, cabinet_id, energy_wh, gap_wh, samples, level_s, on_s) VALUES ${new Array(ROWS).fill('(?,?,?,?,?,?,?)').join(',')}`);
    const ids = Array.from({ length: cabinets }, (_, c) => `C${String(c).padStart(5, '0')}`);
    let rows = 0;
    db.transaction(() => {
      let buf: Array<string | number> = [];
      for (let hour = YEAR_START; hour < YEAR_END; hour += H) {
        const local = new Date(hour + H).getUTCHours(); // about local time in winter: the model needs no more
        const lit = local >= 18 || local < 7;
        const level = local >= 23 || local < 5 ? 30 : 80;
        for (const id of ids) {
          const n = f['per-cabinet'];
          const samples = n * 60;
          buf.push(hour, id, lit ? n * 40 * (level / 100) : n * 0.5, 0, samples, lit ? samples * 60 * level : 0, lit ? samples * 60 : 0);
          if (buf.length === ROWS * 7) {
            insert.run(...buf);
            buf = [];
            rows += ROWS;
          }
        }
      }
      if (buf.length > 0) {
        const rest = buf.length / 7;
        db.prepare(`INSERT INTO cabinet_hours (hour, cabinet_id, energy_wh, gap_wh, samples, level_s, on_s) VALUES ${new Array(rest).fill('(?,?,?,?,?,?,?)').join(',')}`).run(...buf);
        rows += rest;
      }
    })();
    db.close();
    const fillS = (performance.now() - fillStart) / 1000;
    const sizeMiB = fs.statSync(file).size / 1024 / 1024;
    console.log(`filled ${rows.toLocaleString('en')} cabinet-hour rows (${cabinets} cabinets × a year) in ${fillS.toFixed(1)} s, ${sizeMiB.toFixed(0)} MiB`);

    await store.open();
    const query = reportQuerySchema.parse({ period: 'month', from: '2025-11-01', groupBy: 'zone' });
    const now = nightForDate(SITE, '2026-01-05').windowStart;
    const times: number[] = [];
    let summary = '';
    for (let r = 0; r < f.runs; r++) {
      const t = performance.now();
      const report = await buildEnergyReport(
        { source: store, town: { name: 'Bench', site: SITE }, lamps, settings: DEFAULT_REPORT_SETTINGS, periodS: 60, now },
        query,
      );
      times.push(performance.now() - t);
      summary = `${report.nights.length} nights, ${report.groups.length} zones, ${report.headline.energyKWh?.toFixed(0)} kWh, completeness ${report.headline.completeness?.toFixed(3)}`;
    }
    const sorted = [...times].sort((a, b) => a - b);
    return {
      lamps: f.lamps,
      cabinets,
      rows,
      fillS,
      sizeMiB,
      runsMs: times,
      medianMs: sorted[Math.floor(sorted.length / 2)]!,
      summary,
    };
  } finally {
    await store.close();
    if (!f.dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { lamps: { type: 'string' }, 'per-cabinet': { type: 'string' }, zones: { type: 'string' }, runs: { type: 'string' }, dir: { type: 'string' } },
  });
  const r = await runReportBench(reportFlagsSchema.parse(values));
  console.log(`monthly report, ${r.lamps.toLocaleString('en')} lamps: ${r.summary}`);
  console.log(`  runs (ms): ${r.runsMs.map((t) => t.toFixed(0)).join(', ')}; median ${r.medianMs.toFixed(0)} ms, first ${r.runsMs[0]!.toFixed(0)} ms`);
}

// Run as a script, not when bench/run.ts imports it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
