import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LampRecord } from '../inventory-schema.js';
import type { PlanVersion } from '../plan.js';
import type { AlertView, CabinetView, LampView } from '../views.js';
import { buildFiwareEntities, lampTechnologyOf, powerStateOf, toNormalized, type FiwareSource, type KeyValuesEntity } from './entities.js';

/**
 * Every exported entity is validated, offline, against the official Smart Data Models schemas
 * (JSON Schema draft 2020-12, ajv). `schemas/` is an unchanged copy of them (CC BY 4.0, see its
 * README), kept in the repository so the test needs nothing outside it.
 */

const SCHEMAS = path.resolve(import.meta.dirname, 'schemas');
const TYPES = ['Streetlight', 'StreetlightControlCabinet', 'StreetlightGroup', 'StreetlightModel'] as const;
type EntityType = (typeof TYPES)[number];
const readJson = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(SCHEMAS, file), 'utf8')) as Record<string, unknown>;

/** Luciole's own attributes (NGSI-LD allows them beside the model's); the test refuses any other. */
const EXTENSIONS: Record<EntityType, string[]> = {
  Streetlight: ['communicationLost', 'faultCode', 'activeAlerts'],
  StreetlightControlCabinet: ['communicationLost', 'operatingMode', 'activePolicy'],
  StreetlightGroup: [],
  StreetlightModel: ['upwardLightRatioPercent', 'cieFluxCode3Percent'],
};

const validators = new Map<EntityType, ValidateFunction>();
const knownAttributes = new Map<EntityType, Set<string>>();

beforeAll(() => {
  const common = readJson('common-schema.json');
  const commonDefs = common.definitions as Record<string, { properties?: Record<string, unknown> }>;
  for (const type of TYPES) {
    // One instance per type: StreetlightModel's schema reuses Streetlight's $id.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    // The schemas $ref the common schema by its public URL: served from the local copy, by $id.
    ajv.addSchema(common);
    const schema = readJson(`${type}/schema.json`);
    validators.set(type, ajv.compile(schema));
    const names = new Set<string>(['@context']);
    for (const part of schema.allOf as Array<{ $ref?: string; properties?: Record<string, unknown> }>) {
      const def = part.$ref?.split('#/definitions/')[1];
      for (const name of Object.keys(def ? (commonDefs[def]?.properties ?? {}) : (part.properties ?? {}))) names.add(name);
    }
    knownAttributes.set(type, names);
  }
});

function expectValid(entity: Record<string, unknown>): void {
  const validate = validators.get(entity.type as EntityType);
  expect(validate, `schema for ${String(entity.type)}`).toBeDefined();
  const ok = validate!(entity);
  expect(validate!.errors ?? [], `${String(entity.id)}: ${JSON.stringify(validate!.errors)}`).toEqual([]);
  expect(ok).toBe(true);
}

/** Normalized → key-values, by the NGSI-LD rules: a Property's value, a Relationship's object. */
function simplify(n: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, attr] of Object.entries(n)) {
    if (key === 'id' || key === 'type' || key === '@context') {
      out[key] = attr;
      continue;
    }
    const a = attr as { type: string; value?: unknown; object?: unknown };
    if (a.type === 'Relationship') out[key] = a.object;
    else {
      const v = a.value as { '@type'?: string; '@value'?: unknown } | undefined;
      out[key] = v && typeof v === 'object' && v['@type'] === 'DateTime' ? v['@value'] : a.value;
    }
  }
  return out;
}

const T = Date.UTC(2025, 10, 21, 20, 0, 0);

function lamp(id: string, cabinetId: string, zone: string, lon: number, extra: Partial<LampRecord> = {}): LampRecord {
  return { id, cabinetId, zone, lat: 45.764, lon, nominalPowerW: 35, baselinePowerW: null, neighbours: [], ...extra };
}
function live(l: LampRecord, level: number | null, fault: LampView['fault'] = null, powerW: number | null = level === null ? null : (l.nominalPowerW * level) / 100): LampView {
  return { ...l, baselinePowerW: l.baselinePowerW, level, powerW, fault, lastTs: level === null ? null : T - 30_000 };
}
function cabinet(id: string, online: boolean, lat: number | null, lon: number | null, lamps: number): CabinetView {
  return {
    id,
    online,
    lastSeen: online ? T - 10_000 : T - 3_600_000,
    mode: online ? 'policy' : null,
    agent: 'luciole-edge/0.1.0',
    policy: online ? { id: 'plan-hiver', version: 3 } : null,
    policyPublished: { id: 'plan-hiver', version: 3 },
    policyAcked: null,
    lamps,
    buffered: 0,
    lat,
    lon,
  };
}

const art5 = { lampType: 'LED', colourTemperatureK: 2700, nominalFluxLm: 3200, maxPowerW: 40, upwardLightRatioPct: 0, cieFluxCode3Pct: 97, installedOn: '2021-03-15' };
const L = {
  ok: lamp('LYS-0001', 'ARM-01', 'presquile', 4.8357, art5),
  dimmed: lamp('LYS-0002', 'ARM-01', 'presquile', 4.8359, art5),
  broken: lamp('LYS-0003', 'ARM-01', 'presquile', 4.8361, { lampType: 'SHP', nominalPowerW: 100 }),
  driver: lamp('LYS-0004', 'ARM-01', 'croix-rousse', 4.8363),
  overheat: lamp('LYS-0005', 'ARM-01', 'croix-rousse', 4.8365),
  dayBurner: lamp('LYS-0006', 'ARM-01', 'croix-rousse', 4.8367, { lampType: 'Iodures métalliques' }),
  silent: lamp('LYS-0007', 'ARM-02', 'croix-rousse', 4.8369),
};
const dayBurnerAlert: AlertView = {
  id: 'day_burner-LYS-0006',
  kind: 'day_burner',
  severity: 'minor',
  state: 'open',
  cabinetId: 'ARM-01',
  lampId: 'LYS-0006',
  openedAt: T - 7_200_000,
  lastSeen: T - 60_000,
  resolvedAt: null,
  count: 3,
  detail: 'lit in daylight',
};
const plan: PlanVersion = {
  version: 3,
  author: 'admin',
  createdAt: T - 86_400_000,
  plan: {
    id: 'plan-hiver',
    failsafeLevel: 100,
    profiles: { residential: { schedule: [{ from: 'dusk', to: 'dawn', level: 60 }] }, centre: { schedule: [{ from: 'dusk', to: 'dawn', level: 100 }] } },
    zones: { presquile: 'centre' },
    defaultProfile: 'residential',
  },
};
const source: FiwareSource = {
  town: { name: 'Lyon Métropole' },
  lamps: [
    { record: L.ok, live: live(L.ok, 100) },
    { record: L.dimmed, live: live(L.dimmed, 40) },
    { record: L.broken, live: live(L.broken, 0, 'lamp_failure') },
    { record: L.driver, live: live(L.driver, 0, 'driver_failure') },
    { record: L.overheat, live: live(L.overheat, 60, 'overheat') },
    { record: L.dayBurner, live: live(L.dayBurner, 100) },
    { record: L.silent, live: undefined },
  ],
  cabinets: [cabinet('ARM-01', true, 45.764, 4.8362, 6), cabinet('ARM-02', false, 45.764, 4.8369, 1), cabinet('ARM-99', false, null, null, 0)],
  alerts: [dayBurnerAlert],
  plan,
};

describe('FIWARE Smart Data Models export', () => {
  it('validates the official examples with this validator, and refuses a broken entity', () => {
    for (const type of TYPES) {
      const example = readJson(`${type}/example.json`);
      expect(validators.get(type)!(example), `${type} example`).toBe(true);
    }
    expect(validators.get('Streetlight')!({ id: 'x', type: 'Streetlight', location: { type: 'Point', coordinates: [4, 45] }, status: 'dayBurning' })).toBe(false);
    expect(validators.get('StreetlightControlCabinet')!({ id: 'x', type: 'StreetlightControlCabinet', location: { type: 'Point', coordinates: [4, 45] } })).toBe(false);
  });

  it('exports every lamp, cabinet, zone and lamp model as entities valid against the official schemas', () => {
    const { entities, skipped } = buildFiwareEntities(source);
    const count = (t: string) => entities.filter((e) => e.type === t).length;
    expect(count('Streetlight')).toBe(7);
    expect(count('StreetlightControlCabinet')).toBe(2);
    expect(count('StreetlightGroup')).toBe(2);
    // LED with art. 5 data, SHP 100 W, plain 35 W, metal halide 35 W.
    expect(count('StreetlightModel')).toBe(4);
    expect(skipped).toEqual([{ id: 'ARM-99', type: 'StreetlightControlCabinet', reason: 'position unknown (no lamp in the inventory)' }]);
    for (const e of entities) {
      expectValid(e);
      const type = e.type as EntityType;
      const unknown = Object.keys(e).filter((k) => !knownAttributes.get(type)!.has(k) && !EXTENSIONS[type].includes(k));
      expect(unknown, `${e.id}: attributes neither in the model nor documented extensions`).toEqual([]);
    }
    expect(new Set(entities.map((e) => e.id)).size).toBe(entities.length);
  });

  it('gives the normalized form of the same entities: it reduces back to key-values and validates', () => {
    for (const e of buildFiwareEntities(source).entities) {
      const n = toNormalized(e);
      for (const [key, attr] of Object.entries(n)) {
        if (key === 'id' || key === 'type' || key === '@context') continue;
        expect(['Property', 'Relationship', 'GeoProperty'], `${e.id} ${key}`).toContain((attr as { type: string }).type);
        if (key.startsWith('ref')) expect(attr).toHaveProperty('object');
        else expect(attr).toHaveProperty('value');
      }
      const back = simplify(n);
      expect(back).toEqual(e);
      expectValid(back);
    }
  });

  it('maps states honestly: status only for defects it can name, the rest beside it', () => {
    const { entities } = buildFiwareEntities(source);
    const byName = new Map(entities.filter((e) => e.type === 'Streetlight').map((e) => [e.name, e]));
    const pick = (l: LampRecord): KeyValuesEntity => byName.get(l.id)!;
    expect(pick(L.ok)).toMatchObject({ status: 'ok', powerState: 'on', illuminanceLevel: 1, powerConsumption: 35, communicationLost: false });
    expect(pick(L.dimmed)).toMatchObject({ status: 'ok', powerState: 'low', illuminanceLevel: 0.4, powerConsumption: 14 });
    expect(pick(L.broken)).toMatchObject({ status: 'defectiveLamp', powerState: 'off', faultCode: 'lamp_failure' });
    expect(pick(L.driver)).toMatchObject({ status: 'brokenLantern', faultCode: 'driver_failure' });
    // Overheating and day burning are no defect of lamp, lantern or column: not in status.
    expect(pick(L.overheat)).toMatchObject({ status: 'ok', faultCode: 'overheat' });
    expect(pick(L.dayBurner)).toMatchObject({ status: 'ok', activeAlerts: ['day_burner'] });
    // Nothing heard: no power state invented, communication loss said as such.
    const silent = pick(L.silent);
    expect(silent).toMatchObject({ status: 'ok', communicationLost: true });
    expect(silent).not.toHaveProperty('powerState');
    expect(silent).not.toHaveProperty('illuminanceLevel');
    expect(pick(L.ok)).toMatchObject({
      dateServiceStarted: '2021-03-15T00:00:00Z',
      observationDateTime: new Date(T - 30_000).toISOString(),
      refStreetlightControlCabinet: 'urn:ngsi-ld:StreetlightControlCabinet:lyon-metropole:ARM-01',
      refStreetlightGroup: 'urn:ngsi-ld:StreetlightGroup:lyon-metropole:presquile',
    });
    const ledModel = entities.find((e) => e.id === pick(L.ok).refStreetlightModel)!;
    expect(ledModel).toMatchObject({
      type: 'StreetlightModel',
      lampTechnology: 'LED',
      powerConsumption: 35,
      maxPowerConsumption: 40,
      colorTemperature: 2700,
      luminousFlux: 3200,
      upwardLightRatioPercent: 0,
      cieFluxCode3Percent: 97,
    });
    expect(entities.find((e) => e.id === pick(L.dayBurner).refStreetlightModel)).not.toHaveProperty('lampTechnology');
    const centre = entities.find((e) => e.type === 'StreetlightGroup' && e.name === 'presquile')!;
    expect(centre).toMatchObject({ activeProgramId: 'plan-hiver@3/centre', refStreetlightControlCabinet: 'urn:ngsi-ld:StreetlightControlCabinet:lyon-metropole:ARM-01' });
    expect(centre.illuminanceLevel).toBeCloseTo((100 + 40 + 0) / 300, 10);
    expect(centre).not.toHaveProperty('powerState');
    // croix-rousse spans two cabinets and has a silent lamp: no cabinet, no group state.
    const cr = entities.find((e) => e.type === 'StreetlightGroup' && e.name === 'croix-rousse')!;
    expect(cr).toMatchObject({ activeProgramId: 'plan-hiver@3/residential' });
    expect(cr).not.toHaveProperty('refStreetlightControlCabinet');
    expect(cr).not.toHaveProperty('illuminanceLevel');
    const arm1 = entities.find((e) => e.type === 'StreetlightControlCabinet' && e.name === 'ARM-01')!;
    expect(arm1.totalActivePower).toBeCloseTo((35 + 14 + 0 + 0 + 21 + 35) / 1000, 10);
    expect(entities.find((e) => e.name === 'ARM-02')).toMatchObject({ communicationLost: true, workingMode: 'semiautomatic' });
  });

  it('maps levels and lamp types to the model enums', () => {
    expect([0, 1, 99, 100].map(powerStateOf)).toEqual(['off', 'low', 'low', 'on']);
    expect(['LED', 'led 4000K', 'SHP', 'Sodium haute pression', 'SBP', 'IM', null].map(lampTechnologyOf)).toEqual(['LED', 'LED', 'HPS', 'HPS', 'LPS', undefined, undefined]);
  });
});
