import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { EnergySummary } from '../views.js';
import { INVENTORY_SCHEMA, MONTHLY_ENERGY_SCHEMA, inventoryRows, monthlyEnergyRows, toCsv, toJsonDocument } from './datasets.js';

const night = (date: string, energyWh: number, fullPowerWh: number, inProgress = false): EnergySummary['nights'][number] => ({
  date,
  dusk: 0,
  dawn: 1,
  energyWh,
  fullPowerWh,
  savedWh: fullPowerWh - energyWh,
  savedPct: null,
  completeness: inProgress ? 0.5 : 1,
  inProgress,
});

describe('open data', () => {
  it('sums nights into months, saying which months are complete', () => {
    const nights = [night('2025-10-31', 1000, 4000)];
    for (let d = 1; d <= 30; d++) nights.push(night(`2025-11-${String(d).padStart(2, '0')}`, 2000, 5000));
    nights.push(night('2025-12-01', 500, 1000, true));
    const rows = monthlyEnergyRows({ timezone: 'Europe/Paris', site: { lat: 45, lon: 4, timezone: 'Europe/Paris' }, lamps: 3, nights });
    expect(rows).toEqual([
      { month: '2025-10', nights: 1, complete: false, energyKWh: 1, fullPowerKWh: 4, savedKWh: 3, savedPct: 75, completeness: 1 },
      { month: '2025-11', nights: 30, complete: true, energyKWh: 60, fullPowerKWh: 150, savedKWh: 90, savedPct: 60, completeness: 1 },
      { month: '2025-12', nights: 1, complete: false, energyKWh: 0.5, fullPowerKWh: 1, savedKWh: 0.5, savedPct: 50, completeness: 0.5 },
    ]);
    expect(Object.keys(rows[0]!)).toEqual(MONTHLY_ENERGY_SCHEMA.fields.map((f) => f.name));
  });

  it('writes RFC 4180 CSV that reads back to the same records, unknown as empty', () => {
    const lamps = [
      { id: 'A1', cabinetId: 'C1', zone: 'z', lat: 45.76, lon: 4.83, nominalPowerW: 30, baselinePowerW: null, neighbours: [], lampType: 'Sodium, haute "pression"' },
      { id: 'A2', cabinetId: 'C1', zone: 'z', lat: 45.761, lon: 4.831, nominalPowerW: 30, baselinePowerW: 150, neighbours: [], installedOn: '2020-02-29' },
    ];
    const rows = inventoryRows(lamps);
    const csv = toCsv(INVENTORY_SCHEMA, rows);
    expect(csv.split('\r\n')[0]).toBe(INVENTORY_SCHEMA.fields.map((f) => f.name).join(','));
    const back = parse(csv, { columns: true }) as Array<Record<string, string>>;
    expect(back[0]!.lampType).toBe('Sodium, haute "pression"');
    expect(back).toEqual(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)]))));
    const doc = toJsonDocument(INVENTORY_SCHEMA, rows, 'Ville de Test', Date.UTC(2025, 10, 21));
    expect(doc).toMatchObject({ publisher: 'Ville de Test', generatedAt: '2025-11-21T00:00:00.000Z', license: { name: 'etalab-2.0' } });
  });
});
