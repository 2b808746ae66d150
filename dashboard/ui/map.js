// @ts-check
import { fitProjection, levelColour } from './geometry.js';
import { formatInteger, formatWatts } from './format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const FAULT_STROKE = '#d0021b';
const ONLINE_FILL = '#2e7d32';
const OFFLINE_FILL = '#c62828';
const NORMAL_STROKE = 'rgba(255,255,255,0.55)';

/**
 * @param {string} name
 * @param {Record<string, string | number>} attrs
 * @returns {SVGElement}
 */
function svgEl(name, attrs) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * Lamp size in user units: large for a village, small for a city, so lamps neither vanish
 * nor overlap into a blur.
 * @param {number} count
 */
const baseRadius = (count) => Math.min(12, Math.max(2.5, (0.12 * 1000) / Math.sqrt(Math.max(1, count))));

/**
 * The town map, drawn once from positions and then updated in place by the live stream.
 * @param {SVGSVGElement} svg
 */
export function createMap(svg) {
  /** @type {Map<string, { circle: SVGElement, title: SVGElement, lamp: any }>} */
  const lamps = new Map();
  /** @type {Map<string, { rect: SVGElement, title: SVGElement, cabinet: any }>} */
  const cabinets = new Map();
  /** @type {((lat: number, lon: number) => { x: number, y: number }) | null} */
  let project = null;
  /** @type {SVGGElement | null} */
  let cabinetLayer = null;
  let radius = baseRadius(1);

  /** @param {{ circle: SVGElement, title: SVGElement, lamp: any }} entry */
  const paintLamp = ({ circle, title, lamp }) => {
    circle.setAttribute('fill', levelColour(lamp.level));
    circle.setAttribute('r', (radius * (0.7 + (0.3 * (lamp.level ?? 0)) / 100)).toFixed(2));
    circle.setAttribute('data-level', lamp.level === null ? '' : String(lamp.level));
    if (lamp.fault) {
      circle.setAttribute('stroke', FAULT_STROKE);
      circle.setAttribute('stroke-width', (radius * 0.45).toFixed(2));
      circle.setAttribute('data-fault', lamp.fault);
    } else {
      circle.setAttribute('stroke', NORMAL_STROKE);
      circle.setAttribute('stroke-width', (radius * 0.12).toFixed(2));
      circle.removeAttribute('data-fault');
    }
    const level = lamp.level === null ? '—' : `${formatInteger(lamp.level)} %`;
    const power = lamp.powerW === null ? '—' : formatWatts(lamp.powerW);
    title.textContent = `${lamp.id} — niveau ${level}, puissance ${power}${lamp.fault ? `, défaut : ${lamp.fault}` : ''}`;
  };

  /** @param {{ rect: SVGElement, title: SVGElement, cabinet: any }} entry */
  const paintCabinet = ({ rect, title, cabinet }) => {
    rect.setAttribute('fill', cabinet.online ? ONLINE_FILL : OFFLINE_FILL);
    rect.setAttribute('data-online', String(cabinet.online));
    title.textContent = `Armoire ${cabinet.id} — ${cabinet.online ? 'en ligne' : 'hors ligne'}, ${cabinet.lamps} lampes`;
  };

  /**
   * Where a cabinet is drawn: its own position, else the middle of its lamps.
   * @param {any} cabinet
   * @returns {{ lat: number, lon: number } | null}
   */
  const cabinetPosition = (cabinet) => {
    if (cabinet.lat !== null && cabinet.lon !== null) return { lat: cabinet.lat, lon: cabinet.lon };
    let lat = 0;
    let lon = 0;
    let n = 0;
    for (const { lamp } of lamps.values()) {
      if (lamp.cabinetId !== cabinet.id) continue;
      lat += lamp.lat;
      lon += lamp.lon;
      n++;
    }
    return n > 0 ? { lat: lat / n, lon: lon / n } : null;
  };

  /** @param {any} cabinet */
  const addCabinet = (cabinet) => {
    if (!project || !cabinetLayer) return;
    const at = cabinetPosition(cabinet);
    if (!at) return;
    const { x, y } = project(at.lat, at.lon);
    const size = radius * 2.2;
    const rect = svgEl('rect', {
      x: (x - size / 2).toFixed(1),
      y: (y - size / 2).toFixed(1),
      width: size.toFixed(1),
      height: size.toFixed(1),
      rx: (size / 6).toFixed(1),
      stroke: '#ffffff',
      'stroke-width': (radius * 0.2).toFixed(2),
      'data-testid': 'cabinet',
      'data-id': cabinet.id,
    });
    const title = svgEl('title', {});
    rect.append(title);
    cabinetLayer.append(rect);
    const entry = { rect, title, cabinet };
    cabinets.set(cabinet.id, entry);
    paintCabinet(entry);
  };

  return {
    /**
     * @param {any[]} lampViews
     * @param {any[]} cabinetViews
     */
    render(lampViews, cabinetViews) {
      lamps.clear();
      cabinets.clear();
      svg.replaceChildren(...[...svg.children].filter((c) => c.tagName === 'title' || c.tagName === 'desc'));
      const points = [
        ...lampViews,
        ...cabinetViews.filter((c) => c.lat !== null && c.lon !== null),
      ];
      radius = baseRadius(lampViews.length);
      const fit = fitProjection(points, radius * 3);
      project = fit.project;
      svg.setAttribute('viewBox', `0 0 ${fit.width.toFixed(1)} ${fit.height.toFixed(1)}`);
      svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
      const lampLayer = /** @type {SVGGElement} */ (svgEl('g', { class: 'lamps' }));
      cabinetLayer = /** @type {SVGGElement} */ (svgEl('g', { class: 'cabinets' }));
      for (const lamp of lampViews) {
        const { x, y } = fit.project(lamp.lat, lamp.lon);
        const circle = svgEl('circle', { cx: x.toFixed(1), cy: y.toFixed(1), 'data-testid': 'lamp', 'data-id': lamp.id });
        const title = svgEl('title', {});
        circle.append(title);
        circle.addEventListener('animationend', () => circle.classList.remove('flash'));
        lampLayer.append(circle);
        const entry = { circle, title, lamp: { ...lamp } };
        lamps.set(lamp.id, entry);
        paintLamp(entry);
      }
      svg.append(lampLayer, cabinetLayer);
      for (const cabinet of cabinetViews) addCabinet(cabinet);
    },

    /** @param {{ id: string, level: number, powerW: number, fault: string | null }} reading */
    updateLamp(reading) {
      const entry = lamps.get(reading.id);
      if (!entry) return;
      entry.lamp = { ...entry.lamp, level: reading.level, powerW: reading.powerW, fault: reading.fault };
      paintLamp(entry);
    },

    /** @param {any} cabinet */
    updateCabinet(cabinet) {
      const entry = cabinets.get(cabinet.id);
      if (!entry) {
        addCabinet(cabinet);
        return;
      }
      entry.cabinet = cabinet;
      paintCabinet(entry);
    },

    /** A short pulse on a lamp where a sensor saw someone. @param {string} lampId */
    flash(lampId) {
      const entry = lamps.get(lampId);
      if (!entry) return;
      const { circle } = entry;
      circle.classList.remove('flash');
      // Reading layout restarts the CSS animation when detections follow each other.
      void circle.getBoundingClientRect();
      circle.classList.add('flash');
    },

    /** @param {string} lampId */
    has: (lampId) => lamps.has(lampId),
  };
}
