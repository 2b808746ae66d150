import { ETALAB_2_0, type Row, type TableSchema } from '../opendata/datasets.js';
import { frNumber } from './french.js';
import type { EnergyReport, Figures, GroupFigures } from './report-schema.js';

/**
 * The report as files: a CSV for spreadsheets set to French (semicolons, decimal commas, a BOM so
 * Excel reads UTF-8), and open data (RFC 4180, decimal points, a Table Schema with every field's
 * meaning, through controller/opendata/).
 */

interface Column {
  name: string;
  title: string;
  description: string;
  unit?: string;
  type: 'string' | 'number' | 'integer' | 'boolean' | 'date';
  /** Digits shown in the French CSV. */
  digits: number;
  value: (f: Figures) => number | null;
}

const FIGURE_COLUMNS: Column[] = [
  { name: 'energyKWh', title: 'Consommation mesurée', description: "Énergie mesurée par les compteurs des lampes ; vide s'il n'y a aucune mesure.", unit: 'kWh', type: 'number', digits: 3, value: (f) => f.energyKWh },
  { name: 'fullPowerKWh', title: 'Référence pleine puissance', description: 'Mêmes lampes à 100 % du coucher au lever du soleil.', unit: 'kWh', type: 'number', digits: 3, value: (f) => f.fullPowerKWh },
  { name: 'beforeRenovationKWh', title: 'Référence avant rénovation', description: 'Puissance des luminaires remplacés (à défaut la puissance actuelle) à 100 % du coucher au lever du soleil.', unit: 'kWh', type: 'number', digits: 3, value: (f) => f.beforeRenovationKWh },
  { name: 'savedVsFullPowerKWh', title: 'Économie / pleine puissance', description: 'Référence pleine puissance moins consommation mesurée.', unit: 'kWh', type: 'number', digits: 3, value: (f) => f.savedVsFullPower.kWh },
  { name: 'savedVsFullPowerPct', title: 'Économie / pleine puissance (%)', description: 'Part de la référence pleine puissance économisée.', unit: '%', type: 'number', digits: 1, value: (f) => f.savedVsFullPower.pct },
  { name: 'savedVsBeforeRenovationKWh', title: 'Économie / avant rénovation', description: 'Référence avant rénovation moins consommation mesurée.', unit: 'kWh', type: 'number', digits: 3, value: (f) => f.savedVsBeforeRenovation.kWh },
  { name: 'savedVsBeforeRenovationPct', title: 'Économie / avant rénovation (%)', description: 'Part de la référence avant rénovation économisée.', unit: '%', type: 'number', digits: 1, value: (f) => f.savedVsBeforeRenovation.pct },
  { name: 'costEur', title: 'Coût', description: 'Consommation au tarif en vigueur ; vide sans tarif.', unit: '€', type: 'number', digits: 2, value: (f) => f.costEur },
  { name: 'savedVsBeforeRenovationEur', title: 'Économie en euros / avant rénovation', description: 'Économie par rapport à la référence avant rénovation, au tarif en vigueur.', unit: '€', type: 'number', digits: 2, value: (f) => f.savedVsBeforeRenovation.eur },
  { name: 'savedVsBeforeRenovationTCo2e', title: 'Émissions évitées / avant rénovation', description: "Économie par rapport à la référence avant rénovation multipliée par le facteur d'émission.", unit: 'tCO2e', type: 'number', digits: 4, value: (f) => f.savedVsBeforeRenovation.tCo2e },
  { name: 'gapKWh', title: 'Énergie relevée après interruption', description: 'Part de la consommation relevée à la reprise des compteurs après une interruption des mesures (comptée, non répartie).', unit: 'kWh', type: 'number', digits: 3, value: (f) => f.gapKWh },
  { name: 'burningHours', title: "Heures d'allumage", description: 'Heures-lampes allumées (niveau supérieur à 0).', unit: 'h', type: 'number', digits: 1, value: (f) => f.burningHours },
  { name: 'averageLevelPct', title: 'Niveau moyen allumé', description: "Niveau d'éclairement moyen des lampes allumées.", unit: '%', type: 'number', digits: 1, value: (f) => f.averageLevelPct },
  { name: 'completeness', title: 'Complétude', description: 'Part des relevés attendus reçus pendant les heures pleines de nuit (0 à 1).', type: 'number', digits: 3, value: (f) => f.completeness },
];

const roundTo = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export const NIGHTLY_ENERGY_SCHEMA: TableSchema = {
  name: 'eclairage-public-energie-par-nuit',
  title: "Consommation de l'éclairage public, nuit par nuit",
  description:
    "Énergie mesurée par les compteurs des lampes, nuit par nuit (une nuit porte la date de son coucher de soleil, heure locale), comparée à deux références : les mêmes lampes à pleine puissance et les luminaires d'avant la rénovation, du coucher au lever du soleil.",
  licenses: [ETALAB_2_0],
  fields: [
    { name: 'date', type: 'date', title: 'Nuit', description: 'Date locale du coucher de soleil (AAAA-MM-JJ).' },
    { name: 'inProgress', type: 'boolean', title: 'Nuit en cours', description: "Vrai si la nuit n'est pas terminée : comptée jusqu'à l'heure de publication." },
    ...FIGURE_COLUMNS.map(({ name, type, title, description, unit }) => ({ name, type, title, description, ...(unit ? { unit } : {}) })),
  ],
};

export function nightlyRows(report: EnergyReport): Row[] {
  return report.nights.map((n) => {
    const row: Row = { date: n.date, inProgress: n.inProgress };
    for (const c of FIGURE_COLUMNS) {
      const v = c.value(n);
      row[c.name] = v === null ? null : roundTo(v, c.digits + 1);
    }
    return row;
  });
}

const frCell = (v: number | null, digits: number): string => (v === null ? '' : frNumber(v, digits).replace(/[\u202f\u00a0]/g, ''));

function frCsv(header: string[], rows: string[][]): string {
  const quote = (s: string): string => (/[";\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `\ufeff${[header, ...rows].map((r) => r.map(quote).join(';')).join('\r\n')}\r\n`;
}

const headerOf = (c: Column): string => (c.unit && !c.title.includes(`(${c.unit})`) ? `${c.title} (${c.unit})` : c.title);

/** The nights, one row each, for a spreadsheet set to French. */
export function nightsCsv(report: EnergyReport): string {
  return frCsv(
    ['Nuit du', 'En cours', ...FIGURE_COLUMNS.map(headerOf)],
    report.nights.map((n) => [n.date, n.inProgress ? 'oui' : 'non', ...FIGURE_COLUMNS.map((c) => frCell(c.value(n), c.digits))]),
  );
}

/** Zones, cabinets or lamps, one row each, for a spreadsheet set to French. */
export function groupsCsv(groups: readonly GroupFigures[], keyTitle: string): string {
  return frCsv(
    [keyTitle, 'Libellé', 'Lampes', ...FIGURE_COLUMNS.map(headerOf)],
    groups.map((g) => [g.key, g.label, String(g.lamps), ...FIGURE_COLUMNS.map((c) => frCell(c.value(g), c.digits))]),
  );
}
