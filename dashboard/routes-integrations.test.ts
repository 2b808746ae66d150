import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { parse as parseCsv } from 'csv-parse/sync';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConfigStore, type SqliteConfigStore } from '../controller/config-store.js';
import { Controller } from '../controller/controller.js';
import { wgs84ToLambert93 } from '../controller/import/lambert93.js';
import { SqliteTelemetryStore } from '../controller/sqlite-telemetry-store.js';
import { connectClient, startTestBroker, until, type TestBroker } from '../controller/test-kit.js';
import { systemClock } from '../core/clock.js';
import { cabinetTopic } from '../protocol/index.js';
import { buildApp } from './app.js';

/**
 * The integration routes against the real parts: aedes broker, MQTT.js gateway, controller,
 * SQLite config and telemetry stores, the app through inject().
 */

const TOKEN = 'integration-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

function l93(lon: number, lat: number): string {
  const { x, y } = wgs84ToLambert93(lon, lat);
  return `${x.toFixed(2).replace('.', ',')};${y.toFixed(2).replace('.', ',')}`;
}
const CSV = [
  'Identifiant;Armoire;Quartier;X;Y;Puissance (W);Type lampe;Température couleur (K);Date de pose',
  `LYS-0001;ARM-01;presquile;${l93(4.8357, 45.764)};35;LED;3000;15/03/2021`,
  `LYS-0002;ARM-01;presquile;${l93(4.8361, 45.764)};35;LED;3000;15/03/2021`,
  `LYS-0003;ARM-02;croix-rousse;${l93(4.8365, 45.7642)};70;SHP;2000;`,
].join('\n');

/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for tests and for
 * anyone checking a scrape: every sample must belong to a family declared by `# TYPE` first,
 * names and labels must be well formed, histogram buckets cumulative and ending at +Inf.
 * Throws an Error naming the line on the first violation.
 */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface MetricFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, where: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`${where}: bad value "${s}"`);
  return Number(s);
}

function parseLabels(s: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without "="`);
    const name = s.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (Object.hasOwn(labels, name)) throw new Error(`${where}: label "${name}" twice`);
    if (s[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = s[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const n = s[j + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new Error(`${where}: bad escape "\\${n ?? ''}"`);
        j += 2;
        continue;
      }
      if (c === '\n') throw new Error(`${where}: newline in label value`);
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`${where}: expected "," between labels`);
  }
  return labels;
}

/** The family a sample name belongs to: histograms and summaries add suffixes. */
function familyOf(name: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  const exact = families.get(name);
  if (exact) return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, MetricFamily>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const where = `line ${n + 1}`;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
      const f = families.get(name) ?? { name, type: 'untyped' as const, help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: bad type "${rest}"`);
        if (f.samples.length > 0) throw new Error(`${where}: TYPE after samples of ${name}`);
        f.type = rest as MetricFamily['type'];
      } else {
        f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      families.set(name, f);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`${where}: not a sample: "${line}"`);
    const name = m[1]!;
    const family = familyOf(name, families);
    if (!family) throw new Error(`${where}: sample "${name}" of no declared family`);
    family.samples.push({ name, labels: parseLabels(m[2] ?? '', where), value: parseValue(m[3]!, where) });
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: MetricFamily): void {
  const series = new Map<string, Sample[]>();
  for (const s of f.samples) {
    if (s.name !== `${f.name}_bucket`) continue;
    const { le, ...rest } = s.labels;
    if (le === undefined) throw new Error(`${f.name}: bucket without le`);
    const key = JSON.stringify(Object.entries(rest).sort());
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    let previous = -Infinity;
    let count = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le!, f.name);
      if (le <= previous) throw new Error(`${f.name}${key}: buckets not in increasing le order`);
      if (b.value < count) throw new Error(`${f.name}${key}: buckets not cumulative`);
      previous = le;
      count = b.value;
    }
    if (previous !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
  }
}

/** The value of one sample, by name and exact labels; undefined when absent. */
function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const keys = Object.keys(s.labels);
      if (keys.length === Object.keys(labels).length && keys.every((k) => s.labels[k] === labels[k])) return s.value;
    }
  }
  return undefined;
}

describe('integration routes (real broker, controller and SQLite stores)', () => {
  let dir: string;
  let broker: TestBroker;
  let configStore: SqliteConfigStore;
  let telemetryStore: SqliteTelemetryStore;
  let controller: Controller;
  let app: FastifyInstance;
  let gateways: MqttClient[];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-integrations-'));
    broker = await startTestBroker();
    configStore = openConfigStore(path.join(dir, 'config.db'));
    telemetryStore = new SqliteTelemetryStore({ file: path.join(dir, 'telemetry.db') });
    await telemetryStore.open();
    controller = new Controller({
      brokerUrl: broker.url,
      username: 'controller',
      password: 'unused-without-auth',
      configStore,
      telemetryStore,
      clock: systemClock(),
      logger: pino({ level: 'silent' }),
      batchMs: 20,
      receiptMs: 50,
    });
    await controller.start();
    app = await buildApp({
      controller,
      adminToken: TOKEN,
      version: 'test',
      integrations: { inventory: configStore, onInventoryChanged: () => controller.reloadInventory() },
    });
    gateways = [];
  });

  afterEach(async () => {
    await app.close();
    for (const g of gateways) await g.endAsync(true);
    await controller.stop();
    await broker.close();
    await telemetryStore.close();
    configStore.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const importCsv = (text: string, query = '') =>
    app.inject({ method: 'POST', url: `/api/inventory/import${query}`, headers: { ...auth, 'content-type': 'text/csv' }, payload: text });

  it('dry-runs a CSV import, then imports it and the controller sees the lamps', async () => {
    const dry = await importCsv(CSV, '?dryRun=true');
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ format: 'csv', dryRun: true, applied: false, coordinates: 'lambert93', summary: { rows: 3, create: 3, refuse: 0 } });
    expect(controller.listLamps()).toEqual([]);

    const real = await importCsv(CSV);
    expect(real.statusCode).toBe(200);
    expect(real.json()).toMatchObject({ applied: true, summary: { create: 3 } });
    expect(controller.listLamps().map((l) => l.id)).toEqual(['LYS-0001', 'LYS-0002', 'LYS-0003']);
    expect(controller.getLamp('LYS-0001')).toMatchObject({ lampType: 'LED', colourTemperatureK: 3000, installedOn: '2021-03-15' });
    expect(controller.getLamp('LYS-0001')!.lon).toBeCloseTo(4.8357, 6);
    expect(configStore.auditLog(5).map((a) => a.action)).toContain('inventory.import');
  });

  it('refuses a CSV with a bad row with 422 and the report, and writes nothing', async () => {
    const res = await importCsv(`${CSV}\nLYS-0004;ARM-02;croix-rousse;1;2;70;LED;;`);
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body).toMatchObject({ code: 'LUCIOLE_ERR_INVENTORY_INVALID', message: '1 of 4 rows refused; nothing imported', field: 'X' });
    expect(body.report.rows.at(-1)).toMatchObject({ row: 5, id: 'LYS-0004', action: 'refuse', errors: [{ field: 'x', column: 'X' }] });
    expect(configStore.lamps()).toEqual([]);
  });

  it('imports GeoJSON sent as application/geo+json, and checks the mapping query', async () => {
    const geojson = {
      type: 'FeatureCollection',
      features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [4.83, 45.76] }, properties: { id: 'G1', cabinetId: 'C1', zone: 'z', nominalPowerW: 20, maxPowerW: 25 } }],
    };
    const res = await app.inject({ method: 'POST', url: '/api/inventory/import', headers: { ...auth, 'content-type': 'application/geo+json' }, payload: JSON.stringify(geojson) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ format: 'geojson', applied: true });
    expect(configStore.lamps()[0]).toMatchObject({ id: 'G1', maxPowerW: 25 });
    const bad = await importCsv(CSV, `?mapping=${encodeURIComponent('{"idd":"X"}')}`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'LUCIOLE_ERR_VALIDATION', field: 'mapping.idd' });
    const missing = await importCsv(CSV, `?mapping=${encodeURIComponent('{"zone":"rue"}')}`);
    expect(missing.json()).toMatchObject({ code: 'LUCIOLE_ERR_IMPORT_MAPPING', field: 'mapping.zone' });
  });

  it('edits art. 5 data of a lamp, validated field by field', async () => {
    await importCsv(CSV);
    const patch = (id: string, payload: unknown) => app.inject({ method: 'PATCH', url: `/api/lamps/${id}`, headers: auth, payload: payload as object });
    const ok = await patch('LYS-0003', { upwardLightRatioPct: 1.5, cieFluxCode3Pct: 96, nominalFluxLm: 6600, colourTemperatureK: null });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ id: 'LYS-0003', upwardLightRatioPct: 1.5, cieFluxCode3Pct: 96, nominalFluxLm: 6600 });
    expect(ok.json()).not.toHaveProperty('colourTemperatureK');
    expect(controller.getLamp('LYS-0003')).toMatchObject({ cieFluxCode3Pct: 96 });
    expect((await patch('LYS-0003', { cieFluxCode3Pct: 120 })).json()).toMatchObject({ code: 'LUCIOLE_ERR_VALIDATION', field: 'cieFluxCode3Pct' });
    expect((await patch('LYS-0003', { colour: 3000 })).statusCode).toBe(400);
    expect((await patch('LYS-0003', {})).statusCode).toBe(400);
    const unknown = await patch('NOPE', { maxPowerW: 10 });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'LUCIOLE_ERR_LAMP_NOT_FOUND' });
  });

  it('publishes the inventory as open data, CSV and JSON agreeing, with the Etalab licence and field descriptions', async () => {
    await importCsv(CSV);
    const csv = await app.inject({ method: 'GET', url: '/api/opendata/inventory.csv', headers: auth });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const json = await app.inject({ method: 'GET', url: '/api/opendata/inventory.json', headers: auth });
    const doc = json.json();
    expect(doc.license).toMatchObject({ name: 'etalab-2.0', path: 'https://www.etalab.gouv.fr/licence-ouverte-open-licence/' });
    const rows = parseCsv(csv.body, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual(doc.fields.map((f: { name: string }) => f.name));
    expect(rows).toEqual(doc.records.map((r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)]))));
    expect(doc.records[0]).toMatchObject({ id: 'LYS-0001', lampType: 'LED', colourTemperatureK: 3000, installedOn: '2021-03-15', cieFluxCode3Pct: null });
    for (const f of doc.fields) expect(f.description.length).toBeGreaterThan(5);
    const schema = await app.inject({ method: 'GET', url: '/api/opendata/inventory.schema.json', headers: auth });
    expect(schema.json().fields).toEqual(doc.fields);
    const energy = await app.inject({ method: 'GET', url: '/api/opendata/energy-monthly.json', headers: auth });
    expect(energy.statusCode).toBe(200);
    expect(energy.json().fields.map((f: { name: string }) => f.name)).toContain('savedKWh');
    // The open-data CSV reads back through the importer unchanged.
    const again = await importCsv(csv.body.replace(/\r\n/g, '\n'), '?dryRun=true');
    expect(again.json().summary).toEqual({ rows: 3, create: 0, update: 0, unchanged: 3, refuse: 0 });
  });

  it('exports FIWARE entities in both forms, read-only, behind the token', async () => {
    await importCsv(CSV);
    const denied = await app.inject({ method: 'GET', url: '/api/export/fiware' });
    expect(denied.statusCode).toBe(401);
    const kv = await app.inject({ method: 'GET', url: '/api/export/fiware', headers: auth });
    expect(kv.statusCode).toBe(200);
    expect(kv.headers['content-type']).toMatch(/^application\/ld\+json/);
    const entities = kv.json() as Array<{ id: string; type: string; status?: string }>;
    expect(entities.filter((e) => e.type === 'Streetlight')).toHaveLength(3);
    expect(entities.filter((e) => e.type === 'StreetlightControlCabinet')).toHaveLength(2);
    const n = await app.inject({ method: 'GET', url: '/api/export/fiware?format=normalized&download=true', headers: auth });
    expect(n.headers['content-disposition']).toBe('attachment; filename="luciole-fiware-normalized.jsonld"');
    const first = (n.json() as Array<Record<string, unknown>>).find((e) => e.type === 'Streetlight')!;
    expect(first.status).toEqual({ type: 'Property', value: 'ok' });
    expect(first.refStreetlightControlCabinet).toEqual({ type: 'Relationship', object: expect.stringMatching(/^urn:ngsi-ld:StreetlightControlCabinet:/) });
    expect((await app.inject({ method: 'POST', url: '/api/export/fiware', headers: auth })).statusCode).toBe(404);
  });

  it('serves /metrics behind the token in valid Prometheus text, and the numbers move when telemetry flows', async () => {
    await importCsv(CSV);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const scrape = async () => {
      const res = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      return parsePrometheusText(res.body);
    };
    const before = await scrape();
    expect(sampleValue(before, 'luciole_messages_in_total', { channel: 'telemetry' }) ?? 0).toBe(0);
    expect(sampleValue(before, 'luciole_cabinets', { state: 'online' })).toBe(0);
    expect(sampleValue(before, 'luciole_cabinets', { state: 'offline' })).toBe(2);
    expect(sampleValue(before, 'luciole_ingest_lag_seconds_count')).toBe(0);
    expect(before.get('luciole_store_queue_depth')?.type).toBe('gauge');

    const gw = await connectClient(broker.url, { clientId: 'edge-ARM-01' });
    gateways.push(gw);
    const ts = Date.now() - 2_000;
    const lamps = [
      { id: 'LYS-0001', level: 40, powerW: 14, energyWh: 100, fault: null },
      { id: 'LYS-0002', level: 0, powerW: 0, energyWh: 50, fault: 'lamp_failure' },
    ];
    await gw.publishAsync(cabinetTopic('ARM-01', 'telemetry'), JSON.stringify({ v: 1, seq: 1, ts, periodS: 60, lamps }), { qos: 1 });
    await gw.publishAsync(cabinetTopic('ARM-01', 'telemetry'), '{"v":1,"seq":"two"}', { qos: 1 });
    await until(() => (controller.stats().messagesIn.telemetry ?? 0) >= 1 && controller.stats().samplesStored >= 2 && (controller.stats().invalid.telemetry ?? 0) >= 1);

    const after = await scrape();
    expect(sampleValue(after, 'luciole_messages_in_total', { channel: 'telemetry' })).toBe(controller.stats().messagesIn.telemetry);
    expect(sampleValue(after, 'luciole_messages_invalid_total', { channel: 'telemetry' })).toBe(1);
    expect(sampleValue(after, 'luciole_samples_stored_total')).toBe(2);
    expect(sampleValue(after, 'luciole_cabinets', { state: 'online' })).toBe(1);
    expect(sampleValue(after, 'luciole_lamps_faulty', { code: 'lamp_failure' })).toBe(1);
    expect(sampleValue(after, 'luciole_ingest_lag_seconds_count')).toBe(1);
    const lag = sampleValue(after, 'luciole_ingest_lag_seconds_sum')!;
    expect(lag).toBeGreaterThanOrEqual(2);
    expect(lag).toBeLessThan(30);
    // The first scrape's own request is timed by the second.
    expect(sampleValue(after, 'luciole_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'luciole_http_request_duration_seconds_count', { method: 'POST', route: '/api/inventory/import', status: '200' })).toBe(1);
    expect(sampleValue(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    // Every metric the Grafana dashboard queries is one this server exposes.
    const dashboard = fs.readFileSync(path.resolve(import.meta.dirname, '../docs/grafana-prometheus.json'), 'utf8');
    const queried = new Set([...dashboard.matchAll(/\b((?:luciole|process|nodejs)_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')));
    expect(queried.size).toBeGreaterThanOrEqual(10);
    for (const name of queried) expect(after.has(name), name).toBe(true);
  });
});

describe('the Prometheus text parser of these tests', () => {
  it('refuses what Prometheus would refuse', () => {
    expect(() => parsePrometheusText('x 1\n')).toThrow(/no declared family/);
    expect(() => parsePrometheusText('# TYPE x counter\nx{a="1} 1\n')).toThrow(/unterminated/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx one\n')).toThrow(/bad value/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\n')).toThrow(/\+Inf/);
    const ok = parsePrometheusText('# HELP x Some help.\n# TYPE x counter\nx{a="q\\"uote"} 3\n');
    expect(sampleValue(ok, 'x', { a: 'q"uote' })).toBe(3);
  });
});
