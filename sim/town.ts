import type { Site } from '../protocol/index.js';
import type { TownPlan } from '../controller/plan.js';
import type { ZoneUpdate } from '../controller/zones.js';
import { mulberry32 } from '../edge-agent/prng.js';

/**
 * The simulated town of the demo and of the tests: districts laid out on a grid, each fed by
 * one lighting cabinet, with streets that run on from one district into the next (so light on
 * demand has to cross cabinets). Deterministic for a seed.
 */

export interface TownOptions {
  /** Districts along x and y; one cabinet per district. Default 4 × 3 = 12 cabinets. */
  columns?: number;
  rows?: number;
  /** Distance between lamps along a street, m. Default 30. */
  spacingM?: number;
  /** Lamps along one side of a district. Default 13 (about 42 lamps a district). */
  lampsPerStreet?: number;
  site?: Site;
  seed?: number;
  /** One presence sensor every N lamps. Default 3. */
  sensorEvery?: number;
}

export interface SimLamp {
  id: string;
  cabinetId: string;
  zone: string;
  lat: number;
  lon: number;
  nominalPowerW: number;
  baselinePowerW: number;
  sensorId: string | null;
}

export interface SimTown {
  name: string;
  site: Site;
  lamps: SimLamp[];
  cabinets: Array<{ id: string; zone: string; lat: number; lon: number }>;
}

/** A fictional town on the Saône, north of Lyon. */
export const DEMO_SITE: Site = { lat: 45.8336, lon: 4.8446, timezone: 'Europe/Paris' };

const ZONE_LAYOUT = ['centre', 'residentiel', 'parc', 'activite'] as const;
export type DemoZone = (typeof ZONE_LAYOUT)[number];

const POWER: Record<DemoZone, { nominal: number; baseline: number }> = {
  // LED after renovation, and the sodium lamps they replaced.
  centre: { nominal: 55, baseline: 150 },
  residentiel: { nominal: 35, baseline: 100 },
  parc: { nominal: 25, baseline: 70 },
  activite: { nominal: 70, baseline: 150 },
};

function zoneOf(col: number, row: number, columns: number, rows: number): DemoZone {
  const cx = (columns - 1) / 2;
  const cy = (rows - 1) / 2;
  if (Math.abs(col - cx) <= 0.5 && Math.abs(row - cy) <= 0.5) return 'centre';
  if (col === columns - 1 && row === 0) return 'activite';
  if (col === 0 && row === rows - 1) return 'parc';
  if ((col + row) % 5 === 4) return 'activite';
  if ((col * 7 + row) % 6 === 5) return 'parc';
  return 'residentiel';
}

export function generateTown(opts: TownOptions = {}): SimTown {
  const columns = opts.columns ?? 4;
  const rows = opts.rows ?? 3;
  const spacing = opts.spacingM ?? 30;
  const perStreet = opts.lampsPerStreet ?? 13;
  const site = opts.site ?? DEMO_SITE;
  const sensorEvery = opts.sensorEvery ?? 3;
  const rand = mulberry32(opts.seed ?? 42);
  const size = perStreet * spacing; // district side, m
  const mPerDegLat = 111_320;
  const mPerDegLon = 111_320 * Math.cos((site.lat * Math.PI) / 180);
  const originX = -(columns * size) / 2;
  const originY = -(rows * size) / 2;
  const toLatLon = (x: number, y: number) => ({
    lat: Math.round((site.lat + y / mPerDegLat) * 1e7) / 1e7,
    lon: Math.round((site.lon + x / mPerDegLon) * 1e7) / 1e7,
  });

  const lamps: SimLamp[] = [];
  const cabinets: SimTown['cabinets'] = [];
  let n = 0;
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < columns; col++) {
      const cabinetId = `ARM-${String(cabinets.length + 1).padStart(2, '0')}`;
      const zone = zoneOf(col, row, columns, rows);
      const x0 = originX + col * size;
      const y0 = originY + row * size;
      const points: Array<[number, number]> = [];
      // An avenue through the middle (continuous with the neighbouring districts), a cross
      // street, a parallel street and a short lane: about 42 lamps.
      for (let i = 0; i < perStreet; i++) points.push([x0 + spacing / 2 + i * spacing, y0 + size / 2]);
      for (let i = 0; i < perStreet; i++) {
        const y = y0 + spacing / 2 + i * spacing;
        if (Math.abs(y - (y0 + size / 2)) > spacing / 2) points.push([x0 + size / 2 + spacing / 2, y]);
      }
      for (let i = 1; i < perStreet - 1; i++) points.push([x0 + spacing / 2 + i * spacing, y0 + size / 5]);
      for (let i = 1; i <= Math.floor(perStreet / 2); i++) points.push([x0 + size / 5, y0 + size / 5 + i * spacing]);
      const cab = toLatLon(x0 + size / 2 + spacing, y0 + size / 2 + spacing / 2);
      cabinets.push({ id: cabinetId, zone, ...cab });
      for (const [x, y] of points) {
        n++;
        const spread = 1 + (rand() - 0.5) * 0.04;
        lamps.push({
          id: `LUC-${String(n).padStart(4, '0')}`,
          cabinetId,
          zone,
          ...toLatLon(x, y),
          nominalPowerW: Math.round(POWER[zone].nominal * spread * 10) / 10,
          baselinePowerW: POWER[zone].baseline,
          sensorId: n % sensorEvery === 0 ? `S-${String(n).padStart(4, '0')}` : null,
        });
      }
    }
  }
  return { name: 'Luciole-sur-Saône (ville simulée)', site, lamps, cabinets };
}

/** The operator contract's inventory file for a town. */
export function townInventory(town: SimTown): {
  type: 'FeatureCollection';
  features: Array<{
    type: 'Feature';
    geometry: { type: 'Point'; coordinates: [number, number] };
    properties: { id: string; cabinetId: string; zone: string; nominalPowerW: number; baselinePowerW: number };
  }>;
} {
  return {
    type: 'FeatureCollection',
    features: town.lamps.map((l) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [l.lon, l.lat] },
      properties: {
        id: l.id,
        cabinetId: l.cabinetId,
        zone: l.zone,
        nominalPowerW: l.nominalPowerW,
        baselinePowerW: l.baselinePowerW,
      },
    })),
  };
}

/**
 * The default adaptive plan of the demo: sober evenings, deep dimming or extinction in the
 * small hours with light on demand, parks off after 22:00.
 */
export function demoPlan(): TownPlan {
  return {
    id: 'plan-communal',
    failsafeLevel: 100,
    defaultProfile: 'residentiel',
    zones: { centre: 'centre', residentiel: 'residentiel', parc: 'parc', activite: 'activite' },
    // Evening and morning slots come first and the night slot runs dusk to dawn: the first
    // listed slot wins, so the night level starts at the later of dusk and the clock time and
    // nothing is ever lit before sunset or after sunrise (art. 2 of the order of 27/12/2018).
    profiles: {
      centre: {
        schedule: [
          { from: 'dusk', to: '23:00', level: 70 },
          { from: '05:30', to: 'dawn', level: 70 },
          { from: 'dusk', to: 'dawn', level: 25 },
        ],
        presence: { level: 90, holdS: 120, rampUpMs: 300, rampDownS: 20, propagate: 2 },
      },
      residentiel: {
        schedule: [
          { from: 'dusk', to: '22:00', level: 60 },
          { from: '05:30', to: 'dawn', level: 60 },
          { from: 'dusk', to: 'dawn', level: 0 },
        ],
        presence: { level: 70, holdS: 90, rampUpMs: 300, rampDownS: 20, propagate: 2 },
      },
      parc: {
        schedule: [{ from: 'dusk', to: '22:00', level: 40 }],
      },
      activite: {
        schedule: [
          { from: 'dusk', to: '20:00', level: 70 },
          { from: '06:00', to: 'dawn', level: 70 },
          { from: 'dusk', to: 'dawn', level: 15 },
        ],
        presence: { level: 80, holdS: 120, rampUpMs: 300, rampDownS: 30, propagate: 3 },
      },
    },
  };
}

/** What the demo's technical services declared about each zone (used by the compliance checks). */
export function demoZones(): Record<DemoZone, ZoneUpdate> {
  return {
    centre: { label: 'Centre-ville', category: 'road' },
    residentiel: { label: 'Quartiers résidentiels', category: 'road' },
    parc: { label: 'Parcs et jardins', category: 'park', closingTime: '21:00' },
    activite: { label: "Zone d'activités", category: 'road' },
  };
}
