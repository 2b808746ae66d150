// @ts-check
import { ApiError, api, tokenStore } from './api.js';
import { formatDateTime, formatWho } from './format.js';
import { followLiveStream } from './live.js';
import { createHeader } from './page-header.js';
import {
  ACTION_LABELS,
  AGE_FILTERS,
  KIND_LABELS,
  SEVERITY_LABEL,
  STATE_LABELS,
  boardAlerts,
  formatAge,
  groupBySeverity,
  kindLabel,
  zoneIndex,
} from './maintenance-model.js';
import { renderAlertMap, renderChart } from './maintenance-svg.js';
import { startPageSession } from './page-session.js';

/**
 * The maintenance board (/maintenance): open alerts by severity and on the map, filters, the
 * alert's evidence and the lamp's week, acknowledge and resolve, and the crew's work order.
 */

const HEALTH_REFRESH_MS = 5_000;
const RESYNC_MS = 15_000;
const WEEK_MS = 7 * 86_400_000;

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

/**
 * @param {string} tag
 * @param {string | null} [text]
 * @param {Record<string, string>} [attrs]
 */
function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

const ui = {
  board: byId('board'),
  townName: byId('town-name'),
  clock: byId('clock'),
  live: byId('live'),
  error: byId('load-error'),
  summary: byId('summary'),
  filters: /** @type {HTMLFormElement} */ (byId('filters')),
  zone: /** @type {HTMLSelectElement} */ (byId('f-zone')),
  kind: /** @type {HTMLSelectElement} */ (byId('f-kind')),
  age: /** @type {HTMLSelectElement} */ (byId('f-age')),
  state: /** @type {HTMLSelectElement} */ (byId('f-state')),
  groups: byId('alert-groups'),
  map: /** @type {SVGSVGElement} */ (byId('mt-map')),
  detail: byId('detail'),
  detailTitle: byId('detail-title'),
  fields: byId('detail-fields'),
  evidence: byId('detail-evidence'),
  chart: /** @type {SVGSVGElement} */ (byId('chart')),
  chartTitle: byId('chart-title'),
  folded: byId('folded'),
  foldedList: byId('folded-list'),
  history: byId('detail-history'),
  who: /** @type {HTMLInputElement} */ (byId('who')),
  acknowledge: /** @type {HTMLButtonElement} */ (byId('acknowledge')),
  openWorkOrder: /** @type {HTMLButtonElement} */ (byId('open-work-order')),
  resolveForm: /** @type {HTMLFormElement} */ (byId('resolve-form')),
  note: /** @type {HTMLTextAreaElement} */ (byId('note')),
  actionStatus: byId('action-status'),
  workOrder: byId('work-order'),
  workOrderBody: byId('work-order-body'),
  print: /** @type {HTMLButtonElement} */ (byId('print')),
  closeWorkOrder: /** @type {HTMLButtonElement} */ (byId('close-work-order')),
};

const state = {
  timeZone: 'Europe/Paris',
  clockMs: 0,
  /** @type {any[]} */
  lamps: [],
  /** @type {any[]} */
  cabinets: [],
  /** @type {Map<string, any>} */
  alerts: new Map(),
  /** @type {string | null} */
  selected: null,
  /** @type {(alert: any) => Set<string>} */
  zonesOf: () => new Set(),
};

const { showClock, showLive, showError } = createHeader(ui, state);

const filters = () => ({ zone: ui.zone.value, kind: ui.kind.value, age: ui.age.value, state: ui.state.value });

/**
 * Fills a select with `options`, keeping its first « all » option and the current choice.
 * @param {HTMLSelectElement} select
 * @param {Array<[string, string]>} options
 */
function fillSelect(select, options) {
  const keep = select.value;
  const first = select.options[0];
  select.replaceChildren(...(first && first.value === 'all' ? [first] : []));
  for (const [value, label] of options) select.append(el('option', label, { value }));
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

function renderBoard() {
  const shown = boardAlerts(state.alerts.values(), filters(), state.clockMs, state.zonesOf);
  const groups = groupBySeverity(shown);
  ui.summary.textContent =
    shown.length === 0 ? 'Aucune alerte à traiter avec ces filtres.' : groups.map((g) => `${g.alerts.length} ${g.label.toLowerCase()}`).join(' · ');
  const sections = groups.map((g) => {
    const section = el('section', null, { class: `mt-group mt-group-${g.severity}`, 'aria-label': `Alertes ${g.label.toLowerCase()}` });
    section.append(el('h3', `${g.label} (${g.alerts.length})`));
    if (g.alerts.length === 0) {
      section.append(el('p', 'Aucune', { class: 'empty' }));
      return section;
    }
    const list = el('ul', null, { class: 'mt-alerts' });
    for (const a of g.alerts) {
      const li = el('li', null, { class: `mt-alert${a.id === state.selected ? ' selected' : ''}`, 'data-testid': 'board-alert', 'data-id': a.id, 'data-state': a.state });
      const button = el('button', null, { type: 'button', class: 'mt-alert-button', 'aria-pressed': String(a.id === state.selected) });
      button.append(
        el('span', kindLabel(a.kind), { class: 'mt-kind' }),
        el('span', a.lampId ? `Lampe ${a.lampId} · armoire ${a.cabinetId}` : a.subject ? `Capteur ${a.subject} · armoire ${a.cabinetId}` : `Armoire ${a.cabinetId}`, { class: 'mt-where' }),
        el('span', `depuis ${formatAge(state.clockMs - a.openedAt)}${a.count > 1 ? ` · ${a.count} fois` : ''}`, { class: 'mt-age' }),
        el('span', STATE_LABELS[a.state] ?? a.state, { class: `mt-state mt-state-${a.state}` }),
      );
      button.addEventListener('click', () => select(a.id));
      li.append(button);
      list.append(li);
    }
    section.append(list);
    return section;
  });
  ui.groups.replaceChildren(...sections);
  renderAlertMap(ui.map, state.lamps, state.cabinets, shown, state.selected, (id) => select(id));
}

/**
 * @param {HTMLElement} dl
 * @param {Array<[string, string, string?]>} rows
 */
function fillFields(dl, rows) {
  dl.replaceChildren();
  for (const [term, value, testId] of rows) {
    const div = el('div');
    div.append(el('dt', term), el('dd', value, testId ? { 'data-testid': testId } : {}));
    dl.append(div);
  }
}

/** @param {any} a AlertView */
function renderDetail(a) {
  const tz = state.timeZone;
  ui.detail.hidden = false;
  ui.detailTitle.textContent = `${kindLabel(a.kind)} — ${a.lampId ?? a.subject ?? a.cabinetId}`;
  /** @type {Array<[string, string, string?]>} */
  const rows = [
    ['Gravité', SEVERITY_LABEL[a.severity] ?? a.severity],
    ['État', STATE_LABELS[a.state] ?? a.state, 'detail-state'],
    ['Constat', a.detail],
    ['Armoire', a.cabinetId],
  ];
  if (a.lampId) rows.push(['Lampe', a.lampId, 'detail-lamp']);
  rows.push(['Ouverte', `${formatDateTime(a.openedAt, tz)} (depuis ${formatAge(state.clockMs - a.openedAt)})`]);
  rows.push(['Dernière observation', `${formatDateTime(a.lastSeen, tz)} · ${a.count} fois`]);
  if (a.acknowledgedBy) rows.push(['Prise en charge', `${formatWho(a.acknowledgedBy)}, ${formatDateTime(a.acknowledgedAt, tz)}`, 'detail-ack']);
  if (a.resolvedBy) rows.push(['Résolue', `${formatWho(a.resolvedBy)}, ${formatDateTime(a.resolvedAt, tz)}${a.note ? ` — ${a.note}` : ''}`]);
  fillFields(ui.fields, rows);
  const ev = a.evidence;
  fillFields(
    ui.evidence,
    ev
      ? [
          ['Règle', ev.rule],
          ['Attendu', ev.expected],
          ['Mesuré', ev.measured],
          ['Période', `du ${formatDateTime(ev.window.from, tz)} au ${formatDateTime(ev.window.to, tz)}`],
        ]
      : [['Preuve', 'Pas de mesure jointe à cette alerte.']],
  );
  ui.folded.hidden = !a.folded?.length;
  ui.foldedList.textContent = (a.folded ?? []).map((/** @type {any} */ f) => `${f.lampId ?? a.cabinetId} (${kindLabel(f.kind)})`).join(', ');
  ui.history.replaceChildren(
    ...(a.history ?? []).map((/** @type {any} */ h) =>
      el('li', `${formatDateTime(h.at, tz)} — ${ACTION_LABELS[h.action] ?? h.action} par ${formatWho(h.by)}${h.note ? ` : ${h.note}` : ''}`),
    ),
  );
  ui.acknowledge.disabled = a.state !== 'open';
  ui.resolveForm.hidden = a.state === 'resolved';
}

/** @param {any} a AlertView */
async function loadChart(a) {
  ui.chart.parentElement?.toggleAttribute('hidden', !a.lampId);
  ui.chartTitle.hidden = !a.lampId;
  if (!a.lampId) return;
  const to = state.clockMs || a.lastSeen;
  const from = to - WEEK_MS;
  const history = await api.get(`/api/lamps/${encodeURIComponent(a.lampId)}/history?from=${from}&to=${to}&maxPoints=720`);
  if (state.selected !== a.id) return;
  const anomaly = a.evidence ? a.evidence.window : { from: a.openedAt, to: a.lastSeen };
  // The band spans from the evidence window (or the opening) to the last sighting.
  renderChart(ui.chart, history, { from: Math.min(anomaly.from, a.openedAt), to: Math.max(anomaly.to, a.lastSeen) }, state.timeZone);
}

/** @param {string} id */
async function select(id) {
  state.selected = id;
  ui.actionStatus.textContent = '';
  ui.workOrder.hidden = true;
  renderBoard();
  try {
    const a = await api.get(`/api/alerts/${encodeURIComponent(id)}`);
    state.alerts.set(a.id, a);
    if (state.selected !== id) return;
    renderDetail(a);
    await loadChart(a);
  } catch (e) {
    onFailure(e);
  }
}

/** @param {any} a */
function applied(a) {
  state.alerts.set(a.id, a);
  renderBoard();
  if (state.selected === a.id) renderDetail(a);
}

async function acknowledge() {
  if (!state.selected) return;
  const who = ui.who.value.trim();
  try {
    const a = await api.post(`/api/alerts/${encodeURIComponent(state.selected)}/acknowledge`, who ? { by: who } : {});
    applied(a);
    ui.actionStatus.textContent = 'Alerte prise en charge.';
  } catch (e) {
    if (!session.refused(e)) ui.actionStatus.textContent = `Refusé : ${e instanceof Error ? e.message : String(e)}`;
  }
}

async function resolve() {
  if (!state.selected) return;
  const note = ui.note.value.trim();
  if (note === '') {
    ui.actionStatus.textContent = 'Indiquez ce qui a été fait avant de clore.';
    ui.note.focus();
    return;
  }
  const who = ui.who.value.trim();
  try {
    const a = await api.post(`/api/alerts/${encodeURIComponent(state.selected)}/resolve`, who ? { note, by: who } : { note });
    ui.note.value = '';
    applied(a);
    ui.actionStatus.textContent = 'Alerte close.';
  } catch (e) {
    if (!session.refused(e)) ui.actionStatus.textContent = `Refusé : ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** The server's printable page, shown here: its body is taken in (scripts never run from a parsed document). */
async function showWorkOrder() {
  if (!state.selected) return;
  const res = await fetch(`/api/alerts/${encodeURIComponent(state.selected)}/work-order`, {
    headers: { Authorization: `Bearer ${tokenStore.get() ?? ''}`, Accept: 'text/html' },
    cache: 'no-store',
  });
  if (!res.ok) throw new ApiError(res.status, 'LUCIOLE_ERR_HTTP', `bon d’intervention indisponible (${res.status})`);
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  const order = doc.querySelector('main.work-order');
  ui.workOrderBody.replaceChildren(...(order ? [document.importNode(order, true)] : []));
  ui.workOrder.hidden = false;
  ui.workOrder.scrollIntoView({ block: 'start' });
  ui.print.focus();
}

async function refreshHealth() {
  const health = await api.get('/api/health');
  state.clockMs = 0;
  showClock(health.time);
}

async function resync() {
  const [lamps, cabinets, alerts] = await Promise.all([api.get('/api/lamps'), api.get('/api/cabinets'), api.get('/api/alerts?state=active')]);
  state.lamps = lamps;
  state.cabinets = cabinets;
  state.zonesOf = zoneIndex(lamps);
  state.alerts = new Map(alerts.map((/** @type {any} */ a) => [a.id, a]));
  fillSelect(ui.zone, [...new Set(lamps.map((/** @type {any} */ l) => l.zone))].sort().map((z) => [String(z), String(z)]));
  renderBoard();
  showError(null);
}

/** @param {any} event */
function onLiveEvent(event) {
  if (event.type === 'lamps' || event.type === 'presence') showClock(event.ts);
  if (event.type !== 'alert') return;
  const a = event.alert;
  state.alerts.set(a.id, a);
  renderBoard();
  if (state.selected === a.id) renderDetail(a);
}

/** @param {unknown} e */
function onFailure(e) {
  if (session.refused(e)) return;
  showError(`Impossible de joindre le contrôleur (${e instanceof Error ? e.message : String(e)}). Nouvel essai automatique.`);
}

async function enter() {
  const town = await api.get('/api/town');
  state.timeZone = town.site.timezone;
  ui.townName.textContent = town.name;
  document.title = `Luciole — maintenance — ${town.name}`;
  session.onLeave(() => {
    showLive('off');
    state.selected = null;
    ui.detail.hidden = true;
    ui.workOrder.hidden = true;
  });
  await refreshHealth();
  await resync();
  session.repeat(refreshHealth, HEALTH_REFRESH_MS, onFailure);
  const resyncTimer = setInterval(() => resync().catch(onFailure), RESYNC_MS);
  session.onLeave(() => clearInterval(resyncTimer));
  followLiveStream(session, { onEvent: onLiveEvent, showLive, resync: () => resync().catch(onFailure) });
}

fillSelect(ui.kind, Object.entries(KIND_LABELS).sort((a, b) => a[1].localeCompare(b[1], 'fr')));
fillSelect(ui.age, AGE_FILTERS.map(([v, label]) => [v, label]));
ui.filters.addEventListener('change', () => renderBoard());
ui.acknowledge.addEventListener('click', () => {
  acknowledge().catch(onFailure);
});
ui.resolveForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  resolve().catch(onFailure);
});
ui.openWorkOrder.addEventListener('click', () => {
  showWorkOrder().catch(onFailure);
});
ui.print.addEventListener('click', () => window.print());
ui.closeWorkOrder.addEventListener('click', () => {
  ui.workOrder.hidden = true;
  ui.openWorkOrder.focus();
});
showLive('off');
const session = startPageSession({ content: ui.board, enter });
