import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ControllerApi } from '../controller/api.js';
import { openConfigStore, type SqliteConfigStore } from '../controller/config-store.js';
import { frNumber } from '../controller/reports/french.js';
import { headlineLines } from '../controller/reports/pdf.js';
import { energyReportSchema, type EnergyReport } from '../controller/reports/report-schema.js';
import { SqliteTelemetryStore } from '../controller/sqlite-telemetry-store.js';
import type { TelemetryRecord } from '../controller/stores.js';
import type { LampView } from '../controller/views.js';
import { nightForDate } from '../core/astro.js';
import { ManualClock } from '../core/clock.js';
import { buildApp } from './app.js';

/** The report routes through inject(), on real SQLite config and telemetry files. */

const TOKEN = 'report-test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const SITE = { lat: 45.8336, lon: 4.8446, timezone: 'Europe/Paris' };
const MIN = 60_000;

const LAMPS: LampView[] = [
  { id: 'A1', cabinetId: 'C1', zone: 'centre', lat: 45.83, lon: 4.84, nominalPowerW: 55, baselinePowerW: 150, level: null, powerW: null, fault: null, lastTs: null },
  { id: 'A2', cabinetId: 'C1', zone: 'centre', lat: 45.83, lon: 4.84, nominalPowerW: 55, baselinePowerW: 150, level: null, powerW: null, fault: null, lastTs: null },
  { id: 'B1', cabinetId: 'C2', zone: 'parc', lat: 45.83, lon: 4.84, nominalPowerW: 25, baselinePowerW: 70, level: null, powerW: null, fault: null, lastTs: null },
];

/** What the report routes read of the controller; the rest is never called. */
function controllerStub(clock: ManualClock): ControllerApi {
  const stub: Pick<ControllerApi, 'clock' | 'town' | 'listLamps'> = {
    clock,
    town: () => ({ name: 'Saint-Luciole-sur-Saône', site: SITE }),
    listLamps: () => LAMPS,
  };
  return stub as ControllerApi;
}

async function pdfText(body: Buffer): Promise<string> {
  const fonts = `${path.join(path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts')}/`;
  const doc = await getDocument({ data: new Uint8Array(body), disableFontFace: true, useSystemFonts: false, standardFontDataUrl: fonts }).promise;
  const parts: string[] = [];
  for (let p = 1; p <= doc.numPages; p++) {
    const content = await (await doc.getPage(p)).getTextContent();
    for (const item of content.items) if ('str' in item) parts.push(item.str);
  }
  await doc.destroy();
  return parts.join(' ').replace(/\s+/g, ' ');
}

const norm = (s: string): string => s.replace(/\s+/g, ' ');

describe('report routes', () => {
  let dir: string;
  let telemetry: SqliteTelemetryStore;
  let config: SqliteConfigStore;
  let app: FastifyInstance;
  const clock = new ManualClock(Date.UTC(2025, 10, 20, 15, 0));

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-report-routes-'));
    telemetry = new SqliteTelemetryStore({ file: path.join(dir, 'telemetry.db') });
    await telemetry.open();
    config = openConfigStore(path.join(dir, 'config.db'));
    // Two nights, every lamp at 40 % drawing 40 % of its power, a message per cabinet per minute.
    let counter = 0;
    for (const date of ['2025-11-18', '2025-11-19']) {
      const n = nightForDate(SITE, date);
      const batch: TelemetryRecord[] = [];
      for (let t = Math.ceil(n.dusk / MIN) * MIN; t <= n.dawn; t += MIN) {
        counter++;
        for (const cab of ['C1', 'C2']) {
          const lamps = LAMPS.filter((l) => l.cabinetId === cab).map((l) => ({
            id: l.id,
            level: 40,
            powerW: l.nominalPowerW * 0.4,
            energyWh: (counter * l.nominalPowerW * 0.4) / 60,
            fault: null,
          }));
          batch.push({ cabinetId: cab, seq: t, ts: t, periodS: 60, receivedAt: t, lamps });
        }
      }
      await telemetry.writeTelemetry(batch);
    }
    app = await buildApp({ controller: controllerStub(clock), adminToken: TOKEN, reports: { telemetry, config } });
  });

  afterEach(async () => {
    await app.close();
    await telemetry.close();
    config.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const getReport = async (qs: string): Promise<EnergyReport> => {
    const res = await app.inject({ method: 'GET', url: `/api/reports/energy?${qs}`, headers: auth });
    expect(res.statusCode, res.body).toBe(200);
    return energyReportSchema.parse(res.json());
  };

  it('answers the report with headline, nights, zones and completeness; refuses bad queries naming the field', async () => {
    const r = await getReport('period=week&from=2025-11-18');
    expect(r.period).toEqual({ kind: 'week', from: '2025-11-17', to: '2025-11-20', nights: 4, nightsMeasured: 2 });
    expect(r.nights.map((n) => n.date)).toEqual(['2025-11-17', '2025-11-18', '2025-11-19', '2025-11-20']);
    expect(r.groups.map((g) => g.key)).toEqual(['centre', 'parc']);
    // At 40 % power the saving against full power is 60 % (the first sample of each lamp reads no delta).
    expect(r.headline.savedVsFullPower.pct).toBeGreaterThan(59);
    expect(r.headline.savedVsFullPower.pct).toBeLessThan(61);
    expect(r.nights[1]!.completeness).toBe(1);
    expect(r.headline.costEur).toBeNull();
    expect(r.groups[0]!.energyKWh! + r.groups[1]!.energyKWh!).toBeCloseTo(r.headline.energyKWh!, 9);
    const byCabinet = await getReport('period=week&from=2025-11-18&groupBy=cabinet');
    expect(byCabinet.groups.map((g) => g.key)).toEqual(['C1', 'C2']);

    const bad = await app.inject({ method: 'GET', url: '/api/reports/energy?period=decade', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'LUCIOLE_ERR_VALIDATION', field: 'period' });
    const future = await app.inject({ method: 'GET', url: '/api/reports/energy?period=night&from=2026-01-01', headers: auth });
    expect(future.statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/api/reports/energy' })).statusCode).toBe(401);
  });

  it('keeps tariffs and the emission factor, refuses overlapping tariffs, and prices the report', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/reports/settings', headers: auth })).json()).toEqual({ tariffs: [], emissionFactorKgPerKWh: 0.053 });
    const overlap = await app.inject({
      method: 'PUT',
      url: '/api/reports/settings',
      headers: auth,
      payload: { tariffs: [{ from: '2025-01-01', to: null, eurPerKWh: 0.2 }, { from: '2025-06-01', to: null, eurPerKWh: 0.3 }], emissionFactorKgPerKWh: 0.053 },
    });
    expect(overlap.statusCode).toBe(400);
    expect(overlap.json()).toMatchObject({ code: 'LUCIOLE_ERR_VALIDATION', field: 'tariffs.1.from' });
    const ok = await app.inject({
      method: 'PUT',
      url: '/api/reports/settings',
      headers: auth,
      payload: { tariffs: [{ from: '2025-01-01', to: null, eurPerKWh: 0.2, label: 'Contrat 2025' }], emissionFactorKgPerKWh: 0.06 },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(config.auditLog(5).some((e) => e.action === 'reports.settings.save')).toBe(true);
    const r = await getReport('period=month&from=2025-11-01');
    expect(r.headline.costEur).toBeCloseTo(r.headline.energyKWh! * 0.2, 9);
    expect(r.headline.savedVsBeforeRenovation.tCo2e).toBeCloseTo((r.headline.savedVsBeforeRenovation.kWh! * 0.06) / 1000, 12);
    expect(r.groups[0]!.costEur).toBeCloseTo(r.groups[0]!.energyKWh! * 0.2, 9);
  });

  it('exports CSV for a French spreadsheet and open data with its field meanings', async () => {
    const r = await getReport('period=month&from=2025-11-01');
    const csv = await app.inject({ method: 'GET', url: '/api/reports/energy.csv?period=month&from=2025-11-01', headers: auth });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.startsWith('\ufeffNuit du;En cours;')).toBe(true);
    const rows = parseCsv(csv.body.slice(1), { delimiter: ';', columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(r.nights.length);
    const n19 = r.nights.find((n) => n.date === '2025-11-19')!;
    expect(rows.find((x) => x['Nuit du'] === '2025-11-19')!['Consommation mesurée (kWh)']).toBe(frNumber(n19.energyKWh!, 3).replace(/\s/g, ''));
    const zones = await app.inject({ method: 'GET', url: '/api/reports/energy.csv?period=month&from=2025-11-01&table=groups', headers: auth });
    expect(zones.body.split('\r\n')[1]).toMatch(/^centre;centre;2;/);
    const lamps = await app.inject({ method: 'GET', url: '/api/reports/energy.csv?period=month&from=2025-11-01&table=lamps', headers: auth });
    expect(lamps.body.split('\r\n').filter((l) => l !== '')).toHaveLength(1 + LAMPS.length);

    const od = await app.inject({ method: 'GET', url: '/api/reports/opendata/energy-nightly.csv?period=month&from=2025-11-01', headers: auth });
    const odRows = parseCsv(od.body, { columns: true }) as Array<Record<string, string>>;
    expect(Number(odRows.find((x) => x.date === '2025-11-19')!.energyKWh)).toBeCloseTo(n19.energyKWh!, 3);
    const json = await app.inject({ method: 'GET', url: '/api/reports/opendata/energy-nightly.json?period=month&from=2025-11-01', headers: auth });
    expect(json.json()).toMatchObject({ publisher: 'Saint-Luciole-sur-Saône', license: { name: 'etalab-2.0' } });
    const schema = (await app.inject({ method: 'GET', url: '/api/reports/opendata/energy-nightly.schema.json', headers: auth })).json();
    expect(schema.fields.map((f: { name: string }) => f.name)).toEqual(Object.keys(json.json().records[0]));
  });

  it('generates a valid A4 PDF whose text holds the title, the town, the period and the headline figures', async () => {
    await app.inject({ method: 'PUT', url: '/api/reports/settings', headers: auth, payload: { tariffs: [{ from: '2025-01-01', to: null, eurPerKWh: 0.1952 }], emissionFactorKgPerKWh: 0.053 } });
    const r = await getReport('period=month&from=2025-11-01');
    const res = await app.inject({ method: 'GET', url: '/api/reports/energy.pdf?period=month&from=2025-11-01', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const text = await pdfText(res.rawPayload);
    expect(text).toContain("Rapport énergie de l'éclairage public");
    expect(text).toContain('Saint-Luciole-sur-Saône');
    expect(text).toContain('nuits du 1 novembre 2025 au 20 novembre 2025');
    for (const [label, value] of headlineLines(r.headline)) {
      expect(text).toContain(label);
      expect(text).toContain(norm(value.replace(/\u202f/g, '\u00a0')));
    }
    expect(text).toContain(`${norm(frNumber(r.headline.energyKWh!, 1))} kWh`);
    expect(text).toContain('Méthode');
  });

  it('answers 501 when the server was given no roll-ups', async () => {
    const bare = await buildApp({ controller: controllerStub(clock), adminToken: TOKEN });
    const res = await bare.inject({ method: 'GET', url: '/api/reports/energy', headers: auth });
    expect(res.statusCode).toBe(501);
    expect(res.json()).toMatchObject({ code: 'LUCIOLE_ERR_NOT_CONFIGURED' });
    await bare.close();
  });
});
