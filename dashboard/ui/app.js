// @ts-check
import { api } from './api.js';
import { followLiveStream } from './live.js';
import { createHeader } from './page-header.js';
import { createMap } from './map.js';
import { startPageSession } from './page-session.js';
import { renderAlerts, renderCabinets, renderEnergy } from './panels.js';

const ENERGY_REFRESH_MS = 5_000;
const HEALTH_REFRESH_MS = 5_000;
const RESYNC_MS = 10_000;

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

const ui = {
  dashboard: byId('dashboard'),
  townName: byId('town-name'),
  clock: byId('clock'),
  live: byId('live'),
  map: /** @type {SVGSVGElement} */ (byId('map')),
  cabinets: /** @type {HTMLTableSectionElement} */ (byId('cabinets-body')),
  energyCard: byId('energy-tonight'),
  energyNights: /** @type {HTMLTableSectionElement} */ (byId('energy-nights')),
  alerts: byId('alerts-list'),
  error: byId('load-error'),
};

const map = createMap(ui.map);

/** What the signed-in page shows; timers and the stream stop with the session (session.onLeave). */
const state = {
  timeZone: 'Europe/Paris',
  clockMs: 0,
  /** @type {Map<string, any>} */
  cabinets: new Map(),
  /** @type {Map<string, any>} */
  alerts: new Map(),
};

const { showClock, showLive, showError } = createHeader(ui, state);

const renderCabinetTable = () => renderCabinets(ui.cabinets, [...state.cabinets.values()], state.timeZone);
const renderAlertList = () => renderAlerts(ui.alerts, [...state.alerts.values()], state.timeZone);

async function refreshHealth() {
  const health = await api.get('/api/health');
  state.clockMs = 0;
  showClock(health.time);
}

async function refreshEnergy() {
  renderEnergy(ui.energyCard, ui.energyNights, await api.get('/api/energy?nights=8'));
}

/** Reloads what the live stream updates, after a (re)connection may have missed events. */
async function resync() {
  const [lamps, cabinets, alerts] = await Promise.all([api.get('/api/lamps'), api.get('/api/cabinets'), api.get('/api/alerts')]);
  state.cabinets = new Map(cabinets.map((/** @type {any} */ c) => [c.id, c]));
  state.alerts = new Map(alerts.map((/** @type {any} */ a) => [a.id, a]));
  map.render(lamps, cabinets);
  renderCabinetTable();
  renderAlertList();
  showError(null);
}

/** @param {any} event a LiveEvent */
function onLiveEvent(event) {
  switch (event.type) {
    case 'lamps':
      for (const lamp of event.lamps) map.updateLamp(lamp);
      showClock(event.ts);
      break;
    case 'cabinet':
      state.cabinets.set(event.cabinet.id, event.cabinet);
      map.updateCabinet(event.cabinet);
      renderCabinetTable();
      break;
    case 'presence':
      map.flash(event.lampId);
      showClock(event.ts);
      break;
    case 'alert':
      state.alerts.set(event.alert.id, event.alert);
      renderAlertList();
      break;
    default:
      break;
  }
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
  document.title = `Luciole — ${town.name}`;
  session.onLeave(() => {
    showLive('off');
    state.cabinets = new Map();
    state.alerts = new Map();
  });

  await resync();
  session.repeat(refreshHealth, HEALTH_REFRESH_MS, onFailure);
  session.repeat(refreshEnergy, ENERGY_REFRESH_MS, onFailure);
  const resyncTimer = setInterval(() => resync().catch(onFailure), RESYNC_MS);
  session.onLeave(() => clearInterval(resyncTimer));

  followLiveStream(session, { onEvent: onLiveEvent, showLive, resync: () => resync().catch(onFailure) });
}

showLive('off');
const session = startPageSession({ content: ui.dashboard, enter });
