// @ts-check
import { formatDateTime, formatInteger, formatWatts } from './format.js';
import { fitProjection } from './geometry.js';
import { alertPosition, chartModel, kindLabel, SEVERITY_LABEL } from './maintenance-model.js';

/** The board's two drawings: the map of the alerts and the lamp's level and power chart. */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @param {string} name
 * @param {Record<string, string | number>} [attrs]
 * @param {string} [text]
 */
function svgEl(name, attrs = {}, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** @param {SVGSVGElement} svg */
function clear(svg) {
  svg.replaceChildren(...[...svg.children].filter((c) => c.tagName === 'title' || c.tagName === 'desc'));
}

/**
 * Lamps as grey dots, alerts as discs coloured by severity at their lamp or cabinet.
 * @param {SVGSVGElement} svg
 * @param {any[]} lamps LampView
 * @param {any[]} cabinets CabinetView
 * @param {any[]} alerts the board's alerts, most severe first
 * @param {string | null} selectedId
 * @param {(id: string) => void} onSelect
 */
export function renderAlertMap(svg, lamps, cabinets, alerts, selectedId, onSelect) {
  clear(svg);
  const fit = fitProjection(lamps, 20);
  svg.setAttribute('viewBox', `0 0 ${fit.width.toFixed(1)} ${fit.height.toFixed(1)}`);
  const lampsById = new Map(lamps.map((l) => [l.id, l]));
  const cabinetsById = new Map(cabinets.map((c) => [c.id, c]));
  const base = svgEl('g', { class: 'mt-map-lamps', 'aria-hidden': 'true' });
  for (const l of lamps) {
    const p = fit.project(l.lat, l.lon);
    base.append(svgEl('circle', { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 3 }));
  }
  const marks = svgEl('g', { class: 'mt-map-alerts' });
  // Least severe first, so the critical ones are drawn on top.
  for (const a of [...alerts].reverse()) {
    const at = alertPosition(a, lampsById, cabinetsById);
    if (!at) continue;
    const p = fit.project(at.lat, at.lon);
    const label = `${kindLabel(a.kind)} — ${a.lampId ?? a.cabinetId} (${SEVERITY_LABEL[a.severity] ?? a.severity})`;
    const mark = svgEl('circle', {
      cx: p.x.toFixed(1),
      cy: p.y.toFixed(1),
      r: a.id === selectedId ? 14 : 10,
      class: `mt-mark mt-sev-${a.severity}${a.id === selectedId ? ' selected' : ''}`,
      'data-testid': 'alert-marker',
      'data-id': a.id,
      tabindex: 0,
      role: 'button',
      'aria-label': label,
    });
    mark.append(svgEl('title', {}, label));
    mark.addEventListener('click', () => onSelect(a.id));
    mark.addEventListener('keydown', (ev) => {
      const key = /** @type {KeyboardEvent} */ (ev).key;
      if (key === 'Enter' || key === ' ') {
        ev.preventDefault();
        onSelect(a.id);
      }
    });
    marks.append(mark);
  }
  svg.append(base, marks);
}

const W = 720;
const H = 220;
const PAD = { left: 44, right: 54, top: 10, bottom: 26 };

/**
 * The lamp's level and power over [from, to], the anomaly's window as a band, faults as marks.
 * @param {SVGSVGElement} svg
 * @param {{ samples: any[], from: number, to: number }} history LampHistoryView
 * @param {{ from: number, to: number } | null} anomaly
 * @param {string} timeZone
 */
export function renderChart(svg, history, anomaly, timeZone) {
  clear(svg);
  const width = W - PAD.left - PAD.right;
  const height = H - PAD.top - PAD.bottom;
  const m = chartModel(history.samples, { from: history.from, to: history.to, width, height, anomaly });
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const desc = svg.querySelector('desc');
  if (desc) {
    desc.textContent =
      m.points === 0
        ? 'Aucune mesure sur la période.'
        : `${formatInteger(m.points)} points du ${formatDateTime(history.from, timeZone)} au ${formatDateTime(history.to, timeZone)} ; puissance maximale ${formatWatts(m.powerMax)}.`;
  }
  const g = svgEl('g', { transform: `translate(${PAD.left},${PAD.top})` });
  g.append(svgEl('rect', { x: 0, y: 0, width, height, class: 'mt-chart-frame' }));
  if (m.band) g.append(svgEl('rect', { x: m.band.x.toFixed(1), y: 0, width: m.band.width.toFixed(1), height, class: 'mt-band', 'data-testid': 'anomaly-band' }));
  // Axes: level on the left (0, 50, 100 %), power on the right (0 to the max), a tick per day.
  for (const pct of [0, 50, 100]) {
    const y = height - (pct / 100) * height;
    g.append(svgEl('line', { x1: 0, x2: width, y1: y, y2: y, class: 'mt-grid-line' }));
    g.append(svgEl('text', { x: -6, y: y + 4, class: 'mt-axis mt-axis-left' }, `${pct} %`));
    g.append(svgEl('text', { x: width + 6, y: y + 4, class: 'mt-axis' }, formatWatts((pct / 100) * m.powerMax)));
  }
  const day = 86_400_000;
  const span = Math.max(1, history.to - history.from);
  const dayFmt = new Intl.DateTimeFormat('fr-FR', { timeZone, weekday: 'short', day: 'numeric' });
  for (let t = Math.ceil(history.from / day) * day; t <= history.to; t += day) {
    const x = ((t - history.from) / span) * width;
    g.append(svgEl('line', { x1: x, x2: x, y1: 0, y2: height, class: 'mt-grid-line' }));
    g.append(svgEl('text', { x: x + 3, y: height + 16, class: 'mt-axis' }, dayFmt.format(t)));
  }
  g.append(svgEl('path', { d: m.levelPath, class: 'mt-line-level', 'data-testid': 'level-line' }));
  g.append(svgEl('path', { d: m.powerPath, class: 'mt-line-power', 'data-testid': 'power-line' }));
  for (const f of m.faults) g.append(svgEl('circle', { cx: f.x.toFixed(1), cy: f.y.toFixed(1), r: 3, class: 'mt-fault-mark' }));
  svg.append(g);
}
