import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One line of the printed table. */
export interface Figure {
  label: string;
  value: number | string | null;
  unit: string;
  /** e.g. "≥ 200000", shown beside the value; no pass/fail verdict is computed. */
  target?: string;
}

export interface ScenarioResult {
  scenario: string;
  /** The command that produced these figures. */
  command: string;
  startedAt: string;
  durationS: number;
  /** Load average and cores around the run: other work on the machine skews every figure. */
  load: { cores: number; loadavgBefore: number[]; loadavgAfter: number[] };
  figures: Figure[];
  details: Record<string, unknown>;
}

export function loadNow(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

/** bench/results/ of the source tree (this file runs from dist/bench/lib/). */
export function resultsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', '..', '..', 'bench', 'results');
}

export function writeResult(r: ScenarioResult): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[:]/g, '-').replace(/\..*$/, '');
  const file = join(dir, `${stamp}-${r.scenario}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

export function formatTable(results: ScenarioResult[]): string {
  const rows: string[][] = [['scenario', 'figure', 'value', 'unit', 'target']];
  for (const r of results) {
    for (const f of r.figures) rows.push([r.scenario, f.label, f.value === null ? '—' : String(f.value), f.unit, f.target ?? '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string => row.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  for (const r of results) {
    out.push('', `${r.scenario}: ${r.command}  (${r.load.cores} cores, load ${r.load.loadavgBefore.join('/')} → ${r.load.loadavgAfter.join('/')}, ${r.durationS} s)`);
  }
  return out.join('\n');
}
