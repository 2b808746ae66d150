// @ts-check
/**
 * The energy report page's pure helpers: French formats of the figures, the headline cards and
 * the chart's geometry. No DOM here, so vitest checks them and the browser test formats the API's
 * numbers with them to compare with the page.
 */

/** @param {number} digits */
const numberFormat = (digits) => new Intl.NumberFormat('fr-FR', { minimumFractionDigits: 0, maximumFractionDigits: digits });
const n0 = numberFormat(0);
const n1 = numberFormat(1);
const n3 = numberFormat(3);
const euro = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 });

/** @param {number | null} v */
export const fmtKwh = (v) => (v === null ? '—' : `${(Math.abs(v) >= 100 ? n0 : n1).format(v)}\u00a0kWh`);
/** @param {number | null} v percent */
export const fmtPct = (v) => (v === null ? '—' : `${n1.format(v)}\u00a0%`);
/** @param {number | null} v */
export const fmtEur = (v) => (v === null ? '—' : euro.format(v));
/** @param {number | null} v tonnes */
export const fmtTco2e = (v) => (v === null ? '—' : `${n3.format(v)}\u00a0tCO2e`);
/** @param {number | null} v 0..1 */
export const fmtCompleteness = (v) => (v === null ? '—' : `${n1.format(v * 100)}\u00a0%`);
/** @param {number} v */
export const fmtHours = (v) => `${n0.format(v)}\u00a0h`;

const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];

/** @param {string} date YYYY-MM-DD → « 21 novembre 2025 » */
export function fmtDate(date) {
  const [y, m, d] = date.split('-').map(Number);
  return `${d} ${MONTHS[(m ?? 1) - 1]} ${y}`;
}

/** @param {string} from @param {string} to */
export const fmtPeriod = (from, to) => (from === to ? `nuit du ${fmtDate(from)}` : `nuits du ${fmtDate(from)} au ${fmtDate(to)}`);

/**
 * @typedef {{ kWh: number | null, pct: number | null, eur: number | null, tCo2e: number | null }} Saving
 * @typedef {{ energyKWh: number | null, costEur: number | null, fullPowerKWh: number, beforeRenovationKWh: number,
 *   savedVsFullPower: Saving, savedVsBeforeRenovation: Saving, gapKWh: number, burningHours: number,
 *   averageLevelPct: number | null, completeness: number | null }} Figures
 */

/**
 * The headline cards, in reading order: what was consumed, what it saved against each baseline,
 * in kWh, %, € and tCO2e.
 * @param {Figures} f
 * @returns {Array<{ field: string, label: string, value: string, detail: string }>}
 */
export function headlineCards(f) {
  return [
    { field: 'energy', label: 'Consommation mesurée', value: fmtKwh(f.energyKWh), detail: `coût ${fmtEur(f.costEur)}` },
    { field: 'saved-before-kwh', label: 'Économie par rapport à avant la rénovation', value: fmtKwh(f.savedVsBeforeRenovation.kWh), detail: `soit ${fmtPct(f.savedVsBeforeRenovation.pct)}` },
    { field: 'saved-before-eur', label: 'Économie en euros (avant rénovation)', value: fmtEur(f.savedVsBeforeRenovation.eur), detail: 'au tarif en vigueur' },
    { field: 'saved-before-tco2e', label: 'Émissions évitées (avant rénovation)', value: fmtTco2e(f.savedVsBeforeRenovation.tCo2e), detail: 'équivalent CO2' },
    { field: 'saved-full-kwh', label: 'Économie par rapport à la pleine puissance', value: fmtKwh(f.savedVsFullPower.kWh), detail: `soit ${fmtPct(f.savedVsFullPower.pct)}` },
    { field: 'completeness', label: 'Complétude des données', value: fmtCompleteness(f.completeness), detail: 'des relevés attendus reçus' },
  ];
}

/**
 * Bars of measured consumption and lines of both baselines, in a `width` × `height` box with a
 * left margin for the scale. Nights with no measurement have no bar.
 * @param {Array<{ date: string, energyKWh: number | null, fullPowerKWh: number, beforeRenovationKWh: number }>} nights
 * @param {number} width
 * @param {number} height
 */
export function chartGeometry(nights, width, height) {
  const left = 48;
  const bottom = 22;
  const plotW = width - left - 8;
  const plotH = height - bottom - 8;
  const max = Math.max(1e-9, ...nights.map((n) => Math.max(n.energyKWh ?? 0, n.fullPowerKWh, n.beforeRenovationKWh)));
  /** @param {number} v */
  const y = (v) => 8 + plotH - (v / max) * plotH;
  const step = plotW / Math.max(1, nights.length);
  const barW = Math.max(1, step * 0.6);
  const centre = /** @param {number} i */ (i) => left + i * step + step / 2;
  /** @param {(n: typeof nights[number]) => number} value */
  const line = (value) =>
    nights.length === 1
      ? `${left},${y(value(nights[0]))} ${left + plotW},${y(value(nights[0]))}`
      : nights.map((n, i) => `${centre(i).toFixed(1)},${y(value(n)).toFixed(1)}`).join(' ');
  const labelEvery = Math.ceil(nights.length / 12);
  return {
    bars: nights.flatMap((n, i) =>
      n.energyKWh === null ? [] : [{ x: centre(i) - barW / 2, y: y(n.energyKWh), width: barW, height: (n.energyKWh / max) * plotH, date: n.date }],
    ),
    full: line((n) => n.fullPowerKWh),
    before: line((n) => n.beforeRenovationKWh),
    ticks: [0, 1, 2, 3, 4].map((k) => ({ y: y((max * k) / 4), label: n1.format((max * k) / 4) })),
    labels: nights.flatMap((n, i) => (i % labelEvery === 0 ? [{ x: centre(i), text: `${n.date.slice(8, 10)}/${n.date.slice(5, 7)}` }] : [])),
    plot: { left, right: left + plotW, bottom: 8 + plotH },
  };
}
