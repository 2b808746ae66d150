import { LucioleError } from '../../core/errors.js';
import { computeNeighbours } from '../inventory.js';
import { lampFeatureSchema, type LampRecord } from '../inventory-schema.js';
import type { ImportReport } from '../stores.js';
import type { ColumnMapping } from './csv-columns.js';
import { parseCsvInventory, type ImportProgress } from './csv-inventory.js';
import { parseInventoryWithDetails } from './geojson-inventory.js';
import type { ImportRowReport, InventoryImportReport, RowError } from './import-report.js';
import { planLamp } from './import-plan.js';

/**
 * Inventory import from CSV or GeoJSON: every row checked, a per-row report of what would be
 * created, changed or refused, then, unless it is a dry run, all or nothing: one refused row and
 * nothing is written.
 */

/** The store's side of an import (the SQLite config store implements it). */
export interface InventoryTarget {
  lamps(): LampRecord[];
  importLamps(lamps: readonly LampRecord[], actor: string): ImportReport;
}

export type InventoryInput = { format: 'csv'; text: string } | { format: 'geojson'; json: unknown };

export interface InventoryImportOptions {
  dryRun: boolean;
  actor: string;
  /** CSV only: explicit column mapping, over the detected one. */
  mapping?: ColumnMapping;
  onProgress?: (p: ImportProgress) => void;
}

export interface InventoryImportResult {
  report: InventoryImportReport;
  /** The store's counts when the lamps were written. */
  imported: ImportReport | null;
}

interface Candidate {
  row: number;
  id: string | null;
  lamp: LampRecord | null;
  errors: RowError[];
}

export function importInventory(target: InventoryTarget, input: InventoryInput, opts: InventoryImportOptions): InventoryImportResult {
  const stored = new Map(target.lamps().map((l) => [l.id, l]));
  let candidates: Candidate[];
  let extra: Pick<InventoryImportReport, 'coordinates' | 'mapping'> = {};
  if (input.format === 'csv') {
    const parsed = parseCsvInventory(input.text, {
      ...(opts.mapping ? { mapping: opts.mapping } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    extra = { coordinates: parsed.coordinates, mapping: parsed.mapping as Record<string, string> };
    candidates = parsed.rows.map((r) => {
      // A file without a baseline keeps the stored one: baselines are typed in once, by hand.
      if (r.lamp && !r.baselineGiven) r.lamp.baselinePowerW = stored.get(r.lamp.id)?.baselinePowerW ?? null;
      return { row: r.line, id: r.id, lamp: r.lamp, errors: r.errors };
    });
    const valid = candidates.filter((c) => c.lamp !== null).map((c) => c.lamp!);
    const neighbours = computeNeighbours(valid);
    for (const lamp of valid) lamp.neighbours = neighbours.get(lamp.id) ?? [];
  } else {
    candidates = geojsonCandidates(input.json);
  }

  const rows: ImportRowReport[] = [];
  const summary = { rows: candidates.length, create: 0, update: 0, unchanged: 0, refuse: 0 };
  for (const c of candidates) {
    if (!c.lamp) {
      summary.refuse++;
      rows.push({ row: c.row, id: c.id, action: 'refuse', errors: c.errors });
      continue;
    }
    const { action, changes } = planLamp(c.lamp, stored.get(c.lamp.id));
    summary[action]++;
    if (action === 'create') rows.push({ row: c.row, id: c.id, action });
    else if (action === 'update') rows.push({ row: c.row, id: c.id, action, changes });
  }

  const apply = !opts.dryRun && summary.refuse === 0;
  let imported: ImportReport | null = null;
  if (apply) {
    const lamps = candidates.map((c) => c.lamp!);
    opts.onProgress?.({ phase: 'write', done: 0, total: lamps.length });
    imported = target.importLamps(lamps, opts.actor);
    opts.onProgress?.({ phase: 'write', done: lamps.length, total: lamps.length });
  }
  return {
    report: { format: input.format, dryRun: opts.dryRun, applied: apply, ...extra, summary, rows },
    imported,
  };
}

/**
 * GeoJSON features checked one by one (every problem of each reported), then the valid ones
 * through the operator contract's own parser, for its neighbour rules. A feature that parser
 * refuses (an unknown neighbour, say) is refused and the rest parsed again.
 */
function geojsonCandidates(json: unknown): Candidate[] {
  const features = (json as { type?: unknown; features?: unknown } | null)?.features;
  if (typeof json !== 'object' || json === null || (json as { type?: unknown }).type !== 'FeatureCollection' || !Array.isArray(features)) {
    throw new LucioleError('LUCIOLE_ERR_INVENTORY_INVALID', 'inventory: expected a GeoJSON FeatureCollection with a features array', 'features');
  }
  const candidates: Candidate[] = [];
  const firstIndex = new Map<string, number>();
  for (let i = 0; i < features.length; i++) {
    const parsed = lampFeatureSchema.safeParse(features[i]);
    if (!parsed.success) {
      const rawId = (features[i] as { properties?: { id?: unknown } } | null)?.properties?.id;
      candidates.push({
        row: i,
        id: typeof rawId === 'string' ? rawId : null,
        lamp: null,
        errors: parsed.error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || 'feature', message: issue.message })),
      });
      continue;
    }
    const id = parsed.data.properties.id;
    const first = firstIndex.get(id);
    if (first !== undefined) {
      candidates.push({ row: i, id, lamp: null, errors: [{ field: 'properties.id', message: `duplicate id "${id}", already feature ${first}` }] });
      continue;
    }
    firstIndex.set(id, i);
    candidates.push({ row: i, id, lamp: null, errors: [] });
  }
  for (;;) {
    const valid = candidates.filter((c) => c.errors.length === 0);
    try {
      const lamps = parseInventoryWithDetails({ type: 'FeatureCollection', features: valid.map((c) => features[c.row]) });
      valid.forEach((c, k) => (c.lamp = lamps[k]!));
      return candidates;
    } catch (e) {
      if (!(e instanceof LucioleError) || e.field === undefined) throw e;
      // The parser names `features.<index in what it was given>.<path>`.
      const m = /^features\.(\d+)(?:\.(.*))?$/.exec(e.field);
      const culprit = m ? valid[Number(m[1])] : undefined;
      if (!culprit) throw e;
      const message = e.message.replace(/^feature \d+( \(lamp "[^"]*"\))?: ([^:]*: )?/, '');
      culprit.errors.push({ field: m![2] ?? 'feature', message });
    }
  }
}
