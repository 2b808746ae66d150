import { z } from 'zod';
import { LAMP_DETAIL_FIELDS, type LampRecord } from '../inventory-schema.js';
import type { EnergySummary } from '../views.js';

/**
 * Open data: the lighting inventory and the monthly energy, as CSV and JSON, each described by a
 * Table Schema (the format schema.data.gouv.fr uses) with every field's meaning and unit, under
 * the Licence Ouverte / Open Licence 2.0 (Etalab). Pure: the time of generation is passed in.
 */

export const licenseSchema = z.object({ name: z.string(), title: z.string(), path: z.string() });

export const ETALAB_2_0: z.infer<typeof licenseSchema> = {
  name: 'etalab-2.0',
  title: 'Licence Ouverte / Open Licence version 2.0',
  path: 'https://www.etalab.gouv.fr/licence-ouverte-open-licence/',
};

export const fieldDescriptorSchema = z.object({
  name: z.string(),
  type: z.enum(['string', 'number', 'integer', 'boolean', 'date']),
  title: z.string(),
  description: z.string(),
  unit: z.string().optional(),
});
export type FieldDescriptor = z.infer<typeof fieldDescriptorSchema>;

/** A Table Schema (frictionless data), as schema.data.gouv.fr publishes them. */
export const tableSchemaSchema = z.object({
  name: z.string(),
  title: z.string(),
  description: z.string(),
  licenses: z.array(licenseSchema),
  fields: z.array(fieldDescriptorSchema),
});
export type TableSchema = z.infer<typeof tableSchemaSchema>;

const cellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type Row = Record<string, z.infer<typeof cellSchema>>;
type Cell = z.infer<typeof cellSchema>;

export const INVENTORY_SCHEMA: TableSchema = {
  name: 'eclairage-public-inventaire',
  title: "Inventaire de l'éclairage public",
  description:
    "Points lumineux de la commune avec les données que l'arrêté du 27 décembre 2018 (art. 5) demande de tenir pour chaque installation.",
  licenses: [ETALAB_2_0],
  fields: [
    { name: 'id', type: 'string', title: 'Identifiant', description: 'Identifiant du point lumineux.' },
    { name: 'cabinetId', type: 'string', title: 'Armoire', description: "Armoire de commande qui alimente et pilote le point lumineux." },
    { name: 'zone', type: 'string', title: 'Zone', description: "Zone (quartier, secteur) d'éclairage." },
    { name: 'lat', type: 'number', title: 'Latitude', description: 'Latitude WGS84.', unit: '°' },
    { name: 'lon', type: 'number', title: 'Longitude', description: 'Longitude WGS84.', unit: '°' },
    { name: 'nominalPowerW', type: 'number', title: 'Puissance nominale', description: 'Puissance nominale de la lampe.', unit: 'W' },
    { name: 'baselinePowerW', type: 'number', title: 'Puissance avant rénovation', description: 'Puissance du luminaire remplacé, vide si inconnue.', unit: 'W' },
    { name: 'lampType', type: 'string', title: 'Type de lampe', description: 'Technologie de la source (LED, SHP sodium haute pression, IM iodures métalliques...).' },
    { name: 'upwardLightRatioPct', type: 'number', title: "Proportion de lumière au-dessus de l'horizontale (ULR)", description: "Part du flux du luminaire émise au-dessus de l'horizontale (arrêté du 27 décembre 2018, art. 5).", unit: '%' },
    { name: 'cieFluxCode3Pct', type: 'number', title: 'Code flux CIE n°3', description: "Part du flux de l'hémisphère inférieur émise dans un cône de 75,5° autour de la verticale (arrêté du 27 décembre 2018, art. 5).", unit: '%' },
    { name: 'colourTemperatureK', type: 'number', title: 'Température de couleur', description: 'Température de couleur proximale.', unit: 'K' },
    { name: 'maxPowerW', type: 'number', title: 'Puissance maximale', description: "Puissance maximale de l'installation.", unit: 'W' },
    { name: 'nominalFluxLm', type: 'number', title: 'Flux lumineux nominal', description: 'Flux lumineux nominal du luminaire.', unit: 'lm' },
    { name: 'installedOn', type: 'date', title: "Date d'installation", description: 'Date de pose (AAAA-MM-JJ).' },
  ],
};

export const MONTHLY_ENERGY_SCHEMA: TableSchema = {
  name: 'eclairage-public-energie-mensuelle',
  title: "Consommation mensuelle de l'éclairage public",
  description:
    "Énergie mesurée par les compteurs des lampes, du coucher au lever du soleil, comparée aux mêmes lampes à pleine puissance toute la nuit.",
  licenses: [ETALAB_2_0],
  fields: [
    { name: 'month', type: 'string', title: 'Mois', description: 'Mois (AAAA-MM), heure locale de la commune ; une nuit compte pour le mois de son coucher de soleil.' },
    { name: 'nights', type: 'integer', title: 'Nuits', description: 'Nuits du mois couvertes par les données publiées.' },
    { name: 'complete', type: 'boolean', title: 'Mois complet', description: 'Vrai si toutes les nuits du mois sont couvertes et terminées.' },
    { name: 'energyKWh', type: 'number', title: 'Énergie consommée', description: 'Énergie mesurée par les compteurs des lampes.', unit: 'kWh' },
    { name: 'fullPowerKWh', type: 'number', title: 'Énergie à pleine puissance', description: 'Mêmes lampes à 100 % du coucher au lever du soleil.', unit: 'kWh' },
    { name: 'savedKWh', type: 'number', title: 'Énergie économisée', description: 'Différence entre pleine puissance et mesure.', unit: 'kWh' },
    { name: 'savedPct', type: 'number', title: 'Économie', description: "Part de l'énergie à pleine puissance économisée ; vide si nulle.", unit: '%' },
    { name: 'completeness', type: 'number', title: 'Complétude', description: 'Part des mesures attendues effectivement reçues (0 à 1), moyenne des nuits.' },
  ],
};

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export function inventoryRows(lamps: readonly LampRecord[]): Row[] {
  return lamps.map((l) => {
    const row: Row = {
      id: l.id,
      cabinetId: l.cabinetId,
      zone: l.zone,
      lat: l.lat,
      lon: l.lon,
      nominalPowerW: l.nominalPowerW,
      baselinePowerW: l.baselinePowerW,
    };
    for (const key of LAMP_DETAIL_FIELDS) row[key] = l[key] ?? null;
    return row;
  });
}

function daysInMonth(month: string): number {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y!, m!, 0)).getUTCDate();
}

/** Nights grouped by the month of their dusk (local date), oldest first. */
export function monthlyEnergyRows(summary: EnergySummary): Row[] {
  const months = new Map<string, EnergySummary['nights']>();
  for (const night of summary.nights) {
    const month = night.date.slice(0, 7);
    const list = months.get(month);
    if (list) list.push(night);
    else months.set(month, [night]);
  }
  return [...months.keys()].sort().map((month) => {
    const nights = months.get(month)!;
    const energy = nights.reduce((s, n) => s + n.energyWh, 0);
    const full = nights.reduce((s, n) => s + n.fullPowerWh, 0);
    return {
      month,
      nights: nights.length,
      complete: nights.length === daysInMonth(month) && nights.every((n) => !n.inProgress),
      energyKWh: round(energy / 1000, 3),
      fullPowerKWh: round(full / 1000, 3),
      savedKWh: round((full - energy) / 1000, 3),
      savedPct: full > 0 ? round(((full - energy) / full) * 100, 1) : null,
      completeness: round(nights.reduce((s, n) => s + n.completeness, 0) / nights.length, 3),
    };
  });
}

function csvCell(v: Cell): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180: comma, CRLF, header line of field names, empty cell for unknown. UTF-8. */
export function toCsv(schema: TableSchema, rows: readonly Row[]): string {
  const names = schema.fields.map((f) => f.name);
  const lines = [names.join(',')];
  for (const row of rows) lines.push(names.map((n) => csvCell(row[n] ?? null)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export const openDataDocumentSchema = z.object({
  title: z.string(),
  description: z.string(),
  /** The town. */
  publisher: z.string(),
  license: licenseSchema,
  generatedAt: z.string(),
  fields: z.array(fieldDescriptorSchema),
  records: z.array(z.record(z.string(), cellSchema)),
});
export type OpenDataDocument = z.infer<typeof openDataDocumentSchema>;

export function toJsonDocument(schema: TableSchema, rows: Row[], publisher: string, now: number): OpenDataDocument {
  return {
    title: schema.title,
    description: schema.description,
    publisher,
    license: ETALAB_2_0,
    generatedAt: new Date(now).toISOString(),
    fields: schema.fields,
    records: rows,
  };
}
