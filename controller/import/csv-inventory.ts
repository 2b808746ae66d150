import { parse } from 'csv-parse/sync';
import type { z } from 'zod';
import { LucioleError } from '../../core/errors.js';
import { lampPropertiesSchema, type LampRecord } from '../inventory-schema.js';
import { CSV_FIELDS, MappingError, resolveMapping, type ColumnMapping, type CsvField, type ResolvedMapping } from './csv-columns.js';
import type { RowError } from './import-report.js';
import { lambert93ToWgs84 } from './lambert93.js';

/**
 * A CSV inventory, as GIS tools and French open-data portals export it, turned into lamp records
 * row by row. Pure: no I/O, no time. Every row is checked and every problem of a row reported
 * (field and column named), so a town can fix its file in one go; whether anything is imported
 * is decided later, all or nothing.
 */

const INVALID = 'LUCIOLE_ERR_INVENTORY_INVALID';

export interface CsvRow {
  /** Line of the file the row ends on, header = line 1: what a spreadsheet shows. */
  line: number;
  id: string | null;
  /** The record (neighbours still empty), or null when the row is refused. */
  lamp: LampRecord | null;
  /** Whether the file gave a baseline power for this row (otherwise the stored one is kept). */
  baselineGiven: boolean;
  errors: RowError[];
}

export interface ParsedCsvInventory {
  delimiter: string;
  coordinates: 'wgs84' | 'lambert93';
  mapping: ResolvedMapping;
  rows: CsvRow[];
}

export interface ImportProgress {
  phase: 'parse' | 'validate' | 'write';
  done: number;
  total: number;
}

export interface CsvParseOptions {
  mapping?: ColumnMapping;
  onProgress?: (p: ImportProgress) => void;
  /** Rows between two progress calls. Default 5,000. */
  progressEvery?: number;
}

const rowSchema = lampPropertiesSchema.omit({ neighbours: true });

const NUMERIC: ReadonlySet<CsvField> = new Set<CsvField>([
  'lat',
  'lon',
  'x',
  'y',
  'nominalPowerW',
  'baselinePowerW',
  'upwardLightRatioPct',
  'cieFluxCode3Pct',
  'colourTemperatureK',
  'maxPowerW',
  'nominalFluxLm',
]);

/** The delimiter used most in the header line: `;` for French spreadsheets, `,` otherwise, or tab. */
export function detectDelimiter(text: string): string {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const end = text.indexOf('\n', start);
  const header = text.slice(start, end < 0 ? text.length : end).replace(/"[^"]*"/g, '');
  let best = ',';
  let bestCount = 0;
  for (const d of [',', ';', '\t']) {
    const count = header.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

/** "1 234,5" or "1234.5" → 1234.5; anything else → NaN. Spaces (thousands, NBSP) are dropped. */
export function parseDecimal(cell: string): number {
  const compact = cell.replace(/[\s\u00a0\u202f]/g, '');
  const dotted = compact.includes(',') && !compact.includes('.') ? compact.replace(',', '.') : compact;
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(dotted) ? Number(dotted) : Number.NaN;
}

/** YYYY-MM-DD, or the French DD/MM/YYYY, to YYYY-MM-DD; null when neither. */
export function parseDate(cell: string): string | null {
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(cell);
  if (iso) return cell;
  const fr = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(cell);
  if (fr) return `${fr[3]}-${fr[2]!.padStart(2, '0')}-${fr[1]!.padStart(2, '0')}`;
  return null;
}

const round7 = (v: number): number => Math.round(v * 1e7) / 1e7;

export function parseCsvInventory(text: string, opts: CsvParseOptions = {}): ParsedCsvInventory {
  const every = Math.max(1, opts.progressEvery ?? 5_000);
  const delimiter = detectDelimiter(text);
  let records: Array<{ info: { lines: number }; record: string[] }>;
  try {
    // With `info`, each record comes with the line it ends on (csv-parse's documented shape).
    records = parse(text, {
      bom: true,
      delimiter,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as Array<{ info: { lines: number }; record: string[] }>;
  } catch (e) {
    const err = e as { message?: string; lines?: number };
    throw new LucioleError(INVALID, `csv: ${err.lines !== undefined ? `line ${err.lines}: ` : ''}${err.message ?? 'unreadable'}`, 'body');
  }
  const header = records[0]?.record.map((h) => h.trim());
  if (!header || header.every((h) => h === '')) throw new LucioleError(INVALID, 'csv: no header line', 'body');
  let resolved: ReturnType<typeof resolveMapping>;
  try {
    resolved = resolveMapping(header, opts.mapping);
  } catch (e) {
    if (e instanceof MappingError) throw new LucioleError('LUCIOLE_ERR_IMPORT_MAPPING', e.message, e.field);
    throw e;
  }
  const { mapping, coordinates } = resolved;
  const index = new Map<CsvField, number>();
  for (const field of CSV_FIELDS) {
    const h = mapping[field];
    if (h !== undefined) index.set(field, header.indexOf(h));
  }

  const total = records.length - 1;
  opts.onProgress?.({ phase: 'parse', done: total, total });
  const rows: CsvRow[] = [];
  for (let r = 1; r < records.length; r++) {
    const { info, record } = records[r]!;
    rows.push(parseRow(record, info.lines, index, mapping, coordinates));
    if (r % every === 0) opts.onProgress?.({ phase: 'validate', done: r, total });
  }
  markDuplicates(rows, mapping.id!);
  opts.onProgress?.({ phase: 'validate', done: total, total });
  return { delimiter, coordinates, mapping, rows };
}

function parseRow(
  record: string[],
  line: number,
  index: Map<CsvField, number>,
  mapping: ResolvedMapping,
  coordinates: 'wgs84' | 'lambert93',
): CsvRow {
  const errors: RowError[] = [];
  const fail = (field: CsvField | string, message: string): void => {
    const column = mapping[field as CsvField];
    errors.push(column === undefined ? { field, message } : { field, column, message });
  };
  const values: Partial<Record<CsvField, string | number>> = {};
  for (const [field, i] of index) {
    const cell = (record[i] ?? '').trim();
    if (cell === '') continue;
    if (NUMERIC.has(field)) {
      const n = parseDecimal(cell);
      if (Number.isNaN(n)) fail(field, `not a number: "${cell}"`);
      else values[field] = n;
    } else if (field === 'installedOn') {
      const d = parseDate(cell);
      if (d === null) fail(field, `not a date (YYYY-MM-DD or DD/MM/YYYY): "${cell}"`);
      else values[field] = d;
    } else {
      values[field] = cell;
    }
  }
  const failed = new Set(errors.map((e) => e.field));
  const rawId = typeof values.id === 'string' ? values.id : null;

  let position: { lat: number; lon: number } | null = null;
  if (coordinates === 'wgs84') {
    const { lat, lon } = values;
    if (lat === undefined && !failed.has('lat')) fail('lat', 'required');
    if (lon === undefined && !failed.has('lon')) fail('lon', 'required');
    if (typeof lat === 'number' && (lat < -90 || lat > 90)) fail('lat', `out of range -90..90: ${lat}`);
    else if (typeof lon === 'number' && (lon < -180 || lon > 180)) fail('lon', `out of range -180..180: ${lon}`);
    else if (typeof lat === 'number' && typeof lon === 'number') position = { lat, lon };
  } else {
    const { x, y } = values;
    if (x === undefined && !failed.has('x')) fail('x', 'required');
    if (y === undefined && !failed.has('y')) fail('y', 'required');
    if (typeof x === 'number' && typeof y === 'number') {
      const p = lambert93ToWgs84(x, y);
      if (p) position = { lat: round7(p.lat), lon: round7(p.lon) };
      else fail('x', `x=${x} y=${y} is outside Lambert-93's area (metropolitan France): another projection, or x and y swapped?`);
    }
  }

  const candidate: Record<string, unknown> = {};
  for (const field of ['id', 'cabinetId', 'zone', 'nominalPowerW', 'baselinePowerW', 'lampType', 'upwardLightRatioPct', 'cieFluxCode3Pct', 'colourTemperatureK', 'maxPowerW', 'nominalFluxLm', 'installedOn'] as const) {
    if (values[field] !== undefined) candidate[field] = values[field];
  }
  const parsed = rowSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path.map(String).join('.') || 'row';
      if (failed.has(field)) continue;
      fail(field, issueMessage(issue, candidate[field]));
    }
  }
  if (errors.length > 0 || !parsed.success || position === null) {
    return { line, id: rawId, lamp: null, baselineGiven: false, errors };
  }
  const p = parsed.data;
  const lamp: LampRecord = {
    id: p.id,
    cabinetId: p.cabinetId,
    zone: p.zone,
    lat: position.lat,
    lon: position.lon,
    nominalPowerW: p.nominalPowerW,
    baselinePowerW: p.baselinePowerW ?? null,
    neighbours: [],
  };
  for (const key of ['lampType', 'upwardLightRatioPct', 'cieFluxCode3Pct', 'colourTemperatureK', 'maxPowerW', 'nominalFluxLm', 'installedOn'] as const) {
    if (p[key] !== undefined) (lamp as Record<string, unknown>)[key] = p[key];
  }
  return { line, id: p.id, lamp, baselineGiven: p.baselinePowerW !== undefined, errors };
}

function issueMessage(issue: z.core.$ZodIssue, value: unknown): string {
  if (value === undefined) return 'required';
  return `${issue.message}: ${JSON.stringify(value)}`;
}

/** A second row with an id already used is refused; the first keeps it. */
function markDuplicates(rows: CsvRow[], idColumn: string): void {
  const firstLine = new Map<string, number>();
  for (const row of rows) {
    if (row.id === null) continue;
    const first = firstLine.get(row.id);
    if (first === undefined) {
      firstLine.set(row.id, row.line);
      continue;
    }
    row.errors.push({ field: 'id', column: idColumn, message: `duplicate id "${row.id}", already on line ${first}` });
    row.lamp = null;
  }
}
