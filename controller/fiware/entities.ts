import type { FaultCode } from '../../protocol/index.js';
import type { LampRecord } from '../inventory-schema.js';
import type { PlanVersion } from '../plan.js';
import type { AlertView, CabinetView, LampView } from '../views.js';

/**
 * The inventory and its live state as FIWARE Smart Data Models (dataModel.Streetlighting):
 * `Streetlight` per lamp, `StreetlightControlCabinet` per cabinet, `StreetlightGroup` per zone and
 * `StreetlightModel` per distinct lamp specification, as NGSI-LD entities in key-values form;
 * `toNormalized` gives the normalized form. Pure: no I/O, no clock.
 *
 * Honest mapping: `status` only says whether a lamp, lantern or column defect is known, which is
 * all the model's enum can say. What it cannot express (a day burner, lost communication,
 * overheating, low voltage) is not forced into it but given in Luciole's own attributes
 * (`communicationLost`, `faultCode`, `activeAlerts`), which NGSI-LD allows beside the model's.
 */

export const SMART_DATA_MODELS_CONTEXT = 'https://raw.githubusercontent.com/smart-data-models/dataModel.Streetlighting/master/context.jsonld';

export type KeyValuesEntity = { id: string; type: string } & Record<string, unknown>;

export interface FiwareSource {
  town: { name: string };
  lamps: ReadonlyArray<{ record: LampRecord; live: LampView | undefined }>;
  cabinets: readonly CabinetView[];
  alerts: readonly AlertView[];
  plan: PlanVersion | null;
}

export interface FiwareExport {
  entities: KeyValuesEntity[];
  /** Things that could not be exported validly, and why (a cabinet without a known position). */
  skipped: Array<{ id: string; type: string; reason: string }>;
}

/** The model's `status` for a driver fault, where the enum has a word for it. */
export const FAULT_STATUS: Partial<Record<FaultCode, 'defectiveLamp' | 'brokenLantern'>> = {
  lamp_failure: 'defectiveLamp',
  // The driver sits in the lantern (luminaire).
  driver_failure: 'brokenLantern',
};

/** Our level (0..100) as the model's powerState: off, on (full), low (dimmed). */
export function powerStateOf(level: number): 'off' | 'on' | 'low' {
  if (level <= 0) return 'off';
  if (level >= 100) return 'on';
  return 'low';
}

/** The model's lampTechnology enum (LED, LPS, HPS) for a town's lamp type, when it has one. */
export function lampTechnologyOf(lampType: string | null | undefined): 'LED' | 'LPS' | 'HPS' | undefined {
  if (!lampType) return undefined;
  const t = lampType
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  if (t === 'led' || t.startsWith('led ')) return 'LED';
  if (['shp', 'hps', 'son', 'son t', 'sodium haute pression', 'sodium hp'].includes(t)) return 'HPS';
  if (['sbp', 'lps', 'sox', 'sodium basse pression', 'sodium bp'].includes(t)) return 'LPS';
  return undefined;
}

/** A name usable in an entity id: letters, digits, `_ . -`; accents dropped. */
export function idPart(s: string): string {
  const part = s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return part === '' ? 'x' : part;
}

export function entityId(type: string, town: string, local: string): string {
  return `urn:ngsi-ld:${type}:${idPart(town).toLowerCase()}:${local}`;
}

const iso = (ms: number): string => new Date(ms).toISOString();
/** A calendar date as the model's date-time: midnight UTC. */
const isoDay = (day: string): string => `${day}T00:00:00Z`;

function modelKey(l: LampRecord): string {
  return JSON.stringify([
    l.lampType ?? null,
    l.nominalPowerW,
    l.maxPowerW ?? null,
    l.colourTemperatureK ?? null,
    l.nominalFluxLm ?? null,
    l.upwardLightRatioPct ?? null,
    l.cieFluxCode3Pct ?? null,
  ]);
}

function modelLocalId(l: LampRecord): string {
  const parts = [l.lampType ? idPart(l.lampType) : 'lamp', `${l.nominalPowerW}W`];
  if (l.colourTemperatureK != null) parts.push(`${l.colourTemperatureK}K`);
  if (l.nominalFluxLm != null) parts.push(`${l.nominalFluxLm}lm`);
  if (l.maxPowerW != null) parts.push(`max${l.maxPowerW}W`);
  if (l.upwardLightRatioPct != null) parts.push(`ulr${l.upwardLightRatioPct}`);
  if (l.cieFluxCode3Pct != null) parts.push(`cie3-${l.cieFluxCode3Pct}`);
  return parts.map(idPart).join('_');
}

function modelName(l: LampRecord): string {
  const parts = [l.lampType ?? 'Lamp', `${l.nominalPowerW} W`];
  if (l.colourTemperatureK != null) parts.push(`${l.colourTemperatureK} K`);
  if (l.nominalFluxLm != null) parts.push(`${l.nominalFluxLm} lm`);
  return parts.join(' ');
}

export function buildFiwareEntities(src: FiwareSource): FiwareExport {
  const town = src.town.name;
  const ctx = { '@context': [SMART_DATA_MODELS_CONTEXT] };
  const cabinetsById = new Map(src.cabinets.map((c) => [c.id, c]));
  const openAlerts = new Map<string, string[]>();
  for (const a of src.alerts) {
    if (a.state === 'resolved' || a.lampId === null) continue;
    const list = openAlerts.get(a.lampId) ?? [];
    if (!list.includes(a.kind)) list.push(a.kind);
    openAlerts.set(a.lampId, list);
  }

  const models = new Map<string, { id: string; lamp: LampRecord }>();
  const zones = new Map<string, Array<{ record: LampRecord; live: LampView | undefined }>>();
  const cabinetZones = new Map<string, Set<string>>();
  const cabinetLamps = new Map<string, Array<LampView | undefined>>();
  const entities: KeyValuesEntity[] = [];
  const skipped: FiwareExport['skipped'] = [];

  for (const { record: l, live } of src.lamps) {
    const key = modelKey(l);
    let model = models.get(key);
    if (!model) {
      model = { id: entityId('StreetlightModel', town, modelLocalId(l)), lamp: l };
      models.set(key, model);
    }
    push(zones, l.zone, { record: l, live });
    push(cabinetLamps, l.cabinetId, live);
    if (!cabinetZones.has(l.cabinetId)) cabinetZones.set(l.cabinetId, new Set());
    cabinetZones.get(l.cabinetId)!.add(l.zone);

    const cabinet = cabinetsById.get(l.cabinetId);
    const fault = live?.fault ?? null;
    const e: KeyValuesEntity = {
      id: entityId('Streetlight', town, l.id),
      type: 'Streetlight',
      name: l.id,
      location: { type: 'Point', coordinates: [l.lon, l.lat] },
      status: (fault && FAULT_STATUS[fault]) ?? 'ok',
      controllingMethod: 'individual',
      powerRating: l.nominalPowerW,
      refStreetlightControlCabinet: entityId('StreetlightControlCabinet', town, l.cabinetId),
      refStreetlightGroup: entityId('StreetlightGroup', town, idPart(l.zone)),
      refStreetlightModel: model.id,
    };
    if (l.installedOn) e.dateServiceStarted = isoDay(l.installedOn);
    if (live && live.level !== null && live.lastTs !== null) {
      e.powerState = powerStateOf(live.level);
      e.illuminanceLevel = Math.min(1, Math.max(0, live.level / 100));
      if (live.powerW !== null) e.powerConsumption = live.powerW;
      e.observationDateTime = iso(live.lastTs);
    }
    e.communicationLost = !(cabinet?.online ?? false) || !live || live.lastTs === null;
    if (fault) e.faultCode = fault;
    const alerts = openAlerts.get(l.id);
    if (alerts) e.activeAlerts = alerts;
    entities.push({ ...e, ...ctx });
  }

  for (const { id, lamp: l } of models.values()) {
    const e: KeyValuesEntity = {
      id,
      type: 'StreetlightModel',
      name: modelName(l),
      powerConsumption: l.nominalPowerW,
    };
    const tech = lampTechnologyOf(l.lampType);
    if (tech) e.lampTechnology = tech;
    if (l.lampType) e.lampModelName = l.lampType;
    if (l.maxPowerW != null) e.maxPowerConsumption = l.maxPowerW;
    if (l.colourTemperatureK != null) e.colorTemperature = l.colourTemperatureK;
    if (l.nominalFluxLm != null) e.luminousFlux = l.nominalFluxLm;
    // arrêté du 27 décembre 2018, art. 5: no attribute of the model holds these two.
    if (l.upwardLightRatioPct != null) e.upwardLightRatioPercent = l.upwardLightRatioPct;
    if (l.cieFluxCode3Pct != null) e.cieFluxCode3Percent = l.cieFluxCode3Pct;
    entities.push({ ...e, ...ctx });
  }

  const planProfile = (zone: string): string | undefined => {
    if (!src.plan) return undefined;
    const p = src.plan.plan;
    const profile = Object.hasOwn(p.zones, zone) ? p.zones[zone]! : p.defaultProfile;
    return `${p.id}@${src.plan.version}/${profile}`;
  };

  for (const [zone, members] of zones) {
    let minLon = Infinity, minLat = Infinity, maxLon = -Infinity, maxLat = -Infinity, sumLon = 0, sumLat = 0;
    const cabinets = new Set<string>();
    for (const { record: l } of members) {
      minLon = Math.min(minLon, l.lon);
      maxLon = Math.max(maxLon, l.lon);
      minLat = Math.min(minLat, l.lat);
      maxLat = Math.max(maxLat, l.lat);
      sumLon += l.lon;
      sumLat += l.lat;
      cabinets.add(l.cabinetId);
    }
    const e: KeyValuesEntity = {
      id: entityId('StreetlightGroup', town, idPart(zone)),
      type: 'StreetlightGroup',
      name: zone,
      location: { type: 'Point', coordinates: [sumLon / members.length, sumLat / members.length], bbox: [minLon, minLat, maxLon, maxLat] },
      refStreetlight: members.map((m) => entityId('Streetlight', town, m.record.id)),
    };
    // The model's group hangs off one cabinet; a zone across several names none rather than one.
    if (cabinets.size === 1) e.refStreetlightControlCabinet = entityId('StreetlightControlCabinet', town, [...cabinets][0]!);
    const program = planProfile(zone);
    if (program) e.activeProgramId = program;
    // A group state only when every lamp reported: a partial picture would be a guess.
    const levels = members.map((m) => (m.live?.lastTs != null ? m.live.level : null));
    if (levels.every((v): v is number => v !== null)) {
      const states = new Set(levels.map(powerStateOf));
      if (states.size === 1) e.powerState = [...states][0];
      e.illuminanceLevel = Math.min(1, Math.max(0, levels.reduce((a, b) => a + b, 0) / levels.length / 100));
    }
    entities.push({ ...e, ...ctx });
  }

  for (const c of src.cabinets) {
    if (c.lat === null || c.lon === null) {
      skipped.push({ id: c.id, type: 'StreetlightControlCabinet', reason: 'position unknown (no lamp in the inventory)' });
      continue;
    }
    const e: KeyValuesEntity = {
      id: entityId('StreetlightControlCabinet', town, c.id),
      type: 'StreetlightControlCabinet',
      name: c.id,
      location: { type: 'Point', coordinates: [c.lon, c.lat] },
      refStreetlightGroup: [...(cabinetZones.get(c.id) ?? [])].sort().map((z) => entityId('StreetlightGroup', town, idPart(z))),
      // The gateway runs its policy on its own and always accepts manual overrides.
      workingMode: 'semiautomatic',
      features: ['astronomicalClock', 'individualControl'],
      communicationLost: !c.online,
    };
    if (c.mode) e.operatingMode = c.mode;
    if (c.policy) e.activePolicy = `${c.policy.id}@${c.policy.version}`;
    const lives = cabinetLamps.get(c.id) ?? [];
    if (c.online && lives.length > 0 && lives.every((v) => v?.powerW != null)) {
      e.totalActivePower = lives.reduce((sum, v) => sum + v!.powerW!, 0) / 1000;
    }
    entities.push({ ...e, ...ctx });
  }
  return { entities, skipped };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Attributes holding a date-time, typed as such in the normalized form. */
const DATE_TIME = /^(date[A-Z]|observationDateTime$)/;
/** Attributes measured at `observationDateTime`: they get it as `observedAt`. */
const OBSERVED = new Set(['powerState', 'illuminanceLevel', 'powerConsumption']);

/** NGSI-LD normalized form of a key-values entity. */
export function toNormalized(e: KeyValuesEntity): Record<string, unknown> {
  const out: Record<string, unknown> = { id: e.id, type: e.type };
  const observedAt = typeof e.observationDateTime === 'string' ? e.observationDateTime : undefined;
  for (const [key, value] of Object.entries(e)) {
    if (key === 'id' || key === 'type' || key === '@context') continue;
    if (key === 'location') out[key] = { type: 'GeoProperty', value };
    else if (key.startsWith('ref')) out[key] = { type: 'Relationship', object: value };
    else if (DATE_TIME.test(key)) out[key] = { type: 'Property', value: { '@type': 'DateTime', '@value': value } };
    else if (OBSERVED.has(key) && observedAt) out[key] = { type: 'Property', value, observedAt };
    else out[key] = { type: 'Property', value };
  }
  if (e['@context'] !== undefined) out['@context'] = e['@context'];
  return out;
}
