import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openConfigStore } from '../../controller/config-store.js';
import { importInventory } from '../../controller/import/inventory-import.js';
import type { ScenarioResult } from '../lib/result.js';
import { timedScenario } from './extra-base.js';

/** Inventory import at scale: a 100,000-row CSV (Lambert-93, 500 cabinets) through importInventory, into a fresh config store. */
export function runImport(rows: number, command: string): Promise<ScenarioResult> {
  return timedScenario('import', command, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-bench-import-'));
    const store = openConfigStore(path.join(dir, 'config.db'));
    try {
      const text = csv(rows);
      const t0 = performance.now();
      const dry = importInventory(store, { format: 'csv', text }, { dryRun: true, actor: 'bench' });
      const dryMs = performance.now() - t0;
      const t1 = performance.now();
      const { report, imported } = importInventory(store, { format: 'csv', text }, { dryRun: false, actor: 'bench' });
      const ms = performance.now() - t1;
      if (report.summary.create !== rows || dry.report.summary.create !== rows) {
        throw new Error(`import bench: expected ${rows} lamps created, got ${JSON.stringify(report.summary)}`);
      }
      const t2 = performance.now();
      const again = importInventory(store, { format: 'csv', text }, { dryRun: false, actor: 'bench' });
      const againMs = performance.now() - t2;
      console.log(`    ${rows.toLocaleString('en')} rows: dry run ${Math.round(dryMs)} ms, import ${Math.round(ms)} ms, same file again ${Math.round(againMs)} ms`);
      return {
        figures: [
          { label: `${rows.toLocaleString('en')}-row CSV: dry run (validate + report)`, value: Math.round(dryMs), unit: 'ms' },
          { label: `${rows.toLocaleString('en')}-row CSV: import`, value: Math.round(ms), unit: 'ms' },
          { label: 'same file again (all unchanged)', value: Math.round(againMs), unit: 'ms' },
        ],
        details: { rows, summary: report.summary, imported, again: again.report.summary },
      };
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** The same town as controller/import/import-100k.test.ts: lamps 30 m apart on a grid, 200 per cabinet. */
function csv(rows: number): string {
  const lines = ['identifiant;armoire;quartier;x;y;puissance;type_lampe;temperature_couleur'];
  for (let i = 0; i < rows; i++) {
    const x = 830_000 + (i % 400) * 30;
    const y = 6_510_000 + Math.floor(i / 400) * 30;
    lines.push(`PL-${String(i).padStart(6, '0')};ARM-${Math.floor(i / 200)};Q${Math.floor(i / 10_000)};${x};${y};${i % 2 ? 35 : 70};LED;3000`);
  }
  return lines.join('\n');
}
