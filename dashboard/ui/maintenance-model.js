// @ts-check
/**
 * The maintenance board's logic, free of the DOM: labels, filters, grouping by severity, where
 * an alert is on the map, and the geometry of the lamp's level and power chart. Tested by
 * dashboard/ui/maintenance-model.test.ts.
 */

/** French names of alert kinds (the server's copy is controller/alerts/labels.ts). */
export const KIND_LABELS = /** @type {Readonly<Record<string, string>>} */ (
  Object.freeze({
    lamp_failure: 'Lampe éteinte (panne)',
    driver_fault: 'Défaut du driver',
    day_burner: 'Allumée en plein jour',
    cycling: 'Lampe clignotante',
    power_high: 'Puissance trop élevée',
    power_low: 'Puissance trop faible',
    voltage: 'Tension hors tolérance',
    cabinet_offline: 'Armoire hors ligne',
    cabinet_meter_mismatch: 'Écart au compteur d’armoire',
    door_open: 'Porte d’armoire ouverte',
    power_cut: 'Coupure secteur',
    sensor_stuck: 'Capteur de présence bloqué',
    no_data: 'Lampe absente des mesures',
    storage_unavailable: 'Base de télémesure indisponible',
  })
);

export const SEVERITIES = /** @type {const} */ (['critical', 'major', 'minor']);
export const SEVERITY_LABELS = /** @type {Readonly<Record<string, string>>} */ (
  Object.freeze({ critical: 'Critiques', major: 'Majeures', minor: 'Mineures' })
);
export const SEVERITY_LABEL = /** @type {Readonly<Record<string, string>>} */ (
  Object.freeze({ critical: 'critique', major: 'majeure', minor: 'mineure' })
);
export const STATE_LABELS = /** @type {Readonly<Record<string, string>>} */ (
  Object.freeze({ open: 'ouverte', acknowledged: 'prise en charge', resolved: 'résolue' })
);
export const ACTION_LABELS = /** @type {Readonly<Record<string, string>>} */ (
  Object.freeze({ opened: 'ouverte', acknowledged: 'prise en charge', resolved: 'résolue', reopened: 'rouverte', escalated: 'aggravée', folded: 'regroupée' })
);

/** Age filter choices: [value, label, predicate on the age in ms]. */
export const AGE_FILTERS = /** @type {ReadonlyArray<readonly [string, string, (ageMs: number) => boolean]>} */ ([
  ['all', 'Toutes', () => true],
  ['1h', 'Moins d’une heure', (a) => a < 3_600_000],
  ['24h', 'Moins de 24 h', (a) => a < 86_400_000],
  ['7d', 'Moins de 7 jours', (a) => a < 7 * 86_400_000],
  ['old', 'Plus de 24 h (en souffrance)', (a) => a >= 86_400_000],
]);

/** @param {string} kind */
export const kindLabel = (kind) => KIND_LABELS[kind] ?? kind;

/** @param {string} s */
const severityRank = (s) => {
  const i = SEVERITIES.indexOf(/** @type {any} */ (s));
  return i < 0 ? SEVERITIES.length : i;
};

/**
 * Zones an alert is about: its lamp's, or for a cabinet alert those of the cabinet's lamps.
 * @param {ReadonlyArray<{ id: string, cabinetId: string, zone: string }>} lamps
 * @returns {(alert: { lampId: string | null, cabinetId: string }) => Set<string>}
 */
export function zoneIndex(lamps) {
  /** @type {Map<string, string>} */
  const byLamp = new Map();
  /** @type {Map<string, Set<string>>} */
  const byCabinet = new Map();
  for (const l of lamps) {
    byLamp.set(l.id, l.zone);
    const z = byCabinet.get(l.cabinetId) ?? new Set();
    z.add(l.zone);
    byCabinet.set(l.cabinetId, z);
  }
  return (alert) => {
    const zone = alert.lampId ? byLamp.get(alert.lampId) : undefined;
    if (zone !== undefined) return new Set([zone]);
    return new Set(byCabinet.get(alert.cabinetId) ?? []);
  };
}

/**
 * The board's alerts: not resolved, matching the filters, most severe first then newest.
 * @template {{ id: string, kind: string, severity: string, state: string, lampId: string | null, cabinetId: string, openedAt: number }} A
 * @param {Iterable<A>} alerts
 * @param {{ zone?: string, kind?: string, age?: string, state?: string }} filters '' or 'all': no filter
 * @param {number} now controller clock, ms
 * @param {(alert: A) => Set<string>} zonesOf
 * @returns {A[]}
 */
export function boardAlerts(alerts, filters, now, zonesOf) {
  const age = AGE_FILTERS.find(([v]) => v === (filters.age || 'all'))?.[2] ?? (() => true);
  const out = [];
  for (const a of alerts) {
    if (a.state === 'resolved') continue;
    if (filters.state && filters.state !== 'all' && a.state !== filters.state) continue;
    if (filters.kind && filters.kind !== 'all' && a.kind !== filters.kind) continue;
    if (filters.zone && filters.zone !== 'all' && !zonesOf(a).has(filters.zone)) continue;
    if (!age(Math.max(0, now - a.openedAt))) continue;
    out.push(a);
  }
  return out.sort((x, y) => severityRank(x.severity) - severityRank(y.severity) || y.openedAt - x.openedAt || (x.id < y.id ? -1 : 1));
}

/**
 * @template {{ severity: string }} A
 * @param {A[]} alerts already sorted
 * @returns {Array<{ severity: string, label: string, alerts: A[] }>} every severity, empty ones included
 */
export function groupBySeverity(alerts) {
  return SEVERITIES.map((severity) => ({ severity, label: SEVERITY_LABELS[severity] ?? severity, alerts: alerts.filter((a) => a.severity === severity) }));
}

/**
 * « 45 min », « 3 h 05 », « 2 j 4 h ».
 * @param {number} ms
 */
export function formatAge(ms) {
  const min = Math.max(0, Math.floor(ms / 60_000));
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ${String(min % 60).padStart(2, '0')}`;
  return `${Math.floor(h / 24)} j ${h % 24} h`;
}

/**
 * Where to draw an alert: its lamp, else its cabinet; null when neither is placed.
 * @param {{ lampId: string | null, cabinetId: string }} alert
 * @param {ReadonlyMap<string, { lat: number, lon: number }>} lampsById
 * @param {ReadonlyMap<string, { lat: number | null, lon: number | null }>} cabinetsById
 * @returns {{ lat: number, lon: number } | null}
 */
export function alertPosition(alert, lampsById, cabinetsById) {
  const lamp = alert.lampId ? lampsById.get(alert.lampId) : undefined;
  if (lamp) return { lat: lamp.lat, lon: lamp.lon };
  const cab = cabinetsById.get(alert.cabinetId);
  if (cab && cab.lat !== null && cab.lon !== null) return { lat: cab.lat, lon: cab.lon };
  return null;
}

/**
 * The chart of a lamp's history: level (0–100 %) and power (0 to the highest reading) over
 * [from, to], as SVG paths in a width × height box; lines break over gaps in the data (a
 * cabinet offline); the anomaly's window is a band, readings with a driver fault are marks.
 * @param {ReadonlyArray<{ ts: number, level: number, powerW: number, fault: string | null }>} samples
 * @param {{ from: number, to: number, width: number, height: number, anomaly?: { from: number, to: number } | null }} box
 */
export function chartModel(samples, box) {
  const { from, to, width, height } = box;
  const span = Math.max(1, to - from);
  const sorted = [...samples].filter((s) => s.ts >= from && s.ts <= to).sort((a, b) => a.ts - b.ts);
  const powerMax = Math.max(1, ...sorted.map((s) => s.powerW));
  const x = (/** @type {number} */ t) => ((t - from) / span) * width;
  const yLevel = (/** @type {number} */ l) => height - (Math.min(100, Math.max(0, l)) / 100) * height;
  const yPower = (/** @type {number} */ p) => height - (Math.max(0, p) / powerMax) * height;
  const steps = sorted.slice(1).map((s, i) => s.ts - /** @type {{ ts: number }} */ (sorted[i]).ts).sort((a, b) => a - b);
  const typical = steps.length ? /** @type {number} */ (steps[Math.floor(steps.length / 2)]) : span;
  const gap = Math.max(5 * 60_000, 3 * typical);
  /** @param {(s: { level: number, powerW: number }) => number} y */
  const path = (y) => {
    let d = '';
    let prev = Number.NEGATIVE_INFINITY;
    for (const s of sorted) {
      d += `${s.ts - prev > gap ? 'M' : 'L'}${x(s.ts).toFixed(1)},${y(s).toFixed(1)}`;
      prev = s.ts;
    }
    return d;
  };
  const a = box.anomaly;
  const band =
    a && a.to >= from && a.from <= to
      ? { x: x(Math.max(from, a.from)), width: Math.max(2, x(Math.min(to, a.to)) - x(Math.max(from, a.from))) }
      : null;
  return {
    powerMax,
    levelPath: path((s) => yLevel(s.level)),
    powerPath: path((s) => yPower(s.powerW)),
    band,
    faults: sorted.filter((s) => s.fault !== null).map((s) => ({ x: x(s.ts), y: yPower(s.powerW), fault: /** @type {string} */ (s.fault) })),
    points: sorted.length,
  };
}
