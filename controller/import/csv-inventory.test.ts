import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LucioleError } from '../../core/errors.js';
import { openConfigStore, type SqliteConfigStore } from '../config-store.js';
import { normaliseHeader, resolveMapping } from './csv-columns.js';
import { detectDelimiter, parseCsvInventory, parseDate, parseDecimal } from './csv-inventory.js';
import { importInventory } from './inventory-import.js';
import { lambert93ToWgs84, wgs84ToLambert93 } from './lambert93.js';

/** A Lyon inventory as a GIS tool exports it for a French spreadsheet: BOM, `;`, decimal commas, Lambert-93. */
const HEADER =
  'Identifiant;Armoire;Quartier;X;Y;Puissance (W);Type lampe;Température couleur (K);ULR (%);Code flux CIE n°3;Flux nominal (lm);Date de pose';
const GOOD_ROWS = [
  'LYS-0001;ARM-01;presquile;842667,0;6519924,4;35;LED;3000;0;98;4200;15/03/2021',
  'LYS-0002;ARM-01;presquile;842698;6519936;35;LED;3000;0;98;4200;2021-03-15',
  'LYS-0003;ARM-01;presquile;842725;6519951;70;SHP;2000;3;;6600;',
];
const BAD_ROWS = [
  'LYS-0004;ARM-02;croix-rousse;842757;6519965;abc;LED;2700;0;97;3100;01/06/2022',
  'LYS-0005;ARM-02;croix-rousse;6519984;842642;25;LED;2700;0;97;3100;01/06/2022',
  'LYS 0006;ARM-02;croix-rousse;842642;6519984;25;LED;12000;0;97;3100;31/02/2022',
  'LYS-0002;ARM-02;croix-rousse;842642;6519984;25;LED;2700;0;97;3100;',
  ';ARM-02;croix-rousse;842600;6519990;25;;;;;;',
];
const csv = (rows: string[]): string => `\uFEFF${[HEADER, ...rows].join('\r\n')}\r\n`;

describe('Lambert-93 to WGS84', () => {
  it('puts the projection origin at 3°E 46.5°N and the Eiffel Tower where IGN has it', () => {
    const origin = lambert93ToWgs84(700_000, 6_600_000)!;
    expect(origin.lon).toBeCloseTo(3, 9);
    expect(origin.lat).toBeCloseTo(46.5, 9);
    // IGN's Lambert-93 coordinates of the Eiffel Tower: 648 237.3 E, 6 862 271.7 N.
    const eiffel = lambert93ToWgs84(648_237.3, 6_862_271.7)!;
    expect(eiffel.lon).toBeCloseTo(2.2945, 4);
    expect(eiffel.lat).toBeCloseTo(48.8584, 4);
  });

  it('round-trips to the millimetre and refuses swapped or foreign coordinates', () => {
    const { x, y } = wgs84ToLambert93(4.8357, 45.764);
    const back = lambert93ToWgs84(x, y)!;
    const again = wgs84ToLambert93(back.lon, back.lat);
    expect(Math.abs(again.x - x)).toBeLessThan(0.001);
    expect(Math.abs(again.y - y)).toBeLessThan(0.001);
    expect(lambert93ToWgs84(y, x)).toBeNull();
    expect(lambert93ToWgs84(4.8357, 45.764)).toBeNull();
  });
});

describe('CSV reading helpers', () => {
  it('normalises headers, detects the delimiter and reads French numbers and dates', () => {
    expect(normaliseHeader('Température couleur (K)')).toBe('temperature_couleur');
    expect(normaliseHeader('Code flux CIE n°3')).toBe('code_flux_cie_n_3');
    expect(detectDelimiter('\uFEFFa;b;"c,d"\n1;2;3')).toBe(';');
    expect(detectDelimiter('a,b,c\n')).toBe(',');
    expect(detectDelimiter('a\tb\n')).toBe('\t');
    expect(parseDecimal('1 234,5')).toBe(1234.5);
    expect(parseDecimal('12.5')).toBe(12.5);
    expect(parseDecimal('12 W')).toBeNaN();
    expect(parseDecimal('1,2,3')).toBeNaN();
    expect(parseDate('15/03/2021')).toBe('2021-03-15');
    expect(parseDate('2021-03-15')).toBe('2021-03-15');
    expect(parseDate('March 2021')).toBeNull();
  });

  it('detects the usual headers and lets an explicit mapping win or ignore a column', () => {
    const headers = ['lat', 'lon', 'x', 'y', 'id_pl', 'coffret', 'secteur', 'puissance', 'rue'];
    expect(resolveMapping(headers)).toEqual({
      coordinates: 'wgs84',
      mapping: { id: 'id_pl', cabinetId: 'coffret', zone: 'secteur', lat: 'lat', lon: 'lon', nominalPowerW: 'puissance' },
    });
    expect(resolveMapping(headers, { zone: 'rue', lat: null })).toEqual({
      coordinates: 'lambert93',
      mapping: { id: 'id_pl', cabinetId: 'coffret', zone: 'rue', x: 'x', y: 'y', nominalPowerW: 'puissance' },
    });
    expect(() => resolveMapping(headers, { zone: 'quartier' })).toThrow(/mapping\.zone: no column "quartier"/);
    expect(() => resolveMapping(['id', 'armoire', 'zone', 'puissance'])).toThrow(/no coordinate columns/);
  });
});

describe('CSV inventory import (real SQLite config store)', () => {
  let dir: string;
  let store: SqliteConfigStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-csv-'));
    store = openConfigStore(path.join(dir, 'config.db'), { now: () => 1_763_758_800_000 });
  });

  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports every row of a file with bad rows exactly, and imports nothing', () => {
    const { report, imported } = importInventory(store, { format: 'csv', text: csv([...GOOD_ROWS, ...BAD_ROWS]) }, { dryRun: false, actor: 'test' });
    expect(imported).toBeNull();
    expect(store.lamps()).toEqual([]);
    expect(store.auditLog(10)).toEqual([]);
    expect(report).toEqual({
      format: 'csv',
      dryRun: false,
      applied: false,
      coordinates: 'lambert93',
      mapping: {
        id: 'Identifiant',
        cabinetId: 'Armoire',
        zone: 'Quartier',
        x: 'X',
        y: 'Y',
        nominalPowerW: 'Puissance (W)',
        lampType: 'Type lampe',
        upwardLightRatioPct: 'ULR (%)',
        cieFluxCode3Pct: 'Code flux CIE n°3',
        colourTemperatureK: 'Température couleur (K)',
        nominalFluxLm: 'Flux nominal (lm)',
        installedOn: 'Date de pose',
      },
      summary: { rows: 8, create: 3, update: 0, unchanged: 0, refuse: 5 },
      rows: [
        { row: 2, id: 'LYS-0001', action: 'create' },
        { row: 3, id: 'LYS-0002', action: 'create' },
        { row: 4, id: 'LYS-0003', action: 'create' },
        {
          row: 5,
          id: 'LYS-0004',
          action: 'refuse',
          errors: [{ field: 'nominalPowerW', column: 'Puissance (W)', message: 'not a number: "abc"' }],
        },
        {
          row: 6,
          id: 'LYS-0005',
          action: 'refuse',
          errors: [
            {
              field: 'x',
              column: 'X',
              message: "x=6519984 y=842642 is outside Lambert-93's area (metropolitan France): another projection, or x and y swapped?",
            },
          ],
        },
        {
          row: 7,
          id: 'LYS 0006',
          action: 'refuse',
          errors: [
            { field: 'id', column: 'Identifiant', message: 'must be 1 to 64 characters of A-Z a-z 0-9 _ . -: "LYS 0006"' },
            { field: 'colourTemperatureK', column: 'Température couleur (K)', message: 'Too big: expected number to be <=10000: 12000' },
            { field: 'installedOn', column: 'Date de pose', message: 'Invalid ISO date: "2022-02-31"' },
          ],
        },
        {
          row: 8,
          id: 'LYS-0002',
          action: 'refuse',
          errors: [{ field: 'id', column: 'Identifiant', message: 'duplicate id "LYS-0002", already on line 3' }],
        },
        {
          row: 9,
          id: null,
          action: 'refuse',
          errors: [{ field: 'id', column: 'Identifiant', message: 'required' }],
        },
      ],
    });
  });

  it('dry-runs a clean file without writing, then imports it whole with its art. 5 data', () => {
    const text = csv(GOOD_ROWS);
    const dry = importInventory(store, { format: 'csv', text }, { dryRun: true, actor: 'test' });
    expect(dry.report.applied).toBe(false);
    expect(dry.report.summary).toEqual({ rows: 3, create: 3, update: 0, unchanged: 0, refuse: 0 });
    expect(store.lamps()).toEqual([]);

    const real = importInventory(store, { format: 'csv', text }, { dryRun: false, actor: 'test' });
    expect(real.report.applied).toBe(true);
    expect(real.imported).toEqual({ lamps: 3, cabinets: 1, zones: 1, created: 3, updated: 0, unchanged: 0 });
    const lamps = store.lamps();
    expect(lamps.map((l) => l.id)).toEqual(['LYS-0001', 'LYS-0002', 'LYS-0003']);
    const first = lamps[0]!;
    const expected = lambert93ToWgs84(842_667, 6_519_924.4)!;
    expect(first.lon).toBeCloseTo(expected.lon, 7);
    expect(first.lat).toBeCloseTo(expected.lat, 7);
    // Lyon, Hôtel de Ville.
    expect(first.lon).toBeCloseTo(4.8357, 3);
    expect(first.lat).toBeCloseTo(45.764, 3);
    expect(first).toMatchObject({
      cabinetId: 'ARM-01',
      zone: 'presquile',
      nominalPowerW: 35,
      baselinePowerW: null,
      lampType: 'LED',
      colourTemperatureK: 3000,
      upwardLightRatioPct: 0,
      cieFluxCode3Pct: 98,
      nominalFluxLm: 4200,
      installedOn: '2021-03-15',
    });
    expect(lamps[2]!.cieFluxCode3Pct).toBeUndefined();
    expect(lamps[2]!.installedOn).toBeUndefined();
    // 35 m and 67 m apart: within the default 45 m radius only the first pair and the second pair.
    expect(first.neighbours).toEqual(['LYS-0002']);
    expect(lamps[1]!.neighbours.sort()).toEqual(['LYS-0001', 'LYS-0003']);

    const again = importInventory(store, { format: 'csv', text }, { dryRun: true, actor: 'test' });
    expect(again.report.summary).toEqual({ rows: 3, create: 0, update: 0, unchanged: 3, refuse: 0 });
    expect(again.report.rows).toEqual([]);
  });

  it('reports the fields a re-import would change, keeps details and baselines the file leaves out', () => {
    importInventory(store, { format: 'csv', text: csv(GOOD_ROWS) }, { dryRun: false, actor: 'test' });
    store.updateLampDetails('LYS-0003', { cieFluxCode3Pct: 96 }, 'test');
    const edited = [
      'Identifiant;Armoire;Quartier;X;Y;Puissance (W);Température couleur (K)',
      'LYS-0001;ARM-01;presquile;842667,0;6519924,4;25;2700',
      'LYS-0002;ARM-01;presquile;842698;6519936;35;',
      'LYS-0003;ARM-09;presquile;842725;6519951;70;',
    ].join('\n');
    const dry = importInventory(store, { format: 'csv', text: edited }, { dryRun: true, actor: 'test' });
    expect(dry.report.rows).toEqual([
      { row: 2, id: 'LYS-0001', action: 'update', changes: ['nominalPowerW', 'colourTemperatureK'] },
      { row: 4, id: 'LYS-0003', action: 'update', changes: ['cabinetId'] },
    ]);
    importInventory(store, { format: 'csv', text: edited }, { dryRun: false, actor: 'test' });
    const byId = new Map(store.lamps().map((l) => [l.id, l]));
    expect(byId.get('LYS-0001')).toMatchObject({ nominalPowerW: 25, colourTemperatureK: 2700, lampType: 'LED', installedOn: '2021-03-15' });
    expect(byId.get('LYS-0003')).toMatchObject({ cabinetId: 'ARM-09', cieFluxCode3Pct: 96, lampType: 'SHP' });
  });

  it('reads comma-separated WGS84 files, and an explicit mapping for unusual headers', () => {
    const text = ['num_pl,depart,rue,latitude,longitude,watts', 'A1,C1,gare,45.7640,4.8357,40', 'A2,C1,gare,45.7642,4.8359,40'].join('\n');
    expect(() => parseCsvInventory(text)).toThrow(LucioleError);
    const { report } = importInventory(
      store,
      { format: 'csv', text },
      { dryRun: false, actor: 'test', mapping: { id: 'num_pl', cabinetId: 'depart', zone: 'rue', nominalPowerW: 'watts' } },
    );
    expect(report.coordinates).toBe('wgs84');
    expect(report.summary.create).toBe(2);
    expect(store.lamps()[0]).toMatchObject({ id: 'A1', cabinetId: 'C1', zone: 'gare', lat: 45.764, lon: 4.8357, nominalPowerW: 40 });
  });

  it('refuses a file it cannot read with a coded error naming the field', () => {
    const attempt = (text: string): LucioleError => {
      try {
        importInventory(store, { format: 'csv', text }, { dryRun: true, actor: 'test' });
      } catch (e) {
        if (e instanceof LucioleError) return e;
      }
      throw new Error('no LucioleError');
    };
    expect(attempt('')).toMatchObject({ code: 'LUCIOLE_ERR_INVENTORY_INVALID', field: 'body' });
    expect(attempt('id;armoire;zone;puissance\nA;B;C;1')).toMatchObject({ code: 'LUCIOLE_ERR_IMPORT_MAPPING', field: 'mapping.lat' });
    expect(attempt('id;armoire;zone;puissance;lat;lon\n"A;B;C;1;2;3')).toMatchObject({ code: 'LUCIOLE_ERR_INVENTORY_INVALID', field: 'body' });
  });

  it('imports GeoJSON with art. 5 properties, per feature, all or nothing', () => {
    const feature = (id: string, lon: number, props: Record<string, unknown> = {}) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [lon, 45.764] },
      properties: { id, cabinetId: 'ARM-01', zone: 'centre', nominalPowerW: 30, ...props },
    });
    const bad = {
      type: 'FeatureCollection',
      features: [
        feature('G1', 4.8357, { colourTemperatureK: 2700, installedOn: '2020-01-31' }),
        feature('G2', 4.8358, { nominalPowerW: -3 }),
        feature('G3', 4.8359, { neighbours: ['G2'] }),
      ],
    };
    const { report } = importInventory(store, { format: 'geojson', json: bad }, { dryRun: false, actor: 'test' });
    expect(report.applied).toBe(false);
    expect(store.lamps()).toEqual([]);
    expect(report.rows).toEqual([
      { row: 0, id: 'G1', action: 'create' },
      { row: 1, id: 'G2', action: 'refuse', errors: [{ field: 'properties.nominalPowerW', message: expect.stringContaining('>0') }] },
      { row: 2, id: 'G3', action: 'refuse', errors: [{ field: 'properties.neighbours.0', message: 'unknown lamp "G2"' }] },
    ]);
    const good = { type: 'FeatureCollection', features: [bad.features[0]] };
    expect(importInventory(store, { format: 'geojson', json: good }, { dryRun: false, actor: 'test' }).report.applied).toBe(true);
    expect(store.lamps()[0]).toMatchObject({ id: 'G1', colourTemperatureK: 2700, installedOn: '2020-01-31' });
    // The operator contract's own import path carries the details too.
    store.importInventory({ type: 'FeatureCollection', features: [feature('G1', 4.8357, { colourTemperatureK: 3000 })] }, 'test');
    expect(store.lamps()[0]).toMatchObject({ colourTemperatureK: 3000, installedOn: '2020-01-31' });
  });
});
