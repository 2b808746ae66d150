// @ts-check
import { api, tokenStore } from './api.js';
import { startPageSession } from './page-session.js';
import { chartGeometry, fmtCompleteness, fmtHours, fmtKwh, fmtPct, fmtPeriod, headlineCards } from './report-view.js';

/** The energy report for elected officials: read-only, printable, exportable. */

/**
 * @template {Element} [T=HTMLElement]
 * @param {string} id
 * @returns {T}
 */
function byId(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`élément #${id} absent`);
  return /** @type {T} */ (/** @type {unknown} */ (e));
}

const SVG = 'http://www.w3.org/2000/svg';

const ui = {
  report: byId('report'),
  form: /** @type {HTMLFormElement} */ (byId('period-form')),
  period: /** @type {HTMLSelectElement} */ (byId('period')),
  from: /** @type {HTMLInputElement} */ (byId('from')),
  groupBy: /** @type {HTMLSelectElement} */ (byId('group-by')),
  error: byId('report-error'),
  body: /** @type {HTMLElement} */ (byId('report-title').closest('article') ?? byId('report')),
  townName: byId('town-name'),
  periodText: byId('report-period'),
  headline: byId('headline'),
  yearBefore: byId('year-before'),
  chart: /** @type {SVGSVGElement} */ (byId('chart')),
  nights: byId('nights-body'),
  groups: byId('groups-body'),
  groupCol: byId('group-col'),
  groupsTitle: byId('groups-title'),
  notes: byId('notes'),
  notesSection: byId('notes-section'),
  method: byId('method'),
};

/** @returns {URLSearchParams} */
function query() {
  const q = new URLSearchParams({ period: ui.period.value, groupBy: ui.groupBy.value });
  if (ui.from.value) q.set('from', ui.from.value);
  return q;
}

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {string} [text]
 */
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * @param {string} tag
 * @param {string} text
 * @param {Record<string, string>} [attrs]
 */
function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** @param {any} report */
function renderChart(report) {
  const desc = ui.chart.querySelector('desc');
  ui.chart.replaceChildren(...(desc ? [desc] : []));
  const g = chartGeometry(report.nights, 760, 240);
  for (const t of g.ticks) {
    ui.chart.append(svg('line', { x1: g.plot.left, x2: g.plot.right, y1: t.y, y2: t.y, class: 'grid' }));
    ui.chart.append(svg('text', { x: g.plot.left - 6, y: t.y + 4, class: 'tick', 'text-anchor': 'end' }, t.label));
  }
  for (const b of g.bars) {
    const rect = svg('rect', { x: b.x, y: b.y, width: b.width, height: b.height, class: 'bar' });
    rect.append(svg('title', {}, b.date));
    ui.chart.append(rect);
  }
  ui.chart.append(svg('polyline', { points: g.full, class: 'line full' }));
  ui.chart.append(svg('polyline', { points: g.before, class: 'line before' }));
  for (const l of g.labels) ui.chart.append(svg('text', { x: l.x, y: g.plot.bottom + 16, class: 'tick', 'text-anchor': 'middle' }, l.text));
}

/** @param {any} report */
function render(report) {
  ui.townName.textContent = report.town.name;
  ui.periodText.textContent = `${report.town.name} — ${fmtPeriod(report.period.from, report.period.to)} (${report.period.nightsMeasured} nuit${report.period.nightsMeasured > 1 ? 's' : ''} mesurée${report.period.nightsMeasured > 1 ? 's' : ''} sur ${report.period.nights}, ${report.lamps} points lumineux)`;
  ui.headline.replaceChildren(
    ...headlineCards(report.headline).map((c) => {
      const div = el('div', '', { class: 'figure' });
      div.append(el('dt', c.label), el('dd', c.value, { 'data-field': c.field }), el('dd', c.detail, { class: 'detail', 'data-detail': c.field }));
      return div;
    }),
  );
  const yb = report.yearBefore;
  ui.yearBefore.textContent = yb
    ? `Un an avant (${fmtPeriod(yb.from, yb.to)}) : ${fmtKwh(yb.headline.energyKWh)} consommés, économie de ${fmtPct(yb.headline.savedVsBeforeRenovation.pct)} par rapport à avant la rénovation (complétude ${fmtCompleteness(yb.headline.completeness)}).`
    : 'Pas de données pour la même période un an avant.';
  renderChart(report);
  ui.nights.replaceChildren(
    ...report.nights.map((/** @type {any} */ n) => {
      const tr = el('tr', '', { 'data-date': n.date });
      tr.append(
        el('th', n.date, { scope: 'row' }),
        el('td', fmtKwh(n.energyKWh)),
        el('td', fmtKwh(n.fullPowerKWh)),
        el('td', fmtKwh(n.beforeRenovationKWh)),
        el('td', fmtPct(n.savedVsBeforeRenovation.pct)),
        el('td', fmtCompleteness(n.completeness), n.completeness !== null && n.completeness < 0.99 ? { class: 'warn' } : {}),
      );
      return tr;
    }),
  );
  const byZone = report.groupBy === 'zone';
  ui.groupCol.textContent = byZone ? 'Zone' : 'Armoire';
  ui.groupsTitle.textContent = byZone ? 'Par zone' : 'Par armoire';
  ui.groups.replaceChildren(
    ...report.groups.map((/** @type {any} */ g) => {
      const tr = el('tr', '', { 'data-key': g.key });
      tr.append(
        el('th', g.label, { scope: 'row' }),
        el('td', String(g.lamps)),
        el('td', fmtKwh(g.energyKWh), { 'data-field': 'energy' }),
        el('td', `${fmtKwh(g.savedVsFullPower.kWh)} (${fmtPct(g.savedVsFullPower.pct)})`, { 'data-field': 'saved-full' }),
        el('td', `${fmtKwh(g.savedVsBeforeRenovation.kWh)} (${fmtPct(g.savedVsBeforeRenovation.pct)})`, { 'data-field': 'saved-before' }),
        el('td', fmtHours(g.burningHours)),
        el('td', fmtPct(g.averageLevelPct)),
        el('td', fmtCompleteness(g.completeness), { 'data-field': 'completeness', ...(g.completeness !== null && g.completeness < 0.99 ? { class: 'warn' } : {}) }),
      );
      return tr;
    }),
  );
  ui.notes.replaceChildren(...report.notes.map((/** @type {string} */ n) => el('li', n)));
  ui.notesSection.hidden = report.notes.length === 0;
  ui.method.textContent = report.method;
  if (!ui.from.value) ui.from.value = report.period.to;
}

async function load() {
  ui.body.setAttribute('aria-busy', 'true');
  try {
    const report = await api.get(`/api/reports/energy?${query()}`);
    render(report);
    ui.error.hidden = true;
    ui.body.dataset.loaded = `${report.period.from}/${report.period.to}/${report.groupBy}`;
  } catch (e) {
    if (session.refused(e)) return;
    ui.error.textContent = `Rapport indisponible : ${e instanceof Error ? e.message : String(e)}`;
    ui.error.hidden = false;
  } finally {
    ui.body.setAttribute('aria-busy', 'false');
  }
}

/** Exports need the bearer token, so they are fetched and handed to the browser as a file. */
const EXPORTS = /** @type {Record<string, { path: string, name: string, extra?: Record<string, string> }>} */ ({
  pdf: { path: '/api/reports/energy.pdf', name: 'rapport-energie.pdf' },
  csv: { path: '/api/reports/energy.csv', name: 'energie-par-nuit.csv' },
  'csv-groups': { path: '/api/reports/energy.csv', name: 'energie-par-zone.csv', extra: { table: 'groups' } },
  'opendata-csv': { path: '/api/reports/opendata/energy-nightly.csv', name: 'eclairage-public-energie-par-nuit.csv' },
  'opendata-json': { path: '/api/reports/opendata/energy-nightly.json', name: 'eclairage-public-energie-par-nuit.json' },
});

/** @param {string} kind */
async function download(kind) {
  const spec = EXPORTS[kind];
  if (!spec) return;
  const q = query();
  for (const [k, v] of Object.entries(spec.extra ?? {})) q.set(k, v);
  const res = await fetch(`${spec.path}?${q}`, { headers: { Authorization: `Bearer ${tokenStore.get() ?? ''}` }, cache: 'no-store' });
  if (res.status === 401) {
    session.expire();
    return;
  }
  if (!res.ok) {
    ui.error.textContent = `Export impossible (${res.status}).`;
    ui.error.hidden = false;
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  const a = el('a', '', { href: url, download: spec.name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  void load();
});
for (const b of ui.form.querySelectorAll('[data-export]')) {
  b.addEventListener('click', () => {
    download(/** @type {HTMLElement} */ (b).dataset.export ?? '').catch((e) => {
      ui.error.textContent = `Export impossible (${e instanceof Error ? e.message : String(e)}).`;
      ui.error.hidden = false;
    });
  });
}
byId('print').addEventListener('click', () => window.print());

const session = startPageSession({ content: ui.report, enter: () => load() });
