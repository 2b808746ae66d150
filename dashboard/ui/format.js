// @ts-check
/** French formatting of numbers, energies and times (the town's time zone, not the browser's). */

const decimal1 = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });
const integer = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat('fr-FR', { style: 'percent', maximumFractionDigits: 0 });

/** @param {number} wh */
export const formatKwh = (wh) => `${decimal1.format(wh / 1000)} kWh`;

/** @param {number} w */
export const formatWatts = (w) => `${decimal1.format(w)} W`;

/** @param {number} n */
export const formatInteger = (n) => integer.format(n);

/** @param {number | null} ratio 0..1, null when there is nothing to compare with */
export const formatRatio = (ratio) => (ratio === null || !Number.isFinite(ratio) ? '—' : percent.format(ratio));

/**
 * Share of the full-power energy saved; computed here from the Wh so its unit is never in doubt.
 * @param {{ savedWh: number, fullPowerWh: number }} night
 * @returns {number | null}
 */
export const savedRatio = (night) => (night.fullPowerWh > 0 ? night.savedWh / night.fullPowerWh : null);

/** @type {Map<string, Intl.DateTimeFormat>} */
const dateTimeFormats = new Map();

/**
 * @param {string} timeZone
 * @param {Intl.DateTimeFormatOptions} options
 */
function dateTimeFormat(timeZone, options) {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  let f = dateTimeFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('fr-FR', { ...options, timeZone });
    dateTimeFormats.set(key, f);
  }
  return f;
}

/**
 * @param {number} ts
 * @param {string} timeZone
 */
export const formatClock = (ts, timeZone) =>
  dateTimeFormat(timeZone, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ts);

/**
 * @param {number | null} ts
 * @param {string} timeZone
 */
export const formatDateTime = (ts, timeZone) =>
  ts === null ? '—' : dateTimeFormat(timeZone, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ts);

/**
 * `YYYY-MM-DD` (already a local date of the town) → « 21 nov. 2025 ».
 * @param {string} date
 */
export function formatNightDate(date) {
  const at = Date.parse(`${date}T12:00:00Z`);
  return Number.isFinite(at) ? dateTimeFormat('UTC', { day: 'numeric', month: 'short', year: 'numeric' }).format(at) : date;
}

/**
 * Who did it: the controller's own transitions are `system` in the data (the same wording as the
 * server's work orders and e-mails, controller/alerts/alert-text.ts `byFr`).
 * @param {string} who
 */
export const formatWho = (who) => (who === 'system' ? 'Luciole (automatique)' : who);
