import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConfigStore, type SqliteConfigStore } from '../config-store.js';
import type { ImportProgress } from './csv-inventory.js';
import { importInventory } from './inventory-import.js';

/** A large town's CSV: 100,000 lamps in Lambert-93, 30 m apart on a grid, 500 cabinets. */
function bigCsv(rows: number): string {
  const lines = ['identifiant;armoire;quartier;x;y;puissance;type_lampe;temperature_couleur'];
  for (let i = 0; i < rows; i++) {
    const x = 830_000 + (i % 400) * 30;
    const y = 6_510_000 + Math.floor(i / 400) * 30;
    lines.push(`PL-${String(i).padStart(6, '0')};ARM-${Math.floor(i / 200)};Q${Math.floor(i / 10_000)};${x};${y};${i % 2 ? 35 : 70};LED;3000`);
  }
  return lines.join('\n');
}

describe('CSV import at scale', () => {
  let dir: string;
  let store: SqliteConfigStore;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-csv-100k-'));
    store = openConfigStore(path.join(dir, 'config.db'));
  });
  afterAll(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('imports 100,000 rows in one transaction, reporting progress as it goes', () => {
    const text = bigCsv(100_000);
    const progress: ImportProgress[] = [];
    const started = performance.now();
    const { report, imported } = importInventory(store, { format: 'csv', text }, { dryRun: false, actor: 'bench', onProgress: (p) => progress.push(p) });
    const ms = performance.now() - started;
    console.log(`100,000-row CSV import: ${Math.round(ms)} ms`);
    expect(report.summary).toEqual({ rows: 100_000, create: 100_000, update: 0, unchanged: 0, refuse: 0 });
    expect(imported).toMatchObject({ lamps: 100_000, cabinets: 500, zones: 10, created: 100_000 });
    expect(store.cabinets()).toHaveLength(500);
    const validate = progress.filter((p) => p.phase === 'validate').map((p) => p.done);
    expect(validate.length).toBeGreaterThanOrEqual(20);
    expect(validate).toEqual([...validate].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual({ phase: 'write', done: 100_000, total: 100_000 });
    // Generous bound for a slow CI machine; the measured time is printed above.
    expect(ms).toBeLessThan(60_000);
  });
});
